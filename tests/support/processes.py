"""Helpers to run the real entry points as subprocesses on free loopback ports."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_listening(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on host:port right now."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def printed_urls(stdout: str) -> dict[str, str]:
    """The URLs the launcher printed, by name ("API", "dashboard")."""
    return dict(re.findall(r"^perfmon (\w+):\s+(\S+)$", stdout, re.MULTILINE))


def http_get(
    url: str, headers: dict[str, str] | None = None, timeout: float = 5
) -> tuple[int, Message, bytes]:
    """GET a URL; returns status, headers (case-insensitive) and body, for error statuses too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def get_json(url: str, timeout: float = 5) -> tuple[int, Any]:
    """GET a URL and decode its JSON body."""
    status, _, body = http_get(url, timeout=timeout)
    return status, json.loads(body)


def wait_until_healthy(url: str, proc: subprocess.Popen, timeout: float = 20) -> dict:
    """Poll url until it answers 200; fail early if the process died."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode} before becoming healthy")
        try:
            status, body = get_json(url, timeout=2)
            if status == 200:
                return body
            last = body
        except (OSError, ValueError) as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"{url} not healthy after {timeout} s; last answer: {last}")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Return once ``condition()`` holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout} s")
        time.sleep(0.02)


class Running:
    """A started entry-point process whose stderr goes to a temporary file."""

    def __init__(self, script: str, *args: str, env: dict[str, str] | None = None) -> None:
        """Run ``script`` (a Python file in the repository, or a command such as ``perfmon`` or a path)."""
        self.stderr_file = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in __exit__
        in_repository = not os.path.isabs(script) and (ROOT / script).is_file()
        program = [sys.executable, str(ROOT / script)] if in_repository else [script]
        # Each server process gets a history database of its own, never the user's.
        self.data_dir = tempfile.TemporaryDirectory(prefix="perfmon-test-")
        env = {**(os.environ if env is None else env)}
        env.setdefault("PERFMON_DATA_DIR", self.data_dir.name)
        # ... and a journal directory of its own, in memory as the default's is: a server a test kills
        # leaves its journal there, not in /dev/shm for good (each journal is named after its database).
        shm = Path("/dev/shm")
        self.journal_dir = tempfile.TemporaryDirectory(prefix="perfmon-test-journal-",
                                                       dir=shm if shm.is_dir() else None)
        env.setdefault("PERFMON_JOURNAL_DIR", self.journal_dir.name)
        self.proc = subprocess.Popen(
            [*program, *args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self.stderr_file, text=True, env=env,
        )
        self.stdout = ""  # what read_stdout_until has read so far
        self._stdout_lines: queue.Queue[str | None] = queue.Queue()
        self._stdout_reader: threading.Thread | None = None

    def read_stdout_until(self, marker: str, timeout: float = 30) -> str:
        """Read stdout until a line contains marker; returns all read so far; fails on exit or timeout."""
        if self._stdout_reader is None:
            # A thread, because a blocking readline could not honour the timeout.
            self._stdout_reader = threading.Thread(target=self._pump_stdout, daemon=True)
            self._stdout_reader.start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._stdout_lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {marker!r} on stdout after {timeout} s: {self.stdout!r}") from None
            if line is None:
                raise AssertionError(f"stdout closed (exit code {self.proc.wait()}) before {marker!r}: "
                                     f"{self.stdout!r}; stderr: {self.stderr()!r}")
            self.stdout += line
            if marker in line:
                return self.stdout

    def _pump_stdout(self) -> None:
        with contextlib.suppress(ValueError):  # closed by __exit__
            for line in self.proc.stdout or ():
                self._stdout_lines.put(line)
        self._stdout_lines.put(None)

    def stderr(self) -> str:
        """Everything the process wrote to stderr so far."""
        self.stderr_file.seek(0)
        return self.stderr_file.read()

    def stop(self, timeout: float = 10) -> int:
        """Terminate (if still running) and reap; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self._stdout_reader:
            self._stdout_reader.join(5)  # reaches end of file now that the process is gone
        if self.proc.stdout:
            self.proc.stdout.close()
        self.stderr_file.close()
        self.data_dir.cleanup()
        self.journal_dir.cleanup()
