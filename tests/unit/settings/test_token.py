"""The access token's rules (perfmon.settings.token) and ``perfmon token``: 22 characters at least, a token
file private to its owner (a systemd credential as systemd makes it included), new tokens printed or
written 0600. Parsed as the servers parse their options; ``perfmon token`` and the chmod a refusal
names are run as processes in tests/system/test_token.py."""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

import pytest

from perfmon.settings import parse_launcher_config, parse_server_config
from perfmon.settings.token import MIN_TOKEN_CHARS

TOKEN = "k" * MIN_TOKEN_CHARS
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











