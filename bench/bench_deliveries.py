#!/usr/bin/env python3
"""Alert deliveries from a real API process to a real webhook receiver: how soon, and after kill -9.

Rules over ``sample.seq`` fire one after another as the samples come (``Seq<k>: sample.seq
above: <2k>``), so every few samples a rule's condition is completed by a sample, with nothing
faked. The receiver (stdlib HTTP server on loopback) notes when each notification arrives.

1. Latency: from the sample that completes a rule (its timestamp, the transition's ``at``) to
   the notification at the receiver, for ``--rules`` firings (a notification may tell several,
   grouped over the channel's group_wait); p50 and p99 against the target of at most 2 s (p99).
2. Restarts: the same server killed with SIGKILL ``--restarts`` times at random moments (0.2 to
   2 s after it answers; each restart begins seq afresh, so firing rules resolve and fire again),
   then run until its outbox is empty (seen with the server stopped, together with its history).
   Every transition the server kept (``/api/alerts/history``) must have reached the receiver:
   lost ones are counted, and so are duplicates (allowed only for a kill during a send).

    python bench/bench_deliveries.py [--rules 60] [--restarts 20]
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from common import REPOSITORY, checkout_env, free_port, percentile, wait_answering

INTERVAL = "0.1"
TARGET_P99_SECONDS = 2.0


class Receiver(http.server.BaseHTTPRequestHandler):
    """Keeps (arrival time, body) of each POST."""

    got: ClassVar[list[tuple[float, dict[str, Any]]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.got.append((time.time(), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def rules_file(path: Path, rules: int, port: int) -> None:
    lines = ["builtin_rules: false", "rules:"]
    lines += [f"  - {{name: Seq{k}, select: sample.seq, above: {2 * k + 10}}}" for k in range(rules)]
    lines += ["channels:", f"  hook: {{type: webhook, url: 'http://127.0.0.1:{port}/hook'}}"]
    path.write_text("\n".join(lines) + "\n")


def start(data: Path, rules: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    argv = [sys.executable, "-m", "perfmon", "api", "--port", str(port), "--interval", INTERVAL, "--data-dir",
            str(data), "--journal-dir", "none", "--alerts-file", str(rules), "--log-level", "warning"]
    proc = subprocess.Popen(argv, cwd=REPOSITORY, env=checkout_env(REPOSITORY), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_answering(f"{base}/api/health", proc, timeout=30)
    return proc, base


def settled(proc: subprocess.Popen[bytes], data: Path) -> set[tuple[str, float, str]] | None:
    """The transitions kept, once the outbox is empty, read with the server stopped (SIGSTOP: no new
    transition meanwhile, and none between the two reads); None while the outbox holds some."""
    proc.send_signal(signal.SIGSTOP)
    try:
        with contextlib.closing(sqlite3.connect(data / "alerts.sqlite3")) as conn:
            conn.execute("BEGIN")  # one snapshot of both tables
            if conn.execute("SELECT count(*) FROM alert_outbox").fetchone()[0]:
                return None
            return {(r["id"], r["at"], r["kind"]) for (b,) in conn.execute("SELECT body FROM alert_history")
                    for r in [json.loads(b)]}
    finally:
        proc.send_signal(signal.SIGCONT)


def firings() -> int:
    """The firings the receiver has had, however many notifications told them."""
    return sum(len(body["alerts"]) for _, body in Receiver.got if body["kind"] == "firing")


def latency(workdir: Path, rules: int, port: int) -> tuple[list[float], int]:
    """Seconds from each completing sample to its notification's arrival, and how many notifications."""
    path = workdir / "latency.yml"
    rules_file(path, rules, port)
    proc, _ = start(workdir / "latency", path)
    try:
        deadline = time.monotonic() + 60 + rules
        while firings() < rules and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(10)
    told = [(arrived, body) for arrived, body in Receiver.got if body["kind"] == "firing"]
    return [arrived - a["at"] for arrived, body in told for a in body["alerts"]], len(told)


def restarts(workdir: Path, rules: int, port: int, count: int) -> tuple[int, int, int]:
    """Kept transitions, lost ones, duplicate deliveries."""
    Receiver.got.clear()
    path, data = workdir / "restarts.yml", workdir / "restarts"
    rules_file(path, rules, port)
    rng = random.Random(18)
    for _ in range(count):
        proc, _ = start(data, path)
        time.sleep(rng.uniform(0.2, 2.0))  # a random moment: a benchmark, not a test
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    proc, _ = start(data, path)
    try:
        deadline = time.monotonic() + 120
        while (kept := settled(proc, data)) is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(10)
    if kept is None:
        raise SystemExit("the outbox did not empty in 2 minutes")
    told = [(a["id"], a["at"], a["kind"]) for _, body in Receiver.got for a in body["alerts"]]
    return len(kept), len(kept - set(told)), len(told) - len(set(told))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=60,
                        help="rules that fire in turn (default: %(default)s)")
    parser.add_argument("--restarts", type=int, default=20, help="kill -9 restarts (default: %(default)s)")
    args = parser.parse_args(argv)
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="perfmon-deliveries-") as tmp:
        seconds, notifications = latency(Path(tmp), args.rules, port)
        kept, lost, duplicates = restarts(Path(tmp), args.rules, port, args.restarts)
    server.shutdown()
    print(f"interval {INTERVAL} s, {len(seconds)} firings, {args.restarts} kill -9 restarts\n")
    print("| what | measured | target |\n| --- | ---: | --- |")
    print(f"| notifications that told the firings | {notifications} | |")
    print(f"| sample to receiver, p50 | {statistics.median(seconds) * 1000:.0f} ms | |")
    p99 = percentile(seconds, 0.99)
    print(f"| sample to receiver, p99 | {p99 * 1000:.0f} ms | <= {TARGET_P99_SECONDS:g} s |")
    print(f"| transitions kept across the restarts | {kept} | |")
    print(f"| of them never delivered | {lost} | 0 |")
    print(f"| delivered twice | {duplicates} | only for a kill during a send |")
    return 0 if lost == 0 and p99 <= TARGET_P99_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
