"""The README's "Watch a remote server" recipe, run as written, in a private network namespace.

Steps 1 to 3 are read from the README's code blocks and run by a shell, with HOME a
temporary directory so that ``~`` expands as it would for a user. Step 3 runs under
``unshare -n``: there ``0.0.0.0`` binds only the namespace's own loopback, ports 8000 and
8050 are free whatever else runs on this machine, and nothing is exposed. The checks enter
the same namespace (``nsenter``) and reach the servers as a browser that resolved
monitor.example would (``curl --resolve``), the README's own curl command included.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfmon.ui.tick import signature
from tests.support.processes import ROOT, printed_urls
from tests.support.programs import program_or_skip

NAME = "monitor.example"
BIN = Path(sys.executable).parent  # perfmon is installed beside this Python


def recipe_section() -> str:
    """The README's "Watch a remote server" section."""
    readme = (ROOT / "README.md").read_text()
    return readme.split("\n## Watch a remote server\n", 1)[1].split("\n## ", 1)[0]


def step_commands() -> dict[int, str]:
    """The first shell block after each numbered step (**1. A token.** and so on)."""
    steps = re.findall(r"\*\*(\d)\. .*?```sh\n(.*?)```", recipe_section(), re.DOTALL)
    return {int(number): block.strip() for number, block in steps}


def curl_command() -> str:
    """The README's curl command that calls the API with the token."""
    blocks = re.findall(r"```sh\n(.*?)```", recipe_section(), re.DOTALL)
    [block] = [block for block in blocks if block.startswith("curl ")]
    return block.strip()


class Launched:
    """The README's step 3 in its own network namespace; its stdout read line by line."""

    def __init__(self, command: str, cwd: Path, env: dict[str, str]) -> None:
        self.stderr_file = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in close()
        in_namespace = ["unshare", "-n", "bash", "-c", f"ip link set lo up && exec {command}"]
        self.proc = subprocess.Popen(in_namespace, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                     stderr=self.stderr_file, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout or ():
            self.lines.put(line)
        self.lines.put(None)

    def read_until(self, marker: str, timeout: float) -> str:
        """Everything printed up to the line with ``marker``; fails on exit or timeout."""
        out, deadline = "", time.monotonic() + timeout
        while marker not in out:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {marker!r} after {timeout} s: {out!r}; {self.stderr()}") from None
            if line is None:
                raise AssertionError(f"exit {self.proc.wait()} before {marker!r}: {out!r}; {self.stderr()}")
            out += line
        return out

    def inside(self, command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """Run a shell command in the launcher's network namespace."""
        return subprocess.run(["nsenter", "-t", str(self.proc.pid), "-n", "bash", "-c", command], cwd=cwd,
                              env=env, capture_output=True, text=True, timeout=30, check=False)

    def stderr(self) -> str:
        self.stderr_file.seek(0)
        return self.stderr_file.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr_file.close()


@pytest.fixture
def namespaces() -> None:
    """unshare, nsenter, ip, curl and openssl, and the right to make a network namespace (root)."""
    for program, package in (("unshare", "util-linux"), ("nsenter", "util-linux"), ("ip", "iproute2"),
                             ("curl", "curl"), ("openssl", "openssl")):
        program_or_skip(program, package)
    if subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False).returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("unshare -n is not permitted here: the remote recipe test must run in CI (as root)")
        pytest.skip("unshare -n is not permitted here (run as root)")


@pytest.fixture
def user(tmp_path: Path, namespaces: None) -> Iterator[tuple[Path, dict[str, str]]]:
    """A working directory and the environment of a user whose HOME is a temporary directory."""
    home, work = tmp_path / "home", tmp_path / "server"
    home.mkdir()
    work.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PERFMON_", "XDG_")) and key != "CI"}
    env.update(HOME=str(home), PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}")
    yield work, env


def certificate_names(cert: Path) -> list[str]:
    """The subjectAltName entries of a certificate, as openssl prints them (DNS:..., IP Address:...)."""
    text = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-ext", "subjectAltName"],
                          capture_output=True, text=True, check=True).stdout
    return [entry.split(":", 1)[1] for entry in text.splitlines()[1].strip().split(", ")]


def test_the_readmes_remote_command_works_as_written(user: tuple[Path, dict[str, str]]) -> None:
    work, env = user
    steps = step_commands()
    for number in (1, 2):
        done = subprocess.run(["bash", "-euc", steps[number]], cwd=work, env=env, capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0, (number, steps[number], done.stderr)
    assert steps[3].startswith("perfmon run ")
    started = time.monotonic()
    launched = Launched(steps[3], work, env)
    try:
        urls = printed_urls(launched.read_until("Ctrl-C stops both", timeout=90))
        ready_seconds = time.monotonic() - started
        assert urls == {"API": f"https://{NAME}:8000/api/performance", "dashboard": f"https://{NAME}:8050/"}
        assert NAME in certificate_names(work / "cert.pem")  # a name the browser's check accepts
        check_the_api(launched, work, env)
        check_the_dashboard(launched, work, env)
        check_other_names_are_refused(launched, work, env)
        launched.proc.send_signal(signal.SIGTERM)
        assert launched.proc.wait(15) == 0
        errors = [line for line in launched.stderr().splitlines() if " ERROR " in line or "Traceback" in line]
        assert errors == [], launched.stderr()
        print(f"remote recipe: both servers up {ready_seconds:.1f} s after the command")
    finally:
        launched.close()


def resolving(port: int) -> str:
    """curl's option to reach NAME:port at the namespace's loopback, as a resolver would."""
    return f"--resolve {NAME}:{port}:127.0.0.1"


def check_the_api(launched: Launched, work: Path, env: dict[str, str]) -> None:
    """The README's curl command, as written, with monitor.example resolved to loopback."""
    command = curl_command().replace("curl ", f"curl -sS {resolving(8000)} ", 1)
    done = launched.inside(command, work, env)
    assert done.returncode == 0, done.stderr
    sample = json.loads(done.stdout)
    assert sample["seq"] >= 1 and 0 <= sample["cpu"]["percent"] <= 100


def check_the_dashboard(launched: Launched, work: Path, env: dict[str, str]) -> None:
    """Sign in with the token as the login page does; a tick shows that the dashboard reached its API."""
    origin = f"https://{NAME}:8050"
    curl = f"curl -sS {resolving(8050)} --cacert cert.pem -b jar -c jar -H 'Origin: {origin}'"
    token = shlex.quote(str(Path(env["HOME"]) / ".config/perfmon/token"))
    signed_in = launched.inside(f"{curl} -o /dev/null -w '%{{http_code}}' --data-urlencode token@{token} "
                                f"-d next=/ {origin}/login", work, env)
    assert signed_in.stdout == "303", signed_in
    (work / "tick.json").write_text(json.dumps(signature.request_body()))
    ticked = launched.inside(f"{curl} -H 'Content-Type: application/json' --data @tick.json "
                             f"{origin}{signature.URL_PATH}", work, env)
    updates, _, _ = signature.read_response(ticked.stdout)
    assert updates["status.children"] == "Connected", updates.get("status-detail.children")


def check_other_names_are_refused(launched: Launched, work: Path, env: dict[str, str]) -> None:
    """DNS rebinding still fails: a page's own name in Host gets 421 from the API, 400 from the dashboard."""
    for port, refused in ((8000, "421"), (8050, "400")):
        done = launched.inside(f"curl -sS {resolving(port)} --cacert cert.pem -o /dev/null "
                               f"-w '%{{http_code}}' -H 'Host: rebound.example:{port}' https://{NAME}:{port}/",
                               work, env)
        assert done.stdout == refused, (port, done)
