#!/usr/bin/env python3
"""System test of the launched system: API and dashboard in one process, checked from outside.

Run it as a script (``python test_http_polling_system.py``: every check in order against one
launched system, a line per check, exit code 0 only if all pass) or under pytest (a test per
check, all against one system launched for the module; shutdown last).
"""

from __future__ import annotations

import json
import re
import signal
import sys
import time
import traceback
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from perfmon.ui.tick import signature
from tests.support.processes import Running, free_port, get_json, http_get, is_listening, printed_urls

SCRIPT = "run_http_polling_system.py"
pytestmark = pytest.mark.system  # outside tests/, so its tier is said here (tests/conftest.py)


@dataclass
class System:
    """The launched system: its process, where it listens, and how long it took to be ready."""

    running: Running
    api_port: int
    dashboard_port: int
    ready_seconds: float

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def dashboard(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"


def launch() -> System:
    """Start the launcher on free ports; returns once it says both servers answer."""
    api_port, dashboard_port = free_port(), free_port()
    started = time.monotonic()
    running = Running(SCRIPT, "--api-port", str(api_port), "--dashboard-port", str(dashboard_port),
                      "--interval", "0.5", "--poll-interval", "1")
    try:
        urls = printed_urls(running.read_stdout_until("Ctrl-C stops both"))
        system = System(running, api_port, dashboard_port, time.monotonic() - started)
        assert urls == {"API": f"{system.api}/api/performance", "dashboard": f"{system.dashboard}/"}, urls
    except BaseException:
        running.__exit__()  # kill it: nobody else holds it yet
        raise
    return system


def check_health(system: System) -> None:
    """/api/health answers 200 with status ok."""
    status, health = get_json(f"{system.api}/api/health")
    assert status == 200 and health["status"] == "ok", health
    assert health["interval_seconds"] == 0.5


def check_performance_data(system: System) -> None:
    """/api/performance has real numbers for CPU and memory, and the host's name."""
    status, sample = get_json(f"{system.api}/api/performance")
    assert status == 200
    for group in ("cpu", "memory"):
        value = sample[group]["percent"]
        assert isinstance(value, int | float) and 0 <= value <= 100, (group, value)
    assert isinstance(sample["host"]["hostname"], str) and sample["host"]["hostname"]
    assert isinstance(sample["seq"], int) and isinstance(sample["timestamp"], float)


def check_dashboard_reachable(system: System) -> None:
    """The dashboard serves Dash's page and its layout."""
    status, _, page = http_get(f"{system.dashboard}/")
    assert status == 200 and (b"_dash-renderer" in page or b"<title>perfmon</title>" in page)
    status, layout = get_json(f"{system.dashboard}/_dash-layout")
    assert status == 200 and isinstance(layout, dict), layout


def check_data_flow(system: System) -> None:
    """New samples keep coming: seq advances and /api/history?since= returns the new points."""
    status, headers, body = http_get(f"{system.api}/api/performance")
    first = json.loads(body)["seq"]
    # A long poll answers as soon as the next sample exists: no sleeping, no fixed timing.
    status, headers, body = http_get(f"{system.api}/api/performance?wait=10",
                                     {"If-None-Match": headers["ETag"]}, timeout=15)
    assert status == 200, status
    second = json.loads(body)["seq"]
    assert second > first
    status, history = get_json(f"{system.api}/api/history?since={first}")
    assert status == 200 and history["series"]["seq"][0] == first + 1
    assert second in history["series"]["seq"] and all(seq > first for seq in history["series"]["seq"])


def dashboard_tick(system: System, payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Post one tick to the dashboard's poll callback, as the browser does; (updates, cursor)."""
    request = urllib.request.Request(f"{system.dashboard}{signature.URL_PATH}", json.dumps(payload).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        updates, _, cursor = signature.read_response(response.read())
    return updates, cursor


def check_dashboard_receives_fresh_values(system: System) -> None:
    """The dashboard's tick brings the API's newest points: the same values, in order, once."""
    updates, cursor = dashboard_tick(system, signature.request_body(0))
    assert updates["status.children"] == "Connected", updates.get("status-detail.children")
    assert re.fullmatch(r"\d+\.\d %", updates["kpi-cpu-value.children"])
    shown = cursor["seq"]
    headers = http_get(f"{system.api}/api/performance")[1]
    http_get(f"{system.api}/api/performance?wait=10", {"If-None-Match": headers["ETag"]}, timeout=15)
    updates, cursor = dashboard_tick(system, signature.request_body(1, cursor=cursor))
    appended = updates["graph-cpu.extendData"][0]["y"][0]
    _, history = get_json(f"{system.api}/api/history?since={shown}")
    assert appended and appended == history["series"]["cpu_percent"][:len(appended)]
    assert cursor["seq"] == shown + len(appended)


def check_graceful_shutdown(system: System) -> None:
    """SIGTERM stops both servers within 5 s, exit code 0, both ports free."""
    started = time.monotonic()
    system.running.proc.send_signal(signal.SIGTERM)
    assert system.running.proc.wait(10) == 0
    assert time.monotonic() - started < 5
    assert "Traceback" not in system.running.stderr()
    assert not is_listening(system.api_port) and not is_listening(system.dashboard_port)


CHECKS: list[Callable[[System], None]] = [
    check_health,
    check_performance_data,
    check_dashboard_reachable,
    check_data_flow,
    check_dashboard_receives_fresh_values,
    check_graceful_shutdown,  # last: it stops the system
]


@pytest.fixture(scope="module")
def system() -> Iterator[System]:
    launched = launch()
    with launched.running:
        yield launched


def test_health(system: System) -> None:
    check_health(system)


def test_performance_data(system: System) -> None:
    check_performance_data(system)


def test_dashboard_reachable(system: System) -> None:
    check_dashboard_reachable(system)


def test_data_flow(system: System) -> None:
    check_data_flow(system)


def test_dashboard_receives_fresh_values(system: System) -> None:
    check_dashboard_receives_fresh_values(system)


def test_graceful_shutdown(system: System) -> None:  # keep last: it stops the module's system
    check_graceful_shutdown(system)


def run_check(check: Callable[[System], None], system: System) -> bool:
    """Run one check; print a PASS or FAIL line for it."""
    name = check.__name__.removeprefix("check_").replace("_", " ")
    try:
        check(system)
    except Exception as exc:  # noqa: BLE001 - any failure of a check is reported, then the next runs
        where = traceback.extract_tb(exc.__traceback__)[-1]
        print(f"FAIL  {name}: {type(exc).__name__} {exc} (line {where.lineno})".rstrip(), flush=True)
        return False
    print(f"PASS  {name}", flush=True)
    return True


def main() -> int:
    """Launch the system once, run every check in order; 0 if all pass, else 1."""
    try:
        system = launch()
    except Exception as exc:  # noqa: BLE001 - reported as the failed launch
        print(f"FAIL  launch: {exc}", flush=True)
        return 1
    with system.running:
        print(f"launched: both servers answering after {system.ready_seconds:.2f} s", flush=True)
        passed = sum(run_check(check, system) for check in CHECKS)
    print(f"{passed} of {len(CHECKS)} checks passed", flush=True)
    return 0 if passed == len(CHECKS) else 1


if __name__ == "__main__":
    sys.exit(main())
