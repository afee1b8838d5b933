#!/usr/bin/env python3
"""Disk writes of the API server's history store: bytes a day at 1 s sampling, variants side by side.

Each variant is the real API server (``performance_api_server.py --interval 1``) with a fresh
``--data-dir`` on the same file system, all running at once for one window after a warm-up, so
every variant meets the same host. What is measured is ``write_bytes`` of ``/proc/PID/io``: the
bytes the process caused to be written to storage, WAL and database file alike, counted when a
page of the page cache is dirtied (a 4 KiB page dirtied again before the kernel writes it back
counts once; one written back and dirtied again counts again). The window should span
checkpoints: SQLite's own (every 1,000 WAL pages) come about every 17 minutes at a commit a second
and every 45 at one every 5 s (about two pages a commit), so the default window is 40 minutes.

A variant is ``NAME=ARGS``: server options (``--commit-interval 5``) and settings of the store's
modules (``sqlite.schema.SYNCHRONOUS=OFF``, ``sqlite.schema.AUTOCHECKPOINT_PAGES=250``), set before
the server starts: alternatives that are not options. ``--before DIR`` adds the server of an
older checkout (``git archive COMMIT | tar -x -C DIR``) as it runs by default.

    python bench/bench_writes.py --before /tmp/perfmon-before
    python bench/bench_writes.py --variant 'commit 5 s=--commit-interval 5' --variant \\
        'sync off=--commit-interval 5 sqlite.schema.SYNCHRONOUS=OFF' --warmup 60 --seconds 2400
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from bench_api import HOST, Server, running, spawn
from common import check_checkout, checkout_env, free_port, load_average, wait_answering

REPOSITORY = Path(__file__).resolve().parent.parent
MB = 10**6
DAY = 86_400
TARGET_MB_PER_DAY = 30
# Runs the server after setting module attributes given as JSON in argv[1] (a variant's settings).
BOOTSTRAP = """\
import importlib, json, sys
settings = json.loads(sys.argv.pop(1))
for target, value in settings.items():
    name, _, attr = target.rpartition(".")
    module = importlib.import_module("perfmon.store." + name)
    if not hasattr(module, attr):
        raise SystemExit(f"perfmon.store.{name} has no {attr}")
    setattr(module, attr, value)
sys.argv[0] = "performance_api_server.py"
from perfmon.api.server import main
sys.exit(main())
"""
DEFAULT_VARIANTS = ("default=", "commit 1 s=--commit-interval 1")


@dataclass
class Variant:
    """One server to measure: its name, its options and the module settings made before it starts."""

    name: str
    options: list[str]
    settings: dict[str, object]
    root: Path = REPOSITORY


def parse_variant(text: str) -> Variant:
    """``NAME=--option value module.ATTR=value ...`` as a Variant."""
    name, _, rest = text.partition("=")
    options: list[str] = []
    settings: dict[str, object] = {}
    for token in shlex.split(rest):
        if not token.startswith("-") and "=" in token and "." in token.split("=", 1)[0]:
            target, value = token.split("=", 1)
            try:
                settings[target] = json.loads(value)
            except json.JSONDecodeError:
                settings[target] = value
        else:
            options.append(token)
    return Variant(name.strip() or "default", options, settings)


def start(variant: Variant, workdir: Path, index: int, interval: float) -> Server:
    """The variant's API server on a free port, history in its own directory under ``workdir``."""
    port = free_port()
    data = workdir / f"data-{index}"
    common = ["--host", HOST, "--port", str(port), "--interval", f"{interval:g}", "--log-level", "warning",
              "--data-dir", str(data), *variant.options]
    if variant.root == REPOSITORY:
        argv = [sys.executable, "-c", BOOTSTRAP, json.dumps(variant.settings), *common]
        env = None
    else:
        argv = [sys.executable, str(variant.root / "performance_api_server.py"), *common]
        env = checkout_env(variant.root)
    server = spawn(f"variant{index}", argv, workdir, port, env)
    wait_answering(f"{server.url}/api/health", server.proc, timeout=60)
    return server


def write_bytes(pid: int) -> int:
    """The process's write_bytes from /proc/PID/io."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/io has no write_bytes")


def database_bytes(data: Path) -> int:
    """The history file and its WAL, as they are now."""
    return sum(p.stat().st_size for p in data.glob("history.sqlite3*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    """Run every variant at once; print write_bytes per second and MB a day per variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", default=None, metavar="NAME=ARGS",
                        help=f"a server to measure (repeatable; default: {' and '.join(DEFAULT_VARIANTS)})")
    parser.add_argument("--before", type=Path, default=None, help="an older checkout, measured as it runs")
    parser.add_argument("--interval", type=float, default=1.0, help="sampling interval (default: 1)")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before the window (default: 60)")
    parser.add_argument("--seconds", type=float, default=2400.0, help="the window (default: 2400)")
    parser.add_argument("--progress", type=float, default=300.0, help="seconds between progress lines")
    parser.add_argument("--workdir", type=Path, default=None, help="where the data directories go "
                        "(default: a temporary directory; it must be on a disk, not tmpfs)")
    args = parser.parse_args(argv)
    variants = [parse_variant(text) for text in args.variant or DEFAULT_VARIANTS]
    if args.before is not None:
        check_checkout(args.before)
        variants.insert(0, Variant("before", [], {}, args.before.resolve()))
    with tempfile.TemporaryDirectory(prefix="bench-writes-", dir=args.workdir) as tmp:
        workdir = Path(tmp)
        print(f"bench_writes: {len(variants)} servers at --interval {args.interval:g} in {workdir}; warm-up "
              f"{args.warmup:g} s, window {args.seconds:g} s; load {load_average()}", flush=True)
        servers = [start(v, workdir, i, args.interval) for i, v in enumerate(variants)]
        with running(*servers):
            measure(variants, servers, workdir, args)
    return 0


def measure(variants: list[Variant], servers: list[Server], workdir: Path, args: argparse.Namespace) -> None:
    """Wait out the warm-up, then read write_bytes (and CPU) over the window and print the table."""
    processes = [psutil.Process(s.proc.pid) for s in servers]
    time.sleep(args.warmup)
    began = time.monotonic()
    first = [write_bytes(s.proc.pid) for s in servers]
    cpu = [p.cpu_times() for p in processes]
    end = began + args.seconds
    while (now := time.monotonic()) < end:
        time.sleep(min(args.progress, end - now))
        for server in servers:
            if server.proc.poll() is not None:
                raise RuntimeError(f"{server.name} exited: {server.log_tail()}")
        elapsed = time.monotonic() - began
        rates = [(write_bytes(s.proc.pid) - w) / elapsed for s, w in zip(servers, first, strict=True)]
        print(f"  {elapsed:6.0f} s: " + ", ".join(f"{v.name} {r:.0f} B/s" for v, r in
                                                  zip(variants, rates, strict=True)), flush=True)
    elapsed = time.monotonic() - began
    print(f"\nwindow {elapsed:.0f} s after {args.warmup:g} s of warm-up; load {load_average()}")
    print(f"command: python bench/bench_writes.py {' '.join(shlex.quote(a) for a in sys.argv[1:])}\n")
    print("| variant | server options and settings | write_bytes B/s | MB a day | vs 30 MB | "
          "file + WAL at end | CPU % |")
    print("|---|---|---|---|---|---|---|")
    for i, (variant, server, process) in enumerate(zip(variants, servers, processes, strict=True)):
        rate = (write_bytes(server.proc.pid) - first[i]) / elapsed
        times = process.cpu_times()
        used = (times.user + times.system - cpu[i].user - cpu[i].system) / elapsed * 100
        what = " ".join([*variant.options, *(f"{k}={v}" for k, v in variant.settings.items())])
        if variant.root != REPOSITORY:
            what = f"checkout {variant.root} {what}".strip()
        per_day = rate * DAY / MB
        print(f"| {variant.name} | {what or 'defaults'} | {rate:.0f} | {per_day:.1f} | "
              f"{'ok' if per_day <= TARGET_MB_PER_DAY else 'over'} | "
              f"{database_bytes(workdir / f'data-{i}') / 2**10:.0f} KiB | {used:.2f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
