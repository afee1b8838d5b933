"""Collectors: one small reader per metric group, over an injected psutil module (see ``base``).

Which of them run, how often and with what timeout is ``perfmon.sampling.registry``'s table.
"""

from __future__ import annotations

from perfmon.sampling.collectors.base import Collector, Note, describe_error, read_field, round_or_none
from perfmon.sampling.collectors.cpu import CpuCollector, CpuFrequencyCollector, LoadCollector
from perfmon.sampling.collectors.disks import DiskIOCollector, DiskUsageCollector, is_whole_disk
from perfmon.sampling.collectors.host import HostCollector
from perfmon.sampling.collectors.memory import MemoryCollector, SwapCollector
from perfmon.sampling.collectors.network import NetworkCollector
from perfmon.sampling.collectors.processes import TOP_PROCESSES, ProcessCollector, top_by
from perfmon.sampling.collectors.sensors import BatteryCollector, FansCollector, SensorsCollector

__all__ = [
    "TOP_PROCESSES", "BatteryCollector", "Collector", "CpuCollector", "CpuFrequencyCollector",
    "DiskIOCollector", "DiskUsageCollector", "FansCollector", "HostCollector", "LoadCollector",
    "MemoryCollector", "NetworkCollector", "Note", "ProcessCollector", "SensorsCollector", "SwapCollector",
    "describe_error", "is_whole_disk", "read_field", "round_or_none", "top_by",
]
