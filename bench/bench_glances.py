#!/usr/bin/env python3
"""perfmon against Glances, side by side in one run on one machine.

Both servers run at the same time, each as its users run it: perfmon's API server as by
default (sampling every second, history in SQLite in a temporary directory) and Glances
in its REST mode (``glances -w --disable-webui``). Glances is not a dependency of perfmon:
install it in a virtual environment of its own and name its command with ``--glances``:

    python3 -m venv /tmp/glances-venv && /tmp/glances-venv/bin/pip install 'glances[web]'
    python bench/bench_glances.py --glances /tmp/glances-venv/bin/glances

1. Throughput: wrk (``-t2 -c50``) on perfmon's ``/api/performance`` (its whole latest
   sample), Glances' ``/api/4/all`` (its whole latest sample) and ``/api/4/cpu`` (its
   smallest endpoint), in alternating rounds; requests per second, p99 latency, bytes per
   response and each server's CPU time per request.
2. Polled once a second: both servers left alone for a while, each polled once a second
   on its whole-sample endpoint at the same time; each one's CPU (% of one core) and RSS.

All traffic stays on 127.0.0.1; both servers are stopped with SIGTERM at the end.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import psutil
from bench_api import (  # bench/bench_api.py, beside this script
    HOST,
    Server,
    WrkResult,
    cpu_seconds,
    run_wrk,
    running,
    spawn,
    start_perfmon,
    wait_ready,
    wrk_command,
)
from common import free_port

GLANCES_PATHS = ("/api/4/all", "/api/4/cpu")


def start_glances(command: str, workdir: Path) -> Server:
    """Glances' REST server (no web UI) on a free port, refreshing every second as perfmon samples."""
    port = free_port()
    argv = [command, "-w", "--disable-webui", "--bind", HOST, "--port", str(port), "--time", "1",
            "--disable-autodiscover", "--quiet"]
    return spawn("glances", argv, workdir, port)


def throughput(perfmon: Server, glances: Server, args: argparse.Namespace) -> dict[str, list[WrkResult]]:
    """Alternating wrk rounds on the three endpoints."""
    targets = {"perfmon /api/performance": (perfmon, "/api/performance"),
               "Glances /api/4/all": (glances, GLANCES_PATHS[0]),
               "Glances /api/4/cpu": (glances, GLANCES_PATHS[1])}
    results: dict[str, list[WrkResult]] = {label: [] for label in targets}
    for round_number in range(1, args.rounds + 1):
        for label, (server, path) in targets.items():
            command = wrk_command(server.url + path, args.duration, args.connections)
            results[label].append(run_wrk(f"round {round_number} {label}", command, args.duration, server))
    return results


def poll_once_a_second(servers: dict[str, tuple[Server, str]],
                       seconds: float) -> dict[str, tuple[float, float]]:
    """Poll each server's URL once a second for ``seconds``; each one's CPU % and peak RSS (MB)."""
    processes = {name: psutil.Process(server.proc.pid) for name, (server, _) in servers.items()}
    before = {name: cpu_seconds(process) for name, process in processes.items()}
    peak = dict.fromkeys(servers, 0.0)
    stop = threading.Event()

    def poll(url: str) -> None:
        while not stop.wait(1.0):
            with urllib.request.urlopen(url, timeout=5) as response:
                response.read()

    threads = [threading.Thread(target=poll, args=(server.url + path,), daemon=True)
               for server, path in servers.values()]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while time.monotonic() - started < seconds:
        for name, process in processes.items():
            peak[name] = max(peak[name], process.memory_info().rss / 2**20)
        time.sleep(0.5)
    stop.set()
    elapsed = time.monotonic() - started
    return {name: ((cpu_seconds(process) - before[name]) / elapsed * 100, peak[name])
            for name, process in processes.items()}


def report(results: dict[str, list[WrkResult]], polled: dict[str, tuple[float, float]],
           args: argparse.Namespace, versions: str) -> None:
    """The tables, with perfmon's ratio to each Glances endpoint."""
    ours = statistics.median(r.requests_per_second for r in results["perfmon /api/performance"])
    print("\n| endpoint | req/s (median) | ratio perfmon / it | p99 ms (median) | bytes per response "
          "| server CPU per request |\n| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, runs in results.items():
        rps = statistics.median(r.requests_per_second for r in runs)
        cpu = statistics.median(r.server_cpu_us_per_request or 0.0 for r in runs)
        print(f"| {label} | {rps:.0f} | {ours / rps:.1f}x | {statistics.median(r.p99_ms for r in runs):.2f} "
              f"| {statistics.median(r.bytes_per_response for r in runs):.0f} | {cpu:.0f} µs |")
    print(f"\npolled once a second for {args.poll_seconds:g} s, both at once:\n\n"
          "| server | CPU, % of one core | RSS, peak MB |\n| --- | ---: | ---: |")
    for name, (cpu, rss) in polled.items():
        print(f"| {name} | {cpu:.2f} | {rss:.1f} |")
    print(f"\n{versions}\ncommand: python bench/bench_glances.py --glances {args.glances} --duration "
          f"{args.duration} --connections {args.connections} --rounds {args.rounds} "
          f"--poll-seconds {args.poll_seconds:g}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--glances", default=shutil.which("glances") or "/tmp/glances-venv/bin/glances",
                        help="the glances command (default: on PATH, else /tmp/glances-venv/bin/glances)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default: 10)")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (default: 50)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default: 3)")
    parser.add_argument("--poll-seconds", type=float, default=60.0,
                        help="length of the polled-once-a-second phase (default: 60)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path(args.glances).exists():
        print(f"no Glances at {args.glances}: see this script's docstring", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-glances-") as tmp:
        workdir = Path(tmp)
        with running(start_perfmon(workdir), start_glances(args.glances, workdir)) as (perfmon, glances):
            wait_ready(perfmon, "/api/performance")
            wait_ready(glances, GLANCES_PATHS[0])
            time.sleep(5)  # both have sampled a few times
            results = throughput(perfmon, glances, args)
            time.sleep(5)  # the load's aftermath settles
            polled = poll_once_a_second({"perfmon": (perfmon, "/api/performance"),
                                         "Glances": (glances, GLANCES_PATHS[0])}, args.poll_seconds)
            with urllib.request.urlopen(glances.url + "/api/4/version", timeout=5) as response:
                versions = f"Glances {response.read().decode().strip()}, psutil {psutil.__version__}"
    report(results, polled, args, versions)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
