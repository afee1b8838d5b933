"""Collectors: one small reader per metric group, over an injected psutil module.

A collector has a ``name``, the ``section`` of the sample it fills, and
``collect(note)``, which returns that section's values. A field that cannot be read
is left ``None`` and its reason passed to ``note(message)``; an exception escaping
``collect`` leaves the whole section null (the sampler records it). Collectors never
invent numbers: a rate needs two readings, so the first one is ``None``.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any, Protocol

from perfmon.rates import CounterRates

Note = Callable[[str], None]
Clock = Callable[[], float]

# Read-only images (snaps, live media) are always 100 % full: listing them is noise.
IGNORED_FSTYPES = frozenset({"squashfs", "iso9660", "udf"})
PROCESS_ATTRS = (
    "pid", "name", "username", "status", "cpu_percent", "memory_percent",
    "memory_info", "num_threads", "create_time",
)
TOP_PROCESSES = 5


class Collector(Protocol):
    """Reads one metric group."""

    name: str
    section: str

    def collect(self, note: Note) -> Any:
        """Return the section's values; report unreadable fields through ``note``."""
        ...


def describe_error(exc: BaseException, ps: ModuleType | None = None) -> str:
    """A short, human reason for a failed read."""
    if ps is not None and isinstance(exc, getattr(ps, "AccessDenied", ())):
        return "access denied (the server's user may not read this)"
    if isinstance(exc, (AttributeError, NotImplementedError)):
        return f"not supported on this platform ({exc})"
    text = str(exc) or "no details"
    return f"{type(exc).__name__}: {text}"


def read_field(note: Note, what: str, read: Callable[[], Any], ps: ModuleType | None = None) -> Any:
    """Call ``read``; on an OS or psutil error note why and return None."""
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - each field degrades alone; the reason is reported
        note(f"{what}: {describe_error(exc, ps)}")
        return None


def round_or_none(value: float | None, digits: int = 1) -> float | None:
    """Round a measured value for the wire, keeping None."""
    return None if value is None else round(value, digits)


class HostCollector:
    """Hostname, OS and uptime."""

    name = "host"
    section = "host"

    def __init__(self, ps: ModuleType, *, clock: Clock = time.time) -> None:
        self._ps = ps
        self._clock = clock
        uname = platform.uname()
        self._platform = f"{uname.system} {uname.release}".strip() or None

    def collect(self, note: Note) -> dict[str, Any]:
        """Read hostname, platform, boot time and uptime."""
        boot_time = read_field(note, "boot_time", self._ps.boot_time, self._ps)
        return {
            "hostname": platform.node() or None,
            "platform": self._platform,
            "boot_time": boot_time,
            "uptime_seconds": None if boot_time is None else round(self._clock() - boot_time, 1),
        }


class CpuCollector:
    """Total and per-core utilisation, time split and core counts."""

    name = "cpu"
    section = "cpu"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps
        self._count_logical: int | None = None
        self._count_physical: int | None = None
        self._count_notes: list[str] | None = None  # None until the counts were read

    def prime(self) -> None:
        """Start psutil's utilisation deltas so the first published value is real."""
        self._ps.cpu_percent(interval=None)
        self._ps.cpu_percent(interval=None, percpu=True)
        self._ps.cpu_times_percent(interval=None)

    def collect(self, note: Note) -> dict[str, Any]:
        """Read utilisation since the previous call and the core counts."""
        ps = self._ps
        times = read_field(note, "times_percent", lambda: ps.cpu_times_percent(interval=None), ps)
        counts = self._counts(note)
        return {
            "percent": read_field(note, "percent", lambda: ps.cpu_percent(interval=None), ps),
            "per_cpu_percent": read_field(
                note, "per_cpu_percent", lambda: ps.cpu_percent(interval=None, percpu=True), ps
            ),
            "count_logical": counts[0],
            "count_physical": counts[1],
            "times_percent": None if times is None else dict(times._asdict()),
        }

    def _counts(self, note: Note) -> tuple[int | None, int | None]:
        """Core counts never change while we run: read once, then repeat the values and reasons."""
        if self._count_notes is None:
            notes: list[str] = []
            self._count_logical = read_field(notes.append, "count_logical", self._ps.cpu_count, self._ps)
            self._count_physical = read_field(
                notes.append, "count_physical", lambda: self._ps.cpu_count(logical=False), self._ps
            )
            if self._count_physical is None and not any(n.startswith("count_physical") for n in notes):
                notes.append("count_physical: the platform does not report physical cores")
            self._count_notes = notes
        for message in self._count_notes:
            note(message)
        return self._count_logical, self._count_physical


class LoadCollector:
    """1, 5 and 15 minute load averages."""

    name = "load_average"
    section = "cpu"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps

    def collect(self, note: Note) -> dict[str, Any]:
        """Read the load averages."""
        return {"load_average": [round(x, 2) for x in self._ps.getloadavg()]}


class CpuFrequencyCollector:
    """Current CPU frequency."""

    name = "cpu_frequency"
    section = "cpu"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps

    def collect(self, note: Note) -> dict[str, Any]:
        """Read the current frequency in MHz."""
        freq = self._ps.cpu_freq()
        if freq is None or not freq.current:
            note("the platform does not report a CPU frequency")
            return {"frequency_mhz": None}
        return {"frequency_mhz": round(freq.current, 1)}


class MemoryCollector:
    """Physical memory."""

    name = "memory"
    section = "memory"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps

    def collect(self, note: Note) -> dict[str, Any]:
        """Read virtual_memory()."""
        vm = self._ps.virtual_memory()
        return {
            "total_bytes": vm.total,
            "available_bytes": vm.available,
            "used_bytes": vm.used,
            "free_bytes": vm.free,
            "percent": vm.percent,
        }


class SwapCollector:
    """Swap space; with none configured, its percent is undefined, not 0."""

    name = "swap"
    section = "swap"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps

    def collect(self, note: Note) -> dict[str, Any]:
        """Read swap_memory()."""
        sw = self._ps.swap_memory()
        percent = sw.percent
        if not sw.total:
            note("no swap space is configured: percent is undefined")
            percent = None
        return {"total_bytes": sw.total, "used_bytes": sw.used, "free_bytes": sw.free, "percent": percent}


class DiskUsageCollector:
    """Usage of each real, mounted filesystem (one row per device)."""

    name = "disks"
    section = "disks"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps

    def collect(self, note: Note) -> list[dict[str, Any]]:
        """Read disk_partitions() and disk_usage() per mountpoint."""
        rows: list[dict[str, Any]] = []
        for part in self._mounts(self._ps.disk_partitions(all=False)):
            try:
                usage = self._ps.disk_usage(part.mountpoint)
            except OSError as exc:  # unmounted meanwhile, permission, stale NFS handle
                note(f"{part.mountpoint}: {describe_error(exc, self._ps)}")
                continue
            rows.append({
                "mountpoint": part.mountpoint,
                "device": part.device,
                "fstype": part.fstype,
                "total_bytes": usage.total,
                "used_bytes": usage.used,
                "free_bytes": usage.free,
                "percent": usage.percent,
            })
        return rows

    @staticmethod
    def _mounts(partitions: Iterable[Any]) -> list[Any]:
        """One mount per device, the shortest mountpoint: bind mounts repeat the same usage."""
        chosen: dict[str, Any] = {}
        for part in partitions:
            if part.fstype in IGNORED_FSTYPES:
                continue
            best = chosen.get(part.device)
            if best is None or len(part.mountpoint) < len(best.mountpoint):
                chosen[part.device] = part
        return sorted(chosen.values(), key=lambda p: p.mountpoint)


def is_whole_disk(name: str, sys_block: str = "/sys/block") -> bool:
    """True unless ``name`` is a partition: totals must not count a partition and its disk."""
    if not os.path.isdir(sys_block):  # not Linux: psutil lists whole disks only
        return True
    return os.path.exists(os.path.join(sys_block, name.replace("/", "!")))


class DiskIOCollector:
    """Disk throughput and operations per second, summed over whole disks."""

    name = "disk_io"
    section = "disk_io"
    FIELDS = ("read_bytes", "write_bytes", "read_count", "write_count")

    def __init__(
        self, ps: ModuleType, *, monotonic: Clock = time.monotonic,
        whole_disk: Callable[[str], bool] = is_whole_disk,
    ) -> None:
        self._ps = ps
        self._monotonic = monotonic
        self._whole_disk = whole_disk
        self._is_whole: dict[str, bool] = {}  # a name's kind never changes: stat it once
        self._rates = CounterRates(len(self.FIELDS))

    def collect(self, note: Note) -> dict[str, Any]:
        """Read per-disk counters and turn their deltas into rates."""
        per_disk = self._ps.disk_io_counters(perdisk=True) or {}
        now = self._monotonic()
        for name in per_disk.keys() - self._is_whole.keys():
            self._is_whole[name] = self._whole_disk(name)
        counters = {
            name: tuple(getattr(c, f) for f in self.FIELDS)
            for name, c in per_disk.items() if self._is_whole[name]
        }
        totals = self._rates.update(counters, now, note)
        names = ("read_bytes_per_s", "write_bytes_per_s", "read_ops_per_s", "write_ops_per_s")
        return {n: round_or_none(v) for n, v in zip(names, totals, strict=True)}


class NetworkCollector:
    """Network throughput per interface and in total (loopback excluded from the total)."""

    name = "network"
    section = "network"

    def __init__(self, ps: ModuleType, *, monotonic: Clock = time.monotonic) -> None:
        self._ps = ps
        self._monotonic = monotonic
        self._rates = CounterRates(2)

    def collect(self, note: Note) -> dict[str, Any]:
        """Read per-interface counters and link state."""
        per_nic = self._ps.net_io_counters(pernic=True) or {}
        now = self._monotonic()
        stats = read_field(note, "interface state", self._ps.net_if_stats, self._ps) or {}
        loopback = {name for name in per_nic if _is_loopback(name, stats.get(name))}
        counters = {name: (c.bytes_sent, c.bytes_recv) for name, c in per_nic.items()}
        per_name = self._rates.update(counters, now, note, exclude_from_total=loopback)
        interfaces = []
        for name in sorted(per_nic):
            sent, recv = self._rates.last.get(name, (None, None))
            stat = stats.get(name)
            interfaces.append({
                "name": name,
                "is_up": None if stat is None else bool(stat.isup),
                "is_loopback": name in loopback,
                "sent_bytes_per_s": round_or_none(sent),
                "recv_bytes_per_s": round_or_none(recv),
            })
        return {
            "sent_bytes_per_s": round_or_none(per_name[0]),
            "recv_bytes_per_s": round_or_none(per_name[1]),
            "interfaces": interfaces,
        }


def _is_loopback(name: str, stat: Any) -> bool:
    flags = getattr(stat, "flags", "") or ""
    return "loopback" in flags.split(",") or name in ("lo", "lo0")


class SensorsCollector:
    """Temperature sensors; an empty list where the host has none."""

    name = "sensors"
    section = "sensors"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps

    def collect(self, note: Note) -> dict[str, Any]:
        """Read sensors_temperatures()."""
        read = getattr(self._ps, "sensors_temperatures", None)
        if read is None:
            note("temperature sensors are not supported on this platform")
            return {"temperatures": None}
        temperatures = []
        for chip, entries in sorted(read(fahrenheit=False).items()):
            for i, entry in enumerate(entries):
                if entry.label:
                    label = f"{chip} {entry.label}"
                else:
                    label = chip if len(entries) == 1 else f"{chip} {i}"
                temperatures.append({
                    "label": label,
                    "current_celsius": entry.current,
                    "high_celsius": entry.high,
                })
        return {"temperatures": temperatures}


class ProcessCollector:
    """The process table: the expensive group, scanned on its own slower cadence."""

    name = "processes"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps
        self._seen: set[tuple[int, float | None]] = set()

    def prime(self) -> None:
        """Start psutil's per-process CPU deltas."""
        self.scan()

    def scan(self) -> list[dict[str, Any]]:
        """One row per live process; cpu_percent is None for a process seen for the first time."""
        rows = []
        seen: set[tuple[int, float | None]] = set()
        for proc in self._ps.process_iter(attrs=list(PROCESS_ATTRS), ad_value=None):
            info = proc.info
            key = (info["pid"], info["create_time"])
            seen.add(key)
            cpu = info["cpu_percent"] if key in self._seen else None  # psutil's first read is 0.0
            mem = info["memory_info"]
            rows.append({
                "pid": info["pid"],
                "name": info["name"],
                "username": info["username"],
                "status": info["status"],
                "cpu_percent": round_or_none(cpu),
                "memory_percent": round_or_none(info["memory_percent"], 2),
                "memory_rss_bytes": None if mem is None else mem.rss,
                "num_threads": info["num_threads"],
                "create_time": info["create_time"],
            })
        self._seen = seen
        return rows


def top_by(rows: Iterable[Mapping[str, Any]], field: str, limit: int) -> list[Mapping[str, Any]]:
    """The ``limit`` rows with the highest ``field``, unknown values last."""
    return sorted(rows, key=lambda r: (r[field] is not None, r[field] or 0), reverse=True)[:limit]


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
