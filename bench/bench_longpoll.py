#!/usr/bin/env python3
"""What long-polling clients cost the perfmon API server, and how fresh their data is.

One run on one machine: a fresh server sampling every second is measured first with no
clients, then with N clients that each hold ``GET /api/performance?wait=30`` with the
ETag of the last sample they saw. Reported: the server's CPU (percent of one core) in
both phases, the extra CPU per delivered response, how many samples each client got, and
freshness: the time from a sample's ``timestamp`` to its arrival at the client (p50,
p99, max; the target is p99 within 50 ms), and the server's RSS: its peak (sampled every
0.1 s) and at the end. ``--root`` names the checkout whose server runs (default: this
one), so old and new code can be measured alike. All traffic stays on 127.0.0.1.

    python bench/bench_longpoll.py [--clients 1000] [--seconds 10] [--root PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

import psutil
from common import (  # bench/common.py, beside this script
    PeakRss,
    add_root_option,
    checkout_env,
    cpu_seconds,
    free_port,
    load_average,
    memory_only_args,
    percentile,
    wait_answering,
)

FRESHNESS_TARGET_MS = 50.0


TIMESTAMP = re.compile(rb'"timestamp": ?([0-9.]+)')
ETAG = re.compile(rb"\r\netag: ?([^\r]+)", re.IGNORECASE)
LENGTH = re.compile(rb"\r\ncontent-length: ?(\d+)", re.IGNORECASE)


SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux: the kernel's receive time of the data


class LongPoller:
    """One client on one kept-alive connection: a long-poll, and the next as soon as it is answered.

    A raw socket rather than an HTTP client library, and each answer's arrival is the time
    the kernel received its first bytes (``SO_TIMESTAMPNS``), not the time this process got
    round to reading them: 1,000 clients in one Python process read 1,000 answers one after
    another (an aiohttp client spends about 0.2 ms on each), which would otherwise be
    measured as the server's delay.
    """

    def __init__(self, sock: socket.socket, request: bytes, stop_at: float,
                 freshness_ms: list[float]) -> None:
        self.sock, self.request, self.stop_at, self.freshness_ms = sock, request, stop_at, freshness_ms
        self.buffer = b""
        self.arrived = 0.0
        self.asked = 0.0  # when the request in flight was sent
        self.etag: bytes | None = None
        self.delivered = 0
        self.loop = asyncio.get_running_loop()
        self.done = self.loop.create_future()
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.setblocking(False)
        self.loop.add_reader(sock.fileno(), self.readable)
        self.ask()

    def ask(self) -> None:
        if time.time() >= self.stop_at:
            self.close()
            return
        condition = b"If-None-Match: " + self.etag + b"\r\n" if self.etag else b""
        self.asked = time.time()
        self.sock.send(self.request + condition + b"\r\n")  # a few hundred bytes: never blocks

    def close(self) -> None:
        self.loop.remove_reader(self.sock.fileno())
        self.sock.close()
        if not self.done.done():
            self.done.set_result(None)

    def readable(self) -> None:
        try:
            data, ancillary, _, _ = self.sock.recvmsg(1 << 16, 64)
        except BlockingIOError:
            return
        if not data:
            self.close()
            return
        if not self.buffer:
            self.arrived = kernel_time(ancillary) or time.time()
        self.buffer += data
        self.answered()

    def answered(self) -> None:
        head_end = self.buffer.find(b"\r\n\r\n")
        length = LENGTH.search(self.buffer, 0, head_end) if head_end >= 0 else None
        if length is None or len(self.buffer) < head_end + 4 + int(length.group(1)):
            return
        head, body = self.buffer[:head_end], self.buffer[head_end + 4:]
        self.buffer = b""
        if head.startswith(b"HTTP/1.1 200"):
            etag = ETAG.search(head)
            self.etag = etag.group(1) if etag else None
            stamp = TIMESTAMP.search(body)
            if stamp and float(stamp.group(1)) > self.asked:  # a waiter woken by a new sample
                self.freshness_ms.append((self.arrived - float(stamp.group(1))) * 1000)
            self.delivered += 1
        self.ask()


def kernel_time(ancillary: list[tuple[int, int, bytes]]) -> float | None:
    """The receive time the kernel attached to the data (``SCM_TIMESTAMPNS``), if it did."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return seconds + nanoseconds / 1e9
    return None


async def long_poll_phase(port: int, clients: int, seconds: float) -> tuple[list[float], list[int]]:
    """Run ``clients`` long-pollers for ``seconds``; their freshness (ms) and answers per client."""
    freshness_ms: list[float] = []
    stop_at = time.time() + seconds
    request = f"GET /api/performance?wait=30 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
    pollers = [LongPoller(socket.create_connection(("127.0.0.1", port)), request, stop_at, freshness_ms)
               for _ in range(clients)]
    await asyncio.wait([poller.done for poller in pollers], timeout=seconds + 35)
    return freshness_ms, [poller.delivered for poller in pollers]


def main(argv: Sequence[str] | None = None) -> int:
    """Run both phases and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000, help="long-polling clients (default: 1000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase (default: 10)")
    add_root_option(parser)
    args = parser.parse_args(argv)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    script = "performance_api_server.py"
    data_dir = tempfile.TemporaryDirectory(prefix="perfmon-")  # unused where --data-dir none is known
    server = subprocess.Popen(
        [sys.executable, script, "--port", str(port), "--interval", "1", "--log-level", "warning",
         *memory_only_args(args.root, script)],
        cwd=args.root, env=checkout_env(args.root, PERFMON_DATA_DIR=data_dir.name),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_answering(f"{base}/api/health", server)
        process = psutil.Process(server.pid)
        time.sleep(3)
        before = cpu_seconds(process)
        time.sleep(args.seconds)
        idle_percent = (cpu_seconds(process) - before) / args.seconds * 100
        before = cpu_seconds(process)
        started = time.monotonic()
        rss = PeakRss(process)
        rss.start()
        freshness, delivered = asyncio.run(long_poll_phase(port, args.clients, args.seconds))
        elapsed = time.monotonic() - started
        busy_seconds = cpu_seconds(process) - before
        rss_mb, peak_mb = process.memory_info().rss / 2**20, rss.stop() / 2**20
    finally:
        server.terminate()
        server.wait(10)
        data_dir.cleanup()
    busy_percent = busy_seconds / elapsed * 100
    responses = sum(delivered)
    p99 = percentile(freshness, 0.99)
    verdict = "met" if p99 <= FRESHNESS_TARGET_MS else "missed"
    extra_us = (busy_seconds - idle_percent / 100 * elapsed) / responses * 1e6
    print(f"| measurement | value |\n| --- | ---: |\n"
          f"| server CPU, no clients, % of one core | {idle_percent:.2f} |\n"
          f"| server CPU, {args.clients} long-pollers, % of one core | {busy_percent:.1f} |\n"
          f"| responses delivered in {elapsed:.1f} s | {responses} |\n"
          f"| samples per client, min / median / max | {min(delivered)} / "
          f"{statistics.median(delivered):.0f} / {max(delivered)} |\n"
          f"| server CPU per delivered response, µs | {extra_us:.0f} |\n"
          f"| freshness (sample timestamp to client), min / p50 / p99 / max, ms | "
          f"{min(freshness, default=float('nan')):.1f} / {percentile(freshness, 0.5):.1f} / {p99:.1f} / "
          f"{max(freshness, default=float('nan')):.1f} |\n"
          f"| target: freshness p99 <= {FRESHNESS_TARGET_MS:g} ms | {verdict} |\n"
          f"| server RSS, peak during the phase / at the end, MB | {peak_mb:.1f} / {rss_mb:.1f} |\n"
          f"| host load average (1 / 5 min) at the end | {load_average()} |")
    print(f"\ncommand: python bench/bench_longpoll.py --clients {args.clients} --seconds {args.seconds:g}"
          f" --root {args.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
