#!/usr/bin/env python3
"""What the dashboard costs on the wire: a tick, against re-sending whole figures; and a range switch.

One run on one machine. A real API server (real psutil, in a thread on 127.0.0.1) and the
real dashboard, served by uvicorn; the dashboard's poll callback is posted over HTTP, as
the page posts it.

Ticks: the API is given a full hour of samples (3600, published back to back); for a few
ranges, two kinds of tick are posted, each after five new samples (the defaults: sampling
every 1 s, polling every 5 s):

- incremental: the tab's cursor goes with the tick, as the page does: only what is new;
- baseline: no cursor, so the tick rebuilds every figure for the range, as a dashboard
  that re-sends whole figures each tick would.

Reported per range: callback bytes per tick (request and response bodies), the dashboard's
answer time (median), and the ratio baseline / incremental.

Range switches: for sampling every 1 s and every 0.1 s, a tab switches to each range in
turn, against an API whose history is full over every range (every bucket holds data, every
value as long as it gets on a busy host: the worst case, which a fresh server never shows).
Reported: bytes on the wire per switch, headers and bodies both ways, and the resolution.

    python bench/bench_dashboard.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import requests

from perfmon.api.app import Monitor, create_app
from perfmon.runtime.servers import ApiServerThread, DashboardServerThread
from perfmon.settings import DashboardConfig, ServerConfig
from perfmon.store.base import HistoryStore, RangeResult
from perfmon.store.buckets import VALUE_COLUMNS, Buckets, TierSpan, bucket_seconds, choose_tier
from perfmon.ui.tick import ranges, signature

TICK_RANGES = ("5m", "1h", "24h")
SWITCH_INTERVALS = (1.0, 0.1)
POINTS_PER_TICK = 5


class FullStore:
    """A store whose ranges are full: every bucket holds data, values at their longest in practice.

    The tiers are those of the SQLite store (every sample, per minute, ten minutes, hour), all
    reaching back far enough; the live tail (cursor reads) is the real ring's.
    """

    def __init__(self, ring: HistoryStore, interval: float) -> None:
        self.ring, self.interval = ring, interval

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ring, name)

    def __len__(self) -> int:
        return len(self.ring)

    def read_range(self, start: float, end: float, points: int, selectors: Any = ()) -> RangeResult:
        """Equal buckets over [start, end), every one with data (today's columns: ``selectors`` pick none)."""
        tiers = [TierSpan("raw", self.interval, 0.0), TierSpan("minute", 60.0, 0.0),
                 TierSpan("ten_minute", 600.0, 0.0), TierSpan("hour", 3600.0, 0.0)]
        tier = choose_tier(tiers, start, end, points)
        buckets = Buckets.over(start, end, bucket_seconds(tier, start, end, points))
        rng = random.Random(points)
        for i in range(buckets.count):
            for column in VALUE_COLUMNS:
                low, high = ((10.0, 99.9) if "percent" in column else (10.0, 99.99) if "load" in column
                             else (1e8, 1e9 - 1))  # a busy host: 100 MB/s to 1 GB/s
                values = sorted(round(rng.uniform(low, high), 1) for _ in range(3))
                buckets.add(i, column, values[0], values[2], sum(values), 3)
            buckets.add_cores(i, [round(rng.uniform(10, 99.9), 1), round(rng.uniform(10, 99.9), 1)])
        return buckets.result(tier.name, end)


class Api:
    """The real API server in a thread, publishing samples only when told to (``sample``)."""

    def __init__(self, interval: float = 1.0, full: bool = False) -> None:
        config = ServerConfig(port=0, interval_seconds=interval, history_size=3600)
        self.monitor = Monitor.build(config)
        if full:
            self.monitor = dataclasses.replace(self.monitor, store=FullStore(self.monitor.store, interval))
        self.thread = ApiServerThread(config, app=create_app(config, monitor=self.monitor, sample=False))
        self.thread.start()
        if not self.thread.wait_listening(30):
            raise RuntimeError(self.thread.error or "the API server did not start")
        self.url = self.thread.url

    def sample(self, count: int) -> None:
        """Take and publish ``count`` samples with the real psutil, back to back."""
        for _ in range(count):
            self.thread.submit(self.monitor.sampler.sample_once()).result(10)

    def close(self) -> None:
        """Stop the server."""
        self.thread.stop()
        self.thread.join(5)


class Dashboard:
    """The real dashboard on uvicorn, for one API; ``post`` sends one poll as the page does."""

    def __init__(self, api: Api) -> None:
        self.thread = DashboardServerThread(DashboardConfig(port=0, api_url=api.url, poll_interval_seconds=5))
        self.thread.start()
        self.url = self.thread.url.rstrip("/") + signature.URL_PATH
        self.session = requests.Session()

    def post(self, payload: dict[str, Any]) -> tuple[int, int, float, dict[str, Any], dict[str, Any]]:
        """One poll: (body bytes both ways, header bytes both ways, seconds, updates, new cursor)."""
        body = json.dumps(payload).encode()
        started = time.perf_counter()
        response = self.session.post(self.url, data=body, headers={"Content-Type": "application/json"},
                                     timeout=30)
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        updates, _, cursor = signature.read_response(response.content)
        headers = sum(len(f"{k}: {v}\r\n") for message in (response.request, response)
                      for k, v in message.headers.items()) + 64  # request and status lines
        return len(body) + len(response.content), headers, elapsed, updates, cursor

    def close(self) -> None:
        """Stop serving."""
        self.session.close()
        self.thread.stop()
        self.thread.join(5)


def measure(api: Api, dashboard: Dashboard, preset: str, rounds: int,
            incremental: bool) -> tuple[float, float]:
    """Median bytes and seconds per tick of one kind."""
    span = {"range": preset}
    cursor = dashboard.post(signature.request_body(0, span=span))[4]
    sizes, times = [], []
    for tick in range(1, rounds + 1):
        api.sample(POINTS_PER_TICK)
        size, _, elapsed, _, new_cursor = dashboard.post(
            signature.request_body(tick, span=span, cursor=cursor if incremental else None))
        if incremental:
            cursor = new_cursor
        sizes.append(size)
        times.append(elapsed)
    return statistics.median(sizes), statistics.median(times)


def ticks(rounds: int) -> None:
    """Print the table of bytes and time per tick."""
    api = Api()
    dashboard = Dashboard(api)
    try:
        started = time.perf_counter()
        api.sample(3600)
        print(f"published 3600 samples in {time.perf_counter() - started:.1f} s")
        print("| range | incremental: bytes, ms | whole figures: bytes, ms | ratio bytes | ratio time |")
        print("|---|---|---|---|---|")
        for preset in TICK_RANGES:
            inc_bytes, inc_s = measure(api, dashboard, preset, rounds, incremental=True)
            full_bytes, full_s = measure(api, dashboard, preset, rounds, incremental=False)
            print(f"| {ranges.LABELS[preset]} | {inc_bytes:,.0f} B, {inc_s * 1000:.1f} ms "
                  f"| {full_bytes:,.0f} B, {full_s * 1000:.1f} ms "
                  f"| {full_bytes / inc_bytes:.0f}x | {full_s / inc_s:.1f}x |")
    finally:
        dashboard.close()
        api.close()


def switches(interval: float) -> list[str]:
    """One table row per range: bytes of switching to it, against a full history."""
    api = Api(interval, full=True)
    dashboard = Dashboard(api)
    try:
        api.sample(3)
        cursor = dashboard.post(signature.request_body(0, span={"range": "30d"}))[4]
        cells = []
        for preset in ranges.PRESETS:  # from 30 d to 5 min, then each to the next
            body, headers, _, updates, cursor = dashboard.post(
                signature.request_body(1, span={"range": preset}, cursor=cursor))
            shown = updates["resolution.children"].split(" in ")[0]
            cells.append(f"{(body + headers) / 1000:,.1f} KB ({shown})")
        return cells
    finally:
        dashboard.close()
        api.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run both measurements and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="ticks of each kind per range")
    args = parser.parse_args(argv)
    ticks(args.rounds)
    print()
    print("| sampling | " + " | ".join(ranges.LABELS[preset] for preset in ranges.PRESETS) + " |")
    print("|---|" + "---|" * len(ranges.PRESETS))
    for interval in SWITCH_INTERVALS:
        print(f"| every {interval:g} s | " + " | ".join(switches(interval)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
