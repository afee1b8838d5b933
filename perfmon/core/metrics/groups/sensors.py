"""Temperature sensors, one row per sensor (chip and label)."""

from perfmon.core.metrics.model import Field, Group

GROUP = Group(
    "sensors", "sensors", "Temperatures", "temperature of each sensor",
    rows="temperatures", key=("sensor",), labels={"sensor": "label"},
    row_fields=(
        Field("label", "text", "sensor chip and label", kind="info", nullable=False),
        Field("current_celsius", "celsius", "current temperature", series=True,
              prometheus="perfmon_temperature_celsius"),
        Field("high_celsius", "celsius", "the sensor's high threshold",
              prometheus="perfmon_temperature_high_celsius"),
    ),
)
