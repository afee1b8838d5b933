"""The access token's rules (perfmon.settings.token) and ``perfmon token``: 22 characters at least, a token
file private to its owner (a systemd credential as systemd makes it included), new tokens printed or
written 0600. Parsed as the servers parse their options, and the installed command run as a process."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from perfmon.settings import parse_launcher_config, parse_server_config
from perfmon.settings.token import MIN_TOKEN_CHARS, TOKEN_BYTES
from tests.support.processes import ROOT

PERFMON = shutil.which("perfmon", path=str(Path(sys.executable).parent))
TOKEN = "k" * MIN_TOKEN_CHARS
needs_perfmon = pytest.mark.skipif(PERFMON is None and os.environ.get("CI") != "true",
                                   reason="perfmon is not installed here: pip install -e .")
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root makes files owned by another user")


def token_file(path: Path, mode: int, text: str = TOKEN + "\n") -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def refusal(capsys: pytest.CaptureFixture[str], argv: list[str], env: dict[str, str]) -> str:
    """The one line a server's option parser ends with (it must exit 2)."""
    with pytest.raises(SystemExit) as exit_info:
        parse_server_config(argv, env)
    assert exit_info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def token_of(path: Path, env: dict[str, str] | None = None) -> str | None:
    return parse_server_config(["--token-file", str(path)], env or {}).security.token


# --- length ----------------------------------------------------------------------------------------

def test_tokens_under_22_characters_are_refused_naming_the_command_that_makes_one(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    short = "s" * (MIN_TOKEN_CHARS - 1)
    line = refusal(capsys, [], {"PERFMON_TOKEN": short})
    assert "the token must be at least 22 characters (128 bits) without spaces, got 21" in line
    assert "make one with: perfmon token --token-file PATH" in line
    path = token_file(tmp_path / "token", 0o600, f"  {short}\n")  # surrounding blanks do not count
    assert "got 21" in refusal(capsys, ["--token-file", str(path)], {})
    assert parse_server_config([], {"PERFMON_TOKEN": TOKEN}).security.token == TOKEN
    assert token_of(token_file(tmp_path / "good", 0o600, f"{TOKEN}\n")) == TOKEN


# --- the file's permissions -------------------------------------------------------------------------

@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_a_file_only_its_owner_may_use_is_taken(tmp_path: Path, mode: int) -> None:
    assert token_of(token_file(tmp_path / "token", mode)) == TOKEN


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


def test_the_environment_is_taken_whatever_files_there_are(tmp_path: Path) -> None:
    token_file(tmp_path / "token", 0o666)
    assert parse_launcher_config([], {"PERFMON_TOKEN": TOKEN}).api.security.token == TOKEN


@as_root
def test_a_file_owned_by_another_user_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = token_file(tmp_path / "token", 0o600)
    os.chown(path, 12345, 12345)  # whoever owns it could change the token
    line = refusal(capsys, ["--token-file", str(path)], {})
    assert f"the token file {path} belongs to uid 12345, who can change the token" in line
    assert line.endswith(f"run: chown 0 {path}")
    os.chown(path, 0, 0)
    assert token_of(path) == TOKEN


def systemd_credential(directory: Path, user: int = 65534) -> Path:
    """A credential as systemd's write_credential makes it: 0400, then read access for the service's
    user by an ACL (src/core/exec-credential.c), so ``stat`` shows the ACL's mask as the group's bits."""
    directory.mkdir(mode=0o700)
    path = directory / "token"
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.write(fd, TOKEN.encode())
        os.fchmod(fd, 0o400)
        undefined = 0xFFFFFFFF  # the ACL entries: user::r, user:USER:r, group::-, mask::r, other::-
        entries = [(0x01, 4, undefined), (0x02, 4, user), (0x04, 0, undefined), (0x10, 4, undefined),
                   (0x20, 0, undefined)]
        acl = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *entry) for entry in entries)
        try:
            os.setxattr(fd, "system.posix_acl_access", acl)
        except OSError:  # a file system without ACLs: the same mode bits, as stat shows them
            os.fchmod(fd, 0o440)
    finally:
        os.close(fd)
    assert stat.S_IMODE(path.stat().st_mode) == 0o440
    return path


def test_a_systemd_credential_is_taken_in_its_directory_only(capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    path = systemd_credential(tmp_path / "credentials")
    env = {"CREDENTIALS_DIRECTORY": str(tmp_path / "credentials")}
    assert token_of(path, env) == TOKEN
    assert parse_launcher_config(["--token-file", f"{tmp_path}/credentials/token"], env).api.security.token
    assert "is open to its group (mode 0440)" in refusal(capsys, ["--token-file", str(path)], {})
    elsewhere = {"CREDENTIALS_DIRECTORY": str(tmp_path)}
    assert "(mode 0440)" in refusal(capsys, ["--token-file", str(path)], elsewhere)
    for mode in (0o444, 0o460, 0o404):  # others may read it, or its group may write it
        path.chmod(mode)
        assert f"(mode {mode:04o})" in refusal(capsys, ["--token-file", str(path)], env)
    path.chmod(0o400)  # where ACLs are not supported, systemd gives the file to the service's user
    assert token_of(path, env) == TOKEN


def test_a_file_that_is_no_token_file_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    huge = token_file(tmp_path / "huge", 0o600, "x" * 5000)
    assert "is over 4096 bytes: it should hold one token" in refusal(capsys, ["--token-file", str(huge)], {})
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff" * 40)
    binary.chmod(0o600)
    assert "it is not UTF-8 text" in refusal(capsys, ["--token-file", str(binary)], {})
    assert f"the token file {tmp_path} is a directory, not a file" in \
        refusal(capsys, ["--token-file", str(tmp_path)], {})
    missing = tmp_path / "missing"
    assert f"cannot read the token file {missing}: No such file or directory" in \
        refusal(capsys, ["--token-file", str(missing)], {})


# --- perfmon token -------------------------------------------------------------------------------

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
