"""The CPU: utilisation of all and of each logical CPU, load, frequency and time per mode.

Its rows are the logical CPUs of ``cpu.per_cpu_percent``, labelled ``cpu`` by their place:
``cpu[cpu=0].percent`` is the first one, ``cpu[].percent`` all of them together.
"""

from perfmon.core.metrics.model import INDEX, Field, Group

LOAD_HELP = "runnable and waiting tasks, averaged over {}"

GROUP = Group(
    "cpu", "cpu", "CPU", "utilisation, load and frequency of the CPUs",
    fields=(
        Field("percent", "percent", "CPU utilisation over the last interval, all CPUs",
              history="cpu_percent"),
        Field("count_logical", "count", "logical CPUs (hardware threads)", kind="info",
              prometheus="perfmon_cpu_logical_cores"),
        Field("count_physical", "count", "physical CPU cores", kind="info",
              prometheus="perfmon_cpu_physical_cores"),
        Field("load_average", "load", "runnable and waiting tasks, averaged over 1, 5 and 15 minutes",
              shape="list", history="load_1", history_index=0,
              prometheus=("perfmon_load1", "perfmon_load5", "perfmon_load15"),
              prometheus_help=tuple(LOAD_HELP.format(s) for s in ("1 minute", "5 minutes", "15 minutes"))),
        Field("frequency_mhz", "mhz", "current CPU frequency", prometheus="perfmon_cpu_frequency_hertz"),
        Field("times_percent", "percent", "share of CPU time per mode (user, system, idle, iowait, ...)",
              shape="map"),
        # Linux counts guest time inside user and nice already: as node_exporter does, the family
        # leaves the guest modes out, so that summing the modes gives the CPU time and nothing twice.
        Field("per_cpu_seconds_total", "seconds",
              "CPU time each logical CPU spent in each mode since boot (user, system, idle, iowait, ...)",
              kind="counter", shape="list", items="map", prometheus="perfmon_cpu_seconds_total",
              prometheus_labels=("cpu", "mode"), prometheus_skip=frozenset({"guest", "guest_nice"})),
    ),
    rows="per_cpu_percent", key=("cpu",), labels={"cpu": INDEX}, values=True,
    row_fields=(
        Field("percent", "percent", "utilisation of each logical CPU over the last interval",
              history="per_cpu_percent", scale=2),
    ),
)
