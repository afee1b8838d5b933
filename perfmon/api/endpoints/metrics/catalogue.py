"""What ``/metrics`` exposes: each Prometheus family, the schema field it comes from, and its labels.

Names follow Prometheus' conventions (and node_exporter's where one exists, with ``perfmon_``
in place of ``node_``): base units in the name (``_bytes``, ``_seconds``, ``_hertz``,
``_celsius``, ``_ratio``), counters for what the kernel counts so that ``rate()`` works, and
gauges for levels. The type, the unit and the help text come from the field in
``perfmon.core.schema``; a field's unit also says how its value is scaled (MHz to hertz,
percent to a 0-1 ratio). A value that cannot be read is left out of the scrape.

The top processes are exported as a bounded gauge family: at most the ten a sample keeps,
labelled ``pid`` and ``name``. A process that enters the top ten makes a new series, so a host
full of short-lived processes churns series; the README shows how to drop the family with
``metric_relabel_configs`` for a fleet that does not want it. It stays because it is what
node_exporter cannot answer: *what* was using the CPU when the alert fired.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from perfmon.core.schema import Field
from perfmon.core.schema import field as schema_field

# How a schema unit is exposed: its Prometheus unit suffix and the factor to base units.
UNITS: Mapping[str, tuple[str, float]] = {
    "bytes": ("bytes", 1.0), "seconds": ("seconds", 1.0), "unix_seconds": ("seconds", 1.0),
    "celsius": ("celsius", 1.0), "mhz": ("hertz", 1e6), "percent": ("ratio", 0.01),
}
TOP_PROCESS = {"pid": "pid", "name": "name"}
FILESYSTEM = {"device": "device", "mountpoint": "mountpoint", "fstype": "fstype"}
Series = tuple[tuple[str, ...], float]
# Linux counts guest time inside user and nice already: as node_exporter does, perfmon_cpu_seconds_total
# leaves the guest modes out, so that summing the modes gives the CPU time and nothing twice.
GUEST_MODES = frozenset({"guest", "guest_nice"})


@dataclass(frozen=True)
class Family:
    """One metric family: its exposed name, the field it reads, and the row keys behind its labels.

    Type, unit, HELP text and scale are worked out once from the schema field, not per scrape.
    """

    name: str
    path: str
    labels: Mapping[str, str] = field(default_factory=dict)  # label -> key of the field's row
    index: int | None = None  # one element of a list field (a load average)
    help: str | None = None  # instead of the field's description
    type: str = field(init=False)  # "counter" for a kernel counter, else "gauge"
    unit: str = field(init=False)  # the Prometheus unit (the name's suffix), or "" for a plain count
    documentation: str = field(init=False)  # the HELP text: the schema's description, in the scaled unit
    scale: float = field(init=False, repr=False)
    _where: tuple[str, ...] = field(init=False, repr=False)  # keys to the value, or to its list of rows
    _key: str = field(init=False, repr=False)  # the value's key in each row ("" if not in rows)

    def __post_init__(self) -> None:
        described = schema_field(self.path)
        unit, scale = UNITS.get(described.unit, ("", 1.0))
        text = self.help or described.description
        if not self.help and described.unit == "percent":
            text += " (0-1)"
        rows_path, _, key = self.path.partition("[].")
        for name, value in (("type", "counter" if described.kind == "counter" else "gauge"), ("unit", unit),
                            ("documentation", text), ("scale", scale),
                            ("_where", tuple(rows_path.split("."))), ("_key", key)):
            object.__setattr__(self, name, value)

    @property
    def field(self) -> Field:
        """The schema field the family is read from."""
        return schema_field(self.path)

    def series(self, sample: Mapping[str, Any]) -> tuple[Series, ...]:
        """Each (label values, value) of the family in ``sample``, in the sample's order.

        Unreadable values are left out, and a label set met again is dropped (two sensors with
        one label): Prometheus refuses a whole scrape that repeats a series.
        """
        value: Any = sample
        for key in self._where:
            value = None if value is None else value[key]
        if value is None:
            return ()
        if self._key:  # one series per row, labelled from the row's own fields
            label_keys, key = tuple(self.labels.values()), self._key
            raw = [(tuple(str(row[k]) for k in label_keys), row.get(key)) for row in value]
        elif self.index is not None:
            raw = [((), value[self.index] if value else None)]
        elif self.labels:  # a list of maps: the list's index and the map's keys are the two labels
            raw = [((str(cpu), mode), seconds) for cpu, modes in enumerate(value)
                   for mode, seconds in modes.items() if mode not in GUEST_MODES]
        else:
            raw = [((), value)]
        return self._kept(raw)

    def _kept(self, raw: list[tuple[tuple[str, ...], Any]]) -> tuple[Series, ...]:
        scale, seen, kept = self.scale, set(), []
        for labels, value in raw:
            if value.__class__ in NUMBERS and labels not in seen:
                seen.add(labels)
                kept.append((labels, value * scale if scale != 1.0 else value))
        return tuple(kept)


NUMBERS = (int, float)  # exactly: a bool is no measurement


def _disk(name: str, key: str) -> Family:
    return Family(f"perfmon_disk_{name}", f"disk_io.devices[].{key}", {"device": "name"})


def _network(name: str, key: str) -> Family:
    return Family(f"perfmon_network_{name}", f"network.interfaces[].{key}", {"interface": "name"})


LOAD_HELP = "runnable and waiting tasks, averaged over {}"
FAMILIES: tuple[Family, ...] = (
    # a list of maps: labelled by the list's index and the map's keys (no row keys to name)
    Family("perfmon_cpu_seconds_total", "cpu.per_cpu_seconds_total", {"cpu": "", "mode": ""}),
    Family("perfmon_cpu_logical_cores", "cpu.count_logical"),
    Family("perfmon_cpu_physical_cores", "cpu.count_physical"),
    Family("perfmon_cpu_frequency_hertz", "cpu.frequency_mhz"),
    *(Family(f"perfmon_load{m}", "cpu.load_average", index=i, help=LOAD_HELP.format(span))
      for i, (m, span) in enumerate(((1, "1 minute"), (5, "5 minutes"), (15, "15 minutes")))),
    *(Family(f"perfmon_memory_{k}_bytes", f"memory.{k}_bytes")
      for k in ("total", "available", "used", "free")),
    *(Family(f"perfmon_swap_{k}_bytes", f"swap.{k}_bytes") for k in ("total", "used", "free")),
    Family("perfmon_filesystem_size_bytes", "disks[].total_bytes", FILESYSTEM),
    Family("perfmon_filesystem_used_bytes", "disks[].used_bytes", FILESYSTEM),
    Family("perfmon_filesystem_avail_bytes", "disks[].free_bytes", FILESYSTEM),
    _disk("read_bytes_total", "read_bytes_total"),
    _disk("written_bytes_total", "write_bytes_total"),
    _disk("reads_completed_total", "read_ops_total"),
    _disk("writes_completed_total", "write_ops_total"),
    _disk("io_time_seconds_total", "busy_seconds_total"),
    *(_network(f"{prom}_{what}_total", f"{ours}_{what}_total")
      for what in ("bytes", "packets", "errors", "drops")
      for prom, ours in (("receive", "recv"), ("transmit", "sent"))),
    Family("perfmon_temperature_celsius", "sensors.temperatures[].current_celsius", {"sensor": "label"}),
    Family("perfmon_temperature_high_celsius", "sensors.temperatures[].high_celsius", {"sensor": "label"}),
    Family("perfmon_processes", "processes.count"),
    Family("perfmon_top_process_cpu_ratio", "processes.top_cpu[].cpu_percent", TOP_PROCESS,
           help="CPU use of one of the top processes by CPU; 1 is one full core"),
    Family("perfmon_top_process_memory_ratio", "processes.top_cpu[].memory_percent", TOP_PROCESS),
    Family("perfmon_boot_time_seconds", "host.boot_time"),
    Family("perfmon_sample_timestamp_seconds", "timestamp",
           help="when the sample served was taken: an old one means the sampler is stuck"),
    Family("perfmon_sample_interval_seconds", "interval_seconds"),
)
