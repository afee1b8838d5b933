"""perfmon: a host performance monitor served over plain HTTP polling."""

__version__ = "0.2.0"
