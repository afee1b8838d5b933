"""Callbacks the edge answers itself, past the gate and the payload's checks, without Dash's dispatch.

Every open tab posts the poll every few seconds, and its answer is plain data (two stores).
Through Dash, that post went through FastAPI's middleware and routing, Dash's middleware and its
dispatch (the callback context, the output checks, the wrapper that shapes the answer): in a
profile of the dashboard's thread over 400 polls, those layers took as much CPU as the tick
itself (BENCHMARKS.md, "Idle cost, fourth part"). A direct callback is answered here instead:
its arguments are the values of the post's inputs, then its state, in the callback's order (the
payload's checks have made sure they are the callback's own, in that order), and the answer is
Dash's multi-output shape, ``{"multi": true, "response": {id: {property: value}}}``, serialised
by Dash's own ``to_json``, compressed where the client takes it as every other answer is.

The callback stays registered with Dash: the page's renderer learns it from Dash's list of
dependencies, and a test checks that both answer a post alike. A direct callback must not read
``dash.ctx`` (no callback context is set up here) nor return ``no_update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dash._utils import to_json

from perfmon.ui.edge.plumbing import Asgi, Receive, Scope, Send, send_answer


@dataclass(frozen=True)
class Direct:
    """A callback the edge answers: its outputs (id, property), in order, the coroutine that
    computes them from the post's input values, then its state values, and the exceptions that
    mean a value no page sends (a 400 whose message is the exception's ``str()``)."""

    outputs: tuple[tuple[str, str], ...]
    run: Callable[..., Awaitable[Sequence[Any]]]
    refused: tuple[type[Exception], ...] = ()

    async def answer(self, payload: Mapping[str, Any]) -> bytes:
        """The answer's body for a checked post (``perfmon.ui.edge.payload.checked``)."""
        values = [item.get("value") for item in (*payload["inputs"], *payload.get("state", ()))]
        results = await self.run(*values)
        response: dict[str, dict[str, Any]] = {}
        for (component, prop), value in zip(self.outputs, results, strict=True):
            response.setdefault(component, {})[prop] = value
        text: str = to_json({"multi": True, "response": response})
        return text.encode()


def responder(body: bytes) -> Asgi:
    """An ASGI app that sends ``body`` as a JSON 200 (for the edge's compression to wrap)."""

    async def respond(_scope: Scope, _receive: Receive, send: Send) -> None:
        await send_answer(send, 200, b"application/json", body)

    return respond
