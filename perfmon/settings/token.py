"""The access token: where it comes from, what makes it good enough, and ``perfmon token`` that makes one.

The token never comes from a flag (``ps`` shows every command line): ``PERFMON_TOKEN`` or a file
named by ``--token-file``. What keeps it from being guessed is its length, not the servers'
throttles (which serve the right token whatever an address sent before): at least 22
characters, 128 bits as URL-safe base64; ``perfmon token`` prints 43 (256 bits).

A token file must be private, as ssh wants of a private key and sshd of ``authorized_keys``:
no permission for its group or others (``chmod 600``), and owned by the user who runs perfmon
or by root (whoever owns it can change the token). One exception: a systemd credential
(``LoadCredential=``), directly in ``$CREDENTIALS_DIRECTORY``, may show mode 0440 owned by root:
systemd writes it 0400 and grants the service's user read access by an ACL, whose mask ``stat``
shows as the group's bits; the directory is read-only and only the service's user may enter it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import stat
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from perfmon.settings.options import Parser, apply_env_defaults, refuse

MIN_TOKEN_CHARS = 22  # 128 bits in URL-safe base64 (6 bits a character)
TOKEN_BYTES = 32  # what `perfmon token` draws: 256 bits, 43 characters
TOKEN_VARIABLE = "PERFMON_TOKEN"
CREDENTIALS_VARIABLE = "CREDENTIALS_DIRECTORY"  # set by systemd for a unit with credentials
MAX_FILE_BYTES = 4096
MAKE_ONE = "perfmon token --token-file PATH"


class TokenError(ValueError):
    """Why a token or its file cannot be used, in one line that says what to do."""


def new_token() -> str:
    """A new random token: 256 bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def checked(token: str) -> str:
    """The token without surrounding whitespace, if it is good enough; else TokenError."""
    token = token.strip()
    if len(token) < MIN_TOKEN_CHARS or any(char.isspace() for char in token):
        raise TokenError(f"the token must be at least {MIN_TOKEN_CHARS} characters (128 bits) without "
                         f"spaces, got {len(token)}; make one with: {MAKE_ONE}")
    return token


def file_problem(path: Path, status: os.stat_result, credentials: str | None,
                 what: str = "the token file", held: str = "the token") -> str | None:
    """Why a token (or other secret) file with this status may not be trusted, or None."""
    quoted = shlex.quote(str(path))
    euid = os.geteuid()
    if status.st_uid not in (euid, 0):
        return (f"{what} {path} belongs to uid {status.st_uid}, who can change {held}: "
                f"it must be yours (uid {euid}) or root's; run: chown {euid} {quoted}")
    in_credentials = credentials is not None and path.resolve().parent == Path(credentials).resolve()
    allowed = stat.S_IRGRP if in_credentials else 0  # systemd's ACL mask (see the module's docstring)
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077 & ~allowed:
        who = "its group and others" if mode & 0o070 and mode & 0o007 else \
            "its group" if mode & 0o070 else "others"
        return f"{what} {path} is open to {who} (mode {mode:04o}): run chmod 600 {quoted}"
    return None


def read_token_file(path: Path, credentials: str | None = None) -> str:
    """The token in a private file; TokenError for a file others may read or change, or none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as exc:
        raise TokenError(f"cannot read the token file {path}: {exc.strerror or exc}") from None
    try:  # the checks and the read are of the same file
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode):
            raise TokenError(f"the token file {path} is a directory, not a file")
        problem = file_problem(path, status, credentials)
        if problem:
            raise TokenError(problem)
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise TokenError(f"cannot read the token file {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise TokenError(f"the token file {path} is over {MAX_FILE_BYTES} bytes: it should hold one token")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise TokenError(f"cannot read the token file {path}: it is not UTF-8 text") from None


def read_token(parser: argparse.ArgumentParser, path: Path | None,
               environ: Mapping[str, str]) -> str | None:
    """The token from its file or ``PERFMON_TOKEN`` (not both), checked; a usage error (exit 2) if bad."""
    variable = environ.get(TOKEN_VARIABLE)
    if path is not None and variable:
        parser.error(f"both --token-file and {TOKEN_VARIABLE} are set: use one")
    try:
        if path is not None:
            return checked(read_token_file(path, environ.get(CREDENTIALS_VARIABLE)))
        return None if variable is None else checked(variable)
    except TokenError as exc:  # the line says what to run: no pointer to --help after it
        refuse(parser, str(exc))


def write_token_file(path: Path, token: str) -> None:
    """Create ``path`` holding ``token``, mode 0600 from the start; never over an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        os.fchmod(fd, 0o600)  # exactly, whatever the umask took away
        file.write(token + "\n")


def print_token(token: str) -> None:
    """Print the token; into a regular file (``perfmon token > FILE``), make that file 0600 first."""
    sys.stdout.flush()
    fd = sys.stdout.fileno()
    if stat.S_ISREG(os.fstat(fd).st_mode):
        os.fchmod(fd, 0o600)  # before the token is in it: the shell made it with the umask
    sys.stdout.write(token + "\n")
    sys.stdout.flush()


def parser(prog: str = "perfmon token") -> argparse.ArgumentParser:
    """The options of ``perfmon token``."""
    made = Parser(
        prog=prog, description="Make a new random access token (256 bits, URL-safe) and print it, or "
                               "write it to a new file that only you can read (mode 0600).",
        epilog=f"`{prog} > FILE` makes FILE mode 0600 before writing to it. The servers take the file "
               "with --token-file FILE (PERFMON_TOKEN_FILE).")
    made.add_argument("--token-file", type=Path, metavar="PATH",
                      help="write the token to this new file (mode 0600; an existing file is never "
                           "overwritten) instead of printing it")
    return made


def main(argv: Sequence[str] | None = None, prog: str = "perfmon token",
         environ: Mapping[str, str] | None = None) -> int:
    """``perfmon token``: 0 with the token printed or written; 2 with one line when it cannot be."""
    options = parser(prog)
    apply_env_defaults(options, os.environ if environ is None else environ)
    args = options.parse_args(argv)
    token = new_token()
    try:
        if args.token_file is None:
            print_token(token)
            return 0
        write_token_file(args.token_file, token)
    except OSError as exc:
        where = "standard output" if args.token_file is None else args.token_file
        reason = "it exists, and a token file is never overwritten (remove it first to replace the " \
                 "token)" if isinstance(exc, FileExistsError) else exc.strerror or str(exc)
        print(f"{prog}: error: cannot write the token to {where}: {reason}", file=sys.stderr)
        return 2
    print(f"wrote a new token to {args.token_file} (mode 0600); the servers take it with "
          f"--token-file {shlex.quote(str(args.token_file))}", file=sys.stderr)
    return 0
