#!/usr/bin/env python3
"""What hostile connections do to the perfmon launcher: idle floods and slowloris, on either port.

One run on one machine, everything on 127.0.0.1. The launcher (``run_http_polling_system.py``
of the checkout ``--root`` names: the API and the dashboard in one process, sampling every
1 s) runs with a soft RLIMIT_NOFILE of 1,024, the common default (the hard limit is left as
it is), so the figures are what a user with the default limit gets. This process raises its
own soft limit to the hard one: it holds the attack's connections.

Phases: a baseline with no attack; ``--idle`` connections that send nothing, held open to
the API's port, then to the dashboard's; ``--slowloris`` connections that send a request
line and then headers one byte a second, never finishing, to either port. An attack is
opened 500 connects at a time (one that fails within 3 s counts as refused), given 1 s to settle, and then,
for ``--seconds``, fresh-connection probes (one GET per connection, ``Connection: close``,
5 s timeout) measure ``GET /api/health`` on the API every 50 ms and ``GET /`` and
``GET /_dash-layout`` on the dashboard every 100 ms. Per phase: the attack connections
established and those the server itself accepted (its own sockets, read with psutil), the
probes' latency p50 / p99 / max and failures (error, timeout or not 200), how many attack
connections are still open at the end and how many the server closed, whether the launcher
still runs, and, once the attack is closed, how long until both servers answer again. A
launcher that died is restarted for the next phase. At the end the launcher gets SIGTERM:
its exit code and time to exit.

Targets (issue 9): under every attack the launcher keeps running, the dashboard answers in
under 1 s and the API in under 50 ms; SIGTERM stops it with exit code 0 within 5 s.

Issue 16 adds two things to watch. With ``--seconds`` longer than the servers' header timeout
(10 s by default), "closed by server" shows idle and slowloris connections being closed. And
``--flood N`` adds two phases of N idle connections (to the API, then to the dashboard) against a
launcher whose soft and hard open-files limits are ``--nofile`` (so that it cannot raise its soft
limit past the flood): before issue 16 such a flood left both servers unable to accept.

    python bench/bench_hostile.py [--idle 2000] [--slowloris 200] [--seconds 5] [--flood 0]
                                  [--nofile 4096] [--root PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from common import (  # bench/common.py, beside this script
    add_root_option,
    check_checkout,
    checkout_env,
    free_port,
    load_average,
    memory_only_args,
    notable_log_lines,
    percentile,
    wait_answering,
)

HOST = "127.0.0.1"
LAUNCHER = "run_http_polling_system.py"
LAUNCHER_NOFILE = 1024  # the soft limit most users have
CONNECT_SECONDS = 3.0
OPEN_BATCH = 500
SETTLE_SECONDS = 1.0
PROBE_TIMEOUT_SECONDS = 5.0
API_PROBE_EVERY, DASHBOARD_PROBE_EVERY = 0.05, 0.1
RECOVER_SECONDS = 15.0
STOP_BUDGET_SECONDS = 15.0
MAX_NOTES = 4
SLOW_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
SLOW_HEADER = b"X-Slow: " + b"a" * 24 + b"\r\n"  # dripped one byte a second, over and over


HARD_NOFILE: list[int] = []  # --nofile: the launcher's hard limit too (main sets it), else its own


def launcher_limits() -> None:
    """In the launcher's process, before exec: the default soft limit on open files (and --nofile's)."""
    if HARD_NOFILE:
        resource.setrlimit(resource.RLIMIT_NOFILE, (HARD_NOFILE[0], HARD_NOFILE[0]))
        return
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft = LAUNCHER_NOFILE if hard == resource.RLIM_INFINITY else min(LAUNCHER_NOFILE, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def raise_own_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; returns it."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


@dataclass
class Launcher:
    """A launcher subprocess, its two ports and its log."""

    proc: subprocess.Popen[bytes]
    api_port: int
    dashboard_port: int
    log_path: Path
    log_read: int = 0  # bytes of the log already looked at

    @classmethod
    def start(cls, root: Path, workdir: Path) -> Launcher:
        """Start it on free ports and wait until both servers answer."""
        api_port = dashboard_port = free_port()
        while dashboard_port == api_port:
            dashboard_port = free_port()
        log_path = workdir / f"launcher-{api_port}.log"
        command = [sys.executable, LAUNCHER, "--api-port", str(api_port), "--dashboard-port",
                   str(dashboard_port), "--interval", "1", "--log-level", "warning",
                   *memory_only_args(root, LAUNCHER)]
        with log_path.open("wb") as log:
            proc = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                                    env=checkout_env(root, PERFMON_DATA_DIR=str(workdir / "data")),
                                    preexec_fn=launcher_limits)
        launcher = cls(proc, api_port, dashboard_port, log_path)
        try:
            wait_answering(f"http://{HOST}:{api_port}/api/health", proc, timeout=30)
            wait_answering(f"http://{HOST}:{dashboard_port}/", proc, timeout=30)
        except RuntimeError as exc:
            launcher.stop()
            said = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"{exc}; its last words: {' / '.join(said) or 'none'}") from None
        return launcher

    def alive(self) -> str:
        """"yes", or "no (exit N)"."""
        code = self.proc.poll()
        return "yes" if code is None else f"no (exit {code})"

    def server_sockets(self, port: int, peers: set[int]) -> int:
        """How many connections from ``peers`` (local ports of ours) the launcher has accepted on ``port``."""
        try:
            connections = psutil.Process(self.proc.pid).net_connections("tcp")
        except psutil.Error:  # gone
            return 0
        return sum(1 for c in connections if c.laddr and c.laddr.port == port and c.raddr
                   and c.raddr.port in peers)

    def logged(self) -> list[str]:
        """Warning and error lines logged since the last call, untimed, each once with its count."""
        lines, self.log_read = notable_log_lines(self.log_path, self.log_read)
        return lines

    def stop(self) -> tuple[str, float]:
        """SIGTERM, then wait: (exit code or "killed", seconds to exit)."""
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = str(self.proc.wait(STOP_BUDGET_SECONDS))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = f"killed after {STOP_BUDGET_SECONDS:g} s"
        return code, time.monotonic() - started


@dataclass
class Attack:
    """``count`` connections held open to ``port``: idle, or slowloris when ``slow``."""

    port: int
    count: int
    slow: bool
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    local_ports: set[int] = field(default_factory=set)
    closed_by_server: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def open(self) -> None:
        """Connect OPEN_BATCH at a time; those that fail within CONNECT_SECONDS are refused."""
        for start in range(0, self.count, OPEN_BATCH):  # 6,000 at once time out in this process
            await asyncio.gather(*(self._connect() for _ in range(min(OPEN_BATCH, self.count - start))))
        if self.slow:
            self.tasks.append(asyncio.create_task(self._drip()))

    async def _connect(self) -> None:
        try:
            async with asyncio.timeout(CONNECT_SECONDS):
                reader, writer = await asyncio.open_connection(HOST, self.port)
        except (OSError, TimeoutError):
            return
        self.writers.append(writer)
        self.local_ports.add(writer.get_extra_info("sockname")[1])
        if self.slow:
            writer.write(SLOW_REQUEST)
        self.tasks.append(asyncio.create_task(self._watch(reader)))

    async def _watch(self, reader: asyncio.StreamReader) -> None:
        """Count the connection as closed by the server once it ends (whatever it says is dropped)."""
        with contextlib.suppress(OSError):
            while await reader.read(65536):
                pass
        self.closed_by_server += 1

    async def _drip(self) -> None:
        """Every second, one more byte of headers on every connection still open."""
        for index in itertools.count():
            await asyncio.sleep(1)
            byte = SLOW_HEADER[index % len(SLOW_HEADER):][:1]
            for writer in self.writers:
                if not writer.is_closing():
                    writer.write(byte)

    @property
    def established(self) -> int:
        """Connects that succeeded."""
        return len(self.writers)

    @property
    def still_open(self) -> int:
        """Established connections the server has not closed."""
        return len(self.writers) - self.closed_by_server

    async def close(self) -> None:
        """Drop every connection at once."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for writer in self.writers:
            writer.transport.abort()


async def probe(port: int, path: str) -> float | None:
    """Seconds for one GET on a fresh connection; None if it failed, timed out or was not 200."""
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()
    started = time.perf_counter()
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            reader, writer = await asyncio.open_connection(HOST, port)
            try:
                writer.write(request)
                status_line = await reader.readline()
                await reader.read()  # to the end: the server closes after the response
            finally:
                writer.transport.abort()
    except (OSError, TimeoutError):
        return None
    return time.perf_counter() - started if status_line.split()[1:2] == [b"200"] else None


async def probe_for(port: int, paths: Sequence[str], every: float, seconds: float) -> list[float | None]:
    """Start a probe every ``every`` seconds for ``seconds`` (each its own task); all their results."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    tasks: list[asyncio.Task[float | None]] = []
    while loop.time() < end:
        tasks.append(asyncio.create_task(probe(port, paths[len(tasks) % len(paths)])))
        await asyncio.sleep(every)
    return list(await asyncio.gather(*tasks))


def latency_cells(results: list[float | None]) -> str:
    """"p50 / p99 / max ms | failed/probes"."""
    ok = [seconds * 1000 for seconds in results if seconds is not None]
    failed = f"{len(results) - len(ok)}/{len(results)}"
    if not ok:
        return f"- | {failed}"
    return f"{percentile(ok, 0.5):.1f} / {percentile(ok, 0.99):.1f} / {max(ok):.1f} | {failed}"


async def recovery_seconds(launcher: Launcher) -> str:
    """Seconds until the API and the dashboard both answer again, or "no" after RECOVER_SECONDS."""
    started = time.monotonic()
    while time.monotonic() - started < RECOVER_SECONDS and launcher.proc.poll() is None:
        api, dashboard = await asyncio.gather(probe(launcher.api_port, "/api/health"),
                                              probe(launcher.dashboard_port, "/"))
        if api is not None and dashboard is not None:
            return f"{time.monotonic() - started:.1f}"
        await asyncio.sleep(0.2)
    return "no"


@dataclass(frozen=True)
class Phase:
    """One row of the table: no attack (``count`` 0), or one kind of attack on one port."""

    name: str
    target: str = ""  # "api" or "dashboard"
    count: int = 0
    slow: bool = False


async def run_phase(launcher: Launcher, phase: Phase, seconds: float) -> str:
    """Attack, probe both servers, stop the attack, wait for recovery; the phase's table row."""
    port = launcher.api_port if phase.target == "api" else launcher.dashboard_port
    attack = Attack(port, phase.count, phase.slow)
    await attack.open()
    await asyncio.sleep(SETTLE_SECONDS)
    accepted = launcher.server_sockets(port, attack.local_ports)
    api, dashboard = await asyncio.gather(
        probe_for(launcher.api_port, ["/api/health"], API_PROBE_EVERY, seconds),
        probe_for(launcher.dashboard_port, ["/", "/_dash-layout"], DASHBOARD_PROBE_EVERY, seconds))
    still_open, closed, alive = attack.still_open, attack.closed_by_server, launcher.alive()
    await attack.close()
    recovered = await recovery_seconds(launcher)
    connected = f"{attack.established}/{phase.count} | {accepted}" if phase.count else "- | -"
    ending = f"{still_open} | {closed}" if phase.count else "- | -"
    return (f"| {phase.name} | {connected} | {latency_cells(api)} | {latency_cells(dashboard)} "
            f"| {ending} | {alive} | {recovered} |")


async def run_phases(root: Path, workdir: Path, phases: Sequence[Phase],
                     seconds: float) -> tuple[Launcher, list[str]]:
    """Print one row per phase; the launcher still running at the end, and what was logged when."""
    launcher, notes = Launcher.start(root, workdir), []
    try:
        for phase in phases:
            print(await run_phase(launcher, phase, seconds), flush=True)
            notes += [f"{phase.name}: {line}" for line in launcher.logged()[:MAX_NOTES]]
            if launcher.proc.poll() is not None:
                notes.append(f"{phase.name}: the launcher exited with code {launcher.proc.returncode}; "
                             "a new one runs the next phase")
                launcher = Launcher.start(root, workdir)
    except BaseException:
        launcher.stop()
        raise
    return launcher, notes


def main(argv: Sequence[str] | None = None) -> int:
    """Run the phases, print the table, stop the launcher."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=2000, help="idle connections per idle phase")
    parser.add_argument("--slowloris", type=int, default=200, help="connections per slowloris phase")
    parser.add_argument("--seconds", type=float, default=5.0, help="probing time per phase")
    parser.add_argument("--flood", type=int, default=0, help="idle connections per flood phase (0: none)")
    parser.add_argument("--nofile", type=int, default=4096,
                        help="the launcher's soft and hard open-files limit when --flood is given")
    add_root_option(parser)
    args = parser.parse_args(argv)
    if args.flood:
        HARD_NOFILE.append(args.nofile)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the launcher is stopped then too
    own_limit = raise_own_limit()
    launcher_limit = f"{args.nofile} (soft and hard)" if args.flood else f"{LAUNCHER_NOFILE} (soft)"
    print(f"root: {args.root} (perfmon from {check_checkout(args.root)}); launcher's RLIMIT_NOFILE "
          f"{launcher_limit}, this process's {own_limit}; load average (1 / 5 min) {load_average()}\n")
    phases = [Phase("baseline"), Phase(f"idle {args.idle} -> API", "api", args.idle),
              Phase(f"idle {args.idle} -> dashboard", "dashboard", args.idle),
              Phase(f"slowloris {args.slowloris} -> API", "api", args.slowloris, slow=True),
              Phase(f"slowloris {args.slowloris} -> dashboard", "dashboard", args.slowloris, slow=True)]
    if args.flood:
        phases += [Phase(f"flood {args.flood} -> API", "api", args.flood),
                   Phase(f"flood {args.flood} -> dashboard", "dashboard", args.flood)]
    print("| phase | attack conns established | accepted by server | API p50 / p99 / max ms | API failed "
          "| dashboard p50 / p99 / max ms | dashboard failed | attack conns open at end | closed by server "
          "| launcher alive | both answer again after, s |")
    print("|---|---:|---:|---|---:|---|---:|---:|---:|---|---:|")
    with tempfile.TemporaryDirectory(prefix="perfmon-hostile-") as workdir:
        launcher, notes = asyncio.run(run_phases(args.root, Path(workdir), phases, args.seconds))
        code, stop_seconds = launcher.stop()
        notes += [f"at the stop: {line}" for line in launcher.logged()[:MAX_NOTES]]
    print("\nThe launcher's log, warnings and errors (the most frequent "
          f"{MAX_NOTES} a phase):", *(f"- {note}" for note in notes), sep="\n")
    print(f"\nSIGTERM to the launcher: exit code {code} after {stop_seconds:.2f} s")
    print(f"load average (1 / 5 min) at the end: {load_average()}")
    flood = f"--flood {args.flood} --nofile {args.nofile} " if args.flood else ""
    print(f"command: python bench/bench_hostile.py --idle {args.idle} --slowloris {args.slowloris} "
          f"--seconds {args.seconds:g} {flood}--root {args.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
