"""Physical memory."""

from perfmon.core.metrics.model import Field, Group

GROUP = Group(
    "memory", "memory", "Memory", "physical memory in use and available",
    fields=(
        Field("total_bytes", "bytes", "physical memory", prometheus="perfmon_memory_total_bytes"),
        Field("available_bytes", "bytes", "memory that can be given to programs without swapping",
              prometheus="perfmon_memory_available_bytes"),
        Field("used_bytes", "bytes", "memory in use", prometheus="perfmon_memory_used_bytes"),
        Field("free_bytes", "bytes", "memory not used at all", prometheus="perfmon_memory_free_bytes"),
        Field("percent", "percent", "memory in use, as a share of the total", history="memory_percent"),
    ),
)
