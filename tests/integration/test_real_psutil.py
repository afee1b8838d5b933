"""Invariants of samples taken from this machine with the real psutil."""

from __future__ import annotations

import json
import time

import psutil
import pytest

from perfmon.api.app import Monitor
from perfmon.settings import ServerConfig


@pytest.fixture(scope="module")
def samples() -> list[dict]:
    """Two consecutive real samples, 0.5 s apart."""
    sampler = Monitor.build(ServerConfig(interval_seconds=0.5)).sampler
    sampler.prime()
    time.sleep(0.5)
    taken = []
    for _ in range(2):
        snapshot, _ = sampler.collect()
        taken.append(json.loads(snapshot.body))
        time.sleep(0.5)
    return taken


def percent_or_none(value: object) -> bool:
    return value is None or (isinstance(value, (int, float)) and 0 <= value <= 100)


def test_cpu_invariants(samples: list[dict]) -> None:
    cpu = samples[-1]["cpu"]
    assert 0 <= cpu["percent"] <= 100
    assert len(cpu["per_cpu_percent"]) == cpu["count_logical"] == psutil.cpu_count()
    assert all(0 <= p <= 100 for p in cpu["per_cpu_percent"])
    assert cpu["count_physical"] is None or 1 <= cpu["count_physical"] <= cpu["count_logical"]
    assert len(cpu["load_average"]) == 3 and all(x >= 0 for x in cpu["load_average"])
    assert 95 <= sum(cpu["times_percent"].values()) - cpu["times_percent"].get("guest", 0) \
        - cpu["times_percent"].get("guest_nice", 0) <= 105


def test_memory_and_swap_invariants(samples: list[dict]) -> None:
    memory, swap = samples[-1]["memory"], samples[-1]["swap"]
    assert 0 < memory["available_bytes"] <= memory["total_bytes"]
    assert 0 < memory["used_bytes"] <= memory["total_bytes"]
    assert 0 <= memory["percent"] <= 100
    assert swap["used_bytes"] <= swap["total_bytes"]
    assert (swap["percent"] is None) == (swap["total_bytes"] == 0)
    if swap["percent"] is None:
        assert any(e["collector"] == "swap" for e in samples[-1]["errors"])


def test_disks_invariants(samples: list[dict]) -> None:
    disks = samples[-1]["disks"]
    assert disks, "a machine running tests has at least one real filesystem"
    for disk in disks:
        assert disk["used_bytes"] <= disk["total_bytes"] and 0 <= disk["percent"] <= 100
    assert len({d["device"] for d in disks}) == len(disks)


def test_rates_are_null_first_then_non_negative(samples: list[dict]) -> None:
    first, second = samples
    for section in ("disk_io", "network"):
        values = [v for k, v in first[section].items() if k.endswith("_per_s")]
        assert values == [None] * len(values)
    network = second["network"]
    rates = [v for k, v in second["disk_io"].items() if k.endswith("_per_s")]
    for value in [*rates, network["sent_bytes_per_s"], network["recv_bytes_per_s"]]:
        assert value is None or value >= 0
    assert second["seq"] == first["seq"] + 1 and second["timestamp"] > first["timestamp"]


def test_counters_are_the_kernels_and_never_go_down(samples: list[dict]) -> None:
    first, second = samples
    cpus = second["cpu"]["per_cpu_seconds_total"]
    assert len(cpus) == second["cpu"]["count_logical"] and all(cpu["idle"] > 0 for cpu in cpus)
    for before, after in zip(first["cpu"]["per_cpu_seconds_total"], cpus, strict=True):
        assert all(after[mode] >= before[mode] for mode in before)
    counters = [(a, b) for section, rows in (("disk_io", "devices"), ("network", "interfaces"))
                for a, b in zip(first[section][rows], second[section][rows], strict=True)]
    assert counters, "a machine running tests has a disk or an interface"
    for before, after in counters:
        assert before["name"] == after["name"]
        assert all(after[k] >= before[k] for k in before if k.endswith("_total") and before[k] is not None)
    lo = next(i for i in second["network"]["interfaces"] if i["is_loopback"])
    assert lo["recv_bytes_total"] > 0 and lo["recv_packets_total"] > 0


def test_processes_and_host(samples: list[dict]) -> None:
    sample = samples[-1]
    assert sample["processes"]["count"] > 1
    assert 0 < len(sample["processes"]["top_cpu"]) <= 5
    assert all(percent_or_none(p["memory_percent"]) for p in sample["processes"]["top_cpu"])
    assert sample["host"]["uptime_seconds"] > 0 and sample["host"]["hostname"]
    assert isinstance(sample["sensors"]["temperatures"], list) or any(
        e["collector"] == "sensors" for e in sample["errors"])


def test_a_sample_costs_little(samples: list[dict]) -> None:
    # Not a timing assertion: the serialised sample stays small enough to poll every second.
    assert len(json.dumps(samples[-1])) < 64 * 1024


def test_swap_read_from_meminfo_is_psutils() -> None:
    from perfmon.sampling.collectors.memory import SwapCollector

    notes: list[str] = []
    ours, theirs = SwapCollector(psutil).collect(notes.append), psutil.swap_memory()
    assert ours["total_bytes"] == theirs.total  # free and used move; the total does not
    assert abs(ours["free_bytes"] - theirs.free) <= theirs.total // 100
    if theirs.total:
        assert abs(ours["percent"] - theirs.percent) <= 1.0
    else:
        assert ours["percent"] is None and "no swap space is configured" in notes[0]
    assert ours["used_bytes"] == ours["total_bytes"] - ours["free_bytes"]


def brackets(before: tuple, ours: tuple, after: tuple) -> bool:
    """Every counter of ``ours`` between psutil's reading before it and after it (counters only grow)."""
    return all(b <= o <= a for b, o, a in zip(before, ours, after, strict=True))


def test_cpu_times_read_from_proc_stat_are_psutils() -> None:
    import os

    from perfmon.sampling.collectors.kernel_files import read_cpu_times, readable

    stat = readable(psutil, "/proc/stat")
    assert stat is not None  # the real psutil on Linux: the collector reads the file
    before, before_per_cpu = psutil.cpu_times(), psutil.cpu_times(percpu=True)
    total, per_cpu = read_cpu_times(stat, type(before), os.sysconf("SC_CLK_TCK"))
    after, after_per_cpu = psutil.cpu_times(), psutil.cpu_times(percpu=True)
    assert type(total) is type(before)  # psutil's own tuple: the same modes, the same JSON keys
    assert brackets(before, total, after)
    assert len(per_cpu) == len(before_per_cpu) == psutil.cpu_count()
    assert all(brackets(*cpu) for cpu in zip(before_per_cpu, per_cpu, after_per_cpu, strict=True))


def test_disk_counters_read_from_proc_diskstats_are_psutils() -> None:
    from perfmon.sampling.collectors.kernel_files import read_disk_counters

    before = psutil.disk_io_counters(perdisk=True, nowrap=False)
    ours = read_disk_counters("/proc/diskstats")
    after = psutil.disk_io_counters(perdisk=True, nowrap=False)
    assert set(ours) == set(before) == set(after)  # no disk came or went in between, here
    for name, counters in ours.items():
        assert counters._fields == before[name]._fields
        assert brackets(before[name], counters, after[name]), name


def test_net_counters_read_from_proc_net_dev_are_psutils() -> None:
    from perfmon.sampling.collectors.kernel_files import read_net_counters

    before = psutil.net_io_counters(pernic=True, nowrap=False)
    ours = read_net_counters("/proc/net/dev")
    after = psutil.net_io_counters(pernic=True, nowrap=False)
    assert set(ours) == set(before) == set(after)
    for name, counters in ours.items():
        assert counters._fields == before[name]._fields
        assert brackets(before[name], counters, after[name]), name


def test_a_real_sample_reads_the_files_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CPU, memory, disk and network collectors of the real psutil on Linux read /proc themselves.
    config = ServerConfig(interval_seconds=0.5, collectors=("cpu", "memory", "disk_io", "network"))
    sampler = Monitor.build(config).sampler
    sampler.prime()
    for name in ("cpu_times", "virtual_memory", "disk_io_counters", "net_io_counters"):
        monkeypatch.setattr(psutil, name, lambda *a, _name=name, **k: pytest.fail(f"psutil.{_name} called"))
    sampler.collect()  # disk rates need two readings
    time.sleep(0.05)
    sample = json.loads(sampler.collect()[0].body)
    assert sample["errors"] == []
    assert 0 <= sample["cpu"]["percent"] <= 100
    assert len(sample["cpu"]["per_cpu_percent"]) == psutil.cpu_count()
    assert sample["disk_io"]["read_bytes_per_s"] is not None
    assert sample["network"]["recv_bytes_per_s"] is not None
    assert 0 < sample["memory"]["percent"] < 100


def test_memory_read_from_meminfo_is_psutils() -> None:
    from perfmon.sampling.collectors.memory import MemoryCollector

    collector = MemoryCollector(psutil, "/proc/meminfo")
    before, ours, after = psutil.virtual_memory(), collector.collect(pytest.fail), psutil.virtual_memory()
    assert ours["total_bytes"] == before.total == after.total
    for key, field in (("available_bytes", "available"), ("free_bytes", "free"), ("used_bytes", "used")):
        low, high = sorted((getattr(before, field), getattr(after, field)))
        assert low - 2**20 <= ours[key] <= high + 2**20, key  # memory moves between reads: within 1 MiB
    assert abs(ours["percent"] - before.percent) <= 0.2
