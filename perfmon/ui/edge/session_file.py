"""Where the dashboard keeps its sessions' state, so that signing out is final across restarts too.

One small JSON file in the data directory (``dashboard-sessions.json``, mode 0600)::

    {"version": 1, "key": "<32 random bytes, base64url>", "token": "<HMAC(key, token)>",
     "revoked": {"<session id>": <its expiry, Unix s>, ...}}

The cookie is signed with the random ``key``, never with anything derived from the token: a
restart keeps the signed-in signed in, and the ids of sessions that signed out stay here until
their cookies would have expired anyway, so no restart revives one. ``token`` is the token's
fingerprint (not the token): a start with another token makes a new key, so the sessions of
the old one stay dead, switching back included. The file is written whole to a temporary file
and renamed over the old one. A file that cannot be read (damaged, or readable by others, who
could have forged cookies with its key) is replaced by a fresh state with one WARNING: a new
key, so everyone signs in again, never a sign-out undone and never a start refused. A
directory that cannot hold the file, or a second dashboard on it (two writers would drop
each other's sign-outs), is one line (:class:`SessionFileError`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # not POSIX: no advisory lock
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

FILE_NAME = "dashboard-sessions.json"
VERSION = 1
KEY_BYTES = 32


class SessionFileError(ValueError):
    """The sessions file cannot be kept where the settings say: the one line to print."""


@dataclass
class SessionState:
    """The signing key, the token's fingerprint under it, and revoked ids with their expiries."""

    key: bytes
    token: str
    revoked: dict[str, int] = field(default_factory=dict)


def token_fingerprint(key: bytes, token: str) -> str:
    """The token as the file knows it: an HMAC under the key, so the file never holds the token."""
    digest = hmac.new(key, b"perfmon-dashboard-token\0" + token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


def fresh_state(token: str) -> SessionState:
    """A new random key for ``token``: no earlier session is valid under it."""
    key = secrets.token_bytes(KEY_BYTES)
    return SessionState(key, token_fingerprint(key, token))


def parse(text: str) -> SessionState:
    """The state a file's text holds; ValueError saying what is wrong with it."""
    data: Any = json.loads(text)
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError(f"not a version {VERSION} sessions file")
    key = base64.urlsafe_b64decode(str(data.get("key", "")))
    token, revoked = data.get("token"), data.get("revoked")
    if len(key) != KEY_BYTES or not isinstance(token, str) or not isinstance(revoked, dict):
        raise ValueError("its key, token or revoked entry is missing or malformed")
    if not all(isinstance(expiry, int) and not isinstance(expiry, bool) for expiry in revoked.values()):
        raise ValueError("a revoked session without a whole-second expiry")
    return SessionState(key, token, {str(id_): expiry for id_, expiry in revoked.items()})


def dump(state: SessionState) -> bytes:
    """The file's bytes for ``state``."""
    return json.dumps({"version": VERSION, "key": base64.urlsafe_b64encode(state.key).decode(),
                       "token": state.token, "revoked": state.revoked}, separators=(",", ":")).encode()


class SessionFile:
    """The sessions file of one data directory, locked for this dashboard while it runs."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / FILE_NAME
        self._lock: IO[str] | None = None

    def unusable(self, reason: object) -> SessionFileError:
        """The one-line refusal for a directory the sessions cannot live in."""
        return SessionFileError(
            f"cannot keep the dashboard's sessions in {self.directory}: {reason}; make that directory "
            "writable, or choose another --data-dir (or --data-dir none: a restart signs everyone out)")

    def open(self, token: str, now: float) -> SessionState:
        """Lock the directory and read the state for ``token`` (a fresh one when it must be)."""
        self._acquire()
        try:
            state = self._read(token)
            if state is None or state.token != token_fingerprint(state.key, token):
                state = fresh_state(token)  # first start, or another token: every old session ends
            state.revoked = {id_: exp for id_, exp in state.revoked.items() if exp > now}
            self.save(state)
        except OSError as exc:
            self.close()
            raise self.unusable(exc.strerror or exc) from None
        return state

    def _read(self, token: str) -> SessionState | None:
        """The state in the file, or None when there is none or it cannot be trusted (one WARNING)."""
        try:
            with self.path.open("rb") as handle:
                mode = os.fstat(handle.fileno()).st_mode
                text = handle.read().decode("utf-8")
            if not stat.S_ISREG(mode):
                raise ValueError("not a regular file")
            if mode & 0o077:
                raise ValueError(f"others could read its key (mode {stat.S_IMODE(mode):04o})")
            return parse(text)
        except FileNotFoundError:
            return None
        except (ValueError, UnicodeDecodeError, IsADirectoryError) as exc:
            log.warning("dashboard sessions file %s cannot be used (%s): replaced it with a new key, so "
                        "everyone signs in again", self.path, exc)
            return None

    def save(self, state: SessionState) -> None:
        """Write ``state`` whole: a temporary file (0600), flushed to disk, renamed over the old one."""
        temporary = self.path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(dump(state))
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o600)  # O_CREAT's mode does not apply to a leftover temporary file
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        with contextlib.suppress(OSError):  # the rename itself reaches the disk
            directory = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def _acquire(self) -> None:
        """Take ``<file>.lock``, or raise SessionFileError naming the dashboard that holds it."""
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle = self.path.with_name(FILE_NAME + ".lock").open("a+")
        except FileExistsError:
            raise self.unusable("it is a file, not a directory") from None
        except OSError as exc:
            raise self.unusable(exc.strerror or exc) from None
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                handle.close()
                raise SessionFileError(f"another perfmon dashboard (pid {holder}) keeps its sessions in "
                                       f"{self.directory}: stop it or pass another --data-dir") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock = handle

    def close(self) -> None:
        """Let another dashboard use the directory."""
        if self._lock is not None:
            with contextlib.suppress(OSError):
                self._lock.close()  # closing drops the flock
            self._lock = None
