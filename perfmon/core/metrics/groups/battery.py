"""The host's battery, as psutil's ``sensors_battery()`` reads it (null on a host without one)."""

from perfmon.core.metrics.model import Field, Group

GROUP = Group(
    "battery", "battery", "Battery", "charge of the host's battery and whether it runs on mains power",
    fields=(
        Field("percent", "percent", "charge left, as a share of a full battery", series=True,
              prometheus="perfmon_battery_charge_ratio"),
        Field("time_left_seconds", "seconds",
              "time until the battery is empty at the present drain (null while on mains power, or when "
              "it cannot be told)", prometheus="perfmon_battery_time_left_seconds"),
        Field("power_plugged", "bool", "whether the host runs on mains power",
              prometheus="perfmon_battery_plugged", prometheus_help="1 while the host runs on mains power"),
    ),
)
