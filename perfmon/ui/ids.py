"""Every component id of the page, in one place, and the properties a tick may update.

``RENDER_KEYS`` lists, in order, every ``component.property`` a tick may update; the
poll callback sends updates keyed by their index in it, and the browser fans them out
(``assets/perfmon.js``).
"""

from __future__ import annotations

PAGE = "page"
STATUS = "status"
STATUS_DETAIL = "status-detail"
DATA_AGE = "data-age"
HOST_NAME = "host-name"
HOST_PLATFORM = "host-platform"
HOST_UPTIME = "host-uptime"
WINDOW = "window"
PROCESS_SORT = "process-sort"
PROCESSES_BODY = "processes-body"
PROCESSES_NOTE = "processes-note"
DISKS_BODY = "disks-body"
RAW_OPEN = "raw-open"
RAW_JSON = "raw-json"
# stores and timers
CURSOR = "cursor"
VIEW = "view"
RENDER_KEYS_STORE = "render-keys"
SETTINGS = "settings"
TICK = "tick"
CLOCK = "clock"

KPI_NAMES = ("cpu", "memory", "swap", "disk", "load", "network", "diskio")  # page order
GRAPH_NAMES = ("cpu", "cores", "load", "memory", "network", "diskio")  # page order


def kpi(name: str, part: str = "") -> str:
    """The id of a KPI card (``part`` "") or of its ``-value`` or ``-sub`` line."""
    return f"kpi-{name}{part}"


def graph(name: str) -> str:
    """The id of a chart."""
    return f"graph-{name}"


RENDER_KEYS: tuple[str, ...] = (
    f"{PAGE}.className", f"{STATUS}.children", f"{STATUS}.className", f"{STATUS_DETAIL}.children",
    f"{HOST_NAME}.children", f"{HOST_PLATFORM}.children", f"{HOST_UPTIME}.children",
    *(f"{kpi(name)}.className" if part == "" else f"{kpi(name, part)}.children"
      for name in KPI_NAMES for part in ("", "-value", "-sub")),
    *(f"{graph(name)}.{prop}" for name in GRAPH_NAMES for prop in ("figure", "extendData")),
    f"{PROCESSES_BODY}.children", f"{PROCESSES_NOTE}.children", f"{DISKS_BODY}.children",
    f"{RAW_JSON}.children", f"{RAW_JSON}.className",
)
