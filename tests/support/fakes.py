"""A fake psutil module for unit tests: every reading is set by the test, any call can fail."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import psutil

CpuTimes = namedtuple("CpuTimes", "user system idle iowait")
CpuFreq = namedtuple("CpuFreq", "current min max")
VirtualMemory = namedtuple("VirtualMemory", "total available percent used free")
Swap = namedtuple("Swap", "total used free percent sin sout")
Partition = namedtuple("Partition", "device mountpoint fstype opts")
Usage = namedtuple("Usage", "total used free percent")
CpuSeconds = namedtuple("CpuSeconds", "user system idle iowait")
# busy_time None stands for a platform that does not count it (psutil leaves the field out there)
DiskIO = namedtuple("DiskIO", "read_count write_count read_bytes write_bytes busy_time", defaults=(None,))
NetIO = namedtuple("NetIO", "bytes_sent bytes_recv packets_sent packets_recv errin errout dropin dropout",
                   defaults=(0, 0, 0, 0))
NicStats = namedtuple("NicStats", "isup duplex speed mtu flags")
Temperature = namedtuple("Temperature", "label current high critical")
Fan = namedtuple("Fan", "label current")
Battery = namedtuple("Battery", "percent secsleft power_plugged")
MemInfo = namedtuple("MemInfo", "rss vms")


class FakeProcess:
    """What process_iter yields: an object with ``info``."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info


class FakePsutil:
    """Stands in for the psutil module; tests change its attributes between samples."""

    AccessDenied = psutil.AccessDenied
    NoSuchProcess = psutil.NoSuchProcess
    POWER_TIME_UNLIMITED = psutil.POWER_TIME_UNLIMITED
    POWER_TIME_UNKNOWN = psutil.POWER_TIME_UNKNOWN

    def __init__(self) -> None:
        self.failures: dict[str, BaseException] = {}
        self.boot = 1_000_000.0
        self.cpu_total = 25.0
        self.cpu_per_core = [20.0, 30.0]
        self.times = CpuTimes(15.0, 10.0, 75.0, 0.0)
        self.seconds = [CpuSeconds(100.25, 50.5, 1000.0, 2.0), CpuSeconds(90.0, 40.0, 1020.125, 1.0)]
        self._total = CpuSeconds(1000.0, 500.0, 10_000.0, 10.0)  # the machine's, as of the last read
        self._per_cpu: list[CpuSeconds] | None = None  # each CPU's, as of the last read
        self.physical_cores: int | None = 2
        self.load = (0.5, 0.25, 0.125)
        self.freq: CpuFreq | None = CpuFreq(2600.0, 0.0, 0.0)
        self.memory = VirtualMemory(8 * 2**30, 6 * 2**30, 25.0, 2 * 2**30, 5 * 2**30)
        self.swap = Swap(2 * 2**30, 2**30, 2**30, 50.0, 0, 0)
        self.partitions = [Partition("/dev/sda1", "/", "ext4", "rw")]
        self.usage = {"/": Usage(100 * 2**30, 40 * 2**30, 60 * 2**30, 40.0)}
        self.disks = {"sda": DiskIO(100, 50, 1_000_000, 500_000)}
        self.nics = {"eth0": NetIO(10_000, 20_000, 10, 20), "lo": NetIO(5_000, 5_000, 5, 5)}
        self.nic_stats = {
            "eth0": NicStats(True, 0, 1000, 1500, "up,broadcast,running"),
            "lo": NicStats(True, 0, 0, 65536, "up,loopback,running"),
        }
        self.temperatures: dict[str, list[Temperature]] | None = {
            "coretemp": [Temperature("Core 0", 45.0, 80.0, 100.0)]
        }
        # none by default, as on most servers and VMs: a test gives the host fans or a battery
        self.fans: dict[str, list[Fan]] = {}
        self.battery: Battery | None = None
        self.procs: list[dict[str, Any]] = [
            proc_info(1, "init", cpu=0.5, mem=0.1),
            proc_info(42, "busy", cpu=80.0, mem=5.0),
            proc_info(43, "fat", cpu=1.0, mem=30.0),
        ]
        self.calls: dict[str, int] = {}

    def _call(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        if name in self.failures:
            raise self.failures[name]

    def boot_time(self) -> float:
        self._call("boot_time")
        return self.boot

    def cpu_times(self, percpu: bool = False) -> Any:
        """The machine's (or each CPU's) seconds per mode. The machine's first read is 100 s after a start,
        each CPU's is ``seconds`` (zeros past its end); each later read is 100 s of each CPU later, spent
        as ``cpu_total`` (``cpu_per_core``) says, busy time split between user and system as ``times``
        splits it. A failure under ``cpu_times`` fails both reads, under ``cpu_times_percpu`` that one."""
        self._call("cpu_times")
        if not percpu:
            self._total = self._advanced(self._total, self.cpu_total)
            return self._total
        self._call("cpu_times_percpu")
        cores = [self.seconds[k] if k < len(self.seconds) else CpuSeconds(0.0, 0.0, 0.0, 0.0)
                 for k in range(len(self.cpu_per_core))]
        if self._per_cpu is not None:
            cores = [self._advanced(old, busy) for old, busy in zip(
                self._per_cpu + cores[len(self._per_cpu):], self.cpu_per_core, strict=False)]
        self._per_cpu = cores
        return list(cores)

    def _advanced(self, base: CpuSeconds, busy: float) -> CpuSeconds:
        user, system, iowait = self.times.user, self.times.system, self.times.iowait
        share = user / (user + system) if user + system else 1.0
        return CpuSeconds(base.user + busy * share, base.system + busy * (1 - share),
                          base.idle + 100.0 - busy - iowait, base.iowait + iowait)

    def cpu_count(self, logical: bool = True) -> int | None:
        self._call("cpu_count")
        return len(self.cpu_per_core) if logical else self.physical_cores

    def getloadavg(self) -> tuple[float, float, float]:
        self._call("getloadavg")
        return self.load

    def cpu_freq(self) -> CpuFreq | None:
        self._call("cpu_freq")
        return self.freq

    def virtual_memory(self) -> VirtualMemory:
        self._call("virtual_memory")
        return self.memory

    def swap_memory(self) -> Swap:
        self._call("swap_memory")
        return self.swap

    def disk_partitions(self, all: bool = False) -> list[Partition]:
        self._call("disk_partitions")
        return list(self.partitions)

    def disk_usage(self, path: str) -> Usage:
        self._call("disk_usage")
        if path not in self.usage:
            raise PermissionError(13, "Permission denied", path)
        return self.usage[path]

    def disk_io_counters(self, perdisk: bool = False, nowrap: bool = True) -> dict[str, DiskIO]:
        self._call("disk_io_counters")
        return dict(self.disks)

    def net_io_counters(self, pernic: bool = False, nowrap: bool = True) -> dict[str, NetIO]:
        self._call("net_io_counters")
        return dict(self.nics)

    def net_if_stats(self) -> dict[str, NicStats]:
        self._call("net_if_stats")
        return dict(self.nic_stats)

    def sensors_temperatures(self, fahrenheit: bool = False) -> dict[str, list[Temperature]]:
        self._call("sensors_temperatures")
        return dict(self.temperatures or {})

    def sensors_fans(self) -> dict[str, list[Fan]]:
        self._call("sensors_fans")
        return self.fans

    def sensors_battery(self) -> Battery | None:
        self._call("sensors_battery")
        return self.battery

    def process_iter(self, attrs: list[str] | None = None, ad_value: Any = None) -> list[FakeProcess]:
        self._call("process_iter")
        return [FakeProcess({k: info.get(k, ad_value) for k in attrs or info}) for info in self.procs]


def proc_info(pid: int, name: str, *, cpu: float | None, mem: float | None) -> dict[str, Any]:
    """A process_iter() info dict."""
    return {
        "pid": pid, "name": name, "username": "root", "status": "running",
        "cpu_percent": cpu, "memory_percent": mem, "memory_info": MemInfo(2**20 * pid, 2**21),
        "num_threads": 1, "create_time": 1_000_000.0 + pid,
    }


class FakeClock:
    """A settable clock for wall time or monotonic time."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
