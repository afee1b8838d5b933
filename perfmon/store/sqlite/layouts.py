"""Layouts of the raw tier: which series a row's packed values are, by id.

A layout (the series of one sample, in order) changes only when rows appear or disappear
(a disk is mounted, an interface comes up), so each raw row names it by a small id
(``layouts``) and its series by theirs (``series``, keyed by the text of the series key).
The writer makes ids the first time it meets a layout; readers cache what they look up.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from perfmon.core.metrics import Selector, SeriesKey
from perfmon.core.schema import HistoryRow
from perfmon.store.series import EMPTY, Layout, SeriesValues, series_of, steps
from perfmon.store.sqlite.codec import EncodedRow, encode_row
from perfmon.store.sqlite.varints import pack, pack_ids, unpack, unpack_ids


def parse_key(text: str) -> SeriesKey:
    """A series key back from its text (``disks[mountpoint=/].percent``)."""
    selector = Selector.parse(text)
    labels = tuple((m.label, m.value) for m in selector.matchers or ())
    return SeriesKey(selector.group, selector.field or "", labels)


class LayoutIds:
    """The writer's side: a layout's id, its series and the layout inserted the first time."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._ids: dict[Layout, int] = {}
        self._steps: dict[Layout, tuple[int, ...]] = {}

    def steps(self, layout: Layout) -> tuple[int, ...]:
        """The steps of each series of a layout (``Field.steps``)."""
        found = self._steps.get(layout)
        if found is None:
            found = self._steps[layout] = tuple(steps(key) for key in layout)
        return found

    def encode(self, row: HistoryRow, instance: int) -> EncodedRow:
        """A history row as the raw table keeps it, its layout still as keys (``id`` makes the id)."""
        layout, values = series_of(row)
        packed = pack(values, self.steps(layout)) if layout else None
        return (*encode_row(row, instance)[:-2], layout, packed)

    def id(self, layout: Layout) -> int | None:
        """The layout's id (None for no series), inserting it in the writer's open transaction if new."""
        if not layout:
            return None
        found = self._ids.get(layout)
        if found is None:
            found = self._ids[layout] = self._make(layout)
        return found

    def forget(self) -> None:
        """Drop what was learnt: a rolled-back transaction may have made ids that do not exist."""
        self._ids.clear()

    def _make(self, layout: Layout) -> int:
        # Both tables stay small (a row per series, a row per layout ever seen): a scan finds a key, and
        # no index costs a page of its own.
        conn = self._conn
        ids = [_id_of(conn, "series", "key", str(key)) for key in layout]
        return _id_of(conn, "layouts", "series", pack_ids(ids))


def _id_of(conn: sqlite3.Connection, table: str, column: str, value: str | bytes) -> int:
    """The id of the row of ``table`` whose ``column`` is ``value``, inserted if there is none."""
    row = conn.execute(f"SELECT id FROM {table} WHERE {column} = ? ORDER BY id LIMIT 1", (value,)).fetchone()
    if row is not None:
        return int(row[0])
    return int(conn.execute(f"INSERT INTO {table} ({column}) VALUES (?)", (value,)).lastrowid or 0)


class LayoutBook:
    """The readers' side: layouts by id, with their series ids, keys and steps (cached; shared by threads)."""

    def __init__(self) -> None:
        self._layouts: dict[int, tuple[tuple[int, ...], Layout, tuple[int, ...]]] = {}
        self._keys: dict[int, SeriesKey] = {}

    def keys(self, conn: sqlite3.Connection) -> Mapping[int, SeriesKey]:
        """Every series the file has ever kept, by id (oldest first)."""
        count = conn.execute("SELECT count(*) FROM series").fetchone()[0]
        if count != len(self._keys):
            rows = conn.execute("SELECT id, key FROM series ORDER BY id")
            self._keys = {int(i): parse_key(k) for i, k in rows}
        return self._keys

    def get(self, conn: sqlite3.Connection, layout: int) -> tuple[tuple[int, ...], Layout, tuple[int, ...]]:
        """A layout's series ids, keys and steps."""
        found = self._layouts.get(layout)
        if found is None:
            row = conn.execute("SELECT series FROM layouts WHERE id = ?", (layout,)).fetchone()
            ids = tuple(unpack_ids(row[0])) if row else ()
            known = self.keys(conn)
            if any(i not in known for i in ids):
                self._keys = {}
                known = self.keys(conn)
            keys = tuple(known[i] for i in ids)
            found = self._layouts[layout] = (ids, keys, tuple(steps(k) for k in keys))
        return found

    def values(self, conn: sqlite3.Connection, layout: int | None, blob: bytes | None) -> SeriesValues:
        """A raw row's other series, back in their own units."""
        if layout is None or blob is None:
            return EMPTY
        _, keys, steps_of = self.get(conn, layout)
        scaled = unpack(blob)
        return keys, tuple(None if v is None else v / s for v, s in zip(scaled, steps_of, strict=False))
