"""The dashboard's sessions file as real processes meet it: a directory it cannot use, or one
another dashboard keeps. Each is one line and exit 1; the sessions themselves are
tests/integration/test_dashboard_sessions.py's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from perfmon.ui.edge.sessions import Sessions
from tests.integration.test_dashboard_security import TOKEN
from tests.support.processes import ROOT


def test_the_dashboard_process_with_an_unusable_data_dir_is_one_line_and_exit_1(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {**os.environ, "PERFMON_TOKEN": TOKEN, "PERFMON_DATA_DIR": str(blocker)}
    command = [sys.executable, str(ROOT / "performance_dashboard_http_polling.py"), "--port", "0"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 1, result
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("performance_dashboard_http_polling.py: error: cannot keep perfmon's state in "
                           f"--data-dir {blocker}: {blocker} is a file, not a directory"), line


def test_the_launcher_stops_with_one_line_when_another_dashboard_keeps_the_sessions(tmp_path: Path) -> None:
    holder = Sessions(TOKEN, tmp_path)  # a dashboard of this process keeps its sessions there
    try:
        env = {**os.environ, "PERFMON_TOKEN": TOKEN, "PERFMON_DATA_DIR": str(tmp_path)}
        command = [sys.executable, str(ROOT / "run_http_polling_system.py"), "--api-port", "0",
                   "--dashboard-port", "0"]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    finally:
        holder.close()
    assert result.returncode == 1, result
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: another perfmon dashboard (pid {os.getpid()}) keeps its sessions in "
                      f"{tmp_path}: stop it or pass another --data-dir"], result.stderr
    assert "Traceback" not in result.stderr
