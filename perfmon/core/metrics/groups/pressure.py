"""Linux pressure stall information (``/proc/pressure/{cpu,memory,io}``), one row per resource and kind.

``some`` is the share of time at least one task was stalled on the resource, ``full`` the share
in which all non-idle tasks were (the kernel reports ``full`` for cpu too since 5.13; at the
system level it is then 0). As in the kernel's files, averages over 10 s, 60 s and 300 s, and
the total stall time (a counter, for Prometheus' rate()).
"""

from perfmon.core.metrics.model import Field, Group

GROUP = Group(
    "pressure", "pressure", "Pressure", "time tasks stalled waiting for CPU, memory or I/O",
    rows="", key=("resource", "kind"),
    row_fields=(
        Field("resource", "text", "cpu, memory or io", kind="info", nullable=False),
        Field("kind", "text", "some (at least one task stalled) or full (all non-idle tasks stalled)",
              kind="info", nullable=False),
        Field("avg10_percent", "percent", "share of the last 10 s stalled", series=True),
        Field("avg60_percent", "percent", "share of the last 60 s stalled"),
        Field("avg300_percent", "percent", "share of the last 300 s stalled"),
        Field("stalled_seconds_total", "seconds", "time stalled since boot", kind="counter",
              prometheus="perfmon_pressure_stalled_seconds_total"),
    ),
)
