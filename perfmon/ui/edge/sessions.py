"""The dashboard's session cookie: an expiry and a random id, signed with a random key; sign-out is final.

A value looks like ``1700043200.q3Xb0f9rWm1hYvQd2kC1Ug.<HMAC-SHA256, base64url>``. The key is
random, never derived from the token, and lives with the revoked ids in the data directory
(:mod:`perfmon.ui.edge.session_file`), or only in memory with ``--data-dir none``, where a restart
signs everyone out. So a session ends for good when it expires, when its browser signs out
(its id is revoked until its expiry), when anyone signs out everywhere (a new key), and when
the dashboard starts with another token (a new key too), across restarts alike.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

from perfmon.ui.edge.session_file import SessionFile, SessionState, fresh_state

log = logging.getLogger(__name__)

COOKIE_NAME = "perfmon_session"
LIFETIME_SECONDS = 12 * 3600
MAX_REVOKED = 10_000  # unexpired sign-outs kept; one more ends every session instead (still final)


class Sessions:
    """Issues, checks and ends sessions; ``directory`` None keeps them in memory, ``clock`` is a test's."""

    def __init__(self, token: str, directory: Path | None = None, *, clock: Callable[[], float] = time.time,
                 lifetime_seconds: int = LIFETIME_SECONDS) -> None:
        self._clock = clock
        self.lifetime_seconds = lifetime_seconds
        self._token = token  # only to fingerprint it under a new key; never written anywhere
        self._file = None if directory is None else SessionFile(directory)
        self._changing = threading.Lock()  # sign-outs run in threads (a save waits for the disk)
        self._state: SessionState = (fresh_state(token) if self._file is None
                                     else self._file.open(token, clock()))

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._state.key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self) -> str:
        """A new session's cookie value, valid for ``lifetime_seconds``."""
        payload = f"{int(self._clock()) + self.lifetime_seconds}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{self._mac(payload)}"

    def check(self, value: str) -> tuple[str, int] | None:
        """The session's id and expiry if ``value`` is one the key signed, unexpired and not revoked."""
        expires, _, rest = value.partition(".")
        session_id, _, mac = rest.partition(".")
        if not (expires.isascii() and expires.isdigit() and session_id and mac):
            return None
        if not hmac.compare_digest(mac.encode(), self._mac(f"{expires}.{session_id}").encode()):
            return None
        if int(expires) <= self._clock() or session_id in self._state.revoked:
            return None
        return session_id, int(expires)

    def valid(self, values: list[str]) -> bool:
        """Whether any of the request's cookie values is a session."""
        return any(self.check(value) is not None for value in values)

    def revoke(self, values: list[str]) -> bool:
        """End the sessions these values carry (signing out); whether there was one."""
        sessions = [session for session in map(self.check, values) if session is not None]
        if not sessions:
            return False
        with self._changing:
            now = self._clock()
            revoked = {id_: expiry for id_, expiry in self._state.revoked.items() if expiry > now}
            revoked.update(sessions)
            if len(revoked) <= MAX_REVOKED:
                self._state.revoked = revoked  # a new dict: checks on the loop read the old or the new
                self._save("a sign-out")
                return True
        log.warning("over %d dashboard sessions signed out within %d h: ended every session instead",
                    MAX_REVOKED, self.lifetime_seconds // 3600)
        self.end_all()
        return True

    def end_all(self) -> None:
        """End every session (signing out everywhere): a new key, under which no earlier cookie is valid."""
        with self._changing:
            self._state = fresh_state(self._token)
            self._save("signing out everywhere")
        log.info("every dashboard session was ended (signed out everywhere)")

    def _save(self, what: str) -> None:
        if self._file is None:
            return
        try:
            self._file.save(self._state)
        except OSError as exc:  # it holds in memory; the next change that saves keeps it too
            log.error("dashboard sessions file %s could not be written (%s): %s holds only until the "
                      "dashboard restarts", self._file.path, exc.strerror or exc, what)

    def close(self) -> None:
        """Let another dashboard keep its sessions in the same directory."""
        if self._file is not None:
            self._file.close()


def cookie_values(cookie_header: bytes) -> list[str]:
    """Every value of the session cookie in a ``Cookie`` header (a browser may send more than one)."""
    values = []
    for part in cookie_header.decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE_NAME and value:
            values.append(value.strip('"'))
    return values


def set_cookie(value: str, max_age: int, secure: bool) -> tuple[bytes, bytes]:
    """The ``Set-Cookie``: no script reads it, no other site sends it, only HTTPS carries it if served so."""
    attributes = f"{COOKIE_NAME}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}"
    return b"set-cookie", (attributes + ("; Secure" if secure else "")).encode()
