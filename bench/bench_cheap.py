#!/usr/bin/env python3
"""The cheapest answers against a bare aiohttp handler sending the same bytes, in one run.

The dashboard's most common request is a conditional poll that perfmon answers 304, and load
balancers poll ``/api/health``; both should cost little more than aiohttp itself. For each, a bare
aiohttp server (bench/baseline_server.py) answers with the very status, headers and body perfmon
sent (read from perfmon first), and wrk (``-t2``) loads them in alternating rounds: baseline,
perfmon (this checkout), perfmon ``--before`` (an older checkout, if given), Netdata's smallest
query if ``--netdata`` names its binary (Debian's ``netdata``: ``/api/v1/data?chart=system.cpu&
points=1&after=-1``, about 170 B), round after round, every other round in reverse order. The
304 runs follow the ETag with a wrk Lua script (it changes every second). Reported: requests per
second (median of the rounds), the ratio to the baseline of the same round (median, and its
range), the server's CPU per request.

    python bench/bench_cheap.py [--duration 5] [--rounds 3] [--before DIR] [--netdata /usr/sbin/netdata]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from bench_api import (  # bench/bench_api.py, beside this script
    BASELINE_SCRIPT,
    FOLLOW_ETAG_LUA,
    HOST,
    Server,
    WrkResult,
    run_wrk,
    running,
    spawn,
    wait_ready,
    wrk_command,
)
from common import REPOSITORY, checkout_env, free_port, http_get, load_average

NETDATA_QUERY = "/api/v1/data?chart=system.cpu&points=1&after=-1&format=json"
SKIPPED = {"content-length", "date", "transfer-encoding", "connection", "keep-alive"}  # aiohttp's own


def start_api(name: str, root: Path, workdir: Path) -> Server:
    """An API server of ``root`` at its defaults (1 s, history in SQLite), on a free port."""
    port = free_port()
    argv = [
        sys.executable,
        str(root / "performance_api_server.py"),
        "--host",
        HOST,
        "--port",
        str(port),
        "--interval",
        "1",
        "--log-level",
        "warning",
        "--data-dir",
        str(workdir / f"data-{name}"),
    ]
    server = spawn(name, argv, workdir, port, checkout_env(root))
    wait_ready(server, "/api/health")
    return server


def start_baseline(
    name: str, path: str, status: int, headers: dict[str, str], body: bytes, workdir: Path
) -> Server:
    """A bare aiohttp server answering ``path`` with this status, these headers and this body."""
    body_file = workdir / f"{name}.body"
    body_file.write_bytes(body)
    port = free_port()
    argv = [
        sys.executable,
        str(BASELINE_SCRIPT),
        "--host",
        HOST,
        "--port",
        str(port),
        "--body",
        str(body_file),
        "--path",
        path,
        "--status",
        str(status),
    ]
    for key, value in headers.items():
        if key.lower() not in SKIPPED:
            argv += ["--header", f"{key}: {value}"]
    server = spawn(name, argv, workdir, port)
    wait_answering_any(server, path)
    return server


def wait_answering_any(server: Server, path: str) -> None:
    """Return once ``path`` answers at all (a baseline of a 304 never answers 200)."""

    for _ in range(200):
        try:
            http_get(server.url + path, timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{server.name} never answered; its output:\n{server.log_tail()}")


def start_netdata(binary: str, workdir: Path) -> Server:
    """Netdata in the foreground on a free port, its web server only on 127.0.0.1."""
    port = free_port()
    config = workdir / "netdata.conf"
    config.write_text(
        f"[global]\n  run as user = root\n[web]\n  bind to = {HOST}:{port}\n"
        f"[ml]\n  enabled = no\n[health]\n  enabled = no\n"
    )
    server = spawn("netdata", [binary, "-D", "-c", str(config), "-p", str(port)], workdir, port)
    wait_ready(server, NETDATA_QUERY)
    return server


def answer(server: Server, path: str, etag: bool = False) -> tuple[int, dict[str, str], bytes]:
    """What ``server`` answers on ``path`` (conditionally on its current ETag with ``etag``: a 304,
    unless a sample came between the two requests, when it asks again)."""
    for _ in range(10):
        status, headers, body = http_get(server.url + path, {"Accept-Encoding": "identity"})
        if not etag:
            break
        status, headers, body = http_get(server.url + path, {"If-None-Match": headers["ETag"]})
        if status == 304:
            break
    return status, dict(headers), body


def main(argv: Sequence[str] | None = None) -> int:
    """Alternating wrk rounds over every server; a Markdown table at the end."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default: %(default)s)")
    parser.add_argument("--connections", type=int, default=50, help="wrk -c (default: %(default)s)")
    parser.add_argument("--before", type=Path, help="an older checkout, measured in the same rounds")
    parser.add_argument("--netdata", help="Netdata's binary, for its one-point query in the same rounds")
    args = parser.parse_args(argv)

    print(f"load {load_average()}; wrk -t2 -c{args.connections} -d{args.duration}s, {args.rounds} rounds")
    with tempfile.TemporaryDirectory(prefix="perfmon-cheap-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        lua = workdir / "follow.lua"
        lua.write_text(FOLLOW_ETAG_LUA)
        apis = [("perfmon", REPOSITORY)] + ([("before", args.before.resolve())] if args.before else [])
        servers = {name: start_api(name, root, workdir) for name, root in apis}
        stack.enter_context(running(*servers.values()))
        first = servers["perfmon"]
        status, headers, _body = answer(first, "/api/performance", etag=True)
        assert status == 304, f"expected a 304, got {status}"
        h_status, h_headers, h_body = answer(first, "/api/health")
        bases = {
            "304": start_baseline("bare-304", "/api/performance", status, headers, b"", workdir),
            "health": start_baseline("bare-health", "/api/health", h_status, h_headers, h_body, workdir),
        }
        stack.enter_context(running(*bases.values()))
        netdata = start_netdata(args.netdata, workdir) if args.netdata else None
        if netdata is not None:
            stack.enter_context(running(netdata))
            print(f"  Netdata's query answers {len(answer(netdata, NETDATA_QUERY)[2])} B")
        results: dict[str, list[WrkResult]] = {}
        for round_number in range(args.rounds):
            print(f"round {round_number + 1}")
            for kind, path, extra in (
                ("304", "/api/performance", ["-s", str(lua)]),
                ("health", "/api/health", []),
            ):
                order = [("bare", bases[kind]), *servers.items()]
                # every other round in reverse (ABBA): drift and a run's place in the round cancel out
                for name, server in order if round_number % 2 == 0 else order[::-1]:
                    command = wrk_command(server.url + path, args.duration, args.connections, extra)
                    label = f"{name} {kind}"
                    results.setdefault(label, []).append(run_wrk(label, command, args.duration, server))
            if netdata is not None:
                command = wrk_command(netdata.url + NETDATA_QUERY, args.duration, args.connections)
                results.setdefault("netdata one point", []).append(
                    run_wrk("netdata one point", command, args.duration, netdata)
                )
        print_table(results)
    return 0


def print_table(results: dict[str, list[WrkResult]]) -> None:
    """Medians of each, and each perfmon's ratio to the bare server of the same round."""
    print("\n| answer | req/s (median) | / bare aiohttp (median of rounds, range) | server CPU per request |")
    print("| --- | ---: | ---: | ---: |")
    for label, runs in results.items():
        kind = label.split()[-1]
        bare = results.get(f"bare {kind}")
        ratio = ""
        if bare is not None and not label.startswith("bare") and not label.startswith("netdata"):
            ratios = sorted(r.requests_per_second / b.requests_per_second
                            for r, b in zip(runs, bare, strict=True))
            ratio = f"{statistics.median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"
        rps = statistics.median(r.requests_per_second for r in runs)
        cpu = statistics.median(r.server_cpu_us_per_request or 0.0 for r in runs)
        print(f"| {label} | {rps:,.0f} | {ratio} | {cpu:.0f} µs |")


if __name__ == "__main__":
    raise SystemExit(main())
