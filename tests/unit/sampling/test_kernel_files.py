"""/proc/stat, /proc/diskstats and /proc/net/dev read as psutil reads them, from recorded files
(fixtures/kernel/)."""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import pytest

from perfmon.sampling.collectors.cpu import CpuCollector
from perfmon.sampling.collectors.disks import DiskIOCollector
from perfmon.sampling.collectors.kernel_files import (
    DiskCounters,
    NetCounters,
    cpu_times,
    disk_counters,
    net_counters,
    read_cpu_times,
    read_disk_counters,
    read_net_counters,
    readable,
)
from perfmon.sampling.collectors.network import NetworkCollector
from tests.support.fakes import FakeClock, FakePsutil

KERNEL = Path(__file__).resolve().parents[2] / "fixtures" / "kernel"
STAT = KERNEL / "stat-linux-6.18-2cpu"
DISKSTATS = KERNEL / "diskstats-linux-6.18"
NET_DEV = KERNEL / "net-dev-linux-6.18"
# psutil's Linux modes (psutil._pslinux.scputimes on a kernel with all ten columns)
Times = namedtuple("Times", "user nice system idle iowait irq softirq steal guest guest_nice")


def test_cpu_times_are_the_cpu_lines_in_seconds() -> None:
    total, per_cpu = read_cpu_times(str(STAT), Times, 100)
    # cpu  1001892 321109 256949 12724746 7370 0 32481 11613 0 0
    assert total == Times(10018.92, 3211.09, 2569.49, 127247.46, 73.7, 0.0, 324.81, 116.13, 0.0, 0.0)
    assert [cpu.user for cpu in per_cpu] == [4464.58, 5554.33]
    assert sum(cpu.idle for cpu in per_cpu) == pytest.approx(total.idle)


def test_cpu_times_take_as_many_modes_as_psutils_tuple_has() -> None:
    # An old kernel's psutil knows fewer modes; a newer kernel may print more columns than it knows.
    Seven = namedtuple("Seven", "user nice system idle iowait irq softirq")
    stat = b"cpu  10 20 30 40 50 60 70 80 90 100 110\ncpu0 10 20 30 40 50 60 70 80 90 100 110\nintr 5\n"
    total, per_cpu = cpu_times(stat, Seven, 10)
    assert total == Seven(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0)
    assert per_cpu == [total]


def test_the_cpu_lines_end_at_the_first_other_line() -> None:
    stat = b"cpu  1 1 1 1 1 1 1 1 1 1\ncpu0 1 1 1 1 1 1 1 1 1 1\nintr 1\ncpufreq 1 1 1 1 1 1 1 1 1 1\n"
    assert len(cpu_times(stat, Times, 1)[1]) == 1


def test_a_stat_without_a_cpu_line_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"^no 'cpu' line in /proc/stat$"):
        cpu_times(b"intr 1\nctxt 2\n", Times, 100)


def test_lines_before_the_cpu_lines_are_passed_over() -> None:
    total, per_cpu = cpu_times(b"\ncpu  1 1 1 1 1 1 1 1 1 1\ncpu0 1 1 1 1 1 1 1 1 1 1\nintr 1\n", Times, 1)
    assert total.user == 1.0 and len(per_cpu) == 1


def test_disk_counters_of_a_recorded_file() -> None:
    devices = read_disk_counters(str(DISKSTATS))
    assert sorted(devices) == [*(f"loop{k}" for k in range(8)), "vda", "zram0"]
    # 254 0 vda 251450 40655 23830018 274091 251072 355396 24926240 248563 0 139992 601659 ...
    assert devices["vda"] == DiskCounters(read_count=251450, write_count=251072, read_bytes=23830018 * 512,
                                          write_bytes=24926240 * 512, read_time=274091, write_time=248563,
                                          read_merged_count=40655, write_merged_count=355396,
                                          busy_time=139992)


@pytest.mark.parametrize(("line", "expected"), [
    # Linux 2.6 to 4.17: 14 fields
    (b"   8  0 sda 1 2 3 4 5 6 7 8 9 10 11", DiskCounters(1, 5, 3 * 512, 7 * 512, 4, 8, 2, 6, 10)),
    # 4.18 added 4 (discards), 5.5 two more (flushes): the first eleven counters are the same
    (b"   8  0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15",
     DiskCounters(1, 5, 3 * 512, 7 * 512, 4, 8, 2, 6, 10)),
    (b"   8  0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
     DiskCounters(1, 5, 3 * 512, 7 * 512, 4, 8, 2, 6, 10)),
    # a partition on kernels that gave it four counters
    (b"   8  1 sda1 1 2 3 4", DiskCounters(1, 3, 2 * 512, 4 * 512, 0, 0, 0, 0, 0)),
    # Linux 2.4: a field before the name
    (b"   3  0  8 hda 1 2 3 4 5 6 7 8 9 10 11", DiskCounters(8, 4, 2 * 512, 6 * 512, 3, 7, 1, 5, 9)),
])
def test_every_layout_psutil_reads(line: bytes, expected: DiskCounters) -> None:
    name = line.split()[3 if line.split()[3].isalpha() else 2].decode()
    assert disk_counters(line + b"\n") == {name: expected}


def test_blank_lines_are_passed_over() -> None:
    assert list(disk_counters(b"8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n\n8 16 sdb 1 2 3 4 5 6 7 8 9 10 11\n")) == [
        "sda", "sdb"]


def test_a_line_of_another_layout_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match=r"^/proc/diskstats: a line of 5 fields: b'8 0 sda 1 2'$"):
        disk_counters(b"8 0 sda 1 2\n")
    with pytest.raises(ValueError) as raised:
        disk_counters(b"8 0 sda " + b"1" * 100 + b"\n")
    assert str(raised.value).endswith(f"b'8 0 sda {'1' * 72}'")  # 80 bytes of it at most


def test_a_file_bigger_than_one_read_is_read_whole(tmp_path: Path) -> None:
    # A machine with thousands of disks (or CPUs): more than one 64 KiB read
    line = b"   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    many = b"".join(line.replace(b"loop0", f"loop{k}".encode()) for k in range(3000))
    (tmp_path / "diskstats").write_bytes(many)
    assert len(many) > 2 * 65536
    assert len(read_disk_counters(str(tmp_path / "diskstats"))) == 3000


def test_net_counters_of_a_recorded_file() -> None:
    interfaces = read_net_counters(str(NET_DEV))
    assert list(interfaces) == ["lo", "ifb0", "ifb1", "eth0"]
    # eth0: 1678063070 54197 0 0 0 0 0 0 | 3617679 34284 0 0 0 0 0 0
    assert interfaces["eth0"] == NetCounters(bytes_sent=3617679, bytes_recv=1678063070, packets_sent=34284,
                                             packets_recv=54197, errin=0, errout=0, dropin=0, dropout=0)


def test_net_counters_in_their_columns_and_names_with_colons() -> None:
    dev = (b"Inter-|   Receive | Transmit\n face |bytes packets errs drop fifo frame compressed|...\n"
           b"  br:0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n")
    assert net_counters(dev) == {"br:0": NetCounters(9, 1, 10, 2, 3, 11, 4, 12)}
    assert net_counters(dev.replace(b"  br:0: ", b"a:")) == {"a": NetCounters(9, 1, 10, 2, 3, 11, 4, 12)}
    for line in (b"garbage", b": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"):  # no name before the colon
        with pytest.raises(ValueError, match=r"^/proc/net/dev: a line without an interface: b'"):
            net_counters(dev + line + b"\n")
    with pytest.raises(ValueError) as raised:
        net_counters(dev + b"x" * 100 + b"\n")
    assert str(raised.value).endswith(f"b'{'x' * 80}'")  # 80 bytes of it at most


def test_the_files_are_read_only_with_the_real_psutil_on_linux(tmp_path: Path) -> None:
    class RealLinux:  # what the collectors ask of psutil
        LINUX = True

    assert readable(RealLinux, STAT) == str(STAT)  # type: ignore[arg-type]
    assert readable(RealLinux, tmp_path / "missing") is None  # type: ignore[arg-type]
    assert readable(RealLinux, None) is None  # type: ignore[arg-type]
    assert readable(FakePsutil(), STAT) is None  # type: ignore[arg-type]  # a test's fake: its own values


def test_the_collectors_read_the_fakes_values_beside_a_stat_file(mono: FakeClock) -> None:
    # The registry hands every collector the /proc path; a fake psutil's numbers are still the ones used.
    fake = FakePsutil()
    fake.cpu_total = 30.0
    cpu = CpuCollector(fake, STAT)  # type: ignore[arg-type]
    cpu.prime()
    assert cpu.collect(lambda _: None)["percent"] == pytest.approx(30.0, abs=0.1)
    disks = DiskIOCollector(fake, monotonic=mono, whole_disk=lambda _: True,  # type: ignore[arg-type]
                            diskstats=DISKSTATS)
    assert {d["name"] for d in disks.collect(lambda _: None)["devices"]} == set(fake.disks)
    network = NetworkCollector(fake, monotonic=mono, dev=NET_DEV)  # type: ignore[arg-type]
    assert {i["name"] for i in network.collect(lambda _: None)["interfaces"]} == set(fake.nics)
