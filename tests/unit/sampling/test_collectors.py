"""Collectors against a fake psutil: shapes, units, and every way a reading can be missing."""

from __future__ import annotations

from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
import pytest

from perfmon.sampling import collectors as c
from tests.support.fakes import CpuFreq, DiskIO, FakePsutil, NetIO, Partition, Swap, Usage, proc_info


@pytest.fixture
def notes() -> list[str]:
    return []


def test_host_reports_uptime_from_boot_time(fake_ps: FakePsutil, notes: list[str]) -> None:
    host = c.HostCollector(fake_ps, clock=lambda: fake_ps.boot + 3600.5).collect(notes.append)
    assert host["uptime_seconds"] == 3600.5
    assert host["boot_time"] == fake_ps.boot
    assert host["hostname"] and host["platform"]


def test_host_without_boot_time_reports_why(fake_ps: FakePsutil, notes: list[str]) -> None:
    fake_ps.failures["boot_time"] = psutil.AccessDenied()
    host = c.HostCollector(fake_ps).collect(notes.append)
    assert host["boot_time"] is None and host["uptime_seconds"] is None
    assert notes == ["boot_time: access denied (the server's user may not read this)"]


def primed(ps: FakePsutil) -> c.CpuCollector:
    """A CPU collector that has taken its first readings, as the sampler's are before a sample."""
    cpu = c.CpuCollector(ps)
    cpu.prime()
    return cpu


def test_cpu_fields(fake_ps: FakePsutil, notes: list[str]) -> None:
    cpu = primed(fake_ps)
    sample = cpu.collect(notes.append)
    assert sample["percent"] == 25.0
    assert sample["per_cpu_percent"] == [20.0, 30.0]
    assert sample["count_logical"] == 2 and sample["count_physical"] == 2
    assert sample["times_percent"] == {"user": 15.0, "system": 10.0, "idle": 75.0, "iowait": 0.0}
    # each CPU's seconds as read (100 s after the priming read: 20 and 30 of them busy, 3:2 user:system)
    assert sample["per_cpu_seconds_total"] == [
        {"user": 112.25, "system": 58.5, "idle": 1080.0, "iowait": 2.0},
        {"user": 108.0, "system": 52.0, "idle": 1090.12, "iowait": 1.0}]
    assert notes == []
    assert fake_ps.calls["cpu_times"] == 4  # two reads a sample: the machine's and each CPU's


def test_cpu_shares_are_psutils_arithmetic_on_the_kernels_times() -> None:
    times = namedtuple("times", "user nice system idle iowait irq softirq steal guest guest_nice")
    before = times(100.0, 10.0, 50.0, 800.0, 20.0, 1.0, 2.0, 0.0, 5.0, 1.0)
    # 4 s of user (1 of it a guest's), 1 of nice (a guest's too), 2 system, 10 idle, 3 waiting for I/O
    after = times(104.0, 11.0, 52.0, 810.0, 23.0, 1.0, 2.0, 0.0, 6.0, 2.0)
    assert c.cpu.busy_percent(before, after) == 35.0  # 7 of 20 s: guest time counted once, I/O wait not work
    assert c.cpu.mode_percents(before, after) == {
        "user": 20.0, "nice": 5.0, "system": 10.0, "idle": 50.0, "iowait": 15.0, "irq": 0.0,
        "softirq": 0.0, "steal": 0.0, "guest": 5.0, "guest_nice": 5.0}
    # below a second of CPU time the shares are still shares (psutil divides by at least 1 s)
    tenth = times(*before[:3], before.idle + 0.05, *before[4:])
    tenth = tenth._replace(user=before.user + 0.05)
    assert c.cpu.mode_percents(before, tenth)["user"] == 50.0 == c.cpu.busy_percent(before, tenth)
    assert c.cpu.busy_percent(before, before) == 0.0  # no time passed: psutil's 0.0
    went_back = before._replace(idle=before.idle - 1.0, user=before.user + 1.0)
    assert c.cpu.busy_percent(before, went_back) == 100.0  # a counter that went back counts as 0


def test_cpu_shares_are_null_until_a_second_reading(fake_ps: FakePsutil, notes: list[str]) -> None:
    cpu = c.CpuCollector(fake_ps)
    first = cpu.collect(notes.append)
    assert (first["percent"], first["per_cpu_percent"], first["times_percent"]) == (None, None, None)
    assert first["per_cpu_seconds_total"] is not None  # counters need no second reading
    assert notes == ["percent, times_percent: no earlier reading yet (a share needs two)",
                     "per_cpu_percent: no earlier reading yet (a share needs two)"]
    assert cpu.collect(notes.append)["percent"] == 25.0


def test_cpu_shares_do_not_depend_on_the_thread_that_reads(fake_ps: FakePsutil, notes: list[str]) -> None:
    # psutil keeps its previous reading per thread, so a new crew thread would answer 0.0 once
    cpu = primed(fake_ps)
    with ThreadPoolExecutor(1) as other:
        sample = other.submit(cpu.collect, notes.append).result()
    assert (sample["percent"], sample["per_cpu_percent"]) == (25.0, [20.0, 30.0])


def test_per_cpu_shares_wait_a_sample_when_the_cpu_count_changes(fake_ps: FakePsutil,
                                                                  notes: list[str]) -> None:
    cpu = primed(fake_ps)
    fake_ps.cpu_per_core = [20.0, 30.0, 40.0]  # a CPU brought online
    sample = cpu.collect(notes.append)
    assert sample["per_cpu_percent"] is None and sample["percent"] == 25.0
    assert notes == ["per_cpu_percent: the number of CPUs changed (2 -> 3): from the next sample"]
    assert cpu.collect(notes.append)["per_cpu_percent"] == [20.0, 30.0, 40.0]


def test_cpu_times_that_cannot_be_read_are_null_with_reason(fake_ps: FakePsutil, notes: list[str]) -> None:
    cpu = primed(fake_ps)
    fake_ps.failures["cpu_times_percpu"] = OSError("no /proc/stat")
    sample = cpu.collect(notes.append)
    assert sample["per_cpu_seconds_total"] is None and sample["per_cpu_percent"] is None
    assert sample["percent"] == 25.0
    assert notes == ["per_cpu_percent, per_cpu_seconds_total: OSError: no /proc/stat"]
    fake_ps.failures["cpu_times"] = OSError("no /proc/stat")
    sample = cpu.collect(notes.append)
    assert (sample["percent"], sample["times_percent"]) == (None, None)
    assert notes[1:] == ["percent, times_percent: OSError: no /proc/stat",
                         "per_cpu_percent, per_cpu_seconds_total: OSError: no /proc/stat"]


def test_cpu_unknown_physical_count_is_null_with_reason(fake_ps: FakePsutil, notes: list[str]) -> None:
    fake_ps.physical_cores = None
    cpu = primed(fake_ps).collect(notes.append)
    assert cpu["count_physical"] is None
    assert notes == ["count_physical: the platform does not report physical cores"]


def test_cpu_counts_are_read_once_and_a_failure_reported_once_per_sample(
    fake_ps: FakePsutil, notes: list[str]
) -> None:
    fake_ps.failures["cpu_count"] = OSError("no sysfs")
    cpu = primed(fake_ps)
    first = cpu.collect(notes.append)
    assert first["count_logical"] is None and first["count_physical"] is None
    assert notes == ["count_logical: OSError: no sysfs", "count_physical: OSError: no sysfs"]
    cpu.collect(notes.append)
    assert fake_ps.calls["cpu_count"] == 2  # not read again
    assert len(notes) == 4  # the reasons stay in every sample while the fields are null


def test_cpu_prime_starts_every_delta(fake_ps: FakePsutil) -> None:
    cpu = c.CpuCollector(fake_ps)
    cpu.prime()
    assert fake_ps.calls["cpu_times"] == 2 and fake_ps.calls["cpu_times_percpu"] == 1
    assert cpu.collect([].append)["percent"] == 25.0


def test_frequency_missing_is_null_with_reason(fake_ps: FakePsutil, notes: list[str]) -> None:
    fake_ps.freq = None
    assert c.CpuFrequencyCollector(fake_ps).collect(notes.append) == {"frequency_mhz": None}
    assert notes == ["the platform does not report a CPU frequency"]
    fake_ps.freq = CpuFreq(1234.56, 0, 0)
    assert c.CpuFrequencyCollector(fake_ps).collect(notes.append) == {"frequency_mhz": 1234.6}


def test_no_swap_means_percent_is_undefined(fake_ps: FakePsutil, notes: list[str]) -> None:
    fake_ps.swap = Swap(0, 0, 0, 0.0, 0, 0)
    swap = c.SwapCollector(fake_ps).collect(notes.append)
    assert swap == {"total_bytes": 0, "used_bytes": 0, "free_bytes": 0, "percent": None}
    assert "no swap" in notes[0]


MEMINFO = """MemTotal:        4005260 kB
MemFree:          143436 kB
SwapCached:         1024 kB
SwapTotal:       2097148 kB
SwapFree:        1572860 kB
Zswap:                 0 kB
"""


def test_swap_is_read_from_meminfo_with_psutils_arithmetic(tmp_path: Path, fake_ps: FakePsutil,
                                                           notes: list[str]) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(MEMINFO)
    swap = c.SwapCollector(fake_ps, meminfo).collect(notes.append)
    used = (2097148 - 1572860) * 1024
    assert swap == {"total_bytes": 2097148 * 1024, "used_bytes": used, "free_bytes": 1572860 * 1024,
                    "percent": round(used / (2097148 * 1024) * 100, 1)}
    assert swap["percent"] == 25.0 and notes == [] and "swap_memory" not in fake_ps.calls
    meminfo.write_text("MemTotal:        4005260 kB\nMemFree:          143436 kB\n")  # built without swap
    swap = c.SwapCollector(fake_ps, meminfo).collect(notes.append)
    assert swap == {"total_bytes": 0, "used_bytes": 0, "free_bytes": 0, "percent": None}
    assert notes == ["no swap space is configured: percent is undefined"]


def test_swap_without_meminfo_is_psutils(tmp_path: Path, fake_ps: FakePsutil, notes: list[str]) -> None:
    swap = c.SwapCollector(fake_ps, tmp_path / "no-meminfo").collect(notes.append)
    assert swap == {"total_bytes": 2 * 2**30, "used_bytes": 2**30, "free_bytes": 2**30, "percent": 50.0}


def test_disks_skip_images_and_bind_mounts_and_report_unreadable(
    fake_ps: FakePsutil, notes: list[str]
) -> None:
    fake_ps.partitions = [
        Partition("/dev/sda1", "/etc/hosts", "ext4", "rw"),  # a bind mount of the root device
        Partition("/dev/sda1", "/", "ext4", "rw"),
        Partition("/dev/loop3", "/snap/core/1", "squashfs", "ro"),
        Partition("/dev/sdb1", "/data", "xfs", "rw"),
        Partition("server:/x", "/mnt/nfs", "nfs4", "rw"),  # not readable: no usage entry
    ]
    fake_ps.usage["/data"] = Usage(10, 5, 5, 50.0)
    disks = c.DiskUsageCollector(fake_ps).collect(notes.append)
    assert [d["mountpoint"] for d in disks] == ["/", "/data"]
    assert disks[0] == {"mountpoint": "/", "device": "/dev/sda1", "fstype": "ext4",
                        "total_bytes": 100 * 2**30, "used_bytes": 40 * 2**30,
                        "free_bytes": 60 * 2**30, "percent": 40.0}
    assert len(notes) == 1 and notes[0].startswith("/mnt/nfs: PermissionError")


def test_disk_io_first_reading_is_null_then_rates(fake_ps: FakePsutil, notes: list[str]) -> None:
    now = [0.0]
    disk_io = c.DiskIOCollector(fake_ps, monotonic=lambda: now[0], whole_disk=lambda _: True)
    first = disk_io.collect(notes.append)
    assert {v for k, v in first.items() if k != "devices"} == {None}
    assert first["devices"] == [{"name": "sda", "read_bytes_per_s": None, "write_bytes_per_s": None,
                                 "read_bytes_total": 1_000_000, "write_bytes_total": 500_000,
                                 "read_ops_total": 100, "write_ops_total": 50, "busy_seconds_total": None}]
    fake_ps.disks = {"sda": DiskIO(300, 60, 3_000_000, 700_000, busy_time=1500)}
    now[0] = 2.0
    assert disk_io.collect(notes.append) == {
        "read_bytes_per_s": 1_000_000.0, "write_bytes_per_s": 100_000.0,
        "read_ops_per_s": 100.0, "write_ops_per_s": 5.0,
        "devices": [{"name": "sda", "read_bytes_per_s": 1_000_000.0, "write_bytes_per_s": 100_000.0,
                     "read_bytes_total": 3_000_000, "write_bytes_total": 700_000,
                     "read_ops_total": 300, "write_ops_total": 60, "busy_seconds_total": 1.5}],
    }


def test_disk_io_ignores_partitions_in_totals(fake_ps: FakePsutil, notes: list[str]) -> None:
    now = [0.0]
    disk_io = c.DiskIOCollector(fake_ps, monotonic=lambda: now[0], whole_disk=lambda n: n == "sda")
    fake_ps.disks = {"sda": DiskIO(0, 0, 0, 0), "sda1": DiskIO(0, 0, 0, 0)}
    disk_io.collect(notes.append)
    fake_ps.disks = {"sda": DiskIO(0, 0, 1000, 0), "sda1": DiskIO(0, 0, 1000, 0)}
    now[0] = 1.0
    section = disk_io.collect(notes.append)
    assert section["read_bytes_per_s"] == 1000.0
    assert [d["name"] for d in section["devices"]] == ["sda"]  # the partition's counters count twice


def test_is_whole_disk_reads_sys_block(tmp_path: Path) -> None:
    (tmp_path / "sda").mkdir()
    (tmp_path / "cciss!c0d0").mkdir()
    assert c.is_whole_disk("sda", str(tmp_path))
    assert c.is_whole_disk("cciss/c0d0", str(tmp_path))
    assert not c.is_whole_disk("sda1", str(tmp_path))
    for name in ("loop0", "zram0", "ram1"):  # their I/O is counted elsewhere, or is memory
        (tmp_path / name).mkdir()
        assert not c.is_whole_disk(name, str(tmp_path))
    assert c.is_whole_disk("disk0", str(tmp_path / "absent"))  # not Linux: trust psutil


def test_network_total_excludes_loopback(fake_ps: FakePsutil, notes: list[str]) -> None:
    now = [0.0]
    net = c.NetworkCollector(fake_ps, monotonic=lambda: now[0])
    first = net.collect(notes.append)
    assert first["sent_bytes_per_s"] is None and first["recv_bytes_per_s"] is None
    assert [i["sent_bytes_per_s"] for i in first["interfaces"]] == [None, None]
    fake_ps.nics = {"eth0": NetIO(12_000, 26_000, 12, 25, 1, 2, 3, 4), "lo": NetIO(105_000, 105_000, 0, 0)}
    now[0] = 2.0
    second = net.collect(notes.append)
    assert second["sent_bytes_per_s"] == 1000.0 and second["recv_bytes_per_s"] == 3000.0
    eth0, lo = second["interfaces"]
    assert eth0 == {"name": "eth0", "is_up": True, "is_loopback": False,
                    "sent_bytes_per_s": 1000.0, "recv_bytes_per_s": 3000.0,
                    "sent_bytes_total": 12_000, "recv_bytes_total": 26_000,
                    "sent_packets_total": 12, "recv_packets_total": 25,
                    "sent_errors_total": 2, "recv_errors_total": 1,
                    "sent_drops_total": 4, "recv_drops_total": 3}
    assert lo["is_loopback"] and lo["sent_bytes_per_s"] == 50_000.0


def test_network_without_link_state_still_measures(fake_ps: FakePsutil, notes: list[str]) -> None:
    fake_ps.failures["net_if_stats"] = OSError("no netlink")
    net = c.NetworkCollector(fake_ps).collect(notes.append)
    assert [i["is_up"] for i in net["interfaces"]] == [None, None]
    assert [i["is_loopback"] for i in net["interfaces"]] == [False, True]  # by name
    assert notes == ["interface state: OSError: no netlink"]


def test_sensors(fake_ps: FakePsutil, notes: list[str]) -> None:
    assert c.SensorsCollector(fake_ps).collect(notes.append) == {
        "temperatures": [{"label": "coretemp Core 0", "current_celsius": 45.0, "high_celsius": 80.0}]
    }
    fake_ps.temperatures = {}
    assert c.SensorsCollector(fake_ps).collect(notes.append) == {"temperatures": []}
    assert notes == []


def test_sensors_api_missing_is_null_with_reason(notes: list[str]) -> None:
    class NoSensors:
        pass

    assert c.SensorsCollector(NoSensors()).collect(notes.append) == {"temperatures": None}  # type: ignore[arg-type]
    assert notes == ["temperature sensors are not supported on this platform"]


def test_process_cpu_is_null_until_seen_twice(fake_ps: FakePsutil) -> None:
    procs = c.ProcessCollector(fake_ps)
    first = procs.scan()
    assert [p["cpu_percent"] for p in first] == [None, None, None]
    fake_ps.procs.append(proc_info(99, "new", cpu=0.0, mem=0.0))
    second = {p["pid"]: p for p in procs.scan()}
    assert second[42]["cpu_percent"] == 80.0
    assert second[99]["cpu_percent"] is None  # psutil's first reading of a process is a meaningless 0.0
    assert second[42]["memory_rss_bytes"] == 42 * 2**20


def test_process_rows_never_carry_command_lines(fake_ps: FakePsutil) -> None:
    row = c.ProcessCollector(fake_ps).scan()[0]
    assert set(row) == {"pid", "name", "username", "status", "cpu_percent", "memory_percent",
                        "memory_rss_bytes", "num_threads", "create_time"}


def test_access_denied_process_fields_are_null(fake_ps: FakePsutil) -> None:
    fake_ps.procs = [dict(proc_info(7, "secret", cpu=None, mem=None), memory_info=None, username=None)]
    row = c.ProcessCollector(fake_ps).scan()[0]
    assert row["memory_rss_bytes"] is None and row["username"] is None and row["pid"] == 7


def test_top_by_puts_unknown_last() -> None:
    rows = [{"v": None}, {"v": 1.0}, {"v": 3.0}, {"v": 0.0}]
    assert [r["v"] for r in c.top_by(rows, "v", 3)] == [3.0, 1.0, 0.0]


def eth0_up(network: dict[str, Any]) -> bool | None:
    return next(i["is_up"] for i in network["interfaces"] if i["name"] == "eth0")


def test_link_state_is_read_every_5_s_and_at_once_for_a_new_interface(fake_ps: FakePsutil,
                                                                       notes: list[str]) -> None:
    now = [0.0]
    net = c.NetworkCollector(fake_ps, monotonic=lambda: now[0])
    net.collect(notes.append)
    assert fake_ps.calls["net_if_stats"] == 1
    eth0 = fake_ps.nic_stats["eth0"]
    fake_ps.nic_stats["eth0"] = eth0._replace(isup=False)
    now[0] = 4.0
    assert eth0_up(net.collect(notes.append)) is True  # kept
    assert fake_ps.calls["net_if_stats"] == 1
    now[0] = 5.0
    assert eth0_up(net.collect(notes.append)) is False  # read again
    assert fake_ps.calls["net_if_stats"] == 2
    fake_ps.nics["wlan0"] = NetIO(1, 1, 1, 1)
    fake_ps.nic_stats["wlan0"] = eth0
    now[0] = 6.0
    wlan0 = next(i for i in net.collect(notes.append)["interfaces"] if i["name"] == "wlan0")
    assert wlan0["is_up"] is True and fake_ps.calls["net_if_stats"] == 3  # a new one: at once
    assert notes == []


def test_link_state_that_failed_is_tried_again_on_the_next_sample(fake_ps: FakePsutil,
                                                                  notes: list[str]) -> None:
    now = [0.0]
    net = c.NetworkCollector(fake_ps, monotonic=lambda: now[0])
    fake_ps.failures["net_if_stats"] = OSError("no netlink")
    assert [i["is_up"] for i in net.collect(notes.append)["interfaces"]] == [None, None]
    del fake_ps.failures["net_if_stats"]
    now[0] = 1.0
    assert [i["is_up"] for i in net.collect(notes.append)["interfaces"]] == [True, True]
    assert notes == ["interface state: OSError: no netlink"]


def test_the_boot_time_is_read_once_a_minute_and_uptime_every_sample(fake_ps: FakePsutil,
                                                                      notes: list[str]) -> None:
    wall, mono = [fake_ps.boot + 100.0], [0.0]
    host = c.HostCollector(fake_ps, clock=lambda: wall[0], monotonic=lambda: mono[0])
    assert host.collect(notes.append)["uptime_seconds"] == 100.0
    wall[0] += 59.0
    mono[0] += 59.0
    fake_ps.boot += 30.0  # the wall clock was set: psutil's boot time moves
    assert host.collect(notes.append)["uptime_seconds"] == 159.0  # kept boot time, fresh uptime
    assert fake_ps.calls["boot_time"] == 1
    mono[0] += 1.0
    assert host.collect(notes.append)["boot_time"] == fake_ps.boot  # a minute on: read again
    assert fake_ps.calls["boot_time"] == 2 and notes == []


MEMORY = ("MemTotal:        4005260 kB\nMemFree:          143436 kB\nMemAvailable:    1001315 kB\n"
          "Buffers: 5 kB\n")


def test_memory_is_read_from_meminfo_with_psutils_arithmetic(tmp_path: Path, fake_ps: FakePsutil,
                                                             notes: list[str]) -> None:
    fake_ps.LINUX = True  # type: ignore[attr-defined]  # as the real psutil on Linux
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(MEMORY)
    memory = c.MemoryCollector(fake_ps, meminfo).collect(notes.append)  # type: ignore[arg-type]
    used = (4005260 - 1001315) * 1024
    assert memory == {"total_bytes": 4005260 * 1024, "available_bytes": 1001315 * 1024, "used_bytes": used,
                      "free_bytes": 143436 * 1024, "percent": 75.0}
    assert notes == [] and "virtual_memory" not in fake_ps.calls
    meminfo.write_text(MEMORY.replace("1001315", "9999999"))  # more than the total: a container's view
    memory = c.MemoryCollector(fake_ps, meminfo).collect(notes.append)  # type: ignore[arg-type]
    assert memory["available_bytes"] == memory["free_bytes"] == 143436 * 1024  # psutil takes free then


@pytest.mark.parametrize("available", ["MemAvailable:  0 kB\n", ""])  # a kernel bug; before Linux 3.14
def test_memory_without_a_usable_available_line_is_psutils_estimate(
        tmp_path: Path, fake_ps: FakePsutil, notes: list[str], available: str) -> None:
    fake_ps.LINUX = True  # type: ignore[attr-defined]
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:        4005260 kB\nMemFree:          143436 kB\n" + available)
    memory = c.MemoryCollector(fake_ps, meminfo).collect(notes.append)  # type: ignore[arg-type]
    assert "virtual_memory" in fake_ps.calls
    assert memory["total_bytes"] == fake_ps.virtual_memory().total  # the fake's numbers, not the file's
