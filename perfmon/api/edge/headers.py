"""Headers every API answer carries: a browser must not sniff, frame or refer from it, and learn no version.

The API serves JSON only, so the strictest policy costs nothing: no content may load
(``default-src 'none'``), no page may frame it, and no URL (with its query) leaks through
``Referer``. ``Server: perfmon`` replaces aiohttp's ``Python/3.x aiohttp/3.x`` (aiohttp only sets its
own when none is given): a scanner learns no version to look up. The answers of a sample carry
these inside their cached headers (``snapshot_headers``), so the hot path adds no work.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import hdrs

SERVER_NAME = "perfmon"
SECURITY_HEADERS: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    hdrs.SERVER: SERVER_NAME,
}


def secured(headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """The security headers plus ``headers`` (which win on a clash)."""
    return {**SECURITY_HEADERS, **headers} if headers else dict(SECURITY_HEADERS)
