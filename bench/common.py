"""What the benchmarks share: free loopback ports and plain GETs. (Nothing here comes from tests/.)"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Mapping

import requests


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, headers: Mapping[str, str] | None = None,
             timeout: float = 5) -> tuple[int, Mapping[str, str], bytes]:
    """GET a URL: status, headers (case-insensitive) and body, for error statuses too."""
    response = requests.get(url, headers=dict(headers or {}), timeout=timeout)
    return response.status_code, response.headers, response.content


def wait_answering(url: str, proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Return once ``url`` answers 200; RuntimeError if ``proc`` exits or ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode} before {url} answered")
        try:
            status, _, _ = http_get(url, timeout=2)
        except OSError as exc:  # requests' errors are OSErrors: refused, reset, timed out
            last = str(exc)
        else:
            if status == 200:
                return
            last = f"HTTP {status}"
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:g} s ({last})")
