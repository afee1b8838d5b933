"""One request to a server, and its answer said in words with the flag that fixes it.

The launcher's health wait once gave up after 30 s with "no answer from
http://127.0.0.1:8000/api/health" while its API had answered 421 every time: the words
were true and useless. Here every outcome (refused, TLS, 401, 421, 429, a timeout) has
its cause and what to change. ``perfmon dashboard`` asks its API the same way at start.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from perfmon.settings.options import shown

TIMEOUT_SECONDS = 2.0
PERMANENT = frozenset({400, 401, 403, 404, 421})  # asking again changes nothing: the settings must


@dataclass(frozen=True)
class Answer:
    """What a server said: its status (None: no HTTP answer) and, unless all is well, why not."""

    status: int | None
    problem: str = ""  # "" when the answer is the one hoped for

    @property
    def permanent(self) -> bool:
        """Whether this answer will not change by waiting (a setting is wrong)."""
        return self.status in PERMANENT


def ask(url: str, tls: ssl.SSLContext | None = None, token: str | None = None,
        timeout: float = TIMEOUT_SECONDS) -> Answer:
    """GET url (redirects followed) once; a 200 is Answer(200), anything else says why in words."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=tls) as response:
            return Answer(response.status)
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, refusal(url, error.code, error.headers, body(error), bool(token)))
    except urllib.error.URLError as error:
        return Answer(None, unreachable(url, error.reason, timeout))
    except (OSError, http.client.HTTPException) as error:  # timeouts and resets after connecting
        return Answer(None, unreachable(url, error, timeout))


def body(error: urllib.error.HTTPError) -> bytes:
    """The start of an error answer's body ("" if it cannot be read)."""
    try:
        return error.read(65536)
    except (OSError, http.client.HTTPException):
        return b""


def refusal(url: str, status: int, headers: object, content: bytes, token_sent: bool) -> str:
    """An HTTP error answer in words, with the option that fixes it."""
    message = error_message(content)
    said = f"answered {status}" + (f" ({message})" if message else "")
    if status == 421:
        return f"{said}: add {urlsplit(url).hostname} to its --allowed-hosts"
    if status == 401 and token_sent:
        return f"{said}: the token is not the server's; give its own with --token-file PATH or PERFMON_TOKEN"
    if status == 401:
        return f"{said}: it wants a token; give it with --token-file PATH or PERFMON_TOKEN"
    if status == 429:
        retry = getattr(headers, "get", lambda _name: None)("Retry-After")
        return f"{said}: too many wrong tokens from this address" + (f"; retry in {retry} s" if retry else "")
    return said


def error_message(body: bytes) -> str:
    """The message of a perfmon JSON error body, or ""."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return ""
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) else ""


def unreachable(url: str, reason: object, timeout: float) -> str:
    """Why no HTTP answer came, in words."""
    where = urlsplit(url).netloc
    if isinstance(reason, ssl.SSLCertVerificationError):
        return (f"the TLS certificate of {where} is not trusted ({reason.verify_message}): pass "
                "--api-ca-file with the certificate or its CA, or reach it by a name the certificate carries")
    if isinstance(reason, ssl.SSLError):
        return f"TLS with {where} failed ({reason.reason or reason}): does it serve http://, not https://?"
    if isinstance(reason, ConnectionRefusedError):
        return f"connection refused by {where}: is the server running there?"
    if isinstance(reason, TimeoutError):
        return f"no answer from {where} within {shown(timeout)} s"
    if isinstance(reason, socket.gaierror):
        return f"unknown host {urlsplit(url).hostname}"
    if isinstance(reason, (ConnectionResetError, http.client.RemoteDisconnected)):
        return f"{where} closed the connection: does it serve {'https' if url.startswith('http:') else 'http'}://?"
    return f"cannot reach {where}: {getattr(reason, 'strerror', None) or reason}"


def certificate_names(url: str, tls: ssl.SSLContext, timeout: float = TIMEOUT_SECONDS) -> list[str]:
    """The names in the certificate an https:// server presents (DNS names first), or [] if none come."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout) as sock, \
                tls.wrap_socket(sock, server_hostname=parts.hostname) as connection:
            certificate: dict[str, Any] = dict(connection.getpeercert() or {})
    except (OSError, ValueError):
        return []
    alternatives = certificate.get("subjectAltName", ())
    names = [value for kind, value in alternatives if kind == "DNS"]
    names += [str(ipaddress.ip_address(value.strip())) for kind, value in alternatives
              if kind == "IP Address"]
    if not alternatives:  # an old certificate: its common name
        names += [value for rdn in certificate.get("subject", ()) for key, value in rdn
                  if key == "commonName"]
    return [name for name in names if name and "*" not in name]
