#!/usr/bin/env python3
"""The API's throughput with the alerts evaluated on every sample, against the same API with none.

One run on one machine (shared and noisy: the ratio is the point). Two API servers of this
checkout sample every ``--interval`` (0.1 s: ten evaluations a second, ten times the default's),
history in SQLite: one with the built-in rules and a rules file of 200 more (100 over the CPU,
100 over every filesystem: several hundred instances), one with ``builtin_rules: false`` and no
rule (nothing evaluated). wrk loads ``GET /api/performance`` and ``GET /api/alerts`` on each in
turn (``-t2 -c50``), the two servers swapping places each round, for ``--rounds`` rounds.
Reported: each round's requests per second and the ratio of the pair, and the median ratio
(target, issue 18: throughput unchanged, a ratio near 1).

    python bench/bench_alerts_api.py [--duration 10] [--rounds 3] [--interval 0.1]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench_api import HOST, Server, parse_wrk, spawn, stop, wrk_command
from common import REPOSITORY, free_port, load_average, wait_answering

SCRIPT = REPOSITORY / "performance_api_server.py"
MANY = "\n".join(
    f"  - {{name: Busy{i}, select: cpu.percent, above: {50 + i % 50}, clear: {40 + i % 40}, for: {i % 7}m}}\n"
    f"  - {{name: Full{i}, select: 'disks[mountpoint=~\".*\"].percent', above: {80 + i % 20}, for: 1m}}"
    for i in range(100))


def start(workdir: Path, name: str, rules: str, interval: float) -> Server:
    """An API server of this checkout with the rules file ``rules``."""
    port = free_port()
    path = workdir / f"{name}.yml"
    path.write_text(rules)
    argv = [sys.executable, str(SCRIPT), "--host", HOST, "--port", str(port), "--interval", str(interval),
            "--log-level", "warning", "--data-dir", str(workdir / f"data-{name}"), "--alerts-file", str(path)]
    server = spawn(name, argv, workdir, port)
    wait_answering(f"http://{HOST}:{port}/api/health", server.proc)
    return server


def load(server: Server, path: str, duration: int, connections: int) -> float:
    """Requests per second of one wrk run."""
    out = subprocess.run(wrk_command(f"http://{HOST}:{server.port}{path}", duration, connections),
                         capture_output=True, text=True, check=True).stdout
    result = parse_wrk(out)
    if result.non_2xx_3xx or any(result.socket_errors.values()):
        raise RuntimeError(f"{server.name} {path}: {result.problems()}")
    return result.requests_per_second


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default: %(default)s)")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default: %(default)s)")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between samples (%(default)s)")
    args = parser.parse_args(argv)
    print(f"load average before: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="perfmon-bench-alerts-") as tmp:
        workdir = Path(tmp)
        servers = [start(workdir, "alerts", f"rules:\n{MANY}\n", args.interval),
                   start(workdir, "none", "builtin_rules: false\n", args.interval)]
        try:
            runs: dict[tuple[str, str], list[float]] = {}
            for index in range(args.rounds):
                for server in servers if index % 2 == 0 else servers[::-1]:
                    for path in ("/api/performance", "/api/alerts"):
                        rps = load(server, path, args.duration, args.connections)
                        runs.setdefault((server.name, path), []).append(rps)
                        print(f"round {index + 1}: {server.name:6} {path:17} {rps:10,.0f} req/s", flush=True)
            evaluated = subprocess.run(["curl", "-s", f"http://{HOST}:{servers[0].port}/api/alerts"],
                                       capture_output=True, text=True).stdout[:160]
            print(f"\nthe rules' API, at the end: {evaluated}...")
            for path in ("/api/performance", "/api/alerts"):
                pairs = zip(runs[("alerts", path)], runs[("none", path)], strict=True)
                ratios = [on / off for on, off in pairs]
                print(f"{path:17} alerts on / none, per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
                      f"median {statistics.median(ratios):.2f}")
        finally:
            for server in servers:
                stop(server)
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
