"""The schema: every field of a sample, declared once, and the shapes derived from it.

A sample as served by ``GET /api/performance`` (abridged, from this machine)::

    {"seq": 42, "timestamp": 1795640000.12, "interval_seconds": 1.0, "instance_id": "3f9c0a1b2c4d",
     "host": {"hostname": "box", "platform": "Linux 6.1.0", "boot_time": 1795600000.0,
              "uptime_seconds": 40000.1},
     "cpu": {"percent": 3.5, "per_cpu_percent": [4.0, 3.0], "count_logical": 2,
             "count_physical": 2, "load_average": [0.15, 0.1, 0.04], "frequency_mhz": 2600.0,
             "times_percent": {"user": 2.0, "system": 1.5, "idle": 96.5, "iowait": 0.0, ...}},
     "memory": {"total_bytes": 25200000000, "available_bytes": 24800000000, ...},
     "swap": {"total_bytes": 0, "used_bytes": 0, "free_bytes": 0, "percent": null},
     "disks": [{"mountpoint": "/", "device": "/dev/vda", "fstype": "ext4", ...}],
     "disk_io": {"read_bytes_per_s": 0.0, "write_bytes_per_s": 4096.0, ...},
     "network": {"sent_bytes_per_s": 120.0, "recv_bytes_per_s": 310.5, "interfaces": [...]},
     "processes": {"count": 65, "sampled_at": 1795639998.0, "top_cpu": [...]},
     "sensors": {"temperatures": []},
     "errors": [{"collector": "swap", "message": "no swap space is configured: percent is undefined"}]}

``FIELDS`` is the one table of what a sample holds (in the spirit of Glances'
``fields_description``): where each field sits, its unit, what it means, whether it is a
level or a rate, and whether ``/api/history`` keeps it as a column. The empty sample,
the history columns and the dashboard's cards and charts are derived from it; the
``TypedDict`` classes of ``perfmon.core.shapes`` spell the same shape for type checkers, and a test holds
the two together. Every field that cannot be read is ``null`` and the reason is in
``errors``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

# gauge: a level; rate: per second over the last interval; counter: a cumulative count since boot
# (what the kernel counts, for Prometheus' rate()); info: a label or a fact that does not move.
Kind = Literal["gauge", "rate", "counter", "info"]
Shape = Literal["scalar", "list", "map"]
Unit = Literal["percent", "bytes", "bytes_per_s", "ops_per_s", "seconds", "unix_seconds", "mhz",
               "celsius", "load", "count", "text", "bool"]


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a sample.

    ``path`` is dotted from the sample's root; ``[]`` marks a list of rows, so
    ``disks[].percent`` is the ``percent`` of every row of ``disks``. ``history`` names
    the ``/api/history`` column that keeps the field (``history_index`` picks one element
    of a list field, as ``load_1`` does of ``load_average``).
    """

    path: str
    unit: Unit
    description: str
    kind: Kind = "gauge"
    shape: Shape = "scalar"
    history: str | None = None
    history_index: int | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """The path's keys, ``[]`` kept on the key that holds rows."""
        return tuple(self.path.split("."))

    @property
    def in_rows(self) -> bool:
        """True if the field belongs to each row of a list."""
        return "[]" in self.path


FIELDS: tuple[Field, ...] = (
    Field("seq", "count", "sample number, from 1 at server start", kind="info", history="seq"),
    Field("timestamp", "unix_seconds", "when the sample was taken", kind="info", history="timestamp"),
    Field("interval_seconds", "seconds", "the server's sampling interval", kind="info"),
    Field("instance_id", "text", "changes when the server restarts (and seq starts again)", kind="info"),
    Field("host.hostname", "text", "the host's name", kind="info"),
    Field("host.platform", "text", "operating system and kernel release", kind="info"),
    Field("host.boot_time", "unix_seconds", "when the host booted", kind="info"),
    Field("host.uptime_seconds", "seconds", "time since the host booted"),
    Field("cpu.percent", "percent", "CPU utilisation over the last interval, all CPUs",
        history="cpu_percent"),
    Field("cpu.per_cpu_percent", "percent", "utilisation of each logical CPU over the last interval",
       shape="list", history="per_cpu_percent"),
    Field("cpu.count_logical", "count", "logical CPUs (hardware threads)", kind="info"),
    Field("cpu.count_physical", "count", "physical CPU cores", kind="info"),
    Field("cpu.load_average", "load", "runnable and waiting tasks, averaged over 1, 5 and 15 minutes",
       shape="list", history="load_1", history_index=0),
    Field("cpu.frequency_mhz", "mhz", "current CPU frequency"),
    Field("cpu.times_percent", "percent", "share of CPU time per mode (user, system, idle, iowait, ...)",
       shape="map"),
    Field("cpu.per_cpu_seconds_total", "seconds",
          "CPU time each logical CPU spent in each mode since boot (user, system, idle, iowait, ...)",
          kind="counter", shape="list"),
    Field("memory.total_bytes", "bytes", "physical memory"),
    Field("memory.available_bytes", "bytes", "memory that can be given to programs without swapping"),
    Field("memory.used_bytes", "bytes", "memory in use"),
    Field("memory.free_bytes", "bytes", "memory not used at all"),
    Field("memory.percent", "percent", "memory in use, as a share of the total", history="memory_percent"),
    Field("swap.total_bytes", "bytes", "swap space"),
    Field("swap.used_bytes", "bytes", "swap in use"),
    Field("swap.free_bytes", "bytes", "swap not in use"),
    Field("swap.percent", "percent", "swap in use, as a share of the total (null without swap)",
       history="swap_percent"),
    Field("disks[].mountpoint", "text", "where the filesystem is mounted", kind="info"),
    Field("disks[].device", "text", "the device behind it", kind="info"),
    Field("disks[].fstype", "text", "filesystem type", kind="info"),
    Field("disks[].total_bytes", "bytes", "filesystem size"),
    Field("disks[].used_bytes", "bytes", "space in use"),
    Field("disks[].free_bytes", "bytes", "space available to unprivileged users"),
    Field("disks[].percent", "percent", "space in use, as a share of the total"),
    Field("disk_io.read_bytes_per_s", "bytes_per_s", "bytes read from whole disks", kind="rate",
       history="disk_read_bytes_per_s"),
    Field("disk_io.write_bytes_per_s", "bytes_per_s", "bytes written to whole disks", kind="rate",
       history="disk_write_bytes_per_s"),
    Field("disk_io.read_ops_per_s", "ops_per_s", "read operations on whole disks", kind="rate"),
    Field("disk_io.write_ops_per_s", "ops_per_s", "write operations on whole disks", kind="rate"),
    Field("disk_io.devices[].name", "text", "a whole disk (partitions are left out: they would count twice)",
          kind="info"),
    Field("disk_io.devices[].read_bytes_total", "bytes", "bytes read from this disk since boot",
          kind="counter"),
    Field("disk_io.devices[].write_bytes_total", "bytes", "bytes written to this disk since boot",
          kind="counter"),
    Field("disk_io.devices[].read_ops_total", "count", "read operations completed since boot",
          kind="counter"),
    Field("disk_io.devices[].write_ops_total", "count", "write operations completed since boot",
          kind="counter"),
    Field("disk_io.devices[].busy_seconds_total", "seconds",
          "time this disk spent doing I/O since boot (null where the platform does not count it)",
          kind="counter"),
    Field("network.sent_bytes_per_s", "bytes_per_s", "bytes sent, loopback excluded", kind="rate",
       history="net_sent_bytes_per_s"),
    Field("network.recv_bytes_per_s", "bytes_per_s", "bytes received, loopback excluded", kind="rate",
       history="net_recv_bytes_per_s"),
    Field("network.interfaces[].name", "text", "interface name", kind="info"),
    Field("network.interfaces[].is_up", "bool", "whether the link is up", kind="info"),
    Field("network.interfaces[].is_loopback", "bool", "whether it is a loopback interface", kind="info"),
    Field("network.interfaces[].sent_bytes_per_s", "bytes_per_s", "bytes sent on this interface",
        kind="rate"),
    Field("network.interfaces[].recv_bytes_per_s", "bytes_per_s", "bytes received on this interface",
       kind="rate"),
    Field("network.interfaces[].sent_bytes_total", "bytes", "bytes sent on this interface since boot",
          kind="counter"),
    Field("network.interfaces[].recv_bytes_total", "bytes", "bytes received on this interface since boot",
          kind="counter"),
    Field("network.interfaces[].sent_packets_total", "count", "packets sent on this interface since boot",
          kind="counter"),
    Field("network.interfaces[].recv_packets_total", "count", "packets received on this interface since boot",
          kind="counter"),
    Field("network.interfaces[].sent_errors_total", "count", "errors sending on this interface since boot",
          kind="counter"),
    Field("network.interfaces[].recv_errors_total", "count", "errors receiving on this interface since boot",
          kind="counter"),
    Field("network.interfaces[].sent_drops_total", "count", "outgoing packets dropped since boot",
          kind="counter"),
    Field("network.interfaces[].recv_drops_total", "count", "incoming packets dropped since boot",
          kind="counter"),
    Field("processes.count", "count", "processes on the host at the last scan"),
    Field("processes.sampled_at", "unix_seconds", "when the process table was scanned", kind="info"),
    Field("processes.top_cpu[].pid", "count", "process id", kind="info"),
    Field("processes.top_cpu[].name", "text", "process name (never its command line)", kind="info"),
    Field("processes.top_cpu[].cpu_percent", "percent", "CPU use of one core, as in top (may exceed 100)"),
    Field("processes.top_cpu[].memory_percent", "percent", "resident memory, as a share of the total"),
    Field("sensors.temperatures[].label", "text", "sensor chip and label", kind="info"),
    Field("sensors.temperatures[].current_celsius", "celsius", "current temperature"),
    Field("sensors.temperatures[].high_celsius", "celsius", "the sensor's high threshold"),
    Field("errors[].collector", "text", "the collector that could not read a field", kind="info"),
    Field("errors[].message", "text", "why, in words", kind="info"),
)

FIELDS_BY_PATH: Mapping[str, Field] = {f.path: f for f in FIELDS}
HISTORY_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.history)
# The columns of /api/history, in order; each row a store keeps is a tuple in this order.
HISTORY_COLUMNS: tuple[str, ...] = tuple(f.history for f in HISTORY_FIELDS if f.history)
HISTORY_UNITS: Mapping[str, Unit] = {f.history: f.unit for f in HISTORY_FIELDS if f.history}
ALWAYS_A_LIST = "errors"  # the one list that is empty, never null, when nothing is in it

HistoryRow = tuple[Any, ...]


def field(path: str) -> Field:
    """The field at ``path``; KeyError names it if the schema has no such field."""
    return FIELDS_BY_PATH[path]


def empty_sample() -> dict[str, Any]:
    """The sample's full shape with every measured field null (and no errors)."""
    # Copied from a shape built once: building it from FIELDS took about 0.4 ms, every sample.
    return _fresh(_empty_shape())


@functools.cache
def _empty_shape() -> dict[str, Any]:
    sample: dict[str, Any] = {}
    for f in FIELDS:
        node = sample
        *parents, leaf = f.keys
        for key in parents:
            if key.endswith("[]"):
                break
            node = node.setdefault(key, {})
        else:
            node[leaf] = None  # a leaf never ends in []: rows always have fields
            continue
        node[key.removesuffix("[]")] = None  # a list of rows: null until read
    sample[ALWAYS_A_LIST] = []
    return sample


def _fresh(shape: dict[str, Any]) -> dict[str, Any]:
    """A copy of a shape of nested dicts whose leaves are None or an empty list (each list new)."""
    return {key: None if value is None else _fresh(value) if type(value) is dict else []
            for key, value in shape.items()}


def _value(sample: Mapping[str, Any], f: Field) -> Any:
    value: Any = sample
    for key in f.keys:
        value = value[key]
    if f.history_index is not None:
        return value[f.history_index] if value else None
    return value


def history_row(sample: Mapping[str, Any]) -> HistoryRow:
    """The compact row of a sample that a history store keeps, in HISTORY_COLUMNS order."""
    return tuple(_value(sample, f) for f in HISTORY_FIELDS)
