"""The host itself: its name, its system and how long it has been up."""

from perfmon.core.metrics.model import Field, Group

GROUP = Group(
    "host", "host", "Host", "the host's name, system and uptime",
    fields=(
        Field("hostname", "text", "the host's name", kind="info"),
        Field("platform", "text", "operating system and kernel release", kind="info"),
        Field("boot_time", "unix_seconds", "when the host booted", kind="info",
              prometheus="perfmon_boot_time_seconds"),
        Field("uptime_seconds", "seconds", "time since the host booted"),
    ),
)
