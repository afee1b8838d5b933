"""What the benchmarks share: free loopback ports, plain GETs, the checkout a run measures, a
process's CPU and peak memory, what a server logged. (Nothing here comes from tests/.)"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import psutil
import requests

REPOSITORY = Path(__file__).resolve().parent.parent
LOG_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ")
NOTABLE = ("WARNING", "ERROR", "CRITICAL", "rror:")  # log levels, and "error: ..." lines


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


def add_root_option(parser: argparse.ArgumentParser) -> None:
    """``--root PATH``: the checkout whose entry points and ``perfmon`` package a run measures."""
    parser.add_argument("--root", type=Path, default=REPOSITORY,
                        help=f"checkout to measure, e.g. a worktree of older code (default: {REPOSITORY})")


def checkout_env(root: Path, **extra: str) -> dict[str, str]:
    """This environment plus ``extra``, with ``root`` first on PYTHONPATH: its ``perfmon`` is imported.

    A PYTHONPATH already set follows ``root``: e.g. a directory holding an old checkout's own
    dependencies that the venv no longer has (``pip install --target DIR``).
    """
    paths = [str(root.resolve()), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, **extra, "PYTHONPATH": os.pathsep.join(paths)}


def check_checkout(root: Path) -> str:
    """Where a server started in ``root`` imports ``perfmon`` from; RuntimeError if not from ``root``."""
    probe = subprocess.run([sys.executable, "-c", "import perfmon; print(perfmon.__file__)"],
                           cwd=root, env=checkout_env(root), capture_output=True, text=True, timeout=60)
    location = Path(probe.stdout.strip() or ".").resolve()
    if probe.returncode != 0 or not location.is_relative_to(root.resolve()):
        raise RuntimeError(f"perfmon is imported from {location}, not from {root}: {probe.stderr.strip()}")
    return str(location)


def memory_only_args(root: Path, script: str) -> list[str]:
    """``--data-dir none`` if ``root``'s ``script`` knows it; else nothing (set PERFMON_DATA_DIR)."""
    helped = subprocess.run([sys.executable, script, "--help"], cwd=root, env=checkout_env(root),
                            capture_output=True, text=True, timeout=60)
    return ["--data-dir", "none"] if "'none'" in helped.stdout else []


def cpu_seconds(process: psutil.Process) -> float:
    """User plus system CPU time of the process itself."""
    times = process.cpu_times()
    return times.user + times.system


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class PeakRss(threading.Thread):
    """Samples a process's RSS every ``every`` seconds until ``stop()``; ``peak`` is the largest, in bytes."""

    def __init__(self, process: psutil.Process, every: float = 0.1) -> None:
        super().__init__(name="peak RSS", daemon=True)
        self.process, self.every, self.peak = process, every, 0
        self._stopping = threading.Event()

    def run(self) -> None:
        """Sample until stopped or the process is gone."""
        while True:
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:  # gone or not ours: keep the peak seen so far
                return
            if self._stopping.wait(self.every):
                return

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._stopping.set()
        self.join(5)
        return self.peak


def notable_log_lines(path: Path, start: int = 0) -> tuple[list[str], int]:
    """Warning and error lines of a server's log from byte ``start``, untimed, each once with its
    count, most frequent first; and the byte to start from next time."""
    text = path.read_bytes()
    lines = text[start:].decode(errors="replace").splitlines()
    counts = Counter(LOG_TIMESTAMP.sub("", line)[:150] for line in lines if any(w in line for w in NOTABLE))
    return [f"{line} (x{count})" for line, count in counts.most_common()], len(text)


def load_average() -> str:
    """The host's 1- and 5-minute load averages: other work on the machine skews every figure."""
    one, five, _ = os.getloadavg()
    return f"{one:.2f} / {five:.2f}"
