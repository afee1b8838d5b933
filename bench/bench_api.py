#!/usr/bin/env python3
"""Benchmark the perfmon API server against a bare aiohttp baseline, in one run.

The machine this runs on is shared and noisy, so absolute numbers mean little; every
result is paired with a baseline measured in the same run, and the ratios are the point.

1. Throughput and p99 latency of ``GET /api/performance`` with wrk (``-t2 -c50``), the
   perfmon server and a bare aiohttp server (bench/baseline_server.py) that returns the
   very same bytes, run alternately (baseline, perfmon, baseline, perfmon, ...). A third
   server, the same build started with ``PERFMON_TOKEN``, takes its turn in every round with
   wrk sending ``Authorization: Bearer <token>``: the ratio with and without a token is the
   cost of authentication (the two perfmon servers swap places each round).
2. The same load with ``If-None-Match`` set to the current ETag (``wrk -H``). The ETag
   changes every second, so most of that run's responses are 200s; a second run with a
   small wrk Lua script that follows the ETag measures the 304 path itself.
3. Idle cost: fresh servers side by side, no clients, CPU time over ``--idle-seconds`` as
   percent of one core, and RSS at the end: perfmon as by default (``--interval 1``, history
   in SQLite), perfmon with ``--data-dir none`` (the store's cost is the difference), and
   the baseline.

All traffic goes to 127.0.0.1 on free ports; every server started is stopped on exit.

    python bench/bench_api.py [--duration 10] [--connections 50] [--idle-seconds 60]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from common import free_port, http_get, wait_answering  # bench/common.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
PERFMON_SCRIPT = ROOT / "performance_api_server.py"
BASELINE_SCRIPT = ROOT / "bench" / "baseline_server.py"
HOST = "127.0.0.1"
PATH = "/api/performance"
WRK_THREADS = 2
WARMUP_SECONDS = 5.0
MEMORY_ONLY = "perfmon-memory"
WITH_TOKEN = "perfmon-token"
READY_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 10.0
TIME_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
BYTE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}  # wrk is binary

FOLLOW_ETAG_LUA = """
local etag = nil
local threads = {}
n304, nother = 0, 0
function setup(thread) table.insert(threads, thread) end
function request()
  if etag then return wrk.format(nil, nil, {["If-None-Match"] = etag}) end
  return wrk.format()
end
function response(status, headers, body)
  if status == 304 then n304 = n304 + 1 else nother = nother + 1 end
  for name, value in pairs(headers) do
    if string.lower(name) == "etag" then etag = value end
  end
end
function done(summary, latency, requests)
  local a, b = 0, 0
  for _, t in ipairs(threads) do a = a + t:get("n304"); b = b + t:get("nother") end
  io.write(string.format("STATUS 304=%d other=%d\\n", a, b))
end
"""


# --- servers ----------------------------------------------------------------------------

@dataclass
class Server:
    """A server process started by this benchmark."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    stop_seconds: float | None = None
    exit_code: int | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, limit: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-limit:]


def spawn(name: str, argv: list[str], workdir: Path, port: int,
          env: dict[str, str] | None = None) -> Server:
    """Start a server process with its stdout and stderr in a log file in ``workdir``."""
    log = workdir / f"{name}-{port}.log"
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=env)
    return Server(name, proc, port, log)


def start_perfmon(workdir: Path, name: str = "perfmon", store: bool = True,
                  token: str | None = None) -> Server:
    """Start performance_api_server.py on a free port, sampling every second.

    With ``store`` it keeps history in SQLite as by default (a fresh database in ``workdir``);
    without, in memory only (``--data-dir none``). With ``token``, it requires it (PERFMON_TOKEN).
    """
    port = free_port()
    data_dir = str(workdir / f"data-{name}") if store else "none"
    argv = [sys.executable, str(PERFMON_SCRIPT), "--host", HOST, "--port", str(port),
            "--interval", "1.0", "--log-level", "warning", "--data-dir", data_dir]
    env = {key: value for key, value in os.environ.items() if key != "PERFMON_TOKEN"}
    if token is not None:
        env["PERFMON_TOKEN"] = token
    return spawn(name, argv, workdir, port, env)


def start_baseline(workdir: Path, body_file: Path, name: str = "baseline") -> Server:
    """Start bench/baseline_server.py on a free port, serving the bytes in ``body_file``."""
    port = free_port()
    argv = [sys.executable, str(BASELINE_SCRIPT), "--host", HOST, "--port", str(port),
            "--body", str(body_file), "--path", PATH]
    return spawn(name, argv, workdir, port)


def wait_ready(server: Server, path: str) -> None:
    """Return once ``path`` answers 200; fail with the server's log if it never does."""
    try:
        wait_answering(server.url + path, server.proc, READY_TIMEOUT_SECONDS)
    except RuntimeError as exc:
        raise RuntimeError(f"{server.name}: {exc}; its output:\n{server.log_tail()}") from None


def stop(server: Server) -> None:
    """SIGTERM, wait, SIGKILL if needed; record how long it took and the exit code."""
    if server.proc.poll() is None:
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
        server.stop_seconds = time.monotonic() - started
    server.exit_code = server.proc.returncode


@contextmanager
def running(*servers: Server) -> Iterator[tuple[Server, ...]]:
    """Stop every server on the way out, whatever happened."""
    try:
        yield servers
    finally:
        for server in servers:
            stop(server)
        for server in servers:
            how = ("had already exited" if server.stop_seconds is None
                   else f"stopped by SIGTERM in {server.stop_seconds:.2f} s")
            print(f"  {server.name}: {how}, exit code {server.exit_code}", flush=True)
            if server.exit_code != 0:
                print(f"  NOTE {server.name} exit code {server.exit_code}; its output:\n{server.log_tail()}")


# --- wrk --------------------------------------------------------------------------------

@dataclass
class WrkResult:
    """What one wrk run reported."""

    requests_per_second: float
    p99_ms: float
    transfer_bytes_per_second: float
    non_2xx_3xx: int
    socket_errors: dict[str, int]
    statuses: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    server_cpu_us_per_request: float | None = None  # the server's CPU time over the run, per request

    @property
    def bytes_per_response(self) -> float:
        return self.transfer_bytes_per_second / self.requests_per_second

    def problems(self) -> str:
        errors = {k: v for k, v in self.socket_errors.items() if v}
        parts = [f"{self.non_2xx_3xx} non-2xx/3xx"] if self.non_2xx_3xx else []
        parts += [f"socket errors {errors}"] if errors else []
        return "; ".join(parts)


def wrk_command(url: str, duration: int, connections: int, extra: Sequence[str] = ()) -> list[str]:
    """The wrk command line."""
    return ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{duration}s", "--latency", *extra, url]


def parse_wrk(text: str) -> WrkResult:
    """Parse wrk's report: Requests/sec, the 99% latency line, Transfer/sec and errors."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
    transfer = re.search(r"^Transfer/sec:\s+([\d.]+)([KMGT]?B)\s*$", text, re.M)
    if not (rps and p99 and transfer):
        raise RuntimeError(f"cannot parse wrk output:\n{text}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    status = re.search(r"^STATUS 304=(\d+) other=(\d+)", text, re.M)
    return WrkResult(
        requests_per_second=float(rps.group(1)),
        p99_ms=float(p99.group(1)) * TIME_UNITS_MS[p99.group(2)],
        transfer_bytes_per_second=float(transfer.group(1)) * BYTE_UNITS[transfer.group(2)],
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=dict(zip(("connect", "read", "write", "timeout"),
                               map(int, sock.groups()) if sock else (0, 0, 0, 0), strict=True)),
        statuses={"304": int(status.group(1)), "other": int(status.group(2))} if status else {},
        requests=int(count.group(1)) if (count := re.search(r"^\s*(\d+) requests in", text, re.M)) else 0,
    )


def run_wrk(label: str, command: list[str], duration: int, server: Server | None = None) -> WrkResult:
    """Run wrk once and print a one-line summary; with ``server``, also its CPU time per request.

    CPU time per request is steadier than throughput on a shared machine: a neighbour's burst
    slows the requests, but hardly changes the CPU each one takes.
    """
    if shutil.which(command[0]) is None:  # one line, not a traceback from deep in subprocess
        raise SystemExit(f"{command[0]} is not installed: apt-get install wrk")
    process = psutil.Process(server.proc.pid) if server is not None else None
    cpu_before = cpu_seconds(process) if process is not None else 0.0
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = parse_wrk(done.stdout)
    cpu = ""
    if process is not None and result.requests:
        result.server_cpu_us_per_request = 1e6 * (cpu_seconds(process) - cpu_before) / result.requests
        cpu = f"  {result.server_cpu_us_per_request:6.1f} us CPU/req"
    note = f"  !! {result.problems()}" if result.problems() else ""
    print(f"  {label:<22} {result.requests_per_second:>10.0f} req/s  p99 {result.p99_ms:7.2f} ms  "
          f"{result.bytes_per_response:6.0f} B/resp{cpu}{note}", flush=True)
    return result


# --- phases -----------------------------------------------------------------------------

@dataclass
class LoadResults:
    """Results of the load phases (1 and 2)."""

    baseline: list[WrkResult]
    perfmon: list[WrkResult]
    token: list[WrkResult]  # the same build, requiring a token; wrk sends it
    if_none_match: WrkResult
    follow_etag: WrkResult
    body_bytes: int
    rss_after_load_mb: dict[str, float]
    commands: dict[str, str]


def snapshot_body(perfmon: Server, workdir: Path) -> Path:
    """Fetch one /api/performance body from perfmon and keep it in a file for the baseline."""
    status, _, body = http_get(perfmon.url + PATH)
    if status != 200:
        raise RuntimeError(f"perfmon answered {status} on {PATH}: {body[:500]!r}")
    path = workdir / "performance.json"
    path.write_bytes(body)
    return path


def auth_args(server: Server, token: str) -> list[str]:
    """wrk's -H sending the token, for the server that requires it."""
    return ["-H", f"Authorization: Bearer {token}"] if server.name == WITH_TOKEN else []


def check_token(server: Server, token: str) -> None:
    """The token server refuses a request without the token and answers one with it."""
    without = http_get(server.url + PATH)[0]
    with_token = http_get(server.url + PATH, {"Authorization": f"Bearer {token}"})[0]
    print(f"  check: {WITH_TOKEN} without a token -> HTTP {without} (expected 401), "
          f"with it -> HTTP {with_token} (expected 200)")
    if (without, with_token) != (401, 200):
        raise RuntimeError(f"{WITH_TOKEN} answered {without} without a token and {with_token} with it")


def alternate(base: Server, perf: Server, authed: Server, token: str,
              args: argparse.Namespace) -> tuple[list[WrkResult], ...]:
    """Warm the servers up for a second, then run wrk on them in turn, baseline first in each round.

    The two perfmon servers swap places every round, so neither always follows the baseline.
    """
    for server in (base, perf, authed):
        subprocess.run(wrk_command(server.url + PATH, 1, args.connections, auth_args(server, token)),
                       capture_output=True, timeout=60, check=False)
    results: dict[str, list[WrkResult]] = {"baseline": [], "perfmon": [], WITH_TOKEN: []}
    for number in range(1, args.rounds + 1):
        for server in (base, perf, authed) if number % 2 else (base, authed, perf):
            command = wrk_command(server.url + PATH, args.duration, args.connections,
                                  auth_args(server, token))
            results[server.name].append(run_wrk(f"round {number} {server.name}", command, args.duration,
                                                server))
    return results["baseline"], results["perfmon"], results[WITH_TOKEN]


def conditional_runs(perf: Server, args: argparse.Namespace, workdir: Path) -> tuple[WrkResult, ...]:
    """The If-None-Match run with a fixed ETag (wrk -H), then one that follows the ETag."""
    _, headers, _ = http_get(perf.url + PATH)
    etag = headers.get("ETag")  # case-insensitive
    if not etag:
        raise RuntimeError(f"perfmon sent no ETag on {PATH}; headers: {headers}")
    status, _, _ = http_get(perf.url + PATH, {"If-None-Match": etag})
    print(f"  check: If-None-Match {etag} -> HTTP {status} (expected 304)")
    fixed = wrk_command(perf.url + PATH, args.duration, args.connections, ["-H", f"If-None-Match: {etag}"])
    fixed_result = run_wrk("304 fixed ETag (-H)", fixed, args.duration)
    script = workdir / "follow_etag.lua"
    script.write_text(FOLLOW_ETAG_LUA)
    follow = wrk_command(perf.url + PATH, args.duration, args.connections, ["-s", str(script)])
    follow_result = run_wrk("304 ETag followed", follow, args.duration)
    print(f"  follow-ETag statuses: {follow_result.statuses}")
    return fixed_result, follow_result


def load_phase(args: argparse.Namespace, workdir: Path) -> LoadResults:
    """Phases 1 and 2: the servers up, alternate wrk runs, then the conditional runs."""
    token = secrets.token_hex(32)
    with running(start_perfmon(workdir), start_perfmon(workdir, WITH_TOKEN, token=token)) as (perf, authed):
        wait_ready(perf, "/api/health")
        wait_ready(authed, "/api/health")  # its status alone answers without the token
        check_token(authed, token)
        body_file = snapshot_body(perf, workdir)
        with running(start_baseline(workdir, body_file)) as (base,):
            wait_ready(base, PATH)
            print(f"perfmon {perf.url}, {WITH_TOKEN} {authed.url}, baseline {base.url}, "
                  f"body {body_file.stat().st_size} bytes")
            baseline, perfmon, with_token = alternate(base, perf, authed, token, args)
            fixed, follow = conditional_runs(perf, args, workdir)
            rss = {s.name: psutil.Process(s.proc.pid).memory_info().rss / 2**20 for s in (base, perf)}
    commands = {
        "GET": shlex.join(wrk_command("URL", args.duration, args.connections)),
        "GET with token": shlex.join(wrk_command("URL", args.duration, args.connections,
                                                 ["-H", "Authorization: Bearer TOKEN"])),
        "304 fixed": shlex.join(wrk_command("URL", args.duration, args.connections,
                                            ["-H", "If-None-Match: ETAG"])),
        "304 follow": shlex.join(wrk_command("URL", args.duration, args.connections,
                                             ["-s", "follow_etag.lua"])),
    }
    return LoadResults(baseline, perfmon, with_token, fixed, follow, body_file.stat().st_size, rss, commands)


@dataclass
class IdleResult:
    """One server's idle cost."""

    cpu_percent_of_core: float
    rss_mb: float


def cpu_seconds(process: psutil.Process) -> float:
    """User plus system CPU time of the process itself (children excluded)."""
    times = process.cpu_times()
    return times.user + times.system


def idle_phase(args: argparse.Namespace, workdir: Path, body_file: Path) -> dict[str, IdleResult]:
    """Phase 3: fresh servers side by side, no clients, CPU time over --idle-seconds.

    Three of them: perfmon as by default (history in SQLite), perfmon with ``--data-dir none``,
    and the bare baseline, so the store's own cost is the difference of the first two.
    """
    servers = (start_perfmon(workdir), start_perfmon(workdir, MEMORY_ONLY, store=False),
               start_baseline(workdir, body_file))
    with running(*servers) as (perf, memory, base):
        for server in (perf, memory):
            wait_ready(server, "/api/health")
        wait_ready(base, PATH)
        time.sleep(WARMUP_SECONDS)
        processes = {s.name: psutil.Process(s.proc.pid) for s in (perf, memory, base)}
        before = {name: cpu_seconds(p) for name, p in processes.items()}
        started = time.monotonic()
        print(f"idle: measuring {args.idle_seconds:g} s with no clients ...", flush=True)
        time.sleep(args.idle_seconds)
        elapsed = time.monotonic() - started
        results = {
            name: IdleResult(100 * (cpu_seconds(p) - before[name]) / elapsed, p.memory_info().rss / 2**20)
            for name, p in processes.items()
        }
    for name, result in results.items():
        print(f"  {name:<14} idle CPU {result.cpu_percent_of_core:5.2f} % of one core, "
              f"RSS {result.rss_mb:5.1f} MB")
    return results


# --- report -----------------------------------------------------------------------------

def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(load: LoadResults, idle: dict[str, IdleResult], rounds: int) -> str:
    """The results as a markdown table."""
    base_rps = median([r.requests_per_second for r in load.baseline])
    perf_rps = median([r.requests_per_second for r in load.perfmon])
    base_p99 = median([r.p99_ms for r in load.baseline])
    perf_p99 = median([r.p99_ms for r in load.perfmon])
    token_rps = median([r.requests_per_second for r in load.token])
    token_p99 = median([r.p99_ms for r in load.token])
    fixed, follow = load.if_none_match, load.follow_etag
    rows = [
        ("Metric", "bare aiohttp", "perfmon", "perfmon / bare"),
        ("---", "---:", "---:", "---:"),
        (f"GET {PATH}, req/s (median of {rounds})", f"{base_rps:.0f}", f"{perf_rps:.0f}",
         f"**{perf_rps / base_rps:.2f}**"),
        (f"GET {PATH}, p99 latency ms (median of {rounds})", f"{base_p99:.2f}", f"{perf_p99:.2f}",
         f"{perf_p99 / base_p99:.2f}"),
        ("GET, bytes per response (Transfer/sec / Requests/sec)",
         f"{median([r.bytes_per_response for r in load.baseline]):.0f}",
         f"{median([r.bytes_per_response for r in load.perfmon]):.0f}", ""),
        (f"GET, server CPU per request, us (median of {rounds})", f"{cpu_us(load.baseline):.1f}",
         f"{cpu_us(load.perfmon):.1f}", f"{cpu_us(load.perfmon) / cpu_us(load.baseline):.2f}"),
        ("If-None-Match stale ETag (wrk -H), req/s", "", f"{fixed.requests_per_second:.0f}",
         f"{fixed.requests_per_second / base_rps:.2f}"),
        ("If-None-Match stale ETag, p99 ms / bytes per response", "",
         f"{fixed.p99_ms:.2f} / {fixed.bytes_per_response:.0f}", ""),
        ("If-None-Match following the ETag (Lua), req/s", "", f"{follow.requests_per_second:.0f}",
         f"{follow.requests_per_second / base_rps:.2f}"),
        ("If-None-Match following the ETag, p99 ms / bytes per response", "",
         f"{follow.p99_ms:.2f} / {follow.bytes_per_response:.0f}", ""),
        ("RSS after the load runs, MB", f"{load.rss_after_load_mb['baseline']:.1f}",
         f"{load.rss_after_load_mb['perfmon']:.1f}", ""),
        ("Idle CPU, % of one core (--interval 1)", f"{idle['baseline'].cpu_percent_of_core:.2f}",
         f"{idle['perfmon'].cpu_percent_of_core:.2f}", ""),
        ("Idle RSS at the end, MB", f"{idle['baseline'].rss_mb:.1f}", f"{idle['perfmon'].rss_mb:.1f}", ""),
        ("Idle CPU with --data-dir none (history in memory), % of one core", "",
         f"{idle[MEMORY_ONLY].cpu_percent_of_core:.2f}", ""),
        ("The SQLite store's own idle CPU (the difference), % of one core", "",
         f"{idle['perfmon'].cpu_percent_of_core - idle[MEMORY_ONLY].cpu_percent_of_core:+.2f}", ""),
    ]
    token_cells = {  # the row's metric: (perfmon + token, token / no token)
        rows[0][0]: ("perfmon + token", "token / no token"),
        rows[1][0]: ("---:", "---:"),
        rows[2][0]: (f"{token_rps:.0f}", f"**{token_rps / perf_rps:.2f}**"),
        rows[3][0]: (f"{token_p99:.2f}", f"{token_p99 / perf_p99:.2f}"),
        rows[4][0]: (f"{median([r.bytes_per_response for r in load.token]):.0f}", ""),
        rows[5][0]: (f"{cpu_us(load.token):.1f}", f"{cpu_us(load.token) / cpu_us(load.perfmon):.2f}"),
    }
    wide = [(m, bare, perf, token_cells.get(m, ("", ""))[0], ratio, token_cells.get(m, ("", ""))[1])
            for m, bare, perf, ratio in rows]
    return "\n".join("| " + " | ".join(row) + " |" for row in wide)


def cpu_us(runs: Sequence[WrkResult]) -> float:
    """The median server CPU time per request of ``runs``, in microseconds."""
    return median([r.server_cpu_us_per_request or 0.0 for r in runs])


def share_304(load: LoadResults) -> float | None:
    """Estimated share of 304s in the fixed-ETag run, from its mean bytes per response."""
    full = median([r.bytes_per_response for r in load.perfmon])
    small = load.follow_etag.bytes_per_response
    if full <= small:
        return None
    return min(1.0, max(0.0, (full - load.if_none_match.bytes_per_response) / (full - small)))


def report(args: argparse.Namespace, load: LoadResults, idle: dict[str, IdleResult]) -> None:
    """Print the table, the checks and the exact commands."""
    pairs = zip(load.baseline, load.perfmon, strict=True)
    ratios = [perf.requests_per_second / base.requests_per_second for base, perf in pairs]
    token_ratios = [authed.requests_per_second / perf.requests_per_second
                    for perf, authed in zip(load.perfmon, load.token, strict=True)]
    problems = [f"{name} round {i}: {r.problems()}" for name, runs in
                (("baseline", load.baseline), ("perfmon", load.perfmon), (WITH_TOKEN, load.token))
                for i, r in enumerate(runs, 1) if r.problems()]
    problems += [f"{n}: {r.problems()}" for n, r in (("304 fixed", load.if_none_match),
                                                       ("304 follow", load.follow_etag)) if r.problems()]
    share = share_304(load)
    print("\n" + table(load, idle, args.rounds) + "\n")
    print(f"per-round req/s ratios perfmon/bare: {', '.join(f'{r:.2f}' for r in ratios)}")
    token_cost = 1 - median([r.requests_per_second for r in load.token]) / median(
        [r.requests_per_second for r in load.perfmon])
    print(f"per-round req/s ratios with a token / without: {', '.join(f'{r:.2f}' for r in token_ratios)} "
          f"(authentication costs {100 * token_cost:+.1f} % of throughput, medians; target: at most 5 %)")
    cpu_ratios = [(authed.server_cpu_us_per_request or 0.0) / (perf.server_cpu_us_per_request or 1.0)
                  for perf, authed in zip(load.perfmon, load.token, strict=True)]
    print(f"per-round server CPU per request with a token / without: "
          f"{', '.join(f'{r:.2f}' for r in cpu_ratios)} (median {median(cpu_ratios):.3f})")
    print(f"body served by both: {load.body_bytes} bytes")
    if share is not None:
        print(f"fixed-ETag run: about {100 * share:.0f} % of responses were 304 (from bytes per response)")
    print("wrk errors: " + ("; ".join(problems) if problems else "none (no non-2xx/3xx, no socket errors)"))
    print(f"machine: {psutil.cpu_count()} logical CPUs, Python {platform.python_version()}, "
          f"aiohttp {aiohttp_version()}, {platform.platform()}")
    print("command: " + shlex.join([
        "python", "bench/bench_api.py", "--duration", str(args.duration), "--connections",
        str(args.connections), "--idle-seconds", f"{args.idle_seconds:g}", "--rounds", str(args.rounds),
    ]))
    for name, command in load.commands.items():
        print(f"wrk ({name}): {command}")


def aiohttp_version() -> str:
    import aiohttp

    return aiohttp.__version__


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default: %(default)s)")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (default: %(default)s)")
    parser.add_argument("--idle-seconds", type=float, default=60.0,
                        help="idle CPU measurement window (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of wrk runs (baseline, perfmon, perfmon with a token), at least 2 "
                             "(default: %(default)s)")
    args = parser.parse_args(argv)
    if args.rounds < 2 or args.duration < 1 or args.connections < WRK_THREADS or args.idle_seconds <= 0:
        parser.error("need --rounds >= 2, --duration >= 1, --connections >= 2 and --idle-seconds > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run every phase and print the report."""
    args = parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="perfmon-bench-") as tmp:
        workdir = Path(tmp)
        try:
            load = load_phase(args, workdir)
            idle = idle_phase(args, workdir, workdir / "performance.json")
        except RuntimeError as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
    report(args, load, idle)
    print(f"total time: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
