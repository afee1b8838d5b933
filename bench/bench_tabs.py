#!/usr/bin/env python3
"""What many browser tabs cost the dashboard and the API, against a healthy API and a hung one.

One run on one machine, everything on 127.0.0.1. The real API (``performance_api_server.py``
of the checkout ``--root`` names, sampling every 1 s) runs behind a small reverse proxy in
this process that counts requests per path and passes statuses, headers (ETag, 304,
Content-Encoding) and bodies through untouched. The real dashboard
(``performance_dashboard_http_polling.py --poll-interval POLL``) reads the API through it.

Simulated tabs post the poll callback to ``/_dash-update-component`` as the page does, with
the root checkout's ``perfmon.ui.tick.signature`` building and reading the bodies: every ``--poll``
seconds on a random phase of their own, each carrying its cursor from answer to answer,
and never sending a tick while the previous one is unanswered (as Dash's renderer; the
slot is skipped and the schedule kept).

Phases, each with fresh tabs, a 3 s warm-up and then ``--seconds`` measured: 1 tab;
``--tabs`` tabs; ``--tabs`` tabs with the API hung (SIGSTOP after the warm-up, SIGCONT once
the phase's ticks are answered, and always on the way out). Per phase: the API requests
per second by path, from the proxy, and their ratio to the 1-tab phase; the ticks' latency
as the tabs measure it (p50 / p99 / max, ticks sent in the window), ticks completed and
failed (an HTTP error, or no answer within 10 s), slots a tab let pass while waiting for
an answer; the dashboard's and the API's CPU (% of one core, psutil).

Targets: with 50 tabs the API sees about as many requests as with one; tick p99 under
100 ms against a healthy API and under 700 ms against a hung one.

    python bench/bench_tabs.py [--tabs 50] [--seconds 10] [--poll 1] [--root PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import psutil
from aiohttp import web
from common import (  # bench/common.py, beside this script
    add_root_option,
    check_checkout,
    checkout_env,
    cpu_seconds,
    free_port,
    load_average,
    memory_only_args,
    notable_log_lines,
    percentile,
    wait_answering,
)

HOST = "127.0.0.1"
WARMUP_SECONDS = 3.0
TICK_TIMEOUT_SECONDS = 10.0
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer",
                        "transfer-encoding", "upgrade", "host", "content-length"})
JSON_HEADERS = {"Content-Type": "application/json"}


def load_poll(root: Path) -> ModuleType:
    """``perfmon.ui.tick.signature`` of ``root``, however perfmon is installed in this environment."""
    sys.path.insert(0, str(root.resolve()))
    poll = importlib.import_module("perfmon.ui.tick.signature")
    if not Path(poll.__file__ or "").resolve().is_relative_to(root.resolve()):
        raise RuntimeError(f"perfmon.ui.tick.signature came from {poll.__file__}, not from {root}")
    return poll


class CountingProxy:
    """A reverse proxy to ``upstream`` for GETs, counting requests per path."""

    def __init__(self, upstream: str, port: int) -> None:
        self.upstream, self.port = upstream, port
        self.counts: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()  # the API's answers, 304s included
        self.upstream_errors = 0

    async def start(self) -> None:
        """Listen on 127.0.0.1:port; a client that goes away cancels its upstream request."""
        app = web.Application()
        app.router.add_get("/{tail:.*}", self.forward)
        self.session = aiohttp.ClientSession(auto_decompress=False, timeout=aiohttp.ClientTimeout(total=30),
                                             connector=aiohttp.TCPConnector(limit=0))
        self.runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self.runner.setup()
        await web.TCPSite(self.runner, HOST, self.port).start()

    async def forward(self, request: web.Request) -> web.Response:
        """Count the request and pass it upstream; the answer comes back as it is."""
        self.counts[request.path] += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            async with self.session.get(self.upstream + request.path_qs, headers=headers,
                                        allow_redirects=False) as upstream:
                body = await upstream.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.upstream_errors += 1
            return web.Response(status=502, text=f"proxy: {exc!r}")
        self.statuses[upstream.status] += 1
        kept = [(k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP]
        return web.Response(status=upstream.status, headers=kept, body=body)

    async def close(self) -> None:
        """Stop listening and close the upstream connections."""
        await self.runner.cleanup()
        await self.session.close()


@dataclass
class Ticks:
    """What the tabs of one phase saw of their ticks sent within [``start``, ``end``)."""

    start: float
    end: float
    seconds: list[float] = field(default_factory=list)  # answered ticks' latency
    failed: int = 0
    unanswered: int = 0  # still waiting when the phase gave up on them
    skipped: int = 0  # slots that came while the tab's tick was unanswered

    def skip(self, slots: Sequence[float]) -> None:
        """Slots (loop times) a tab let pass, waiting for an answer."""
        self.skipped += sum(1 for at in slots if self.start <= at < self.end)

    def record(self, sent: float, seconds: float | None) -> None:
        """One tick sent at ``sent`` (loop time): answered in ``seconds``, or failed (None)."""
        if not self.start <= sent < self.end:
            return
        if seconds is None:
            self.failed += 1
        else:
            self.seconds.append(seconds)


@dataclass
class Tab:
    """One browser tab: its schedule and its cursor."""

    poll: ModuleType
    url: str
    first_at: float
    every: float
    cursor: dict[str, Any] | None = None

    async def run(self, session: aiohttp.ClientSession, ticks: Ticks) -> None:
        """Tick on schedule until ``ticks.end``; a slot that comes while a tick is unanswered is skipped."""
        loop = asyncio.get_running_loop()
        slot = -1
        while True:
            due, slot = slot + 1, max(slot + 1, math.ceil((loop.time() - self.first_at) / self.every))
            ticks.skip([self.first_at + missed * self.every for missed in range(due, slot)])
            sent = self.first_at + slot * self.every
            if sent >= ticks.end:
                return
            await asyncio.sleep(sent - loop.time())
            try:
                ticks.record(sent, await self.tick(session, slot + 1))
            except asyncio.CancelledError:
                if ticks.start <= sent < ticks.end:
                    ticks.unanswered += 1
                raise

    async def tick(self, session: aiohttp.ClientSession, n_intervals: int) -> float | None:
        """Post one poll with this tab's cursor; seconds to the answer, or None if it failed."""
        body = json.dumps(self.signature.request_body(n_intervals, cursor=self.cursor))
        started = time.perf_counter()
        try:
            async with session.post(self.url, data=body, headers=JSON_HEADERS) as response:
                payload = await response.read()
        except (aiohttp.ClientError, TimeoutError):
            return None
        elapsed = time.perf_counter() - started
        if response.status == 200:
            self.cursor = self.signature.read_response(payload)[2]
        return elapsed if response.status in (200, 204) else None  # 204: the callback prevented an update


@dataclass
class Servers:
    """The API and the dashboard subprocesses, and the proxy between them."""

    api: subprocess.Popen[bytes]
    dashboard: subprocess.Popen[bytes]
    proxy: CountingProxy
    dashboard_url: str
    logs: list[Path]

    def usage(self) -> tuple[Counter[str], float, float]:
        """Requests per path so far, and the dashboard's and the API's CPU seconds."""
        return (self.proxy.counts.copy(), cpu_seconds(psutil.Process(self.dashboard.pid)),
                cpu_seconds(psutil.Process(self.api.pid)))

    @contextlib.contextmanager
    def hung_api(self, hang: bool) -> Iterator[None]:
        """While inside, the API process is stopped (SIGSTOP); SIGCONT whatever happens."""
        if hang:
            os.kill(self.api.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            if hang:
                os.kill(self.api.pid, signal.SIGCONT)


@dataclass
class Result:
    """One phase's figures."""

    name: str
    rates: dict[str, float]  # API requests per second by path
    ticks: Ticks
    dashboard_cpu: float
    api_cpu: float


async def run_phase(servers: Servers, poll: ModuleType, name: str, tabs: int, args: argparse.Namespace,
                    hang: bool = False) -> Result:
    """Fresh tabs: a warm-up, then ``args.seconds`` measured (with the API hung if ``hang``)."""
    loop = asyncio.get_running_loop()
    rng = random.Random(tabs + hang)
    start = loop.time() + WARMUP_SECONDS
    ticks = Ticks(start, start + args.seconds)
    timeout = aiohttp.ClientTimeout(total=TICK_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
        runs = [asyncio.create_task(Tab(poll, servers.dashboard_url, loop.time() + rng.uniform(0, args.poll),
                                        args.poll).run(session, ticks)) for _ in range(tabs)]
        try:
            await asyncio.sleep(start - loop.time())
            with servers.hung_api(hang):
                (counts, dash_cpu, api_cpu), began = servers.usage(), loop.time()
                await asyncio.sleep(ticks.end - loop.time())
                (counts_end, dash_end, api_end), took = servers.usage(), loop.time() - began
                await asyncio.wait(runs, timeout=TICK_TIMEOUT_SECONDS)  # the window's last ticks
        finally:
            for run in runs:
                run.cancel()
            await asyncio.gather(*runs, return_exceptions=True)
    rates = {path: (counts_end[path] - counts[path]) / took for path in counts_end}
    return Result(name, rates, ticks, (dash_end - dash_cpu) / took * 100, (api_end - api_cpu) / took * 100)


def rate_cell(result: Result, first: Result, path: str | None) -> str:
    """Requests per second to ``path`` (None: all paths), and the ratio to ``first``'s."""
    mine = sum(result.rates.values()) if path is None else result.rates.get(path, 0.0)
    base = sum(first.rates.values()) if path is None else first.rates.get(path, 0.0)
    return f"{mine:.1f} ({mine / base:.1f}x)" if base else f"{mine:.1f}"


def tick_cells(ticks: Ticks) -> str:
    """Latency p50 / p99 / max, completed, failed, unanswered, skipped."""
    ms = [seconds * 1000 for seconds in ticks.seconds]
    latency = f"{percentile(ms, 0.5):.1f} / {percentile(ms, 0.99):.1f} / {max(ms):.1f}" if ms else "-"
    return f"{latency} | {len(ms)} | {ticks.failed} | {ticks.unanswered} | {ticks.skipped}"


def table(results: Sequence[Result]) -> str:
    """The results as a markdown table, request rates against the first phase's."""
    paths = sorted({path for result in results for path, rate in result.rates.items() if rate})
    rows = ["| phase | API req/s, all (ratio to 1 tab) | " + " | ".join(paths)
            + " | tick p50 / p99 / max ms | ticks completed | failed | unanswered at the end "
            + "| slots skipped | dashboard CPU % | API CPU % |",
            "|---|" + "---:|" * (len(paths) + 8)]
    for result in results:
        rates = [rate_cell(result, results[0], path) for path in (None, *paths)]
        rows.append(f"| {result.name} | {' | '.join(rates)} | {tick_cells(result.ticks)} "
                    f"| {result.dashboard_cpu:.1f} | {result.api_cpu:.1f} |")
    return "\n".join(rows)


async def measure(servers: Servers, poll: ModuleType, args: argparse.Namespace) -> list[Result]:
    """Start the proxy, run the three phases, stop the proxy."""
    await servers.proxy.start()
    try:
        return [await run_phase(servers, poll, "1 tab", 1, args),
                await run_phase(servers, poll, f"{args.tabs} tabs", args.tabs, args),
                await run_phase(servers, poll, f"{args.tabs} tabs, API hung", args.tabs, args, hang=True)]
    finally:
        await servers.proxy.close()


def start_servers(root: Path, workdir: Path, poll_seconds: float, url_path: str) -> Servers:
    """The API and the dashboard as subprocesses (the dashboard pointed at the proxy's port)."""
    api_port, proxy_port, dashboard_port = free_port(), free_port(), free_port()
    env = checkout_env(root, PERFMON_DATA_DIR=str(workdir / "data"))
    logs = [workdir / "api.log", workdir / "dashboard.log"]
    api_script, dashboard_script = "performance_api_server.py", "performance_dashboard_http_polling.py"
    commands = [[api_script, "--port", str(api_port), "--interval", "1", *memory_only_args(root, api_script)],
                [dashboard_script, "--port", str(dashboard_port), "--api-url", f"http://{HOST}:{proxy_port}",
                 "--poll-interval", f"{poll_seconds:g}"]]
    procs = []
    for command, log_path in zip(commands, logs, strict=True):
        with log_path.open("wb") as log:
            procs.append(subprocess.Popen([sys.executable, *command, "--log-level", "warning"], cwd=root,
                                          env=env, stdout=log, stderr=subprocess.STDOUT))
    servers = Servers(procs[0], procs[1], CountingProxy(f"http://{HOST}:{api_port}", proxy_port),
                      f"http://{HOST}:{dashboard_port}{url_path}", logs)
    try:
        wait_answering(f"http://{HOST}:{api_port}/api/health", servers.api)
        wait_answering(f"http://{HOST}:{dashboard_port}/", servers.dashboard)
    except RuntimeError:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers: Servers) -> None:
    """SIGCONT (in case), then stop both subprocesses."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(servers.api.pid, signal.SIGCONT)
    for proc in (servers.dashboard, servers.api):
        proc.terminate()
    for proc in (servers.dashboard, servers.api):
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Start the servers, run the phases, print the table and what the servers logged."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, default=50, help="tabs in the many-tab phases (default: 50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per phase (default: 10)")
    parser.add_argument("--poll", type=float, default=1.0, help="the dashboard's poll interval (default: 1)")
    add_root_option(parser)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the API gets its SIGCONT then too
    print(f"root: {args.root} (servers import perfmon from {check_checkout(args.root)}); "
          f"load average (1 / 5 min) {load_average()}")
    poll = load_poll(args.root)
    with tempfile.TemporaryDirectory(prefix="perfmon-tabs-") as workdir:
        servers = start_servers(args.root, Path(workdir), args.poll, poll.URL_PATH)
        try:
            results = asyncio.run(measure(servers, poll, args))
        finally:
            stop_servers(servers)
        print("\n" + table(results))
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(servers.proxy.statuses.items()))
        print(f"\nthe API's answers through the proxy, by status: {statuses}; "
              f"{servers.proxy.upstream_errors} upstream errors (answered 502)")
        for log_path in servers.logs:
            lines = notable_log_lines(log_path)[0]
            print(f"{log_path.stem}'s log, warnings and errors:", *(f"- {line}" for line in lines[:6]),
                  sep="\n")
    print(f"\nload average (1 / 5 min) at the end: {load_average()}")
    print(f"command: python bench/bench_tabs.py --tabs {args.tabs} --seconds {args.seconds:g} "
          f"--poll {args.poll:g} --root {args.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
