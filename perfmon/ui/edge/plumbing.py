"""ASGI plumbing the dashboard's edge shares: the types, request headers and bodies, plain answers.

Every answer the edge makes itself (an error, a redirect, the login page) goes through
:func:`send_answer`, so each carries a length and the headers it is given.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = Iterable[tuple[bytes, bytes]]

MAX_BODY_BYTES = 1024 * 1024
HTML = b"text/html; charset=utf-8"
NO_STORE = (b"cache-control", b"no-store")


def header(scope: Scope, name: bytes) -> bytes:
    """A request header's value (the first), or b""."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return b""


async def send_answer(send: Send, status: int, content_type: bytes, body: bytes,
                      headers: Headers = ()) -> None:
    """A whole answer in one body: its type, its length and ``headers``."""
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, message: str, headers: Headers = ()) -> None:
    """The JSON error every 4xx of the dashboard carries (the API's shape)."""
    body = json.dumps({"error": {"status": status, "message": message}}).encode()
    await send_answer(send, status, b"application/json", body, headers)


async def send_html(send: Send, status: int, page: str, headers: Headers = ()) -> None:
    """An HTML page the edge wrote itself (never cached: it may say who is signed in)."""
    await send_answer(send, status, HTML, page.encode(), [NO_STORE, *headers])


async def redirect(send: Send, location: str, headers: Headers = ()) -> None:
    """A 303: the browser GETs ``location`` (a path on this server) next."""
    await send_answer(send, 303, b"text/plain; charset=utf-8", b"",
                      [(b"location", location.encode("ascii")), NO_STORE, *headers])


async def read_body(scope: Scope, receive: Receive) -> bytes | None:
    """The whole request body, or None when it is over the cap (announced or as it arrives)."""
    length = header(scope, b"content-length")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away: let the app see an empty body
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def replay(body: bytes) -> Receive:
    """A ``receive`` that gives the buffered body once, then waits as ASGI servers do."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
