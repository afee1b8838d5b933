"""Fans, one row per fan (chip and label), as psutil's ``sensors_fans()`` reads them from hwmon."""

from perfmon.core.metrics.model import Field, Group

GROUP = Group(
    "fans", "fans", "Fans", "speed of each fan",
    rows="", key=("chip", "fan"),
    row_fields=(
        Field("chip", "text", "the chip (hwmon driver) the fan reports through", kind="info", nullable=False),
        Field("fan", "text", "the fan's label on its chip (its place there when it has none)", kind="info",
              nullable=False),
        Field("current_rpm", "rpm", "current speed in revolutions per minute", series=True,
              prometheus="perfmon_fan_speed_rpm"),
    ),
)
