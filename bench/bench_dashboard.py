#!/usr/bin/env python3
"""What one dashboard tick costs: incremental ticks against re-sending whole figures.

One run on one machine. A real API server (real psutil, in a thread on 127.0.0.1) is given
a full hour of history (3600 samples, published back to back), and the real dashboard is
served by waitress. For each chart window (5, 15, 60 minutes) two kinds of tick are posted
to the dashboard's poll callback over HTTP, each after five new samples (the defaults:
sampling every 1 s, polling every 5 s):

- incremental: the tab's cursor goes with the tick, as the page does: only new points;
- baseline: no cursor, so the tick rebuilds every figure for the window, as a dashboard
  that re-sends whole figures each tick would.

Reported per window: callback bytes per tick (request and response bodies) and the
dashboard's answer time (median), and the ratio baseline / incremental.

    python bench/bench_dashboard.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import requests

from perfmon.api.app import Monitor, create_app
from perfmon.runtime.servers import ApiServerThread, DashboardServerThread
from perfmon.settings import DashboardConfig, ServerConfig
from perfmon.ui import poll

WINDOWS = (300, 900, 3600)
POINTS_PER_TICK = 5


class Api:
    """The real API server in a thread, publishing samples only when told to (``sample``)."""

    def __init__(self) -> None:
        config = ServerConfig(port=0, interval_seconds=1.0, history_size=3600)
        self.monitor = Monitor.build(config)
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


def post(session: requests.Session, url: str, payload: dict[str, Any]) -> tuple[int, float, dict[str, Any]]:
    """One tick: (request + response body bytes, seconds to answer, the new cursor)."""
    body = json.dumps(payload).encode()
    started = time.perf_counter()
    response = session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    cursor = response.json()["response"]["cursor"]["data"]
    return len(body) + len(response.content), elapsed, cursor


def measure(api: Api, session: requests.Session, url: str, window: int, rounds: int,
            incremental: bool) -> tuple[float, float]:
    """Median bytes and seconds per tick of one kind."""
    _, _, cursor = post(session, url, poll.request_body(0, window=window))
    sizes, times = [], []
    for tick in range(1, rounds + 1):
        api.sample(POINTS_PER_TICK)
        payload = poll.request_body(tick, window=window, cursor=cursor if incremental else None)
        size, elapsed, new_cursor = post(session, url, payload)
        if incremental:
            cursor = new_cursor
        sizes.append(size)
        times.append(elapsed)
    return statistics.median(sizes), statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="ticks of each kind per window")
    args = parser.parse_args(argv)
    api = Api()
    dashboard = DashboardServerThread(DashboardConfig(port=0, api_url=api.url, poll_interval_seconds=5))
    dashboard.start()
    try:
        started = time.perf_counter()
        api.sample(3600)
        print(f"published 3600 samples in {time.perf_counter() - started:.1f} s")
        url = dashboard.url.rstrip("/") + poll.URL_PATH
        session = requests.Session()
        print("| window | incremental: bytes, ms | whole figures: bytes, ms | ratio bytes | ratio time |")
        print("|---|---|---|---|---|")
        for window in WINDOWS:
            inc_bytes, inc_s = measure(api, session, url, window, args.rounds, incremental=True)
            full_bytes, full_s = measure(api, session, url, window, args.rounds, incremental=False)
            print(f"| {window // 60} min | {inc_bytes:,.0f} B, {inc_s * 1000:.1f} ms "
                  f"| {full_bytes:,.0f} B, {full_s * 1000:.1f} ms "
                  f"| {full_bytes / inc_bytes:.0f}x | {full_s / inc_s:.1f}x |")
    finally:
        dashboard.stop()
        dashboard.join(5)
        api.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
