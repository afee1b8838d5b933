#!/usr/bin/env python3
"""How old a new sample is when it appears on screen: the dashboard against a WebSocket push page.

One run on one machine, real Chromium (Debian's, driven by Playwright), everything on 127.0.0.1.
For each configuration (sampling every ``--interval`` s, polling every ``--poll-interval`` s):
the real API (``performance_api_server.py``) and dashboard (``performance_dashboard_http_polling.py
--api-url`` that API) of the checkout ``--root`` names, as processes, and beside them the push
page (``bench/ws_baseline.py``: the same sampler, each sample sent on a WebSocket as it is
published) at the same sample interval. One tab on each; the dashboard's raw-data panel open.

In both tabs a MutationObserver watches the ``<pre>`` that shows the raw sample (``#raw-json``,
``#sample``): when its text changes to a sample whose ``seq`` it has not seen, it records
``Date.now() / 1000 - sample.timestamp`` (same machine, same clock): the sample's age at the
moment it is in the DOM. Each seq counts once. After a warm-up (each tab has shown a new
sample), both tabs are measured at the same time for ``--seconds``.

Per configuration: new samples shown; their age p50 / p95 / max on the dashboard and on the
push page; the dashboard's callbacks in the window (each one a tick: nothing else happens in
the window) with their request plus response body bytes (``request.sizes()``; gzip counted as
sent); the CPU of the dashboard (one tab), of the API and of the push server, % of one core.

Target (issue 12): dashboard age p95 <= 200 ms at every configuration.

    python bench/bench_freshness.py [--seconds 30] [--root PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from common import (  # bench/common.py, beside this script
    REPOSITORY,
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
from playwright.sync_api import Browser, Page, expect, sync_playwright

HOST = "127.0.0.1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
API_SCRIPT, DASHBOARD_SCRIPT = "performance_api_server.py", "performance_dashboard_http_polling.py"
PUSH_SCRIPT = Path(__file__).resolve().parent / "ws_baseline.py"
CALLBACK_PATH = "/_dash-update-component"
TARGET_P95_MS = 200.0
TIMEOUT_MS = 30_000
# Records each new sample's age when the <pre> with id ``id`` shows it; watches the whole body,
# so a re-created element is followed too.
OBSERVER_JS = """(id) => {
  const state = window.__freshness = {seen: new Set(), ages: [], el: null};
  const read = (now) => {
    const el = document.getElementById(id);
    if (!el) return;
    state.el = el;
    let sample;
    try { sample = JSON.parse(el.textContent); } catch (e) { return; }
    if (!sample || typeof sample.seq !== 'number' || state.seen.has(sample.seq)) return;
    state.seen.add(sample.seq);
    state.ages.push(now - sample.timestamp);
  };
  new MutationObserver((records) => {
    const now = Date.now() / 1000, el = document.getElementById(id);
    if (el && (el !== state.el || records.some((r) => el.contains(r.target)))) read(now);
  }).observe(document.body, {childList: true, characterData: true, subtree: true});
  read(Date.now() / 1000);
}"""


@dataclass(frozen=True)
class Setting:
    """One configuration: seconds between samples and between the dashboard's polls."""

    interval: float
    poll: float

    @property
    def label(self) -> str:
        """How the table names it."""
        return f"--interval {self.interval:g}, --poll-interval {self.poll:g}"


SETTINGS = (Setting(1, 5), Setting(1, 1), Setting(1, 0.5), Setting(0.25, 0.25))


@dataclass
class Servers:
    """The API, the dashboard and the push server processes of one configuration."""

    api: subprocess.Popen[bytes]
    dashboard: subprocess.Popen[bytes]
    push: subprocess.Popen[bytes]
    dashboard_url: str
    push_url: str
    logs: list[Path]

    def cpu(self) -> list[float]:
        """CPU seconds so far: dashboard, API, push server."""
        return [cpu_seconds(psutil.Process(proc.pid)) for proc in (self.dashboard, self.api, self.push)]


@dataclass
class Callbacks:
    """The dashboard's callbacks finished while ``counting``: body bytes both ways, what triggered them."""

    counting: bool = False
    bytes: list[int] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    triggers: Counter[str] = field(default_factory=Counter)

    def finished(self, request: Any) -> None:
        """A ``requestfinished`` listener."""
        if not self.counting or CALLBACK_PATH not in request.url:
            return
        sizes, response = request.sizes(), request.response()
        self.bytes.append(sizes["requestBodySize"] + sizes["responseBodySize"])
        self.statuses[response.status if response else 0] += 1
        self.triggers[",".join(json.loads(request.post_data or "{}").get("changedPropIds", []))] += 1


@dataclass
class Result:
    """One configuration's figures, or why this build could not run it."""

    setting: Setting
    refused: str | None = None
    dashboard_ages: list[float] = field(default_factory=list)
    push_ages: list[float] = field(default_factory=list)
    callbacks: Callbacks = field(default_factory=Callbacks)
    cpu_percent: list[float] = field(default_factory=list)  # dashboard, API, push server


def refusal(root: Path, setting: Setting) -> str | None:
    """The error with which ``root``'s API or dashboard refuses the setting's options, or None."""
    for script, option, value in ((API_SCRIPT, "--interval", setting.interval),
                                  (DASHBOARD_SCRIPT, "--poll-interval", setting.poll)):
        probe = subprocess.run([sys.executable, script, option, f"{value:g}", "--help"], cwd=root,
                               env=checkout_env(root), capture_output=True, text=True, timeout=60)
        if probe.returncode != 0:
            return (probe.stderr.strip().splitlines() or [f"exit code {probe.returncode}"])[-1]
    return None


def spawn(command: list[str], root: Path, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A Python process in ``root``, its output to ``log_path``."""
    with log_path.open("wb") as log:
        return subprocess.Popen([sys.executable, *command], cwd=root, env=env, stdout=log,
                                stderr=subprocess.STDOUT)


def start_servers(root: Path, workdir: Path, setting: Setting, memory_args: list[str]) -> Servers:
    """The three servers, started together; returns once each answers."""
    api_port, dashboard_port, push_port = free_port(), free_port(), free_port()
    env = checkout_env(root, PERFMON_DATA_DIR=str(workdir / "data"))
    logs = [workdir / f"{name}-{setting.interval:g}-{setting.poll:g}.log"
            for name in ("api", "dashboard", "push")]
    api = spawn([API_SCRIPT, "--port", str(api_port), "--interval", f"{setting.interval:g}", *memory_args,
                 "--log-level", "warning"], root, env, logs[0])
    dashboard = spawn([DASHBOARD_SCRIPT, "--port", str(dashboard_port), "--api-url", f"http://{HOST}:{api_port}",
                       "--poll-interval", f"{setting.poll:g}", "--log-level", "warning"], root, env, logs[1])
    push = spawn([str(PUSH_SCRIPT), "--port", str(push_port), "--interval", f"{setting.interval:g}"],
                 REPOSITORY, checkout_env(REPOSITORY), logs[2])
    servers = Servers(api, dashboard, push, f"http://{HOST}:{dashboard_port}/", f"http://{HOST}:{push_port}/",
                      logs)
    try:
        wait_answering(f"http://{HOST}:{api_port}/api/health", api)
        wait_answering(servers.dashboard_url, dashboard)
        wait_answering(servers.push_url, push)
    except RuntimeError:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers: Servers) -> None:
    """SIGTERM to each, then wait (SIGKILL after 10 s)."""
    procs = (servers.dashboard, servers.push, servers.api)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def open_dashboard(browser: Browser, url: str, callbacks: Callbacks) -> Page:
    """A tab on the dashboard, Connected, raw-data panel open and watched."""
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.on("requestfinished", callbacks.finished)
    page.goto(url)
    expect(page.locator("#status")).to_have_text("Connected", timeout=TIMEOUT_MS)
    page.click("#raw-open label")
    page.wait_for_function("() => document.getElementById('raw-json').textContent.includes('\"seq\"')",
                           timeout=TIMEOUT_MS)
    page.evaluate(OBSERVER_JS, "raw-json")
    return page


def open_push(browser: Browser, url: str) -> Page:
    """A tab on the push page, showing a sample and watched."""
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.goto(url)
    page.wait_for_function("() => document.getElementById('sample').textContent.includes('\"seq\"')",
                           timeout=TIMEOUT_MS)
    page.evaluate(OBSERVER_JS, "sample")
    return page


def warm_up(pages: Sequence[Page], setting: Setting) -> None:
    """Wait until each tab has shown a sample that came after its observer was installed."""
    timeout_ms = (3 * (setting.poll + setting.interval) + 10) * 1000
    for page in pages:
        page.wait_for_function("() => window.__freshness.seen.size >= 2", timeout=timeout_ms)


def window(dashboard: Page, push: Page, servers: Servers, callbacks: Callbacks,
           seconds: float) -> tuple[list[float], list[float], list[float]]:
    """Measure both tabs for ``seconds``: their ages, and the servers' CPU % of one core."""
    for page in (dashboard, push):
        page.evaluate("() => { window.__freshness.ages = []; }")
    callbacks.counting, cpu_before, started = True, servers.cpu(), time.monotonic()
    dashboard.wait_for_timeout(seconds * 1000)  # the window itself; events are dispatched meanwhile
    cpu_after, took = servers.cpu(), time.monotonic() - started
    callbacks.counting = False
    ages = [page.evaluate("() => window.__freshness.ages") for page in (dashboard, push)]
    cpu = [(after - before) / took * 100 for before, after in zip(cpu_before, cpu_after, strict=True)]
    return ages[0], ages[1], cpu


def run_setting(browser: Browser, root: Path, workdir: Path, setting: Setting, seconds: float,
                memory_args: list[str]) -> Result:
    """One configuration: servers, two tabs, warm-up, the window; everything closed after."""
    refused = refusal(root, setting)
    if refused:
        return Result(setting, refused=refused)
    result = Result(setting)
    servers = start_servers(root, workdir, setting, memory_args)
    pages: list[Page] = []
    try:
        pages.append(open_dashboard(browser, servers.dashboard_url, result.callbacks))
        pages.append(open_push(browser, servers.push_url))
        warm_up(pages, setting)
        result.dashboard_ages, result.push_ages, result.cpu_percent = window(
            pages[0], pages[1], servers, result.callbacks, seconds)
    finally:
        for page in pages:
            page.context.close()
        stop_servers(servers)
        report_logs(servers)
    return result


def report_logs(servers: Servers) -> None:
    """Each server's warnings and errors, if it logged any."""
    for log_path in servers.logs:
        lines = notable_log_lines(log_path)[0]
        if lines:
            print(f"{log_path.stem}'s log, warnings and errors:", *(f"- {line}" for line in lines[:6]),
                  sep="\n")


def ages_cell(ages: list[float]) -> str:
    """p50 / p95 / max in ms."""
    ms = [age * 1000 for age in ages]
    if not ms:
        return "-"
    return f"{percentile(ms, 0.5):,.0f} / {percentile(ms, 0.95):,.0f} / {max(ms):,.0f}"


def row(result: Result) -> str:
    """One table row."""
    if result.refused:
        return f"| {result.setting.label} | not supported by this build: {result.refused} |" + " |" * 8
    dashboard_ms = [age * 1000 for age in result.dashboard_ages]
    meets = "yes" if dashboard_ms and percentile(dashboard_ms, 0.95) <= TARGET_P95_MS else "**no**"
    sizes = result.callbacks.bytes
    per_tick = f"{sum(sizes) / len(sizes):,.0f}" if sizes else "-"
    cpu = " | ".join(f"{percent:.1f}" for percent in result.cpu_percent)
    return (f"| {result.setting.label} | {len(result.dashboard_ages)} / {len(result.push_ages)} "
            f"| {ages_cell(result.dashboard_ages)} | {ages_cell(result.push_ages)} | {meets} "
            f"| {len(sizes)} | {per_tick} | {cpu} |")


def table(results: Sequence[Result]) -> str:
    """The results as a Markdown table."""
    return "\n".join([
        "| configuration | new samples shown: dashboard / push | dashboard age p50 / p95 / max ms "
        "| push age p50 / p95 / max ms | dashboard p95 <= 200 ms | callbacks (ticks) | bytes per tick "
        "(bodies, both ways) | dashboard CPU % (1 tab) | API CPU % | push server CPU % |",
        "|---|---:|---:|---:|:---:|---:|---:|---:|---:|---:|",
        *(row(result) for result in results)])


def notes(results: Sequence[Result]) -> Iterator[str]:
    """What the callbacks answered and what triggered them, per configuration."""
    for result in results:
        if result.refused:
            continue
        calls = result.callbacks
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(calls.statuses.items())) or "-"
        triggers = ", ".join(f"{trigger or '(none)'}: {n}" for trigger, n in calls.triggers.items()) or "-"
        yield f"- {result.setting.label}: callback statuses {statuses}; triggered by {triggers}"


def measure(root: Path, seconds: float) -> list[Result]:
    """Every configuration in turn, in one Chromium."""
    memory_args = memory_only_args(root, API_SCRIPT)
    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="perfmon-fresh-") as workdir:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"Chromium {browser.version}")
        with contextlib.closing(browser):
            return [run_setting(browser, root, Path(workdir), setting, seconds, memory_args)
                    for setting in SETTINGS]


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every configuration; print the table, the notes and the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per configuration "
                        "(default: 30)")
    add_root_option(parser)
    args = parser.parse_args(argv)
    print(f"root: {args.root} (servers import perfmon from {check_checkout(args.root)}); "
          f"load average (1 / 5 min) {load_average()}")
    results = measure(args.root, args.seconds)
    print("\n" + table(results) + "\n", *notes(results), sep="\n")
    print(f"\nload average (1 / 5 min) at the end: {load_average()}")
    print(f"command: python bench/bench_freshness.py --seconds {args.seconds:g} --root {args.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
