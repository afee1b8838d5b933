"""The token's rules as real processes meet them: the chmod a refusal names, and `perfmon token`.

The rules themselves, through the servers' parsers, are tests/unit/settings/test_token.py's.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from perfmon.settings.token import TOKEN_BYTES
from tests.support.processes import ROOT
from tests.unit.settings.test_token import TOKEN, refusal, token_file, token_of

PERFMON = shutil.which("perfmon", path=str(Path(sys.executable).parent))


needs_perfmon = pytest.mark.skipif(PERFMON is None and os.environ.get("CI") != "true",
                                   reason="perfmon is not installed here: pip install -e .")


@pytest.mark.parametrize(("mode", "who"), [
    (0o644, "its group and others"), (0o666, "its group and others"), (0o640, "its group"),
    (0o620, "its group"), (0o604, "others"), (0o602, "others"), (0o601, "others"),
])
def test_a_file_its_group_or_others_may_use_is_refused_with_the_chmod_to_run(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, mode: int, who: str) -> None:
    (tmp_path / "my tokens").mkdir()
    path = token_file(tmp_path / "my tokens" / "token", mode)
    line = refusal(capsys, ["--token-file", str(path)], {})
    assert line.endswith(f"error: the token file {path} is open to {who} (mode {mode:04o}): "
                         f"run chmod 600 {shlex.quote(str(path))}")
    subprocess.run(shlex.split(line.split("run ", 1)[1]), check=True)  # the command given works
    assert token_of(path) == TOKEN


def perfmon_token(*args: str, env: dict[str, str] | None = None, shell: str | None = None,
                  umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    """``perfmon token ARGS`` (or a shell command line with PERFMON for it) under ``umask``."""
    assert PERFMON, "the perfmon command is not installed beside this Python"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PERFMON_")}
    command = [PERFMON, "token", *args] if shell is None else \
        ["sh", "-c", shell.replace("PERFMON", shlex.quote(PERFMON))]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**environment, **(env or {})}, preexec_fn=lambda: os.umask(umask))


def is_new_token(text: str) -> bool:
    token = text.removesuffix("\n")
    return len(token) == 43 and TOKEN_BYTES == 32 and \
        all(char.isascii() and (char.isalnum() or char in "-_") for char in token)


@needs_perfmon
def test_perfmon_token_prints_a_new_256_bit_token() -> None:
    first, second = perfmon_token(), perfmon_token()
    assert first.returncode == second.returncode == 0 and first.stderr == ""
    assert is_new_token(first.stdout) and is_new_token(second.stdout) and first.stdout != second.stdout
    listed = subprocess.run([str(PERFMON), "--help"], capture_output=True, text=True, timeout=60)
    assert "  token " in listed.stdout


@needs_perfmon
def test_perfmon_token_into_a_file_makes_it_0600_and_the_servers_take_it(tmp_path: Path) -> None:
    path = tmp_path / "token"
    result = perfmon_token(shell=f"PERFMON token > {shlex.quote(str(path))}", umask=0o000)
    assert result.returncode == 0 and result.stderr == ""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # the shell made it 0666
    assert is_new_token(path.read_text())
    assert token_of(path) == path.read_text().strip()


@needs_perfmon
def test_perfmon_token_file_writes_a_new_0600_file_and_never_overwrites_one(tmp_path: Path) -> None:
    path = tmp_path / "token"
    result = perfmon_token("--token-file", str(path), umask=0o000)
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr == f"wrote a new token to {path} (mode 0600); the servers take it with " \
                            f"--token-file {path}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and is_new_token(path.read_text())
    written = path.read_text()
    again = perfmon_token("--token-file", str(path))
    assert again.returncode == 2 and again.stdout == "" and path.read_text() == written
    assert again.stderr == (f"perfmon token: error: cannot write the token to {path}: it exists, and a token "
                            "file is never overwritten (remove it first to replace the token)\n")
    assert token_of(path) == written.strip()


@needs_perfmon
def test_perfmon_token_takes_its_file_from_the_variable_and_says_why_it_cannot(tmp_path: Path) -> None:
    path = tmp_path / "from-variable"
    assert perfmon_token(env={"PERFMON_TOKEN_FILE": str(path)}).returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and is_new_token(path.read_text())
    missing = perfmon_token("--token-file", str(tmp_path / "no" / "token"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert missing.stderr.endswith("no/token: No such file or directory\n")
