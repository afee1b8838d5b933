"""Dash's FastAPI backend as the dashboard runs it: HTTP only, and every error a JSON answer.

No WebSocket. Dash 4.4 puts ``websocket.url`` and ``worker_url`` into the page's config
whenever its backend *can* serve WebSockets (``dash.py``: ``if
self.backend.websocket_capability:``), even with ``websocket_callbacks=False``; the renderer
then runs a SharedWorker that asked for a WebSocket every 5-10 s for as long as the tab was
open (12 refused upgrades a minute per tab, measured), so the page never reached network
idle. Dash takes a backend class (``Dash(backend=Backend)``): this one says it cannot, so
Dash makes neither the ``/_dash-ws-callback`` route nor the page's WebSocket config.

Errors. Dash's middleware answers any exception in its routes with a bare 500 and logs
nothing; a file under ``/_dash-component-suites/`` that is none of the page's is such an
exception. Here an unknown file is a 404, an input that
:mod:`perfmon.ui.tick.inputs` refuses (:class:`~perfmon.ui.tick.inputs.Forged`) a 400 naming the
field, FastAPI's own 404 and 405 take the dashboard's JSON error shape, and any other
exception is a JSON 500 that reaches the edge (:mod:`perfmon.ui.edge.asgi`), which logs each
kind once with its traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash.backends._fastapi import DashMiddleware, FastAPIDashServer
from dash.exceptions import DependencyException, PreventUpdate
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from perfmon.ui.edge.error_log import ANSWER
from perfmon.ui.edge.payload import refuse
from perfmon.ui.edge.plumbing import Receive, Scope, Send
from perfmon.ui.tick.inputs import Forged

NOT_FOUND = "no such page or file"


def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The dashboard's JSON error (the API's shape)."""
    return JSONResponse({"error": {"status": status, "message": message}}, status, headers)


async def http_error(_request: Request, exc: Exception) -> Response:
    """FastAPI's own 404 (no route) and 405 (wrong method), in the JSON error shape."""
    assert isinstance(exc, HTTPException)
    message = NOT_FOUND if exc.status_code == 404 else str(exc.detail).lower()
    return error(exc.status_code, message, exc.headers)


async def internal_error(_request: Request, _exc: Exception) -> Response:
    """The answer to an exception no handler expected; the edge logs it (Starlette re-raises it)."""
    return error(500, ANSWER)


class DashErrors(DashMiddleware):
    """Dash's middleware, except that it neither swallows exceptions nor answers them in HTML."""

    async def _handle_error(self, error: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        if isinstance(error, Forged):
            await refuse(send, 400, str(error))
        elif isinstance(error, PreventUpdate):
            await super()._handle_error(error, scope, receive, send)  # a 204: nothing to change
        else:
            raise error


class Backend(FastAPIDashServer):
    """Dash's FastAPI backend: see the module's docstring."""

    websocket_capability = False

    @staticmethod
    def create_app(name: str = "__main__", config: dict[str, Any] | None = None) -> FastAPI:
        """FastAPI's app with the dashboard's error answers."""
        app: FastAPI = FastAPIDashServer.create_app(name, config)
        app.add_exception_handler(HTTPException, http_error)
        app.add_exception_handler(Exception, internal_error)
        return app

    def setup_backend(self, dash_app: Any) -> None:
        """Dash's middleware with :class:`DashErrors` (Dash's dev-tools timing headers are not served)."""
        self.server.add_middleware(
            DashErrors, dash_app=dash_app, dash_server=self, before_request_funcs=self._before_request_funcs,
            after_request_func=self._after_request_func, enable_timing=False)

    def serve_component_suites(self, dash_app: Any, package_name: str, fingerprinted_path: str,
                               request: Request) -> Response:
        """A file of the page's components; a 404 for any other path."""
        try:
            response: Response = super().serve_component_suites(dash_app, package_name, fingerprinted_path,
                                                                request)
        except (DependencyException, OSError):  # not registered, or not in the package
            return error(404, NOT_FOUND)
        return response
