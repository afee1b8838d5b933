"""The /proc reader against psutil on this machine's real processes: the same table, field by field."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from perfmon.sampling.collectors.processes import PROCESS_ATTRS, ProcessCollector
from perfmon.sampling.collectors.procfs import ProcfsProcesses

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[psutil.Process]:
    """A sleeping child whose program name is longer than the kernel's 15 characters."""
    program = tmp_path / "perfmon-test-sleeper-with-a-long-name"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    child = subprocess.Popen([str(program), "60"])
    try:
        process = psutil.Process(child.pid)
        wait_until(lambda: process.name() == program.name)  # exec has replaced the forked copy of us
        yield process
    finally:
        child.kill()
        child.wait()


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.01)


def psutil_rows() -> dict[int, dict[str, object]]:
    """What psutil's own process_iter says, in the table's shape (the path for other platforms)."""
    collector = ProcessCollector(psutil, procfs=None)
    collector._procfs_checked = True  # the psutil path, as on a platform without /proc
    return {row["pid"]: row for row in collector.scan()}


def test_the_real_psutil_on_linux_reads_proc() -> None:
    collector = ProcessCollector(psutil)
    collector.scan()
    assert isinstance(collector._reader(), ProcfsProcesses)
    assert set(collector.scan()[0]) == {"memory_rss_bytes", *PROCESS_ATTRS} - {"memory_info"}


def test_every_steady_field_agrees_with_psutil(sleeper: psutil.Process) -> None:
    earlier = psutil_rows()
    ours = {row["pid"]: row for row in ProcessCollector(psutil).scan()}
    later = psutil_rows()
    both = ours.keys() & earlier.keys() & later.keys()
    assert sleeper.pid in both and 1 in both
    compared = 0
    for pid in both:
        for field in ("name", "username", "create_time"):
            if earlier[pid][field] == later[pid][field]:  # not renamed meanwhile (exec, a kworker's queue)
                assert ours[pid][field] == later[pid][field], (pid, field)
                compared += 1
    assert compared >= 0.9 * 3 * len(both)
    mine, its = ours[sleeper.pid], later[sleeper.pid]
    assert mine["name"] == "perfmon-test-sleeper-with-a-long-name"
    for field in ("status", "num_threads", "memory_rss_bytes", "memory_percent"):  # a sleeper is still
        assert mine[field] == its[field], field


def test_cpu_percent_agrees_with_psutil_for_a_busy_process() -> None:
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        ours, theirs = ProcessCollector(psutil), psutil.Process(spinner.pid)
        ours.scan()
        theirs.cpu_percent()
        cpu_seconds = theirs.cpu_times().user
        wait_until(lambda: theirs.cpu_times().user >= cpu_seconds + 0.5)  # however loaded the host
        mine = next(r for r in ours.scan() if r["pid"] == spinner.pid)["cpu_percent"]
        its = theirs.cpu_percent()
        assert mine is not None and its > 0
        assert abs(mine - its) <= max(5.0, its * 0.1)  # two readings a few µs apart
    finally:
        spinner.kill()
        spinner.wait()
