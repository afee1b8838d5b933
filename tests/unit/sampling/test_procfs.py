"""The /proc process-table reader over a recorded /proc tree in tmp_path (no real processes read)."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfmon.sampling.collectors.procfs import ProcfsProcesses
from tests.support.fakes import FakeClock

TICKS = 100
PAGE = 4096
BOOT = 1_700_000_000.0
TOTAL = 8 * 2**30


KTHREAD = 0x00200000  # PF_KTHREAD
USER_FLAGS = 0x00400000  # PF_RANDOMIZE... anything without PF_KTHREAD


def stat_line(pid: int, comm: str, state: str, utime: int, stime: int, threads: int, start: int,
              flags: int = USER_FLAGS) -> str:
    """A /proc/PID/stat line (52 fields) with the fields the reader takes; rss (field 24) is wrong on
    purpose: the reader must take VmRSS from status, as psutil does."""
    fields = [state, "1", str(pid), str(pid), "0", "-1", str(flags), "0", "0", "0", "0", str(utime),
              str(stime), "0", "0", "20", "0", str(threads), "0", str(start), "3133440", "999999"]
    return f"{pid} ({comm}) " + " ".join(fields + ["0"] * 30) + "\n"


def status_text(name: str, uid: int, rss_kib: int | None) -> str:
    """A /proc/PID/status with the lines around the ones the reader takes."""
    lines = [f"Name:\t{name}", "Umask:\t0022", "State:\tS (sleeping)", f"Uid:\t{uid}\t0\t0\t0",
             "Gid:\t0\t0\t0\t0", "Groups:\t ", "VmPeak:\t  10000 kB"]
    if rss_kib is not None:
        lines.append(f"VmRSS:\t   {rss_kib} kB")
    return "\n".join([*lines, "Threads:\t1", ""])


def add(root: Path, pid: int, comm: str, *, state: str = "S", utime: int = 0, stime: int = 0,
        threads: int = 1, start: int = 500, uid: int = 0, rss_kib: int | None = 2048,
        cmdline: bytes = b"", flags: int = USER_FLAGS) -> None:
    """One process directory."""
    directory = root / str(pid)
    directory.mkdir(exist_ok=True)
    (directory / "stat").write_text(stat_line(pid, comm, state, utime, stime, threads, start, flags))
    (directory / "status").write_text(status_text(comm, uid, rss_kib))
    (directory / "cmdline").write_bytes(cmdline)


def reader(root: Path, mono: FakeClock, users: dict[int, str] | None = None,
           looked_up: list[int] | None = None) -> ProcfsProcesses:
    names = users if users is not None else {0: "root", 1000: "alice"}

    def user(uid: int) -> str:
        if looked_up is not None:
            looked_up.append(uid)
        return names.get(uid, str(uid))

    return ProcfsProcesses(BOOT, TOTAL, root=str(root), clock_ticks=TICKS, page_size=PAGE, users=user,
                           monotonic=mono)


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    root = tmp_path / "proc"
    root.mkdir()
    (root / "self").mkdir()  # not a pid: skipped
    (root / "meminfo").write_text("MemTotal: 8388608 kB\n")
    return root


def test_rows_carry_psutils_fields_and_meanings(proc: Path, mono: FakeClock) -> None:
    add(proc, 7, "python3", state="R", threads=4, start=12_345, uid=1000, rss_kib=51_200)
    [row] = reader(proc, mono).scan()
    assert row == {
        "pid": 7, "name": "python3", "username": "alice", "status": "running", "cpu_percent": None,
        "memory_percent": round(51_200 * 1024 / TOTAL * 100, 2), "memory_rss_bytes": 51_200 * 1024,
        "num_threads": 4, "create_time": BOOT + 12_345 / TICKS,
    }


def test_rows_come_by_pid_and_a_name_with_spaces_and_parentheses_is_kept(proc: Path, mono: FakeClock) -> None:
    add(proc, 300, "a) b (c")
    add(proc, 20, "kworker/0:1", state="I", rss_kib=None, flags=KTHREAD)
    rows = reader(proc, mono).scan()
    assert [(r["pid"], r["name"], r["status"]) for r in rows] == [(20, "kworker/0:1", "idle"),
                                                                    (300, "a) b (c", "sleeping")]
    assert rows[0]["memory_rss_bytes"] == 0  # a kernel thread has no VmRSS: psutil's statm reads 0


def test_a_kernel_thread_is_read_from_stat_alone_with_psutils_values(proc: Path, mono: FakeClock) -> None:
    # a cut name (15 characters), a status and a command line that would say otherwise: not read
    add(proc, 30, "kworker/u4:1-ev", state="I", threads=1, uid=1000, rss_kib=999, flags=KTHREAD,
        cmdline=b"kworker/u4:1-events_unbound\x00")
    add(proc, 31, "gnome-keyring-d", uid=1000, rss_kib=64, cmdline=b"/usr/bin/gnome-keyring-daemon\x00")
    read: list[str] = []

    def recording(path: str) -> bytes:
        read.append(path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1])
        return Path(path).read_bytes()

    scanner = ProcfsProcesses(BOOT, TOTAL, root=str(proc), clock_ticks=TICKS, page_size=PAGE,
                              users={0: "root", 1000: "alice"}.__getitem__, monotonic=mono, read=recording)
    kernel, user = scanner.scan()
    assert read == ["30/stat", "31/stat", "31/status", "31/cmdline"]
    assert (kernel["name"], kernel["username"], kernel["memory_rss_bytes"], kernel["memory_percent"]) == (
        "kworker/u4:1-ev", "root", 0, 0.0)
    assert (user["name"], user["username"], user["memory_rss_bytes"]) == (
        "gnome-keyring-daemon", "alice", 64 * 1024)


def test_cpu_percent_is_cpu_time_over_wall_time_from_the_second_scan(proc: Path, mono: FakeClock) -> None:
    add(proc, 7, "busy", utime=100, stime=50)
    scanner = reader(proc, mono)
    assert scanner.scan()[0]["cpu_percent"] is None  # one reading is no rate
    add(proc, 7, "busy", utime=250, stime=100)  # 200 ticks = 2 s of CPU
    mono.advance(4.0)
    assert scanner.scan()[0]["cpu_percent"] == 50.0
    add(proc, 7, "busy", utime=650, stime=100)  # 4 s of CPU in 2 s: two cores, as psutil says
    mono.advance(2.0)
    assert scanner.scan()[0]["cpu_percent"] == 200.0


def test_a_reused_pid_starts_its_cpu_reading_again(proc: Path, mono: FakeClock) -> None:
    add(proc, 7, "old", utime=100, start=500)
    scanner = reader(proc, mono)
    scanner.scan()
    add(proc, 7, "new", utime=5, start=900)  # another process with the same pid
    mono.advance(1.0)
    assert scanner.scan()[0]["cpu_percent"] is None


def test_a_cut_name_is_completed_from_argv0_every_scan(proc: Path, mono: FakeClock) -> None:
    long_name = "gnome-keyring-d"  # the kernel keeps 15 characters
    add(proc, 9, long_name, cmdline=b"/usr/bin/gnome-keyring-daemon\x00--start\x00")
    add(proc, 10, "chromium-browse", cmdline=b"/usr/lib/chromium/chromium --type=renderer \x00")
    add(proc, 11, "systemd-journal", cmdline=b"/usr/lib/other-binary\x00")
    add(proc, 12, "a-zombie-proces", state="Z", cmdline=b"")
    scanner = reader(proc, mono)
    first = {r["pid"]: r["name"] for r in scanner.scan()}
    assert first == {9: "gnome-keyring-daemon", 10: "chromium-browse", 11: "systemd-journal",
                     12: "a-zombie-proces"}
    (proc / "9" / "cmdline").write_bytes(b"gnome-keyring-daemon: retitled\x00\x00\x00")  # setproctitle
    assert scanner.scan()[0]["name"] == "gnome-keyring-daemon: retitled"


def test_space_separated_command_lines_as_psutil_reads_them(proc: Path, mono: FakeClock) -> None:
    add(proc, 5, "setproctitle-us", cmdline=b"/opt/setproctitle-user worker 3")
    add(proc, 6, "nul-at-the-end-", cmdline=b"/opt/nul-at-the-end-only --flag\x00")
    add(proc, 7, "mutmut: perfmon", cmdline=b"mutmut: perfmon.core.units.x_size\x00\x00\x00")  # padded
    names = {r["pid"]: r["name"] for r in reader(proc, mono).scan()}
    assert names == {5: "setproctitle-user", 6: "nul-at-the-end-only", 7: "mutmut: perfmon.core.units.x_size"}


def test_each_user_is_looked_up_once_a_scan_and_a_uid_without_a_name_is_its_number(
        proc: Path, mono: FakeClock) -> None:
    for pid in (1, 2, 3):
        add(proc, pid, f"p{pid}", uid=1000)
    add(proc, 4, "nobody-known", uid=4242)
    looked_up: list[int] = []
    scanner = reader(proc, mono, looked_up=looked_up)
    assert [r["username"] for r in scanner.scan()] == ["alice", "alice", "alice", "4242"]
    assert looked_up == [1000, 4242]
    scanner.scan()
    assert looked_up == [1000, 4242, 1000, 4242]  # a renamed user shows on the next scan


def test_a_process_gone_while_read_is_left_out(proc: Path, mono: FakeClock) -> None:
    add(proc, 1, "init")
    add(proc, 2, "exiting")
    (proc / "2" / "stat").unlink()  # listed, then gone before its stat was read
    add(proc, 3, "exiting-later")
    (proc / "3" / "status").unlink()  # gone between its two files
    assert [r["pid"] for r in reader(proc, mono).scan()] == [1]


def test_unreadable_files_leave_their_fields_null(proc: Path, mono: FakeClock) -> None:
    add(proc, 1, "private")
    add(proc, 2, "half-private")

    def read(path: str) -> bytes:
        if path.endswith("/1/stat") or path.endswith("/2/status"):
            raise PermissionError(13, "Permission denied", path)
        return Path(path).read_bytes()

    scanner = ProcfsProcesses(BOOT, TOTAL, root=str(proc), clock_ticks=TICKS, page_size=PAGE,
                              users=str, monotonic=mono, read=read)
    first, second = scanner.scan()
    assert first == {"pid": 1, **dict.fromkeys(first.keys() - {"pid"})}
    assert second["name"] == "half-private" and second["num_threads"] == 1
    assert second["username"] is None and second["memory_rss_bytes"] is None
    assert second["memory_percent"] is None
