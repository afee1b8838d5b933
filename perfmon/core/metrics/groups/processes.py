"""Processes: how many, and the top ones by CPU (read on their own, slower cadence)."""

from perfmon.core.metrics.model import Field, Group

GROUP = Group(
    "processes", "processes", "Processes", "the process count and the top processes by CPU",
    fields=(
        Field("count", "count", "processes on the host at the last scan", prometheus="perfmon_processes"),
        Field("sampled_at", "unix_seconds", "when the process table was scanned", kind="info"),
    ),
    rows="top_cpu", key=("pid",), labels={"name": "name"},
    row_fields=(
        Field("pid", "count", "process id", kind="info", nullable=False),
        Field("name", "text", "process name (never its command line)", kind="info"),
        Field("cpu_percent", "percent", "CPU use of one core, as in top (may exceed 100)",
              prometheus="perfmon_top_process_cpu_ratio",
              prometheus_help="CPU use of one of the top processes by CPU; 1 is one full core"),
        Field("memory_percent", "percent", "resident memory, as a share of the total",
              prometheus="perfmon_top_process_memory_ratio"),
    ),
    cadence_seconds=5.0,
)
