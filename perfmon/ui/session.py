"""The dashboard's session cookie: an expiry and a random id, signed with a key derived from the token.

A value looks like ``1700043200.q3Xb0f9rWm1hYvQd2kC1Ug.<HMAC-SHA256, base64url>``. Nothing is
kept per session on the server, so a restart keeps everyone signed in; a new token is a new
key, which ends every session at once. Signing out forgets the cookie in the browser and
revokes its id here until it would have expired anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

COOKIE_NAME = "perfmon_session"
LIFETIME_SECONDS = 12 * 3600
KEY_PURPOSE = b"perfmon-session-v1"  # a new purpose (v2) would end every v1 session
MAX_REVOKED = 10_000  # revoked ids kept (each until its expiry); beyond that the soonest to expire go


def derive_key(token: str) -> bytes:
    """The signing key: HMAC(token, purpose), so the token itself never signs anything."""
    return hmac.new(token.encode(), KEY_PURPOSE, hashlib.sha256).digest()


class Sessions:
    """Issues and checks session values; ``clock`` (Unix seconds) is a test's to set."""

    def __init__(self, token: str, clock: Callable[[], float] = time.time,
                 lifetime_seconds: int = LIFETIME_SECONDS) -> None:
        self._key = derive_key(token)
        self._clock = clock
        self.lifetime_seconds = lifetime_seconds
        self._revoked: dict[str, int] = {}  # id -> expiry

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self) -> str:
        """A new session's cookie value, valid for ``lifetime_seconds``."""
        payload = f"{int(self._clock()) + self.lifetime_seconds}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{self._mac(payload)}"

    def check(self, value: str) -> tuple[str, int] | None:
        """The session's id and expiry if ``value`` is one this key signed, unexpired and not revoked."""
        expires, _, rest = value.partition(".")
        session_id, _, mac = rest.partition(".")
        if not (expires.isascii() and expires.isdigit() and session_id and mac):
            return None
        if not hmac.compare_digest(mac.encode(), self._mac(f"{expires}.{session_id}").encode()):
            return None
        if int(expires) <= self._clock() or session_id in self._revoked:
            return None
        return session_id, int(expires)

    def valid(self, values: list[str]) -> bool:
        """Whether any of the request's cookie values is a session."""
        return any(self.check(value) is not None for value in values)

    def revoke(self, values: list[str]) -> None:
        """End the sessions these values carry (signing out), keeping at most MAX_REVOKED ids."""
        now = self._clock()
        for session in filter(None, map(self.check, values)):
            self._revoked[session[0]] = session[1]
        if len(self._revoked) > MAX_REVOKED:
            live = sorted((expiry, id_) for id_, expiry in self._revoked.items() if expiry > now)
            self._revoked = {id_: expiry for expiry, id_ in live[-MAX_REVOKED:]}


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
