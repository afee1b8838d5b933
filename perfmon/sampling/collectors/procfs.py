"""The process table read straight from Linux's /proc: two small files per process, psutil's meanings.

psutil's ``process_iter(attrs=...)`` with the table's nine fields reads ``stat``, ``status`` and
``statm`` of every process (``statm`` twice: ``memory_percent`` reads it again), ``cmdline`` for
every name of 15 characters or more, and looks its user up each time, through several layers of
wrappers: py-spy put about 0.3 ms of CPU per process there, half of the API's idle CPU at 1 s
(BENCHMARKS.md, "Where the idle time goes"). This reader takes the same fields from
``/proc/PID/stat`` (name, state, CPU ticks, threads, start) and ``/proc/PID/status`` (the real
uid, and ``VmRSS``: stat's own RSS field is the kernel's per-CPU estimate, off by up to a few
hundred KiB, where psutil's statm and status agree), reads ``cmdline`` only where the kernel cut
the name (as psutil does), and looks each user up once a scan: about 0.06 ms per process. A kernel
thread (``PF_KTHREAD`` in stat's flags: most of /proc on a small server, 58 of 90 entries here) is
read from ``stat`` alone: it has no memory of its own (psutil's statm reads 0), runs as root, and
has no command line (psutil's name is its comm), so its ``status`` and ``cmdline`` would tell
nothing (they were half of a scan's reads).

The values mean what psutil's do: ``name`` is the full program name when the kernel's 15-character
``comm`` is a prefix of ``basename(argv[0])``; ``username`` is the real user's name (its number if
it has none); ``cpu_percent`` is CPU time over wall time since the previous scan (100 = one core);
``memory_percent`` is RSS over total RAM; ``create_time`` is boot time plus the start in ticks.
"""

from __future__ import annotations

import os
import pwd
import time
from collections.abc import Callable
from typing import Any

from perfmon.sampling.collectors.base import Clock, round_or_none

COMM_CHARS = 15  # the kernel cuts a process's name (comm) to this
STATUSES = {  # psutil's STATUS_* names of the state letters in /proc/PID/stat
    "R": "running", "S": "sleeping", "D": "disk-sleep", "T": "stopped", "t": "tracing-stop",
    "Z": "zombie", "X": "dead", "x": "dead", "K": "wake-kill", "W": "waking", "I": "idle",
    "P": "parked",
}
GONE = (FileNotFoundError, ProcessLookupError)  # the process exited while it was read
PF_KTHREAD = 0x00200000  # a kernel thread, in the flags field of /proc/PID/stat
KERNEL_UID = 0  # a kernel thread's credentials are the init task's
READ_BYTES = 65536  # stat is a few hundred bytes, status about 1.5 KiB (more with many groups)


def user_name(uid: int) -> str:
    """The user's name, or the number as text for a uid without an entry (psutil's answer)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def read_head(path: str) -> bytes:
    """Up to 64 KiB of a /proc file in one system call (no buffered file object)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, READ_BYTES)
    finally:
        os.close(fd)


class ProcfsProcesses:
    """Scans /proc for the process table; keeps each process's last CPU reading for the next scan."""

    def __init__(self, boot_time: float, total_memory_bytes: int, *, root: str = "/proc",
                 clock_ticks: int | None = None, page_size: int | None = None,
                 users: Callable[[int], str] = user_name, monotonic: Clock = time.monotonic,
                 read: Callable[[str], bytes] = read_head) -> None:
        self._boot_time = boot_time
        self._total_memory = total_memory_bytes
        self._root = root
        self._ticks = clock_ticks or os.sysconf("SC_CLK_TCK")
        self._page_size = page_size or os.sysconf("SC_PAGE_SIZE")
        self._users = users
        self._monotonic = monotonic
        self._read = read
        self._cpu: dict[tuple[int, int], tuple[int, float]] = {}  # (pid, start) -> (ticks, when)

    def scan(self) -> list[dict[str, Any]]:
        """One row per live process, by pid; cpu_percent is None for a process seen for the first time."""
        pids = sorted(int(entry) for entry in os.listdir(self._root) if entry.isdigit())
        cpu: dict[tuple[int, int], tuple[int, float]] = {}
        users: dict[int, str] = {}
        rows = []
        for pid in pids:
            try:
                row = self._row(pid, cpu, users)
            except GONE:
                continue
            except PermissionError:  # hidepid or the like: what psutil's ad_value gives
                row = denied(pid)
            rows.append(row)
        self._cpu = cpu
        return rows

    def _row(self, pid: int, cpu: dict[tuple[int, int], tuple[int, float]],
             users: dict[int, str]) -> dict[str, Any]:
        stat = self._read(f"{self._root}/{pid}/stat")
        now = self._monotonic()
        close = stat.rfind(b")")
        comm = os.fsdecode(stat[stat.find(b"(") + 1:close])
        fields = stat[close + 2:].split()
        ticks, start = int(fields[11]) + int(fields[12]), int(fields[19])
        key = (pid, start)
        cpu[key] = (ticks, now)
        rss: int | None
        uid: int | None
        if int(fields[6]) & PF_KTHREAD:
            rss, uid, name = 0, KERNEL_UID, comm
        else:
            try:
                status: bytes | None = self._read(f"{self._root}/{pid}/status")
            except PermissionError:
                status = None
            rss, uid, name = (status_number(status, b"\nVmRSS:", 1024), status_number(status, b"\nUid:"),
                              self._name(pid, comm))
        return {
            "pid": pid,
            "name": name,
            "username": self._username(uid, users),
            "status": STATUSES.get(fields[0].decode(), "?"),
            "cpu_percent": round_or_none(self._cpu_percent(key, ticks, now)),
            "memory_percent": round_or_none(rss / self._total_memory * 100, 2)
            if rss is not None and self._total_memory else None,
            "memory_rss_bytes": rss,
            "num_threads": int(fields[17]),
            "create_time": self._boot_time + start / self._ticks,
        }

    def _cpu_percent(self, key: tuple[int, int], ticks: int, now: float) -> float | None:
        previous = self._cpu.get(key)
        if previous is None:
            return None
        elapsed = now - previous[1]
        return (ticks - previous[0]) / self._ticks / elapsed * 100 if elapsed > 0 else 0.0

    def _name(self, pid: int, comm: str) -> str:
        """The kernel's name, or the program's whole name where the kernel cut it (as psutil's name()).

        Read every scan, as psutil does: a process may retitle itself (setproctitle) with the
        kernel's 15 characters unchanged.
        """
        if len(comm) < COMM_CHARS:
            return comm
        try:
            argv0 = self._argv0(pid)
        except PermissionError:
            return comm
        program = os.path.basename(argv0)
        return program if argv0 and program.startswith(comm) else comm

    def _argv0(self, pid: int) -> str:
        """The first word of a command line, split as psutil's cmdline() splits it."""
        data = self._read(f"{self._root}/{pid}/cmdline").decode(errors="surrogateescape")
        if not data:  # a zombie or a kernel thread
            return ""
        separator = "\x00" if data.endswith("\x00") else " "  # setproctitle() may use spaces
        words = data.removesuffix(separator).split(separator)
        if separator == "\x00" and len(words) == 1 and " " in data:
            words = data.split(" ")  # a NUL at the end, spaces between (psutil issue 1179)
        return words[0]

    def _username(self, uid: int | None, users: dict[int, str]) -> str | None:
        if uid is None:
            return None
        name = users.get(uid)
        if name is None:
            name = users[uid] = self._users(uid)
        return name


def status_number(status: bytes | None, label: bytes, scale: int = 1) -> int | None:
    """The first number after ``label`` in /proc/PID/status, times ``scale``; 0 for a missing VmRSS
    (a kernel thread has no memory of its own: psutil's statm reads 0), None for other missing lines."""
    if status is None:
        return None
    at = status.find(label)
    if at < 0:
        return 0 if label == b"\nVmRSS:" else None
    words = status[at + len(label):status.find(b"\n", at + 1)].split()
    return int(words[0]) * scale


def denied(pid: int) -> dict[str, Any]:
    """The row of a process whose files may not be read: its pid, and nothing invented."""
    return {"pid": pid, "name": None, "username": None, "status": None, "cpu_percent": None,
            "memory_percent": None, "memory_rss_bytes": None, "num_threads": None, "create_time": None}
