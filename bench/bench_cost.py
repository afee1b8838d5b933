#!/usr/bin/env python3
"""What perfmon costs when nobody is looking hard: CPU over a quiet minute, side by side in one run.

The machine is shared and noisy, so every figure comes with the others measured over the same
window, at the same time:

1. The whole system at its defaults (``python -m perfmon run``: the API sampling every second with
   its history in SQLite, the dashboard polling every second), with one real Chromium tab open on
   its dashboard (Playwright, Debian's ``/usr/bin/chromium``), next to ``glances -w`` (its web
   server and web UI, refreshing every second) with one tab open on its page. With ``--before DIR``,
   the same system from an older checkout runs at the same time, with its own tab.
2. The API alone (``performance_api_server.py --interval 1``, history in SQLite), no clients, from
   this checkout and (``--before``) the older one at the same time.

CPU is user plus system time of each server process from ``/proc/PID/stat`` (all its threads), as a
percentage of one core over the window (``--seconds``, after a warm-up). Targets (issue 17): the
whole system at most 0.5 %, the API alone at most 0.3 %.

    python3 -m venv /tmp/glances-venv && /tmp/glances-venv/bin/pip install 'glances[web]'
    git worktree add /tmp/perfmon-before <commit>
    python bench/bench_cost.py --glances /tmp/glances-venv/bin/glances --before /tmp/perfmon-before
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import REPOSITORY, checkout_env, free_port, load_average, wait_answering

HOST = "127.0.0.1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
TICKS = os.sysconf("SC_CLK_TCK")
TIMEOUT_MS = 30_000
TARGETS = {"system": 0.5, "api": 0.3}


@dataclass
class Server:
    """One server process measured: its label, process, the page a tab opens, and its log."""

    label: str
    proc: subprocess.Popen[bytes]
    page_url: str | None
    log: Path
    page: Any = None  # the tab open on page_url, if any


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (every thread), from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def spawn(label: str, argv: list[str], cwd: Path, env: dict[str, str], workdir: Path,
          health_url: str, page_url: str | None) -> Server:
    """Start a server and return once ``health_url`` answers 200."""
    log = workdir / f"{label.replace(' ', '-')}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(label, proc, page_url, log)
    try:
        wait_answering(health_url, proc, timeout=60)
    except RuntimeError:
        stop(server)
        raise
    return server


def stop(server: Server) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    server.proc.terminate()
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """A started server, stopped on the way out."""
    try:
        yield server
    finally:
        stop(server)


def perfmon_system(label: str, root: Path, workdir: Path) -> Server:
    """``python -m perfmon run`` of ``root`` at its defaults (free ports, a fresh data directory)."""
    api_port, dashboard_port = free_port(), free_port()
    argv = [sys.executable, "-m", "perfmon", "run", "--api-port", str(api_port), "--dashboard-port",
            str(dashboard_port), "--data-dir", str(workdir / f"data-{label.replace(' ', '-')}"),
            "--log-level", "warning"]
    return spawn(label, argv, root, checkout_env(root), workdir, f"http://{HOST}:{dashboard_port}/",
                 f"http://{HOST}:{dashboard_port}/")


def perfmon_api(label: str, root: Path, workdir: Path) -> Server:
    """``performance_api_server.py --interval 1`` of ``root``, history in a fresh SQLite file."""
    port = free_port()
    argv = [sys.executable, str(root / "performance_api_server.py"), "--port", str(port), "--interval", "1",
            "--data-dir", str(workdir / f"data-{label.replace(' ', '-')}"), "--log-level", "warning"]
    return spawn(label, argv, root, checkout_env(root), workdir, f"http://{HOST}:{port}/api/health", None)


def glances(command: str, workdir: Path) -> Server:
    """``glances -w`` (REST API and web UI) refreshing every second."""
    port = free_port()
    argv = [command, "-w", "--bind", HOST, "--port", str(port), "--time", "1", "--disable-autodiscover",
            "--quiet"]
    url = f"http://{HOST}:{port}/"
    return spawn("Glances -w", argv, workdir, dict(os.environ), workdir, url + "api/4/status", url)


def open_tabs(stack: ExitStack, servers: Sequence[Server]) -> None:
    """One Chromium tab on each server that has a page, each showing live data before this returns."""
    from playwright.sync_api import sync_playwright

    playwright = stack.enter_context(sync_playwright())
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    stack.callback(browser.close)
    for server in servers:
        if server.page_url is None:
            continue
        page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
        page.goto(server.page_url)
        if server.label.startswith("perfmon"):
            page.wait_for_function("() => document.getElementById('status')?.textContent === 'Connected'",
                                   timeout=TIMEOUT_MS)
        else:
            page.wait_for_load_state("load", timeout=TIMEOUT_MS)
        server.page = page


def window(servers: Sequence[Server], warmup: float, seconds: float) -> dict[str, float]:
    """Each server's CPU as % of one core over ``seconds``, after ``warmup``, all over the same window."""
    pages = [s.page for s in servers if s.page is not None]

    def wait(for_seconds: float) -> None:
        if pages:  # Playwright dispatches its events only while called into
            pages[0].wait_for_timeout(for_seconds * 1000)
        else:
            time.sleep(for_seconds)

    wait(warmup)
    before = {s.label: cpu_seconds(s.proc.pid) for s in servers}
    started = time.monotonic()
    wait(seconds)
    took = time.monotonic() - started
    return {s.label: (cpu_seconds(s.proc.pid) - before[s.label]) / took * 100 for s in servers}


def table(title: str, target: float | None, usage: dict[str, float]) -> str:
    """A Markdown table of one phase."""
    lines = [f"{title}", "", "| server | CPU, % of one core | target |", "| --- | ---: | --- |"]
    for label, percent in usage.items():
        aim = f"<= {target} %" if target is not None and label.startswith("perfmon") else ""
        lines.append(f"| {label} | {percent:.2f} | {aim} |")
    return "\n".join(lines)


def processes_on_host() -> int:
    """How many processes the scans see (each one costs every process scan something)."""
    return sum(1 for entry in os.listdir("/proc") if entry.isdigit())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the phases asked for; print a Markdown table for each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window (default: %(default)s)")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds before it (default: %(default)s)")
    parser.add_argument("--before", type=Path, help="an older checkout, measured at the same time")
    parser.add_argument("--glances", help="Glances' command (e.g. /tmp/glances-venv/bin/glances)")
    parser.add_argument("--phases", default="system,api", help="system, api or both (default: %(default)s)")
    args = parser.parse_args(argv)
    roots = [("perfmon", REPOSITORY)] + ([("perfmon before", args.before.resolve())] if args.before else [])
    phases = args.phases.split(",")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {load_average()}, "
          f"{processes_on_host()} processes, {args.seconds:g} s after {args.warmup:g} s")
    with tempfile.TemporaryDirectory(prefix="perfmon-cost-") as tmp:
        workdir = Path(tmp)
        if "system" in phases:
            with ExitStack() as stack:
                servers = [stack.enter_context(running(perfmon_system(label, root, workdir)))
                           for label, root in roots]
                if args.glances:
                    servers.append(stack.enter_context(running(glances(args.glances, workdir))))
                open_tabs(stack, servers)
                usage = window(servers, args.warmup, args.seconds)
            title = "\nThe whole system at its defaults, one Chromium tab each:"
            print(table(title, TARGETS["system"], usage))
        if "api" in phases:
            with ExitStack() as stack:
                servers = [stack.enter_context(running(perfmon_api(f"{label} API", root, workdir)))
                           for label, root in roots]
                usage = window(servers, args.warmup, args.seconds)
            print(table("\nThe API alone at --interval 1 with its store, no clients:", TARGETS["api"], usage))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
