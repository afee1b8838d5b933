#!/usr/bin/env python3
"""What long-polling clients cost the perfmon API server, and how fresh their data is.

One run on one machine: a fresh server sampling every second is measured first with no
clients, then with N clients that each hold ``GET /api/performance?wait=30`` with the
ETag of the last sample they saw. Reported: the server's CPU (percent of one core) in
both phases, the extra CPU per delivered response, how many samples each client got, and
freshness: the time from a sample's ``timestamp`` to its arrival at the client (p50,
p99, max). All traffic stays on 127.0.0.1.

    python bench/bench_longpoll.py [--clients 1000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import psutil
from common import free_port, wait_answering  # bench/common.py, beside this script

ROOT = Path(__file__).resolve().parent.parent


async def poller(session: aiohttp.ClientSession, url: str, stop_at: float,
                 freshness_ms: list[float], delivered: list[int], index: int) -> None:
    """Long-poll until ``stop_at``, recording how late each new sample arrives."""
    etag = None
    while time.time() < stop_at:
        headers = {"If-None-Match": etag} if etag else {}
        async with session.get(url, headers=headers) as response:
            if response.status != 200:
                continue
            body = await response.read()
            arrived = time.time()
            etag = response.headers["ETag"]
        sample = json.loads(body)
        if delivered[index]:  # the first answer is the current sample, not a wake-up
            freshness_ms.append((arrived - sample["timestamp"]) * 1000)
        delivered[index] += 1


async def long_poll_phase(url: str, clients: int, seconds: float) -> tuple[list[float], list[int]]:
    """Run ``clients`` long-pollers for ``seconds``."""
    freshness_ms: list[float] = []
    delivered = [0] * clients
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=40)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        stop_at = time.time() + seconds
        await asyncio.gather(*(poller(session, url, stop_at, freshness_ms, delivered, i)
                               for i in range(clients)))
    return freshness_ms, delivered


def cpu_seconds(process: psutil.Process) -> float:
    """User plus system CPU time of the process itself."""
    times = process.cpu_times()
    return times.user + times.system


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: Sequence[str] | None = None) -> int:
    """Run both phases and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000, help="long-polling clients (default: 1000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase (default: 10)")
    args = parser.parse_args(argv)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "performance_api_server.py"), "--port", str(port),
         "--interval", "1", "--log-level", "warning", "--data-dir", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_answering(f"{base}/api/health", server)
        process = psutil.Process(server.pid)
        time.sleep(3)
        before = cpu_seconds(process)
        time.sleep(args.seconds)
        idle_percent = (cpu_seconds(process) - before) / args.seconds * 100
        before = cpu_seconds(process)
        started = time.monotonic()
        freshness, delivered = asyncio.run(long_poll_phase(f"{base}/api/performance?wait=30",
                                                           args.clients, args.seconds))
        elapsed = time.monotonic() - started
        busy_seconds = cpu_seconds(process) - before
        rss_mb = process.memory_info().rss / 2**20
    finally:
        server.terminate()
        server.wait(10)
    busy_percent = busy_seconds / elapsed * 100
    responses = sum(delivered)
    extra_us = (busy_seconds - idle_percent / 100 * elapsed) / responses * 1e6
    print(f"| measurement | value |\n| --- | ---: |\n"
          f"| server CPU, no clients, % of one core | {idle_percent:.2f} |\n"
          f"| server CPU, {args.clients} long-pollers, % of one core | {busy_percent:.1f} |\n"
          f"| responses delivered in {elapsed:.1f} s | {responses} |\n"
          f"| samples per client, min / median / max | {min(delivered)} / "
          f"{statistics.median(delivered):.0f} / {max(delivered)} |\n"
          f"| server CPU per delivered response, µs | {extra_us:.0f} |\n"
          f"| freshness (sample timestamp to client), p50 / p99 / max, ms | "
          f"{percentile(freshness, 0.5):.1f} / {percentile(freshness, 0.99):.1f} / {max(freshness):.1f} |\n"
          f"| server RSS at the end, MB | {rss_mb:.1f} |")
    print(f"\ncommand: python bench/bench_longpoll.py --clients {args.clients} --seconds {args.seconds:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
