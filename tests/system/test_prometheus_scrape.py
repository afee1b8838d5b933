"""A real Prometheus (Debian's ``prometheus``) scrapes a real perfmon API every second, with the token.

The test then asks Prometheus, through its HTTP API, whether the target is up and what
``rate()`` it computes for the loopback interface's and the disks' counters, and compares
that with the mean of the rates ``/api/performance`` published for the same seconds.

**Tolerance: 12 %.** Both sides read the very same kernel counters, so they differ only at
the window's edges: Prometheus stamps a value with the time it scraped it, up to one
sampling interval after perfmon read it, and a scrape can see a sample twice and then
skip one. That can move each end of a 20 s window by one sample: at most 2/20 = 10 % of
the increase. 2 % more covers the load generators below, which pace themselves to a
steady rate but run on a shared machine. The loads (about 4 MB/s over loopback, 2 MB/s of
synced writes) dwarf the background so that the comparison measures perfmon, not noise.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.processes import Running, free_port, http_get, wait_for, wait_until_healthy
from tests.support.programs import program_or_skip

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "perfmon-rules.yml"
WINDOW = 20  # seconds: the rate() window, and the number of samples averaged on perfmon's side
TOLERANCE = 0.12
CHUNK = 64 * 1024


@contextmanager
def steady(period: float, step: Any) -> Iterator[None]:
    """Call ``step()`` every ``period`` seconds on a schedule (not after each call) until the block ends."""
    stop = threading.Event()

    def run() -> None:
        due = time.monotonic()
        while not stop.is_set():
            step()
            due += period
            stop.wait(max(0.0, due - time.monotonic()))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


@contextmanager
def loopback_traffic() -> Iterator[None]:
    """About 4 MB/s from one loopback socket to another, drained as it arrives."""
    listener = socket.create_server(("127.0.0.1", 0))
    sender = socket.create_connection(listener.getsockname())
    receiver, _ = listener.accept()
    drain = threading.Thread(target=lambda: all(iter(lambda: receiver.recv(1 << 20), b"")), daemon=True)
    drain.start()
    payload = b"x" * CHUNK
    try:
        with steady(1 / 64, lambda: sender.sendall(payload)):
            yield
    finally:
        sender.close()
        drain.join(5)
        receiver.close()
        listener.close()


@contextmanager
def disk_writes(directory: Path) -> Iterator[None]:
    """About 2 MB/s written to disk: the same 64 KiB rewritten and synced 32 times a second."""
    fd = os.open(directory / "load", os.O_CREAT | os.O_WRONLY)
    payload = os.urandom(CHUNK)

    def write() -> None:
        os.pwrite(fd, payload, 0)
        os.fdatasync(fd)

    try:
        with steady(1 / 32, write):
            yield
    finally:
        os.close(fd)


def prometheus_config(directory: Path, api_port: int, token: str) -> Path:
    """A config scraping one perfmon every second with the token from a file, as deploy/ shows."""
    (directory / "token").write_text(token)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{
            "job_name": "perfmon", "scrape_interval": "1s", "scrape_timeout": "900ms",
            "authorization": {"type": "Bearer", "credentials_file": str(directory / "token")},
            "static_configs": [{"targets": [f"127.0.0.1:{api_port}"]}],
        }],
    }
    path = directory / "prometheus.yml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


class PrometheusApi:
    """Instant queries against Prometheus' HTTP API."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def query(self, promql: str, at: float | None = None) -> list[dict[str, Any]]:
        params = {"query": promql, **({"time": f"{at:.3f}"} if at is not None else {})}
        status, _, body = http_get(f"{self.base}/api/v1/query?{urllib.parse.urlencode(params)}")
        answer = json.loads(body)
        assert status == 200 and answer["status"] == "success", answer
        return list(answer["data"]["result"])

    def scalar(self, promql: str, at: float) -> float:
        result = self.query(promql, at)
        assert len(result) == 1, (promql, result)
        return float(result[0]["value"][1])

    def ready(self) -> bool:
        try:
            return http_get(f"{self.base}/-/ready", timeout=2)[0] == 200
        except OSError:
            return False


def next_samples(api_port: int, token: str, count: int) -> list[dict[str, Any]]:
    """The next ``count`` samples as they are published, each fetched by a long-poll."""
    url = f"http://127.0.0.1:{api_port}/api/performance"
    headers = {"Authorization": f"Bearer {token}"}
    samples: list[dict[str, Any]] = []
    etag = http_get(url, headers)[1]["ETag"]
    while len(samples) < count:
        status, answer_headers, body = http_get(f"{url}?wait=5", {**headers, "If-None-Match": etag}, 10)
        if status == 200:
            etag = answer_headers["ETag"]
            samples.append(json.loads(body))
    return samples


def lo_recv(sample: dict[str, Any]) -> float:
    return float(next(i["recv_bytes_per_s"] for i in sample["network"]["interfaces"] if i["name"] == "lo"))


def test_a_real_prometheus_scrapes_perfmon_and_its_rates_agree(tmp_path: Path) -> None:
    prometheus = program_or_skip("prometheus", "prometheus")
    api_port, prometheus_port = free_port(), free_port()
    token = secrets.token_urlsafe(24)
    env = {**os.environ, "PERFMON_TOKEN": token}
    config = prometheus_config(tmp_path, api_port, token)
    with (Running("performance_api_server.py", "--port", str(api_port), env=env) as api,
          Running(prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                  f"--web.listen-address=127.0.0.1:{prometheus_port}") as server,
          loopback_traffic(), disk_writes(tmp_path)):
        wait_until_healthy(f"http://127.0.0.1:{api_port}/api/health", api.proc)
        promql = PrometheusApi(prometheus_port)
        wait_for(promql.ready, "ready Prometheus", timeout=30)
        wait_for(lambda: [r["value"][1] for r in promql.query('up{job="perfmon"}')] == ["1"],
                 "perfmon target up", timeout=30)
        samples = next_samples(api_port, token, WINDOW + 1)[1:]  # the first may predate the loads
        at = samples[-1]["timestamp"] + 1.0  # by then Prometheus has scraped the last one
        wait_for(lambda: time.time() > at + 0.5, "query time in the past", timeout=5)
        window = f"[{WINDOW}s]"
        expected_lo = sum(map(lo_recv, samples)) / len(samples)
        got_lo = promql.scalar(f'rate(perfmon_network_receive_bytes_total{{interface="lo"}}{window})', at)
        expected_disk = sum(s["disk_io"]["write_bytes_per_s"] for s in samples) / len(samples)
        got_disk = promql.scalar(f"sum(rate(perfmon_disk_written_bytes_total{window}))", at)
        assert expected_lo > 2e6 and expected_disk > 1e6, (expected_lo, expected_disk)  # the loads ran
        assert abs(got_lo - expected_lo) <= TOLERANCE * expected_lo, (got_lo, expected_lo)
        assert abs(got_disk - expected_disk) <= TOLERANCE * expected_disk, (got_disk, expected_disk)
        # The scrapes were all answered with the token, and none went wrong.
        health = promql.query('scrape_samples_scraped{job="perfmon"}')
        assert float(health[0]["value"][1]) > 50
        # deploy/'s rules evaluate on the real series: every recording rule has a value, no alert fires.
        for record in ("instance:perfmon_cpu_utilisation:ratio", "instance:perfmon_memory_available:ratio",
                       "instance:perfmon_disk_written_bytes:rate1m",
                       "instance_mountpoint:perfmon_filesystem_avail:ratio"):
            values = [float(r["value"][1]) for r in promql.query(record, at)]
            assert values and all(v >= 0 for v in values), (record, values)
        assert 0 <= promql.scalar("instance:perfmon_cpu_utilisation:ratio", at) <= 1
        assert promql.query('ALERTS{alertname=~"PerfmonHostDown|PerfmonSamplerStalled"}') == []
        assert server.proc.poll() is None and api.proc.poll() is None
        assert "Traceback" not in api.stderr()
        print(f"rate() against /api/performance over {WINDOW} s: loopback {got_lo / expected_lo:.3f}, "
              f"disks {got_disk / expected_disk:.3f}")
