"""The cards, tables, host line and raw data of a tick: what a new sample changes on screen.

The cards are a table (``CARDS``) over the schema: each shows one field, formatted by
that field's unit, with the field's description as its tooltip. A card's detail line is
at most two lines in a 160 px card (two cards a row on a phone), a number never parted
from its unit; where the API gives a reason instead, the card says it in a few plain
words and the whole reason shows on hover.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from perfmon.core import units
from perfmon.core.metrics import BY_NAME, Selector, SeriesKey
from perfmon.core.schema import Field, field
from perfmon.core.shapes import MemorySection, Sample, SwapSection
from perfmon.ui.screen import ids

Updates = dict[str, Any]
Sub = str | dict[str, Any]  # a detail line: text, or a span whose title holds the API's whole reason
NUMBER_THEN_WORD = re.compile(r"(?<=\d) (?=\S)")
NBSP = "\u00a0"
EXCEPTION_NAME = re.compile(r"[A-Z]\w*(Error|Exception)")
REASON_WORDS = 40  # characters of a reason a card shows; the tooltip has it all
SHORT_REASONS = {"no swap space is configured": "no swap configured"}  # the API's words: a contract


@dataclass(frozen=True)
class Thresholds:
    """Usage at which a card turns amber, then red."""

    warning_percent: float = 80.0
    critical_percent: float = 95.0

    def level(self, value: float | None) -> str:
        """``ok``, ``warn``, ``crit`` or ``na``."""
        return units.level(value, self.warning_percent, self.critical_percent)

    def of(self, group: str, field: str, labels: Any, value: float | None,
           sample: Mapping[str, Any]) -> str | None:
        """The level the alert rules give this value; None: no rule watches it (perfmon.ui.screen.levels)."""
        return None

    def of_row(self, group: str, labels: Any, values: Mapping[str, Any]) -> str | None:
        """The worst level the alert rules give a row's values; None: no rule watches any."""
        return None

    def lines(self, group: str, fields: Any) -> list[Any]:
        """The alert rules that draw their level on a chart of these fields of ``group``: none here."""
        return []


def error_for(sample: Sample, collector: str) -> str | None:
    """The reason a collector gave for its null fields, if it gave one."""
    return next((e["message"] for e in sample.get("errors", ()) if e["collector"] == collector), None)


def glued(text: str) -> str:
    """``2.45 GHz`` with a no-break space: a line never ends between a number and its unit."""
    return NUMBER_THEN_WORD.sub(NBSP, text)


def short_reason(reason: str) -> str:
    """A reason in a few plain words: ``no swap configured``, or its first clause, cut to fit."""
    clauses = [clause.strip() for clause in reason.split(": ")]
    while len(clauses) > 1 and EXCEPTION_NAME.fullmatch(clauses[0]):
        clauses.pop(0)  # "OSError: no /proc/swaps" says its point after the class
    head = SHORT_REASONS.get(clauses[0], clauses[0])
    return head if len(head) <= REASON_WORDS else head[:REASON_WORDS - 1].rstrip() + "…"


def reason_sub(sample: Sample, collector: str, fallback: str = "") -> Sub:
    """A card's detail for a metric the host could not give: the short reason, the whole one on hover."""
    reason = error_for(sample, collector)
    if reason is None:
        return fallback
    return {"type": "Span", "namespace": "dash_html_components",
            "props": {"children": short_reason(reason), "title": reason}}


ROOT_FILESYSTEM = Selector.parse("disks[mountpoint=/].percent")


def root_disk(sample: Sample) -> Mapping[str, Any] | None:
    """The root filesystem, found by the group's key, or the first one when there is no ``/`` (Windows)."""
    group = BY_NAME[ROOT_FILESYSTEM.group]
    rows = group.rows_of(sample) or []
    width = len(group.key)
    found = (r for r in rows if ROOT_FILESYSTEM.matches(SeriesKey(group.name, "percent", r.labels[:width])))
    root = next(found, rows[0] if rows else None)
    return None if root is None else root.values


def load_per_cpu(sample: Sample) -> float | None:
    """The 1-minute load as a share of the logical CPUs, in percent."""
    load, cores = sample["cpu"]["load_average"], sample["cpu"]["count_logical"]
    return load[0] / cores * 100 if load and cores else None


def used_of(section: MemorySection | SwapSection) -> str:
    """``1.50 GiB of 8.00 GiB used``."""
    return f"{units.size(section['used_bytes'])} of {units.size(section['total_bytes'])} used"


def cpu_sub(sample: Sample) -> Sub:
    cpu = sample["cpu"]
    freq = f" at {cpu['frequency_mhz'] / 1000:.2f} GHz" if cpu["frequency_mhz"] else ""
    cores = cpu["count_logical"]
    return glued(f"{cores} CPUs{freq}") if cores else reason_sub(sample, "cpu")


def swap_sub(sample: Sample) -> Sub:
    swap = sample["swap"]
    return glued(used_of(swap)) if swap["percent"] is not None else reason_sub(sample, "swap", "not readable")


def disk_sub(sample: Sample) -> Sub:
    disk = root_disk(sample)
    if disk is None:
        return reason_sub(sample, "disks")
    used, total = units.size(disk["used_bytes"]), units.size(disk["total_bytes"])
    return glued(f"{disk['mountpoint']}: {used} of {total}")


def load_sub(sample: Sample) -> Sub:
    load, share = sample["cpu"]["load_average"], load_per_cpu(sample)
    if not load or share is None:
        return reason_sub(sample, "load_average")
    return glued(f"5 min {load[1]:.2f}, 15 min {load[2]:.2f}; {share:.0f} % of the CPUs")


def diskio_sub(sample: Sample) -> Sub:
    io = sample["disk_io"]
    ops = (f"{io['read_ops_per_s']:.0f} / {io['write_ops_per_s']:.0f} ops/s"
           if io["read_ops_per_s"] is not None and io["write_ops_per_s"] is not None else "")
    return glued(f"W {units.rate(io['write_bytes_per_s'])}  {ops}".rstrip())


def at_path(path: str) -> Callable[[Sample], Any]:
    """A reader of the plain (not per-row) field at a schema path."""
    keys = field(path).keys

    def read(sample: Sample) -> Any:
        value: Any = sample
        for key in keys:
            value = value[key]
        return value

    return read


@dataclass(frozen=True)
class Card:
    """One KPI card: a schema field as its big value, a line of detail, a threshold colour."""

    name: str
    label: str
    path: str  # the schema field the value shows
    sub: Callable[[Sample], Sub]
    read: Callable[[Sample], Any] | None = None  # default: the field at ``path``
    prefix: str = ""
    levelled: Callable[[Sample], float | None] | None = None  # the percentage the colour follows
    watch: tuple[str, str] | None = None  # the series (group, field) alert rules may select
    row: Callable[[Sample], Mapping[str, Any] | None] | None = None  # the row the value is of

    def level(self, sample: Sample, thresholds: Thresholds) -> str:
        """The card's colour: the rules' that watch its value, else the dashboard's own levels."""
        if self.watch is not None:
            labels = None if self.row is None else (self.row(sample) or {}).items()
            ruled = thresholds.of(*self.watch, labels, (self.read or at_path(self.path))(sample), sample)
            if ruled is not None:
                return ruled
        return "info" if self.levelled is None else thresholds.level(self.levelled(sample))

    @property
    def field(self) -> Field:
        """The schema's description of the value."""
        return field(self.path)

    def updates(self, sample: Sample, thresholds: Thresholds) -> Updates:
        """The card's value, detail line and class."""
        value = (self.read or at_path(self.path))(sample)
        shown = units.show(self.field.unit, value)
        level = "info" if self.levelled is None else self.level(sample, thresholds)
        return {f"{ids.kpi(self.name, '-value')}.children": self.prefix + shown,
                f"{ids.kpi(self.name, '-sub')}.children": self.sub(sample),
                f"{ids.kpi(self.name)}.className": f"card {level}"}


def _root_percent(sample: Sample) -> float | None:
    disk = root_disk(sample)
    return None if disk is None else disk["percent"]


def _load_1(sample: Sample) -> float | None:
    load = sample["cpu"]["load_average"]
    return load[0] if load else None


CARDS: tuple[Card, ...] = (
    Card("cpu", "CPU", "cpu.percent", cpu_sub, levelled=at_path("cpu.percent"), watch=("cpu", "percent")),
    Card("memory", "Memory", "memory.percent", lambda s: glued(used_of(s["memory"])),
         levelled=at_path("memory.percent"), watch=("memory", "percent")),
    Card("swap", "Swap", "swap.percent", swap_sub, levelled=at_path("swap.percent"),
         watch=("swap", "percent")),
    Card("disk", "Root filesystem", "disks[].percent", disk_sub, read=_root_percent,
         levelled=_root_percent, watch=("disks", "percent"), row=root_disk),
    Card("load", "Load (1 min)", "cpu.load_average", load_sub, read=_load_1, levelled=load_per_cpu,
         watch=("cpu", "load_1")),
    Card("network", "Network", "network.recv_bytes_per_s",
         lambda s: glued(f"↑ {units.rate(s['network']['sent_bytes_per_s'])} sent"), prefix="↓ "),
    Card("diskio", "Disk I/O", "disk_io.read_bytes_per_s", diskio_sub, prefix="R "),
)


def kpi_updates(sample: Sample, thresholds: Thresholds) -> Updates:
    """Value, detail and threshold colour of every card, and the host's uptime."""
    updates: Updates = {}
    for card in CARDS:
        updates |= card.updates(sample, thresholds)
    updates[f"{ids.HOST_UPTIME}.children"] = "up " + units.duration(sample["host"]["uptime_seconds"])
    return updates


def digest(value: Any) -> str:
    """A short fingerprint of JSON-able data, to tell whether a tab already shows it."""
    return hashlib.blake2s(json.dumps(value).encode(), digest_size=6).hexdigest()


def show_host(updates: Updates, shown: str | None, sample: Sample) -> str:
    """Hostname and OS, sent only when they differ from what the tab shows (``shown``); their key."""
    host = sample["host"]
    key = digest([host["hostname"], host["platform"]])
    if key != shown:
        updates[f"{ids.HOST_NAME}.children"] = host["hostname"] or units.NA
        updates[f"{ids.HOST_PLATFORM}.children"] = host["platform"] or units.NA
    return key


def bar(value: float | None, thresholds: Thresholds, level: str | None = None) -> dict[str, Any]:
    """A usage-bar cell: the browser draws it (see assets/perfmon.js)."""
    return {"bar": value, "level": level or thresholds.level(value), "text": units.percent(value)}


def disk_bar(disk: Mapping[str, Any], sample: Sample, thresholds: Thresholds) -> dict[str, Any]:
    """A filesystem's usage bar, coloured by the alert rules that watch it (else the dashboard's levels)."""
    percent = disk["percent"]
    return bar(percent, thresholds, thresholds.of("disks", "percent", disk.items(), percent, sample))


def show_disks(updates: Updates, shown: str | None, sample: Sample, thresholds: Thresholds) -> str:
    """Rows of the disks table, sent only when they differ from what the tab shows (``shown``); their key."""
    disks = sample.get("disks")
    if disks is None:
        rows: list[list[Any]] = [[error_for(sample, "disks") or "disk usage not readable"]]
    else:
        rows = [[d["mountpoint"], d["device"], d["fstype"], units.size(d["used_bytes"]),
                 units.size(d["total_bytes"]), disk_bar(d, sample, thresholds)] for d in disks]
    key = digest(rows)
    if key != shown:
        updates[f"{ids.DISKS_BODY}.children"] = {"rows": rows}
    return key


def show_processes(updates: Updates, shown: str | None, table: Mapping[str, Any], sort: str) -> str:
    """Rows of the process table, sent when a new scan or another sort order is due; their key."""
    key = f"{sort}:{table['sampled_at']}"
    if key == shown:
        return key
    rows = [[p["pid"], p["name"] or units.NA, p["username"] or units.NA,
             units.percent(p["cpu_percent"]), units.percent(p["memory_percent"]),
             units.size(p["memory_rss_bytes"])] for p in table["processes"]]
    updates[f"{ids.PROCESSES_BODY}.children"] = {"rows": rows}
    note = table["error"] or f"top {len(rows)} of {table['count']} processes by {sort}"
    updates[f"{ids.PROCESSES_NOTE}.children"] = f"{note}; scanned at {units.clock(table['sampled_at'])}"
    return key


def raw_json(sample: Sample) -> str:
    """The sample as the API sent it, pretty-printed."""
    return json.dumps(sample, indent=2)
