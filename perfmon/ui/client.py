"""PerformanceClient: the dashboard's side of the API, with keep-alive, timeouts and ETags.

One client (one ``requests.Session``, so one keep-alive connection pool) serves every
browser tab. Conditional responses are cached by URL and shared too: the data is the
same for every tab, only each tab's cursor differs.
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import urlsplit

import requests

from perfmon import __version__

log = logging.getLogger(__name__)


class ApiUnavailable(Exception):
    """The API could not be reached or answered unusably; ``str()`` says why, in words."""


class ApiStarting(ApiUnavailable):
    """The API is up but has no sample yet (503 with Retry-After)."""


def range_params(start: float, end: float, points: int) -> dict[str, Any]:
    """The query of ``points`` equal buckets from ``start`` to ``end`` (Unix seconds).

    The API makes a bucket (end - start) / points wide, rounded up to a whole number of
    steps of the coarsest tier that has that many points. Whole seconds are exact in floats,
    so such a range is sent as it is. Else float rounding could round a bucket up by a whole
    step and halve the points, so the query ends a millisecond early: less than any step.
    """
    start, end = float(start), float(end)  # a cursor's times come back from the browser as ints
    if start.is_integer() and end.is_integer():
        return {"start": f"{start:.0f}", "end": f"{end:.0f}", "points": points}
    return {"start": f"{start:.3f}", "end": f"{end - 0.001:.3f}", "points": points}


class PerformanceClient:
    """Reads the perfmon API over one keep-alive session; every call has a timeout."""

    def __init__(self, base_url: str, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.netloc = urlsplit(self.base_url).netloc
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = f"perfmon-dashboard/{__version__}"
        self._cache: dict[str, tuple[str, dict[str, Any]]] = {}  # url -> (etag, decoded body)
        self._lock = threading.Lock()
        self._reachable: bool | None = None  # for logging changes once, however many tabs poll

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def performance(self, timeout: float) -> dict[str, Any]:
        """The latest sample (``GET /api/performance``), revalidated with its ETag."""
        return self._get("/api/performance", None, timeout, conditional=True)

    def history(self, since: int | None, limit: int, timeout: float) -> dict[str, Any]:
        """Columnar samples after ``since`` (or the last ``limit``) from ``/api/history``."""
        params: dict[str, int] = {"limit": limit}
        if since is not None:
            params["since"] = since
        return self._get("/api/history", params, timeout)

    def history_range(self, start: float, end: float, points: int, timeout: float) -> dict[str, Any]:
        """At most ``points`` equal buckets (mean, min, max) over [start, end) from ``/api/history``."""
        return self._get("/api/history", range_params(start, end, points), timeout)

    def history_csv(self, start: float, end: float, points: int, timeout: float) -> str:
        """The same range as a CSV document (``format=csv``), for a download."""
        params = {**range_params(start, end, points), "format": "csv"}
        try:
            response = self.session.get(self._url("/api/history", params), timeout=max(0.05, timeout))
        except requests.RequestException as exc:
            raise ApiUnavailable(self._failure(exc, timeout)) from None
        if response.status_code != 200:
            self._decode(response)  # raises with the API's message
        return response.text

    def processes(self, sort: str, limit: int, timeout: float) -> dict[str, Any]:
        """The latest process scan sorted by ``sort`` (``cpu`` or ``memory``), revalidated."""
        return self._get("/api/processes", {"sort": sort, "limit": limit}, timeout, conditional=True)

    def _get(self, path: str, params: dict[str, Any] | None, timeout: float,
             conditional: bool = False) -> dict[str, Any]:
        try:
            body = self._fetch(path, params, timeout, conditional)
        except ApiStarting:
            raise
        except ApiUnavailable as exc:
            self._note_reachable(False, str(exc))
            raise
        self._note_reachable(True)
        return body

    def _note_reachable(self, reachable: bool, reason: str = "") -> None:
        """Log when the API becomes unavailable and when it is back, once each."""
        with self._lock:
            was, self._reachable = self._reachable, reachable
        if not reachable and was is not False:
            log.warning("API %s unavailable: %s (pages keep retrying; logged once)", self.base_url, reason)
        elif reachable and was is False:
            log.info("API %s answers again", self.base_url)

    def _fetch(self, path: str, params: dict[str, Any] | None, timeout: float,
               conditional: bool) -> dict[str, Any]:
        url = self._url(path, params)
        cached = self._cache.get(url) if conditional else None
        headers = {"If-None-Match": cached[0]} if cached else None
        try:
            response = self.session.get(url, headers=headers, timeout=max(0.05, timeout))
        except requests.RequestException as exc:
            raise ApiUnavailable(self._failure(exc, timeout)) from None
        if response.status_code == 304 and cached:
            return cached[1]
        body = self._decode(response)
        etag = response.headers.get("ETag")
        if conditional and etag:
            with self._lock:
                self._cache[url] = (etag, body)
        return body

    def _url(self, path: str, params: dict[str, Any] | None) -> str:
        url = self.base_url + path
        if params:
            url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
        return url

    def _failure(self, exc: requests.RequestException, timeout: float) -> str:
        """Why a request failed, in words."""
        if isinstance(exc, requests.Timeout):
            return f"no answer from {self.netloc} within {timeout:.1f} s"
        if isinstance(exc, requests.ConnectionError):
            return self._connection_reason(exc)
        return f"request to {self.netloc} failed: {exc}"

    def _decode(self, response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise ApiUnavailable(
                f"{self.netloc} answered {response.status_code} without JSON: is it a perfmon API?"
            ) from None
        if response.status_code == 200 and isinstance(body, dict):
            return body
        if response.status_code == 200:
            raise ApiUnavailable(f"{self.netloc} answered JSON that is not an object: is it a perfmon API?")
        message = body.get("error", {}).get("message") if isinstance(body, dict) else None
        if response.status_code == 503 and "Retry-After" in response.headers:
            raise ApiStarting(f"the API is not ready: {message or 'starting'}")
        raise ApiUnavailable(f"the API answered {response.status_code}: {message or response.reason}")

    def _connection_reason(self, exc: requests.ConnectionError) -> str:
        text = str(exc)
        if "Connection refused" in text:
            return f"connection refused by {self.netloc}: is the API server running?"
        if "Name or service not known" in text or "nodename nor servname" in text:
            return f"unknown host in {self.base_url}"
        if "Connection reset" in text or "RemoteDisconnected" in text:
            return f"{self.netloc} closed the connection"
        return f"cannot connect to {self.netloc}"
