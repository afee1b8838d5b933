"""The sample's shape for type checkers: ``TypedDict`` classes spelling ``schema.FIELDS``.

``tests/test_schema.py`` holds the two together: a field added to the table and not here (or
the other way round) fails it.
"""

from __future__ import annotations

from typing import TypedDict


class HostSection(TypedDict):
    hostname: str | None
    platform: str | None
    boot_time: float | None
    uptime_seconds: float | None


class CpuSection(TypedDict):
    percent: float | None
    per_cpu_percent: list[float] | None
    count_logical: int | None
    count_physical: int | None
    load_average: list[float] | None
    frequency_mhz: float | None
    times_percent: dict[str, float] | None
    per_cpu_seconds_total: list[dict[str, float]] | None


class MemorySection(TypedDict):
    total_bytes: int | None
    available_bytes: int | None
    used_bytes: int | None
    free_bytes: int | None
    percent: float | None


class SwapSection(TypedDict):
    total_bytes: int | None
    used_bytes: int | None
    free_bytes: int | None
    percent: float | None


class DiskRow(TypedDict):
    mountpoint: str
    device: str
    fstype: str
    total_bytes: int
    used_bytes: int
    free_bytes: int
    percent: float


class DiskDeviceRow(TypedDict):
    name: str
    read_bytes_per_s: float | None
    write_bytes_per_s: float | None
    read_bytes_total: int
    write_bytes_total: int
    read_ops_total: int
    write_ops_total: int
    busy_seconds_total: float | None


class DiskIOSection(TypedDict):
    read_bytes_per_s: float | None
    write_bytes_per_s: float | None
    read_ops_per_s: float | None
    write_ops_per_s: float | None
    devices: list[DiskDeviceRow] | None


class InterfaceRow(TypedDict):
    name: str
    is_up: bool | None
    is_loopback: bool
    sent_bytes_per_s: float | None
    recv_bytes_per_s: float | None
    sent_bytes_total: int | None
    recv_bytes_total: int | None
    sent_packets_total: int | None
    recv_packets_total: int | None
    sent_errors_total: int | None
    recv_errors_total: int | None
    sent_drops_total: int | None
    recv_drops_total: int | None


class NetworkSection(TypedDict):
    sent_bytes_per_s: float | None
    recv_bytes_per_s: float | None
    interfaces: list[InterfaceRow] | None


class TopProcessRow(TypedDict):
    pid: int
    name: str | None
    cpu_percent: float | None
    memory_percent: float | None


class ProcessesSection(TypedDict):
    count: int | None
    sampled_at: float | None
    top_cpu: list[TopProcessRow] | None


class TemperatureRow(TypedDict):
    label: str
    current_celsius: float | None
    high_celsius: float | None


class SensorsSection(TypedDict):
    temperatures: list[TemperatureRow] | None


class ErrorRow(TypedDict):
    collector: str
    message: str


class Sample(TypedDict):
    """One sample, as ``GET /api/performance`` serves it."""

    seq: int
    timestamp: float
    interval_seconds: float
    instance_id: str
    host: HostSection
    cpu: CpuSection
    memory: MemorySection
    swap: SwapSection
    disks: list[DiskRow] | None
    disk_io: DiskIOSection
    network: NetworkSection
    processes: ProcessesSection
    sensors: SensorsSection
    errors: list[ErrorRow]
