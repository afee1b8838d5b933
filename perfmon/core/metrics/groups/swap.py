"""Swap space."""

from perfmon.core.metrics.model import Field, Group

GROUP = Group(
    "swap", "swap", "Swap", "swap space in use",
    fields=(
        Field("total_bytes", "bytes", "swap space", prometheus="perfmon_swap_total_bytes"),
        Field("used_bytes", "bytes", "swap in use", prometheus="perfmon_swap_used_bytes"),
        Field("free_bytes", "bytes", "swap not in use", prometheus="perfmon_swap_free_bytes"),
        Field("percent", "percent", "swap in use, as a share of the total (null without swap)",
              history="swap_percent"),
    ),
)
