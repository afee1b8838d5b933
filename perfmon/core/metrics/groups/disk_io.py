"""Block device I/O: totals over whole disks, and one row per disk (``disk_io.devices[]``)."""

from perfmon.core.metrics.model import Field, Group

GROUP = Group(
    "disk_io", "disk_io", "Disk I/O", "reads and writes of whole disks",
    fields=(
        Field("read_bytes_per_s", "bytes_per_s", "bytes read from whole disks", kind="rate",
              history="disk_read_bytes_per_s"),
        Field("write_bytes_per_s", "bytes_per_s", "bytes written to whole disks", kind="rate",
              history="disk_write_bytes_per_s"),
        Field("read_ops_per_s", "ops_per_s", "read operations on whole disks", kind="rate"),
        Field("write_ops_per_s", "ops_per_s", "write operations on whole disks", kind="rate"),
    ),
    rows="devices", key=("device",), labels={"device": "name"},
    row_fields=(
        Field("name", "text", "a whole disk (partitions are left out: they would count twice)", kind="info",
              nullable=False),
        Field("read_bytes_per_s", "bytes_per_s", "bytes read from this disk", kind="rate", series=True),
        Field("write_bytes_per_s", "bytes_per_s", "bytes written to this disk", kind="rate", series=True),
        Field("read_bytes_total", "bytes", "bytes read from this disk since boot", kind="counter",
              prometheus="perfmon_disk_read_bytes_total", nullable=False),
        Field("write_bytes_total", "bytes", "bytes written to this disk since boot", kind="counter",
              prometheus="perfmon_disk_written_bytes_total", nullable=False),
        Field("read_ops_total", "count", "read operations completed since boot", kind="counter",
              prometheus="perfmon_disk_reads_completed_total", nullable=False),
        Field("write_ops_total", "count", "write operations completed since boot", kind="counter",
              prometheus="perfmon_disk_writes_completed_total", nullable=False),
        Field("busy_seconds_total", "seconds",
              "time this disk spent doing I/O since boot (null where the platform does not count it)",
              kind="counter", prometheus="perfmon_disk_io_time_seconds_total"),
    ),
)
