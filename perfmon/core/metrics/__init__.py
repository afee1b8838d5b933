"""The metric model: groups with labelled rows, series keys and selectors (see ``model`` and ``selector``)."""

from perfmon.core.metrics.model import INDEX, Field, Group, Kind, Labels, Row, SeriesKey, Shape, Unit
from perfmon.core.metrics.registry import BY_NAME, GROUPS, group, kept_fields
from perfmon.core.metrics.selector import Matcher, Selector, SelectorError

__all__ = ["BY_NAME", "GROUPS", "INDEX", "Field", "Group", "Kind", "Labels", "Matcher", "Row", "Selector",
           "SelectorError", "SeriesKey", "Shape", "Unit", "group", "kept_fields"]
