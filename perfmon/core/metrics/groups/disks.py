"""Filesystems (the sample's ``disks[]``), one row per mount point."""

from perfmon.core.metrics.model import Field, Group

GROUP = Group(
    "disks", "disks", "Filesystems", "space used on each mounted filesystem",
    rows="", key=("mountpoint",), labels={"device": "device", "fstype": "fstype"},
    prometheus_labels=("device", "mountpoint", "fstype"),
    # a filesystem whose usage cannot be read is left out, so a row has every value
    row_fields=(
        Field("mountpoint", "text", "where the filesystem is mounted", kind="info", nullable=False),
        Field("device", "text", "the device behind it", kind="info", nullable=False),
        Field("fstype", "text", "filesystem type", kind="info", nullable=False),
        Field("total_bytes", "bytes", "filesystem size", prometheus="perfmon_filesystem_size_bytes",
              nullable=False),
        Field("used_bytes", "bytes", "space in use", prometheus="perfmon_filesystem_used_bytes",
              nullable=False),
        Field("free_bytes", "bytes", "space available to unprivileged users",
              prometheus="perfmon_filesystem_avail_bytes", nullable=False),
        Field("percent", "percent", "space in use, as a share of the total", series=True, nullable=False),
    ),
)
