"""deploy/perfmon.service: systemd accepts it, it is hardened, and its command line is one perfmon takes."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from perfmon.settings import parse_launcher_config
from tests.processes import ROOT

UNIT = ROOT / "deploy" / "perfmon.service"
INSTALLED = "/usr/local/bin/perfmon"


def directives(text: str) -> dict[str, list[str]]:
    """Every ``Key=value`` of the unit (comments and continuation lines left out)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[", " ")) and "=" in line:
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze must run in CI (apt-get install systemd)")
        pytest.skip("no systemd-analyze (apt-get install systemd)")
    perfmon = Path(sys.executable).with_name("perfmon")  # the console script of this environment
    assert perfmon.exists(), "pip install -r requirements-dev.txt installs the perfmon command"
    unit = tmp_path / "perfmon.service"
    unit.write_text(UNIT.read_text().replace(INSTALLED, str(perfmon)))
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60,
                            cwd=tmp_path, check=False)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_the_unit_runs_unprivileged_and_hardened_with_the_token_as_a_credential() -> None:
    found = directives(UNIT.read_text())
    for key, value in (("DynamicUser", "yes"), ("StateDirectory", "perfmon"), ("ProtectSystem", "strict"),
                       ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"), ("ProtectHome", "yes"),
                       ("Environment", "PERFMON_DATA_DIR=/var/lib/perfmon"),
                       ("LoadCredential", "token:/etc/perfmon/token")):
        assert value in found.get(key, []), key
    assert found["CapabilityBoundingSet"] == [""]  # no capabilities at all


def test_its_command_line_is_one_the_launcher_takes(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("0123456789abcdef0123456789abcdef\n")
    (tmp_path / "token").chmod(0o600)  # as systemd hands a credential over: private
    [command] = directives(UNIT.read_text())["ExecStart"]
    argv = shlex.split(command.replace("${CREDENTIALS_DIRECTORY}", str(tmp_path)))
    assert argv[:2] == [INSTALLED, "run"]
    config = parse_launcher_config(argv[2:], {})  # exits 2 on anything it does not take
    assert config.api.host == "0.0.0.0" and config.api.security.token is not None
    assert "--token" not in argv  # the secret is never on a command line
