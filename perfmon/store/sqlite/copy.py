"""Reading a damaged history file table by table, around what cannot be read (see ``salvage``).

Moving the whole file aside when one page is damaged threw away every good row (a 7.8 MB file
with 200 bytes of garbage three quarters in lost all 172,800 samples). Instead each table is
copied forward by its key (every table is keyed by its INTEGER PRIMARY KEY, the rowid) in ranges
of keys of about ``CHUNK_ROWS`` rows, each by one ``INSERT ... SELECT`` from the damaged file
attached read-only, keeping only rows whose values have the fresh file's column types and whose
key is plausible (garbage that happens to parse is refused: a damaged key is random). A chunk
that raises SQLITE_CORRUPT is undone and read again row by row up to the damage; the first
readable key after it is found by galloping, then halving, over start keys. So the rows on the
pages around the damage are kept, and the bulk is copied in C: the issue's salvage takes about
1 s here (2-3 s with the machine's two cores busy), against 4.6 s with rows checked and inserted
one by one in Python. A damaged interior page loses the rows under it (about 2,000 raw samples
with 1 KiB pages). The sqlite3 CLI's ``.recover`` would read such orphaned leaves too, but it
needs a system package and the sqlite_dbpage table, which Debian 12's sqlite3 3.40 lacks: there
it fails even on a sound file (bench/bench_salvage.py runs it alongside).

What was lost is counted honestly: each table's ``count(*)`` (which reads only the B-tree's cell
counts and works on a damaged file unless a page header is hit) minus the rows kept. When that
count cannot be read, the loss is a lower bound: for raw samples the gaps in their per-instance
sequence numbers across each unreadable span, for roll-ups nothing (a gap there may be downtime).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

CORRUPT_CODES = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB (primary codes)
CHUNK_ROWS = 4096
MIN_KEY, MAX_KEY = -(2**63), 2**63 - 1
SQL_TYPES = {"INTEGER": "integer", "TEXT": "text", "BLOB": "blob"}
SOURCE = "damaged"  # the schema name the damaged file is attached as

Key = int
Row = tuple[Any, ...]
Span = tuple[Key | None, Key | None]  # the last key read before the damage and the first after (None: none)


def is_damage(exc: sqlite3.Error) -> bool:
    """Whether an error says the file is damaged (not a missing table, a lock or a full disk)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in CORRUPT_CODES
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


@dataclass(frozen=True, slots=True)
class TableCopy:
    """What salvaging one table kept and lost, and the key spans that could not be read."""

    name: str
    kept: int
    lost: int  # at least this many rows could not be read
    exact: bool  # lost is exact: the damaged file could still count its rows
    spans: tuple[Span, ...]


def columns_of(conn: sqlite3.Connection, table: str, schema: str = "main") -> list[tuple[str, str, bool]]:
    """Each column's name, declared type and whether it is NOT NULL (the key column first)."""
    info = conn.execute(f"PRAGMA {schema}.table_info({table})").fetchall()
    ordered = sorted(info, key=lambda c: -c[5])  # pk first, then in declared order (sort is stable)
    return [(str(c[1]), str(c[2]).upper(), bool(c[3]) or bool(c[5])) for c in ordered]


def soundness(columns: Sequence[tuple[str, str, bool]]) -> str:
    """An SQL test that a row has the types the fresh file declares."""
    tests = []
    for name, kind, required in columns:
        allowed = [SQL_TYPES.get(kind, "")] + ([] if required else ["null"])
        test = f"typeof({name}) IN ({', '.join(repr(a) for a in allowed)})"
        if kind == "BLOB" and name.endswith("_sum"):  # per-CPU sums: uint32 each
            test += f" AND coalesce(length({name}) % 4 = 0, 1)"
        tests.append(test)
    return " AND ".join(tests)


class TableCopier:
    """Copies one table from the attached damaged file into the fresh one, around what cannot be read."""

    def __init__(self, conn: sqlite3.Connection, table: str,
                 keys: tuple[Key, Key] = (MIN_KEY, MAX_KEY), step: int = 1) -> None:
        """``keys``: the plausible keys, both included (a cell whose key is damaged is refused by them);
        ``step``: about how far apart keys are, so that a chunk of keys holds about CHUNK_ROWS rows."""
        present = {name for name, _, _ in columns_of(conn, table, SOURCE)}
        columns = [c for c in columns_of(conn, table) if c[0] in present]  # older files: the rest stay null
        self.conn, self.table, self.key = conn, table, columns[0][0]
        names = ", ".join(name for name, _, _ in columns)
        self.first, self.last, self.width = keys[0], keys[1], CHUNK_ROWS * step
        # The range is given twice: SQLite seeks by the first and ends the scan by it, trusting the
        # B-tree's order; "+key" is checked on every row, so a damaged key out of the range is refused.
        key = self.key
        self.select = (f"SELECT {names} FROM {SOURCE}.{table} WHERE {key} >= :low AND {key} <= :high "
                       f"AND +{key} BETWEEN :low AND :high AND {soundness(columns)} ORDER BY {key}")
        self.insert = f"INSERT OR IGNORE INTO main.{table} ({names}) "
        self.values = f"VALUES ({', '.join('?' * len(columns))})"
        self.kept = 0
        self.spans: list[Span] = []

    def run(self) -> TableCopy:
        """Copy every readable, sound row; then count what the damaged file says was there."""
        start: Key | None = self.first
        while start is not None:
            start = self._step(start)
        claimed = count_rows(self.conn, self.table)
        if claimed is not None:
            lost = max(0, claimed - self.kept)
            if lost and not self.spans and self.table == "raw":
                # cells whose keys garbage rewrote are refused without an error: find them by seq
                self.spans.extend(self.seq_gaps())
            return TableCopy(self.table, self.kept, lost, True, tuple(self.spans))
        return TableCopy(self.table, self.kept, self.lower_bound(), False, tuple(self.spans))

    def _step(self, start: Key) -> Key | None:
        """Copy the chunk of keys from the first at ``start`` on, in one statement; where to go on.

        Chunks are ranges of keys, not counts of rows, so a damaged key that reads as plausible but
        wrong cannot make the next chunk skip ahead; it ends a range's scan early, and the next
        chunk then starts at the first row after the last one copied.
        """
        works, row = self._probe(start, self.last)
        if not works:
            return self._around(start, self.last)
        if row is None:
            return None  # the end of the table
        first = int(row[0])
        end = min(self.last, first + self.width - 1)
        try:
            copied = self.conn.execute(f"{self.insert} {self.select}", {"low": first, "high": end})
            self.kept += copied.rowcount
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            return self._around(first, end)
        newest = self.conn.execute(f"SELECT max({self.key}) FROM main.{self.table} WHERE {self.key} "
                                   "BETWEEN ? AND ?", (first, end)).fetchone()[0]
        if newest is not None and newest < end:
            resume = self.first_readable(newest, end, row_needed=True)
            if resume is not None:  # the scan stopped short of rows that a seek finds: a damaged key
                self.spans.append((newest, resume))
                return resume
        return end + 1 if end < self.last else None

    def seq_gaps(self) -> list[Span]:
        """Where kept raw samples of one instance skip sample numbers: (the one before, the one after)."""
        return [(int(t), int(after)) for t, after in self.conn.execute(
            "SELECT t, after FROM (SELECT t, instance, seq, lead(t) OVER w AS after, lead(instance) OVER w "
            "AS next_instance, lead(seq) OVER w AS next_seq FROM main.raw WINDOW w AS (ORDER BY t)) "
            "WHERE next_instance = instance AND next_seq > seq + 1")]

    def lower_bound(self) -> int:
        """Rows surely lost when the file cannot count them: raw samples are numbered (seq) per instance."""
        if self.table != "raw":
            return 0
        lost = 0
        for before, after in self.spans:
            if before is None or after is None:
                continue
            rows = self.conn.execute("SELECT instance, seq FROM main.raw WHERE t IN (?, ?) ORDER BY t",
                                     (before, after)).fetchall()
            if len(rows) == 2 and rows[0][0] == rows[1][0]:
                lost += max(0, rows[1][1] - rows[0][1] - 1)
        return lost

    def _around(self, start: Key, end: Key) -> Key | None:
        """Copy row by row from ``start`` up to the damage (or ``end``), then find where reading works.

        Row by row means one ``LIMIT 1`` read per row: a cursor that is iterated reads the row after
        the one it returns first, so the last row before the damage would be lost with the error.
        """
        rows: list[Row] = []
        key = start
        while True:
            works, row = self._probe(key, end)
            if works and row is None:
                self._keep(rows)
                return end + 1 if end < self.last else None  # this chunk is done, without damage
            if not works or row is None:
                break
            rows.append(row)
            key = row[0] + 1
        self._keep(rows)
        last = rows[-1][0] if rows else None
        resume = self.first_readable(start if last is None else last)
        self.spans.append((self._before(start) if last is None else last, resume))
        return resume

    def _keep(self, rows: list[Row]) -> None:
        self.conn.execute("BEGIN")
        self.kept += self.conn.executemany(f"{self.insert} {self.values}", rows).rowcount
        self.conn.execute("COMMIT")

    def _before(self, start: Key) -> Key | None:
        """The newest key copied before ``start`` (None: none), where a span of damage begins."""
        row = self.conn.execute(f"SELECT max({self.key}) FROM main.{self.table} WHERE {self.key} < ?",
                                (start,)).fetchone()
        return None if row[0] is None else int(row[0])

    def _probe(self, key: Key, end: Key) -> tuple[bool, Row | None]:
        """Whether a read from ``key`` works, and the first row it finds up to ``end`` (None: none)."""
        try:
            return True, self.conn.execute(self.select + " LIMIT 1", {"low": key, "high": end}).fetchone()
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            return False, None

    def first_readable(self, after: Key, end: Key | None = None, *, row_needed: bool = False) -> Key | None:
        """The first key after ``after`` (up to ``end``) from which a read works (and, if ``row_needed``,
        finds a row): galloping, then halving. None: there is none."""
        end = self.last if end is None else end

        def good(key: Key) -> tuple[bool, Row | None]:
            works, row = self._probe(key, end)
            return works and (row is not None or not row_needed), row

        step, failed = 1, after
        while True:
            key = min(end, after + step)
            works, found = good(key)
            if works:
                break
            failed = key
            if key >= end:
                return None
            step *= 2
        low, high = failed, key  # a read from ``low`` fails, from ``high`` it works
        while high - low > 1:
            middle = (low + high) // 2
            works, first = good(middle)
            if works:
                high, found = middle, first
            else:
                low = middle
        return None if found is None else int(found[0])


def count_rows(conn: sqlite3.Connection, table: str) -> int | None:
    """How many rows the damaged file's B-tree says ``table`` has, or None if it cannot say."""
    try:
        return int(conn.execute(f"SELECT count(*) FROM {SOURCE}.{table}").fetchone()[0])
    except sqlite3.DatabaseError:
        return None
