"""The sample and its JSON shape: the single source of the API schema.

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

Every field that cannot be read is ``null`` and the reason is in ``errors``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The columns of /api/history, in order; each row of the ring buffer is a tuple in this order.
HISTORY_COLUMNS: tuple[str, ...] = (
    "seq",
    "timestamp",
    "cpu_percent",
    "memory_percent",
    "swap_percent",
    "load_1",
    "disk_read_bytes_per_s",
    "disk_write_bytes_per_s",
    "net_sent_bytes_per_s",
    "net_recv_bytes_per_s",
    "per_cpu_percent",  # a list per row, one value per logical CPU
)

HistoryRow = tuple[Any, ...]


def empty_sample() -> dict[str, Any]:
    """The sample's full shape with every measured field null."""
    return {
        "seq": None,
        "timestamp": None,
        "interval_seconds": None,
        "instance_id": None,
        "host": {"hostname": None, "platform": None, "boot_time": None, "uptime_seconds": None},
        "cpu": {
            "percent": None,
            "per_cpu_percent": None,
            "count_logical": None,
            "count_physical": None,
            "load_average": None,
            "frequency_mhz": None,
            "times_percent": None,
        },
        "memory": {
            "total_bytes": None,
            "available_bytes": None,
            "used_bytes": None,
            "free_bytes": None,
            "percent": None,
        },
        "swap": {"total_bytes": None, "used_bytes": None, "free_bytes": None, "percent": None},
        "disks": None,
        "disk_io": {
            "read_bytes_per_s": None,
            "write_bytes_per_s": None,
            "read_ops_per_s": None,
            "write_ops_per_s": None,
        },
        "network": {"sent_bytes_per_s": None, "recv_bytes_per_s": None, "interfaces": None},
        "processes": {"count": None, "sampled_at": None, "top_cpu": None},
        "sensors": {"temperatures": None},
        "errors": [],
    }


def history_row(sample: dict[str, Any]) -> HistoryRow:
    """The compact row of a sample kept in the ring buffer, in HISTORY_COLUMNS order."""
    load = sample["cpu"]["load_average"]
    return (
        sample["seq"],
        sample["timestamp"],
        sample["cpu"]["percent"],
        sample["memory"]["percent"],
        sample["swap"]["percent"],
        load[0] if load else None,
        sample["disk_io"]["read_bytes_per_s"],
        sample["disk_io"]["write_bytes_per_s"],
        sample["network"]["sent_bytes_per_s"],
        sample["network"]["recv_bytes_per_s"],
        sample["cpu"]["per_cpu_percent"],
    )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One published sample, serialised once; requests serve ``body`` as it is."""

    seq: int
    timestamp: float
    data: dict[str, Any]
    body: bytes
    body_gzip: bytes | None
    etag: str

    @property
    def etag_gzip(self) -> str:
        """The entity tag of the gzip-encoded representation."""
        return self.etag + "-gzip"


@dataclass(frozen=True, slots=True)
class ProcessTable:
    """One scan of the process table."""

    scan_seq: int
    sampled_at: float
    processes: list[dict[str, Any]]
    error: str | None = None

    @property
    def count(self) -> int | None:
        """Number of processes seen, or None when the scan failed."""
        return None if self.error else len(self.processes)
