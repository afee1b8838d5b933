"""Alerts across restarts of a real API process: kill -9 forgets nothing, a restart tells nothing twice."""

from __future__ import annotations

import http.server
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from tests.support.alerting import receiver_class
from tests.support.processes import free_port, get_json, wait_for, wait_until_healthy

FIRES = "builtin_rules: false\nrules:\n  - {name: Always, select: memory.total_bytes, above: 1}\n"
CLEARS = "builtin_rules: false\nrules:\n  - {name: Always, select: memory.total_bytes, above: 1 PB}\n"


def start(data_dir: Path, rules: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    argv = [sys.executable, "-m", "perfmon", "api", "--port", str(port), "--interval", "0.25", "--data-dir",
            str(data_dir), "--journal-dir", "none", "--alerts-file", str(rules)]
    proc = subprocess.Popen(argv,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={k: v for k, v in os.environ.items() if not k.startswith("PERFMON_")})
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(f"{base}/api/health", proc)
    return proc, base


def alerts(base: str) -> dict[str, Any]:
    return get_json(f"{base}/api/alerts")[1]


def transitions(base: str) -> list[tuple[str, str | None]]:
    return [(t["kind"], t["reason"]) for t in get_json(f"{base}/api/alerts/history")[1]["transitions"]]


def test_a_firing_alert_survives_kill_9_untold_again_and_a_resolution_meanwhile_is_noticed(
        tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(FIRES)
    proc, base = start(tmp_path / "data", rules)
    try:
        wait_for(lambda: [a["state"] for a in alerts(base)["alerts"]] == ["firing"], "firing alert")
        fired_at = alerts(base)["alerts"][0]["fired_at"]
        assert transitions(base) == [("firing", None)]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    proc, base = start(tmp_path / "data", rules)
    try:
        wait_for(lambda: alerts(base)["samples_evaluated"] >= 3, "three samples evaluated")
        (alert,) = alerts(base)["alerts"]
        assert (alert["state"], alert["fired_at"]) == ("firing", fired_at)  # the same alert, since then
        assert transitions(base) == [("firing", None)]  # and not told a second time
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
    rules.write_text(CLEARS)  # meanwhile, what fired has stopped holding
    proc, base = start(tmp_path / "data", rules)
    try:
        wait_for(lambda: alerts(base)["samples_evaluated"] >= 1, "a sample evaluated")
        assert alerts(base)["alerts"] == []
        assert transitions(base) == [("firing", None), ("resolved", "cleared")]  # noticed on the first sample
    finally:
        proc.terminate()
        stderr = proc.communicate(timeout=10)[1]
    assert "Traceback" not in stderr, stderr


def test_a_notification_queued_before_kill_9_is_sent_after_the_restart_once(tmp_path: Path) -> None:
    port = free_port()  # the receiver is down at first: nothing listens there
    rules = tmp_path / "rules.yml"
    rules.write_text(FIRES + f"channels:\n  ops: {{type: webhook, url: 'http://127.0.0.1:{port}/hook'}}\n")
    proc, base = start(tmp_path / "data", rules)
    try:
        wait_for(lambda: [a["state"] for a in alerts(base)["alerts"]] == ["firing"], "firing alert")
    finally:
        proc.send_signal(signal.SIGKILL)  # with the notification undelivered in the outbox
        proc.wait(10)
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", port), hook := receiver_class())
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    proc, base = start(tmp_path / "data", rules)
    try:
        wait_for(lambda: len(hook.got) >= 1, "the queued notification", timeout=30)
        seen = alerts(base)["samples_evaluated"]
        wait_for(lambda: alerts(base)["samples_evaluated"] >= seen + 4, "four more samples evaluated")
        (told,) = hook.got  # once: the restart told nothing again
        assert (told["kind"], told["alerts"][0]["alertname"]) == ("firing", "Always")
    finally:
        proc.terminate()
        proc.wait(10)
        receiver.shutdown()


def test_an_alerts_file_of_a_newer_perfmon_is_one_line_and_exit_1(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "alerts.sqlite3") as conn:
        conn.execute("PRAGMA user_version=9")
    done = subprocess.run([sys.executable, "-m", "perfmon", "api", "--port", "0", "--data-dir", str(data),
                           "--journal-dir", "none"], capture_output=True, text=True, timeout=60, check=False,
                          env={k: v for k, v in os.environ.items() if not k.startswith("PERFMON_")})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].endswith(
        "alerts.sqlite3 was written by a newer perfmon (alerts version 9): upgrade perfmon, or choose "
        "another --data-dir")
    assert "Traceback" not in done.stderr
