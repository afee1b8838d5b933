"""Every component id of the page, in one place, and the properties a tick may update.

``RENDER_KEYS`` lists, in order, every ``component.property`` a tick may update; the
poll callback sends updates keyed by their index in it, and the browser fans them out
(``assets/perfmon.js``).
"""

from __future__ import annotations

from perfmon.ui.screen.rows import ROW_GROUPS

PAGE = "page"
STATUS = "status"
STATUS_DETAIL = "status-detail"
DATA_AGE = "data-age"
HOST_NAME = "host-name"
HOST_PLATFORM = "host-platform"
HOST_UPTIME = "host-uptime"
RANGE = "range"  # the preset selector (5 min ... 30 d); no value while zoomed
RANGE_NOTE = "range-note"  # what a zoom shows, and how to go back
RESOLUTION = "resolution"  # what one point of the charts is (a sample, or a bucket's mean)
DOWNLOAD_BUTTON = "download-button"
DOWNLOAD_NOTE = "download-note"
PROCESS_SORT = "process-sort"
PROCESSES_BODY = "processes-body"
PROCESSES_NOTE = "processes-note"
DISKS_BODY = "disks-body"
ALERTS_BADGE = "alerts-badge"  # the header's count of firing alerts, a link to the panel
ALERTS_PANEL = "alerts"
ALERTS_BODY = "alerts-body"  # the active alerts' table
ALERTS_HISTORY = "alerts-history"  # the recent transitions
ALERTS_NOTE = "alerts-note"
ALERTS_ACTION = "alerts-action"  # what a Silence or Lift click did (its own callback's output)
SILENCE_FOR = "silence-for"  # how long a Silence click silences for
RAW_OPEN = "raw-open"
RAW_JSON = "raw-json"
# stores, timers, the URL and the download
URL = "url"
SPAN = "span"  # the range the charts show: a preset that ends now, or a fixed zoom
ZOOM = "zoom"  # the last zoom or double-click on any chart (relayoutData with an x range)
DOWNLOAD = "download"
CURSOR = "cursor"
RENDERED = "rendered"  # what the browser made of the last view: {"n": its number}, or {"lost": true}
VIEW = "view"
RENDER_KEYS_STORE = "render-keys"
SETTINGS = "settings"
TICK = "tick"
CLOCK = "clock"

KPI_NAMES = ("cpu", "memory", "swap", "disk", "load", "network", "diskio")  # page order
GRAPH_NAMES = ("cpu", "cores", "load", "memory", "network", "diskio")  # page order
ROW_GROUP_NAMES = tuple(group.name for group in ROW_GROUPS)  # a card per row, a chart per group


def kpi(name: str, part: str = "") -> str:
    """The id of a KPI card (``part`` "") or of its ``-value`` or ``-sub`` line."""
    return f"kpi-{name}{part}"


def graph(name: str) -> str:
    """The id of a chart."""
    return f"graph-{name}"


def row_cards(group: str) -> str:
    """The id of the container of a group's row cards."""
    return f"rows-{group}-cards"


def row_graph(group: str) -> str:
    """The id of a group's chart, a trace per row."""
    return graph(f"rows-{group}")


RENDER_KEYS: tuple[str, ...] = (
    f"{PAGE}.className", f"{STATUS}.children", f"{STATUS}.className", f"{STATUS_DETAIL}.children",
    f"{HOST_NAME}.children", f"{HOST_PLATFORM}.children", f"{HOST_UPTIME}.children",
    f"{ALERTS_BADGE}.children", f"{ALERTS_BADGE}.className", f"{ALERTS_BADGE}.title",
    f"{ALERTS_BODY}.children", f"{ALERTS_HISTORY}.children", f"{ALERTS_NOTE}.children",
    *(f"{kpi(name)}.className" if part == "" else f"{kpi(name, part)}.children"
      for name in KPI_NAMES for part in ("", "-value", "-sub")),
    *(f"{graph(name)}.{prop}" for name in GRAPH_NAMES for prop in ("figure", "extendData")),
    f"{RESOLUTION}.children",
    f"{PROCESSES_BODY}.children", f"{PROCESSES_NOTE}.children", f"{DISKS_BODY}.children",
    f"{RAW_JSON}.children", f"{RAW_JSON}.className",
    *(key for group in ROW_GROUP_NAMES for key in (
        f"{row_cards(group)}.children", f"{row_graph(group)}.figure", f"{row_graph(group)}.extendData")),
)
