"""Behind a trusted reverse proxy, the dashboard sees the client's address and scheme, not the proxy's.

uvicorn's own ProxyHeadersMiddleware is off (``proxy_headers=False``): on by default, it believed
``X-Forwarded-For`` from 127.0.0.1, so a guesser rotating the header was never throttled. This
wrapper applies the API's rule (perfmon.core.proxies) instead, only for connections from
``--trusted-proxies``: ``scope["client"]`` becomes the right-most untrusted forwarded address, and
``scope["scheme"]`` the proxy's ``X-Forwarded-Proto`` (``https`` when it terminates TLS), which the
Origin check of sign-in posts compares with the browser's.
"""

from __future__ import annotations

from typing import Any

from perfmon.core.proxies import TrustedProxies

Scope = dict[str, Any]
SCHEMES = {"http": ("http", "https"), "websocket": ("ws", "wss")}


class ForwardedClient:
    """An ASGI app in front of ``app``, rewriting the client of requests that come through a proxy."""

    def __init__(self, app: Any, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] in SCHEMES:
            client = scope.get("client")
            if client and self.proxies.trusts(client[0]):
                scope = self.forwarded(scope, client[0])
        await self.app(scope, receive, send)

    def forwarded(self, scope: Scope, peer: str) -> Scope:
        """The scope with the client and scheme the trusted proxy at ``peer`` reports."""
        forwarded_for, proto = [], ""
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                forwarded_for.append(value.decode("latin-1"))
            elif name == b"x-forwarded-proto":
                proto = value.decode("latin-1").strip().lower()
        plain, secure = SCHEMES[scope["type"]]
        scheme = {"http": plain, "https": secure}.get(proto, scope.get("scheme", plain))
        return {**scope, "client": (self.proxies.client(peer, forwarded_for), 0), "scheme": scheme}
