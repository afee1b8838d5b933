"""The API server as a real process refusing to listen openly without a token, and warning when told to.

The security options' parsing is tests/unit/settings/test_security_settings.py's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.support.processes import ROOT, Running, free_port, wait_for


def test_the_api_refuses_to_listen_openly_without_a_token_in_one_line() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PERFMON_")}
    result = subprocess.run([sys.executable, "performance_api_server.py", "--host", "0.0.0.0"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "performance_api_server.py: error: listening on 0.0.0.0 without a token")


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare (util-linux)")
def test_insecure_no_auth_warns_at_every_start() -> None:
    """In a private network namespace (the wildcard address is bound there, never on the host's)."""
    port = free_port()
    script = (f"ip link set lo up 2>/dev/null; exec {sys.executable} performance_api_server.py "
              f"--host 0.0.0.0 --port {port} --insecure-no-auth --data-dir none")
    with Running("unshare", "-n", "sh", "-c", script) as server:
        wait_for(lambda: "WITHOUT AUTHENTICATION" in server.stderr() or server.proc.poll() is not None,
                 "the warning", timeout=20)
        log = server.stderr()
    assert f"WARNING perfmon.api.server: listening on 0.0.0.0:{port} WITHOUT AUTHENTICATION" in log, log
