"""--collectors through the real entry points: an unknown name is one line listing the known ones, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from perfmon.sampling import registry

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", ["api", "run"])
@pytest.mark.parametrize("how", ["flag", "variable"])
def test_an_unknown_collector_is_a_one_line_usage_error(command: str, how: str) -> None:
    argv = [sys.executable, "-m", "perfmon", command, "--data-dir", "none"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFMON_")}
    if how == "flag":
        argv.append("--collectors=-sensors,+gpu")
    else:
        env["PERFMON_COLLECTORS"] = "-sensors,+gpu"
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "unknown collector 'gpu'" in lines[0] and ", ".join(registry.names()) in lines[0]
