#!/usr/bin/env python3
"""perfmon's ``/metrics`` against node_exporter's, side by side in one run on one machine.

Both run at once: perfmon's API server as by default (sampling every second, history in
SQLite in a temporary directory, a token required) and Debian's node_exporter
(``apt-get install prometheus-node-exporter``) with its default collectors. Every request
is what Prometheus 2.42 sends: its ``Accept`` (OpenMetrics first), ``Accept-Encoding: gzip``
and, for perfmon, the Bearer token.

1. Throughput: wrk (``-t2 -c50``) on each ``/metrics`` in alternating rounds: requests per
   second, p99, bytes per response and the server's CPU time per request. perfmon answers
   every scrape of one sample from bytes made once; node_exporter reads /proc and /sys on
   every scrape, which is its design.
2. Scraped once a second over a kept-alive connection, as Prometheus would at its shortest
   interval (every perfmon scrape then meets a new sample, so every one renders): each
   server's CPU against as long with nobody polling, and each scrape's latency; and, for
   scale, perfmon's cheapest request (``/api/health``) polled the same way. Three rounds of
   the three kinds of phase, alternating. The difference per
   scrape is the server time a scrape costs, HTTP included. With ``--before PATH`` (a
   worktree of a commit before /metrics: ``git worktree add /tmp/perfmon-prev d4ae575``)
   that perfmon idles alongside: what /metrics and the counters cost a server nobody scrapes.
3. The render alone, in this process, over real samples taken a second apart: afresh, and
   one sample after another as the server renders them (a family's bytes reused while its
   values stay the same), in both formats, plus gzip; the median of many runs.

All traffic stays on 127.0.0.1; both servers are stopped with SIGTERM at the end.

    python bench/bench_metrics.py
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import http.client
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from bench_api import Server, WrkResult, cpu_seconds, run_wrk, running, spawn, start_perfmon, wait_ready
from common import check_checkout, checkout_env, free_port, percentile

from perfmon.api.endpoints.metrics.prometheus import METRICS_GZIP_LEVEL, Renderer, render
from perfmon.sampling.hub import Hub
from perfmon.sampling.sampler import Sampler

PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
HOST = "127.0.0.1"
PAIRS = 3  # rounds of alternating phases


def start_node_exporter(command: str, workdir: Path) -> Server:
    """node_exporter with its default collectors on a free loopback port."""
    port = free_port()
    # Its systemd collector needs a running systemd (none in a container): left out, it would only log.
    argv = [command, f"--web.listen-address={HOST}:{port}", "--no-collector.systemd"]
    return spawn("node_exporter", argv, workdir, port)


def start_before(root: Path, workdir: Path, token: str) -> Server:
    """perfmon's API server from an older checkout (before /metrics), as start_perfmon starts this one."""
    check_checkout(root)
    port = free_port()
    argv = [sys.executable, str(root / "performance_api_server.py"), "--host", HOST, "--port", str(port),
            "--interval", "1.0", "--log-level", "warning", "--data-dir", str(workdir / "data-before")]
    server = spawn("perfmon-before", argv, workdir, port, checkout_env(root, PERFMON_TOKEN=token))
    return server


def headers(token: str | None) -> dict[str, str]:
    """What Prometheus sends with each scrape."""
    sent = {"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"}
    return {**sent, "Authorization": f"Bearer {token}"} if token else sent


def wrk(url: str, sent: dict[str, str], args: argparse.Namespace) -> list[str]:
    flags = [part for name, value in sent.items() for part in ("-H", f"{name}: {value}")]
    return ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency", *flags, url]


def sizes(url: str, token: str | None) -> tuple[int, int]:
    """Bytes of one scrape as Prometheus gets it (gzip) and uncompressed."""
    request = urllib.request.Request(url, headers=headers(token))
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
        zipped = response.headers.get("Content-Encoding") == "gzip"
    return len(body), len(gzip.decompress(body)) if zipped else len(body)


Polled = dict[str, tuple[Server, str, str | None]]  # name -> (server, path, token)


@dataclass
class Phases:
    """CPU seconds per server and request latencies, summed over the phases of one kind."""

    cpu: dict[str, float] = field(default_factory=dict)
    latency: dict[str, list[float]] = field(default_factory=dict)


def polled_once_a_second(watched: dict[str, Server], polled: Polled, seconds: float, into: Phases) -> None:
    """Poll each of ``polled`` once a second over a kept-alive connection (as Prometheus does) for
    ``seconds``; add every watched server's CPU seconds and each request's latency to ``into``."""
    processes = {name: psutil.Process(server.proc.pid) for name, server in watched.items()}
    before = {name: cpu_seconds(p) for name, p in processes.items()}
    stop = threading.Event()

    def poll(name: str, server: Server, path: str, token: str | None) -> None:
        connection = http.client.HTTPConnection(HOST, server.port, timeout=5)
        took = into.latency.setdefault(name, [])
        try:
            while not stop.wait(1.0):
                started = time.perf_counter()
                connection.request("GET", path, headers=headers(token))
                connection.getresponse().read()
                took.append(time.perf_counter() - started)
        finally:
            connection.close()

    threads = [threading.Thread(target=poll, args=(name, *target), daemon=True)
               for name, target in polled.items()]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(5)
    for name, process in processes.items():
        into.cpu[name] = into.cpu.get(name, 0.0) + cpu_seconds(process) - before[name]


def phases(watched: dict[str, Server], kinds: dict[str, Polled], seconds: float) -> dict[str, Phases]:
    """Each kind of phase (what is polled) for ``seconds`` in all, in PAIRS alternating rounds, so
    that a drift in the background (the sampler, a neighbour) hits every kind alike."""
    results = {kind: Phases() for kind in kinds}
    for _ in range(PAIRS):
        for kind, polled in kinds.items():
            polled_once_a_second(watched, polled, seconds / PAIRS, results[kind])
    return results


async def real_samples(count: int, cold: list[float]) -> list[dict[str, Any]]:
    """``count`` samples of this host taken a second apart, as the server takes them; each is
    rendered (OpenMetrics, after the one before) as it comes, cold as between real scrapes, its
    time added to ``cold``."""
    sampler = Sampler(Hub(1.0), lambda _: None)
    renderer = Renderer(openmetrics_format=True)
    try:
        samples = []
        for _ in range(count + 1):
            samples.append((await sampler.sample_once()).data)
            await asyncio.sleep(0.5)  # as a scrape comes some time after the sample
            started = time.perf_counter()
            renderer.render(samples[-1])
            cold.append(time.perf_counter() - started)
            await asyncio.sleep(0.5)
        del cold[:2]  # the first renders everything
        return samples[1:]  # the first has no rates yet
    finally:
        sampler.shutdown_worker()


def render_times(runs: int) -> dict[str, float]:
    """Median milliseconds to render a real sample: afresh, and as the server does, one sample after
    another with each family's bytes reused while its values stay the same; and to gzip it."""
    times: dict[str, list[float]] = {"OpenMetrics next sample, a second later (cold)": []}
    samples = asyncio.run(real_samples(20, times["OpenMetrics next sample, a second later (cold)"]))
    for name, openmetrics_format in (("text", False), ("OpenMetrics", True)):
        renderer = Renderer(openmetrics_format=openmetrics_format)
        fresh, reused = times.setdefault(f"{name} afresh", []), times.setdefault(f"{name} next sample", [])
        for i in range(runs):
            sample = samples[i % len(samples)]
            started = time.perf_counter()
            body = render(sample, openmetrics_format=openmetrics_format)
            fresh.append(time.perf_counter() - started)
            started = time.perf_counter()
            renderer.render(sample)
            reused.append(time.perf_counter() - started)
    zipped = times.setdefault("gzip (level 1)", [])
    for _ in range(runs):
        started = time.perf_counter()
        gzip.compress(body, METRICS_GZIP_LEVEL, mtime=0)
        zipped.append(time.perf_counter() - started)
    print(f"  a real sample renders to {len(body)} bytes of OpenMetrics")
    return {label: statistics.median(values) * 1e3 for label, values in times.items()}


def report(results: dict[str, list[WrkResult]], body_sizes: dict[str, tuple[int, int]],
           measured: dict[str, Phases], renders: dict[str, float], args: argparse.Namespace,
           version: str) -> None:
    def answered(run: WrkResult) -> float:  # requests per second answered 200: node_exporter
        # refuses scrapes beyond its --web.max-requests (40) with a 503, which costs it little
        return run.requests_per_second * (1 - run.non_2xx_3xx / run.requests) if run.requests else 0.0

    ours = statistics.median(answered(r) for r in results["perfmon"])
    print("\n| /metrics of | req/s (median) | answered 200 per s | ratio perfmon / it (200s) | p99 ms "
          "| bytes gzip / plain | server CPU per request |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, runs in results.items():
        rps = statistics.median(r.requests_per_second for r in runs)
        ok = statistics.median(answered(r) for r in runs)
        per_request = statistics.median(r.server_cpu_us_per_request or 0.0 for r in runs)
        zipped, plain = body_sizes[name]
        p99 = statistics.median(r.p99_ms for r in runs)
        print(f"| {name} | {rps:.0f} | {ok:.0f} | {ours / ok:.1f}x | {p99:.2f} | {zipped} / {plain} "
              f"| {per_request:.0f} µs |")
    idle, scraped, health = (measured[k] for k in ("idle", "/metrics", "/api/health"))
    print(f"\neach kind of phase {args.seconds:g} s in all, {PAIRS} alternating rounds: nobody polling, "
          "/metrics scraped once a second, perfmon's /api/health polled once a second\n\n"
          "| server, polled | CPU, % of a core | CPU per request over idle | latency median (p90) |\n"
          "| --- | ---: | ---: | ---: |")
    for name, used in idle.cpu.items():
        print(f"| {name}, nobody | {used / args.seconds * 100:.2f} | | |")
    for label, phase in (("/metrics", scraped), ("/api/health", health)):
        for name, took in phase.latency.items():
            extra = (phase.cpu[name] - idle.cpu[name]) / len(took) * 1e3
            print(f"| {name}, {label} | {phase.cpu[name] / args.seconds * 100:.2f} | {extra:.2f} ms "
                  f"| {statistics.median(took) * 1e3:.2f} ms ({percentile(took, 0.9) * 1e3:.2f} ms) |")
    timed = ", ".join(f"{k} {v:.3f} ms" for k, v in renders.items())
    print(f"\nrender of one real sample (medians of {args.render_runs}, the cold one of 19): {timed}")
    print(f"\n{version}, psutil {psutil.__version__}\ncommand: python bench/bench_metrics.py --duration "
          f"{args.duration} --connections {args.connections} --rounds {args.rounds} "
          f"--seconds {args.seconds:g}" + (f" --before {args.before}" if args.before else ""))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--node-exporter", default=shutil.which("prometheus-node-exporter")
                        or "/usr/bin/prometheus-node-exporter", help="node_exporter's command")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default: 10)")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (default: 50)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default: 3)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="length of the idle and the scraped-once-a-second phases (default: 60)")
    parser.add_argument("--before", type=Path, default=None,
                        help="a checkout before /metrics, idling alongside in phase 2 (default: none)")
    parser.add_argument("--render-runs", type=int, default=500, help="renders timed (default: 500)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path(args.node_exporter).exists():
        print(f"no node_exporter at {args.node_exporter}: apt-get install prometheus-node-exporter",
              file=sys.stderr)
        return 2
    token = secrets.token_urlsafe(24)
    said = subprocess.run([args.node_exporter, "--version"], capture_output=True, text=True, check=False)
    version = (said.stdout + said.stderr).splitlines()[0]
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        workdir = Path(tmp)
        started = [start_perfmon(workdir, token=token), start_node_exporter(args.node_exporter, workdir)]
        if args.before is not None:
            started.append(start_before(args.before, workdir, token))
        with running(*started) as (perfmon, node, *before):
            wait_ready(perfmon, "/api/health")
            wait_ready(node, "/metrics")
            time.sleep(5)  # a few samples taken, the database created
            servers = {"perfmon": (perfmon, token), "node_exporter": (node, None)}
            body_sizes = {name: sizes(server.url + "/metrics", secret)
                          for name, (server, secret) in servers.items()}
            results: dict[str, list[WrkResult]] = {name: [] for name in servers}
            for round_number in range(1, args.rounds + 1):
                for name, (server, tok) in servers.items():
                    command = wrk(server.url + "/metrics", headers(tok), args)
                    label = f"round {round_number} {name}"
                    results[name].append(run_wrk(label, command, args.duration, server))
            time.sleep(5)  # the load's aftermath settles
            watched = {perfmon.name: perfmon, node.name: node, **{b.name: b for b in before}}
            measured = phases(watched, {
                "idle": {},
                "/metrics": {"perfmon": (perfmon, "/metrics", token),
                             "node_exporter": (node, "/metrics", None)},
                "/api/health": {"perfmon": (perfmon, "/api/health", token)},
            }, args.seconds)
    report(results, body_sizes, measured, render_times(args.render_runs), args, version)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
