"""Malformed HTTP and descriptor exhaustion against the API server as a real process (its log is its stderr).

The answers to each malformed request, in this process, are tests/integration/test_hostile_http.py's.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys

from tests.integration.test_hostile_http import (
    EXPECTED_SOFT,
    HARD,
    LINUX_ONLY,
    MALFORMED,
    SCRIPT,
    exchange,
    lower_soft_limit,
    needs_headroom,
)
from tests.support.processes import ROOT, Running, free_port, http_get, wait_for, wait_until_healthy


def test_a_burst_of_malformed_requests_logs_one_warning_line_and_no_traceback() -> None:
    port = free_port()
    with Running(SCRIPT, "--port", str(port)) as server:
        wait_until_healthy(f"http://127.0.0.1:{port}/api/health", server.proc)
        for _ in range(3):
            for raw, status, _ in MALFORMED.values():
                assert exchange(port, raw).status == status
        assert http_get(f"http://127.0.0.1:{port}/api/health")[0] == 200
        assert server.stop() == 0
        log = server.stderr()
    assert "Traceback" not in log
    assert not re.search(r"^\S+ \S+ (ERROR|CRITICAL)", log, re.MULTILINE), log
    warnings = [line for line in log.splitlines() if "malformed HTTP request" in line]
    assert len(warnings) == 1, log
    assert "WARNING" in warnings[0] and "from 127.0.0.1" in warnings[0]
    assert "further ones for 60 s are counted, not logged" in warnings[0]


@LINUX_ONLY
def test_out_of_descriptors_the_log_stays_small_and_the_server_recovers() -> None:
    # Idle connections are shed near the limit (tests/test_connections.py), so the descriptors
    # are taken by requests in progress: long-polls, with no sample due for an hour.
    port = free_port()
    command = f"ulimit -n 64 && exec {sys.executable} {SCRIPT} --port {port} --interval 3600"
    with Running("sh", "-c", command) as server:
        wait_until_healthy(f"http://127.0.0.1:{port}/api/health", server.proc)
        etag = http_get(f"http://127.0.0.1:{port}/api/performance")[1]["ETag"]
        poll = (f"GET /api/performance?wait=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"If-None-Match: {etag}\r\n\r\n").encode()
        held: list[socket.socket] = []

        def refused_after_more() -> bool:
            """Whether accepting failed; if not, ten more long-polls. Under load the server may read
            a request only after shedding its connection as idle near the limit, so no fixed number of
            connections is sure to exhaust the descriptors: the ones it read stay, and more follow."""
            if "cannot accept new connections" in server.stderr():
                return True
            for _ in range(10 if len(held) < 600 else 0):
                held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
                held[-1].sendall(poll)
            return False

        try:
            wait_for(refused_after_more, "accept failing", timeout=30)
        finally:
            for sock in held:
                sock.close()
        wait_until_healthy(f"http://127.0.0.1:{port}/api/health", server.proc, timeout=10)
        assert server.stop() == 0
        log = server.stderr()
    assert "Traceback" not in log and len(log) < 16_000, log[:2000]
    accept_lines = [line for line in log.splitlines() if "cannot accept new connections" in line]
    assert 1 <= len(accept_lines) <= 2, accept_lines
    assert "WARNING" in accept_lines[0] and "Too many open files" in accept_lines[0]


@needs_headroom
def test_raise_open_files_limit_raises_the_soft_limit_to_the_hard_one() -> None:
    code = ("import json, resource; from perfmon.api.edge.limits import raise_open_files_limit; "
            "before = resource.getrlimit(resource.RLIMIT_NOFILE); returned = raise_open_files_limit(); "
            "print(json.dumps([before, returned, resource.getrlimit(resource.RLIMIT_NOFILE)]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=20, preexec_fn=lower_soft_limit, check=True)
    before, returned, after = json.loads(done.stdout)
    assert before == [256, HARD]
    assert returned == after == [EXPECTED_SOFT, HARD]


@LINUX_ONLY
@needs_headroom
def test_the_api_server_raises_its_own_limit_at_startup() -> None:
    port = free_port()
    with Running("sh", "-c", f"ulimit -Sn 256 && exec {sys.executable} {SCRIPT} --port {port}") as server:
        wait_until_healthy(f"http://127.0.0.1:{port}/api/health", server.proc)
        with open(f"/proc/{server.proc.pid}/limits") as limits:
            [line] = [line for line in limits if line.startswith("Max open files")]
    assert line.split()[3] == str(EXPECTED_SOFT)
