"""Collectors: one small reader per metric group, over an injected psutil module (see ``base``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType

from perfmon.sampling.collectors.base import Clock, Collector, Note, describe_error, read_field, round_or_none
from perfmon.sampling.collectors.cpu import CpuCollector, CpuFrequencyCollector, LoadCollector
from perfmon.sampling.collectors.disks import DiskIOCollector, DiskUsageCollector, is_whole_disk
from perfmon.sampling.collectors.host import HostCollector
from perfmon.sampling.collectors.memory import MemoryCollector, SwapCollector
from perfmon.sampling.collectors.network import NetworkCollector
from perfmon.sampling.collectors.processes import TOP_PROCESSES, ProcessCollector, top_by
from perfmon.sampling.collectors.sensors import SensorsCollector

__all__ = [
    "TOP_PROCESSES", "Collector", "CpuCollector", "CpuFrequencyCollector", "DiskIOCollector",
    "DiskUsageCollector", "HostCollector", "LoadCollector", "MemoryCollector", "NetworkCollector",
    "Note", "ProcessCollector", "SensorsCollector", "SwapCollector", "default_collectors",
    "describe_error", "is_whole_disk", "read_field", "round_or_none", "top_by",
]


def default_collectors(
    ps: ModuleType,
    *,
    clock: Clock = time.time,
    monotonic: Clock = time.monotonic,
    whole_disk: Callable[[str], bool] = is_whole_disk,
) -> list[Collector]:
    """The collectors of a normal sample, in the order they run."""
    return [
        HostCollector(ps, clock=clock),
        CpuCollector(ps),
        LoadCollector(ps),
        CpuFrequencyCollector(ps),
        MemoryCollector(ps),
        SwapCollector(ps),
        DiskUsageCollector(ps),
        DiskIOCollector(ps, monotonic=monotonic, whole_disk=whole_disk),
        NetworkCollector(ps, monotonic=monotonic),
        SensorsCollector(ps),
    ]
