"""``perfmon alerts check FILE`` as a user runs it: exit 0 with a summary, or 2 with one line."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

from tests.support.alerting import receiver_class
from tests.support.processes import free_port

RULES = """\
rules:
  - name: FilesystemAlmostFull
    select: disks[fstype!=tmpfs].percent
    above: 90
    clear: 85
    for: 10m
    repeat: 4h
    notify: [ops]
channels:
  ops: {{type: webhook, url: "https://hooks.example/perfmon", secret_file: {secret}}}
"""


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "perfmon", "alerts", "check", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_sound_file_is_summarised_a_rule_a_line(tmp_path: Path) -> None:
    secret = tmp_path / "hook.secret"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES.format(secret=secret))
    done = check(rules)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"{rules}: 9 rules (8 built in), 1 channel, 0 silences"
    assert ("  FilesystemAlmostFull: disks[fstype!=tmpfs].percent > 90 (clears < 85) for 600 s, warning, ops "
            "(line 2)") in lines
    assert "  channel ops: webhook" in lines and done.stderr == ""


def test_a_problem_is_one_line_naming_the_line_and_exit_2(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text("rules:\n  - name: X\n    select: disks[fstype!=tmpfs].percent\n    above: 2 GB\n")
    done = check(rules)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"perfmon alerts: {rules}:4: rule X: above: 'GB' is no unit for a field in "
                           f"percent (in percent, or with a unit: %)\n")


def test_a_secret_file_others_can_read_or_a_missing_one_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "hook.secret"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES.format(secret=secret))
    done = check(rules)
    assert done.returncode == 2
    assert done.stderr == (f"perfmon alerts: {rules}:10: channel ops: secret_file: the secret file {secret} "
                           f"is open to its group and others (mode 0644): run chmod 600 {secret}\n")
    secret.unlink()
    done = check(rules)
    assert done.returncode == 2 and "cannot read" in done.stderr and "No such file" in done.stderr


def test_a_missing_rules_file_or_command_is_exit_2(tmp_path: Path) -> None:
    done = check(tmp_path / "none.yml")
    missing = tmp_path / "none.yml"
    assert done.returncode == 2
    assert done.stderr == f"perfmon alerts: {missing}: cannot be read: No such file or directory\n"
    bare = subprocess.run([sys.executable, "-m", "perfmon", "alerts"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert bare.returncode == 2 and bare.stderr.count("\n") == 1


def test_the_api_server_and_the_launcher_refuse_a_bad_rules_file_at_start(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text("rules:\n  - name: X\n    select: cpu.percnt\n    above: 1\n")
    why = (f"{rules}:3: rule X: select: cpu has no numeric field 'percnt' (it has: count_logical, "
           f"count_physical, frequency_mhz, load_1, percent)\n")
    api = subprocess.run([sys.executable, "-m", "perfmon", "api", "--alerts-file", str(rules), "--port", "0",
                          "--data-dir", "none"], capture_output=True, text=True, timeout=60, check=False)
    assert (api.returncode, api.stderr) == (2, f"perfmon api: error: {why}")
    run = subprocess.run([sys.executable, "-m", "perfmon", "run", "--api-port", "0", "--dashboard-port", "0",
                          "--data-dir", "none"], capture_output=True, text=True, timeout=60, check=False,
                         env={**os.environ, "PERFMON_ALERTS_FILE": str(rules)})
    assert (run.returncode, run.stderr) == (2, f"perfmon run: error: {why}")


def test_alerts_test_sends_to_the_channel_and_says_when_it_could_not(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), hook := receiver_class())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        rules = tmp_path / "rules.yml"
        port = server.server_port
        rules.write_text(f"channels:\n  ops: {{type: webhook, url: 'http://127.0.0.1:{port}/h'}}\n"
                         f"  gone: {{type: webhook, url: 'http://127.0.0.1:{free_port()}/h'}}\n")
        sent = subprocess.run([sys.executable, "-m", "perfmon", "alerts", "test", "ops"], capture_output=True,
                              text=True, timeout=60, check=False,
                              env={**os.environ, "PERFMON_ALERTS_FILE": str(rules)})
        assert (sent.returncode, sent.stdout, sent.stderr) == (
            0, "sent a test notification to channel ops (webhook)\n", "")
        (body,) = hook.got
        assert body["kind"] == "test" and body["channel"] == "ops" and body["alerts"] == []
        failed = subprocess.run([sys.executable, "-m", "perfmon", "alerts", "test", "gone", "--alerts-file",
                                 str(rules)], capture_output=True, text=True, timeout=60, check=False)
        assert failed.returncode == 1
        assert failed.stderr.startswith("perfmon alerts test: channel gone (webhook): cannot reach "
                                        "http://127.0.0.1:")
    finally:
        server.shutdown()
