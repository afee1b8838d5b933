"""Samples with rows, as the API sends them, for the row templates' unit tests."""

from __future__ import annotations

from typing import Any


def disk(mountpoint: str, percent: float | None, device: str = "/dev/sda1") -> dict[str, Any]:
    """One filesystem row."""
    return {"mountpoint": mountpoint, "device": device, "fstype": "ext4", "total_bytes": 100 * 2**30,
            "used_bytes": None if percent is None else percent * 2**30, "free_bytes": 10 * 2**30,
            "percent": percent}


def device(name: str, read: float, write: float) -> dict[str, Any]:
    """One block device row."""
    return {"name": name, "read_bytes_per_s": read, "write_bytes_per_s": write, "read_bytes_total": 1,
            "write_bytes_total": 2, "read_ops_total": 3, "write_ops_total": 4, "busy_seconds_total": None}


def interface(name: str, recv: float, sent: float) -> dict[str, Any]:
    """One network interface row."""
    return {"name": name, "is_up": True, "is_loopback": name == "lo", "recv_bytes_per_s": recv,
            "sent_bytes_per_s": sent}


def sample(seq: int = 1, *, disks: list[Any] | None = None, devices: list[Any] | None = None,
           interfaces: list[Any] | None = None, sensors: list[Any] | None = None,
           errors: list[Any] | None = None, timestamp: float = 1_700_000_000.0) -> dict[str, Any]:
    """A sample with the row groups' sections (others left out: the row templates read only these)."""
    return {
        "seq": seq, "timestamp": timestamp + seq, "interval_seconds": 1.0, "instance_id": "abc",
        "disks": [disk("/", 40.0)] if disks is None else disks,
        "disk_io": {"read_bytes_per_s": 0, "write_bytes_per_s": 0,
                    "devices": [device("sda", 1024, 2048)] if devices is None else devices},
        "network": {"interfaces": [interface("eth0", 5000, 100)] if interfaces is None else interfaces},
        "sensors": {"temperatures": [{"label": "coretemp Core 0", "current_celsius": 45.0,
                                      "high_celsius": 80.0}] if sensors is None else sensors},
        "errors": errors or [],
    }
