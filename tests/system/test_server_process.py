"""The real performance_api_server.py on a real socket: serve, answer, stop cleanly."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from tests.support.processes import Running, free_port, get_json, http_get, wait_for, wait_until_healthy

SCRIPT = "performance_api_server.py"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serves_real_samples_and_stops_on_signal(signum: int) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with Running(SCRIPT, "--port", str(port), "--interval", "0.2") as server:
        health = wait_until_healthy(f"{base}/api/health", server.proc)
        assert health["status"] == "ok" and health["interval_seconds"] == 0.2
        status, headers, _ = http_get(f"{base}/api/performance")
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert http_get(f"{base}/api/performance", {"If-None-Match": headers["ETag"]})[0] in (200, 304)
        status, history = get_json(f"{base}/api/history")
        assert status == 200 and history["instance_id"] == health["instance_id"]
        assert len(history["series"]["seq"]) >= 1
        status, processes = get_json(f"{base}/api/processes?sort=memory&limit=3")
        assert status == 200 and 1 <= len(processes["processes"]) <= 3
        started = time.monotonic()
        server.proc.send_signal(signum)
        assert server.proc.wait(10) == 0
        assert time.monotonic() - started < 5
        assert "Traceback" not in server.stderr()
        assert "listening on http://127.0.0.1:" in server.stderr()
        assert "GET /api/performance" not in server.stderr()  # no access log below debug
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_sigterm_during_a_long_poll_still_stops_quickly() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with Running(SCRIPT, "--port", str(port), "--interval", "30") as server:
        wait_until_healthy(f"{base}/api/health", server.proc)
        etag = http_get(f"{base}/api/performance")[1]["ETag"]
        # the next sample is 30 s away, so this request would be held for up to 60 s
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(f"GET /api/performance?wait=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         f"If-None-Match: {etag}\r\n\r\n".encode())
            wait_for(lambda: get_json(f"{base}/api/health")[1]["long_poll_waiters"] == 1, "a parked request")
            started = time.monotonic()
            server.proc.terminate()
            assert server.proc.wait(10) == 0
            assert time.monotonic() - started < 5
            conn.settimeout(2)
            answer = conn.recv(65536).decode()
        assert answer.startswith("HTTP/1.1 503"), answer
        assert "shutting down" in answer


def test_port_in_use_is_one_readable_line_and_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with Running(SCRIPT, "--port", str(port)) as server:
            assert server.proc.wait(15) == 1
            lines = [line for line in server.stderr().splitlines() if line.strip()]
            assert lines == [f"error: port {port} on 127.0.0.1 is already in use: "
                             "stop what is using it or pass --port"]


def test_bad_value_is_usage_error_exit_2() -> None:
    with Running(SCRIPT, "--interval", "0") as server:
        assert server.proc.wait(15) == 2
        assert server.stderr().startswith("performance_api_server.py: error: argument --interval: ")
        assert server.stderr().count("\n") == 1 and "usage:" not in server.stderr()  # one line, no usage


def test_port_0_picks_a_free_port_and_says_which() -> None:
    env = {**os.environ, "PERFMON_PORT": "0", "PERFMON_INTERVAL": "0.2"}
    with Running(SCRIPT, env=env) as server:
        wait_for(lambda: "listening on" in server.stderr(), "'listening on' in the log")
        url = server.stderr().split("listening on ")[1].split()[0]
        assert get_json(f"{url}/api/performance?wait=5")[0] == 200
        assert server.stop() == 0


def test_debug_level_logs_each_request() -> None:
    port = free_port()
    with Running(SCRIPT, "--port", str(port), "--log-level", "debug") as server:
        wait_until_healthy(f"http://127.0.0.1:{port}/api/health", server.proc)
        http_get(f"http://127.0.0.1:{port}/api/processes?limit=2")
        assert server.stop() == 0
        assert '"GET /api/processes?limit=2 HTTP/1.1" 200' in server.stderr()
