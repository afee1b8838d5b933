"""The collector registry: every collector's name, default on/off, cadence and timeout, in one table.

As node_exporter's ``registerCollector``, one line makes a collector: ``--collectors`` can switch
it on or off by that name, the sampler runs it on its cadence with its timeout (a hung one is
held to its own thread), and ``/metrics`` and ``/api/health`` report its last duration and
success. The table is plain data, read when a sampler is built; nothing registers itself at
import time.

Cadence ``None`` means every sample. A timeout is how long one run may take before the samples
say "timed out after N s" and leave its fields null (see ``perfmon.sampling.slot``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from perfmon.sampling.collectors import (
    BatteryCollector,
    CpuCollector,
    CpuFrequencyCollector,
    DiskIOCollector,
    DiskUsageCollector,
    FansCollector,
    HostCollector,
    LoadCollector,
    MemoryCollector,
    NetworkCollector,
    SensorsCollector,
    SwapCollector,
    is_whole_disk,
)
from perfmon.sampling.collectors.base import Clock, Collector
from perfmon.sampling.collectors.pressure import PressureCollector
from perfmon.sampling.collectors.process_scan import ProcessScan

DEFAULT_TIMEOUT_SECONDS = 2.0
PROCESS_TIMEOUT_SECONDS = 10.0  # a scan of thousands of processes takes a while; it keeps its last table
# Filesystem space, temperatures, fans, the battery and clock speeds move slowly and are among the
# dearest reads (a statfs per mount, a walk of /sys/class/hwmon or power_supply, a file per core): read
# every 5 s, as the process table, and shown as last read between (as node_exporter's textfile or
# Netdata's slower plugins).
SLOW_SECONDS = 5.0


@dataclass(frozen=True)
class Sources:
    """What collectors read from, injected: psutil (or a fake), the clocks, the disk test, the /proc tree."""

    ps: ModuleType
    clock: Clock = time.time
    monotonic: Clock = time.monotonic
    whole_disk: Callable[[str], bool] = is_whole_disk
    procfs: Path = Path("/proc")  # files read beside psutil (tests give a recorded tree)


@dataclass(frozen=True)
class Registration:
    """One collector: its name, whether it runs unless switched off, its cadence and its timeout."""

    name: str
    make: Callable[[Sources], Collector] = field(repr=False)
    enabled_by_default: bool = True
    cadence_seconds: float | None = None  # None: every sample
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


@dataclass(frozen=True)
class Scheduled:
    """A built collector with the cadence and timeout it runs on."""

    collector: Collector
    cadence_seconds: float | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


REGISTRY: tuple[Registration, ...] = (  # in the order their values are merged into a sample
    Registration("host", lambda s: HostCollector(s.ps, clock=s.clock, monotonic=s.monotonic)),
    Registration("cpu", lambda s: CpuCollector(s.ps, s.procfs / "stat")),
    Registration("load_average", lambda s: LoadCollector(s.ps)),
    Registration("cpu_frequency", lambda s: CpuFrequencyCollector(s.ps), cadence_seconds=SLOW_SECONDS),
    Registration("memory", lambda s: MemoryCollector(s.ps, s.procfs / "meminfo")),
    Registration("swap", lambda s: SwapCollector(s.ps, s.procfs / "meminfo")),
    Registration("disks", lambda s: DiskUsageCollector(s.ps), cadence_seconds=SLOW_SECONDS),
    Registration("disk_io", lambda s: DiskIOCollector(s.ps, monotonic=s.monotonic, whole_disk=s.whole_disk,
                                                      diskstats=s.procfs / "diskstats")),
    Registration("network", lambda s: NetworkCollector(s.ps, monotonic=s.monotonic,
                                                       dev=s.procfs / "net" / "dev")),
    Registration("sensors", lambda s: SensorsCollector(s.ps), cadence_seconds=SLOW_SECONDS),
    Registration("pressure", lambda s: PressureCollector(s.procfs / "pressure")),
    Registration("fans", lambda s: FansCollector(s.ps), cadence_seconds=SLOW_SECONDS),
    Registration("battery", lambda s: BatteryCollector(s.ps), cadence_seconds=SLOW_SECONDS),
    Registration("processes", lambda s: ProcessScan(s.ps, clock=s.clock), cadence_seconds=5.0,
                 timeout_seconds=PROCESS_TIMEOUT_SECONDS),
)


class UnknownCollector(ValueError):
    """A collector name that is not registered."""


def names(registry: Sequence[Registration] = REGISTRY) -> tuple[str, ...]:
    """Every registered collector's name, in registry order."""
    return tuple(r.name for r in registry)


def enabled_names(spec: Sequence[str] = (), registry: Sequence[Registration] = REGISTRY) -> frozenset[str]:
    """The collectors ``spec`` turns on: a plain list names all of them; ``+x``/``-x`` change the defaults."""
    known = names(registry)
    chosen = {r.name for r in registry if r.enabled_by_default}
    if any(item[:1] not in "+-" for item in spec):
        chosen = set()
    for item in spec:
        name = item.lstrip("+-")
        if name not in known:
            raise UnknownCollector(f"unknown collector {name!r}; the collectors are: {', '.join(known)}")
        if item.startswith("-"):
            chosen.discard(name)
        else:
            chosen.add(name)
    return frozenset(chosen)


def build(sources: Sources, enabled: Collection[str], *, registry: Sequence[Registration] = REGISTRY,
          cadences: Mapping[str, float] | None = None) -> list[Scheduled]:
    """The enabled collectors, built over ``sources``; ``cadences`` overrides registered ones by name."""
    unknown = set(enabled) - set(names(registry))
    if unknown:
        raise UnknownCollector(f"unknown collector {sorted(unknown)[0]!r}; the collectors are: "
                               f"{', '.join(names(registry))}")
    cadences = cadences or {}
    return [Scheduled(r.make(sources), cadences.get(r.name, r.cadence_seconds), r.timeout_seconds)
            for r in registry if r.name in enabled]
