#!/usr/bin/env python3
"""A bare aiohttp server, the baseline of bench/bench_api.py.

It answers ``GET <path>`` (default ``/api/performance``) with fixed bytes read once from a
file, as ``application/json``, with no middleware and the access log off. ``--status`` and
``--header`` make it send another answer's status and headers (a 304: bench/bench_cheap.py).
Anything the perfmon server costs beyond this is perfmon's own overhead. SIGTERM or SIGINT stops it
with exit code 0.

    python bench/baseline_server.py --port 9001 --body /tmp/body.json
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web


def create_app(body: bytes, path: str, status: int = 200,
               headers: Sequence[tuple[str, str]] = ()) -> web.Application:
    """An application with one GET handler that returns ``body`` (with ``status`` and ``headers``)."""
    fixed = dict(headers)

    async def handler(request: web.Request) -> web.Response:
        if fixed or status != 200:
            return web.Response(body=body or None, status=status, headers=fixed)
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get(path, handler)
    return app


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description="Bare aiohttp server returning fixed JSON bytes.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, required=True, help="TCP port")
    parser.add_argument("--body", type=Path, required=True, help="file whose bytes every response carries")
    parser.add_argument("--path", default="/api/performance", help="route to serve (default: %(default)s)")
    parser.add_argument("--status", type=int, default=200, help="status to answer (default: %(default)s)")
    parser.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'",
                        help="a header to send (repeatable); with any, Content-Type is only what they say")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT."""
    args = parse_args(argv)
    headers = [(name.strip(), value.strip()) for name, _, value in (h.partition(":") for h in args.header)]
    app = create_app(args.body.read_bytes(), args.path, args.status, headers)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
