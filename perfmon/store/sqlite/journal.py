"""The journal: samples not yet committed to the history file, kept in a file in memory.

A commit to SQLite dirties the WAL's last pages and its index each time, however little it
writes, so the disk sees about 1 KB a second at a commit every 5 s (BENCHMARKS.md, "Disk
writes of the history store"). With a journal the writer appends each row, as it takes it, to
a file on a memory file system (``tmpfs``: ``$XDG_RUNTIME_DIR``, ``/dev/shm`` or systemd's
``RuntimeDirectory``), which the disk never sees, and commits to SQLite minutes apart. A
``kill -9`` loses nothing the journal holds: the next start finds the file and commits its rows
first. A reboot empties memory and loses what was not committed, as it loses the live tail.

The file is lines of JSON: a header naming the database, a line per layout (its series keys)
before the first row that uses it, and a line per row in the raw table's columns (BLOBs in
base64). It is emptied after every commit and removed when the store closes with nothing
left to write. A line the process did not finish writing (the kill came mid-write) or that
does not parse is skipped and counted.

The journal holds the raw rows a reader can already get from the ring, so nothing reads it
but the next start. It is opened without following links and refused unless this user owns
it and no one else may read it (``/dev/shm`` is shared by every user of the host).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfmon.store.series import Layout
from perfmon.store.sqlite.codec import RAW_COLUMNS, STORED_CORES, EncodedRow
from perfmon.store.sqlite.layouts import parse_key

log = logging.getLogger(__name__)

VERSION = 1
MEMORY_FILE_SYSTEMS = frozenset({"tmpfs", "ramfs"})
BLOB_AT = (STORED_CORES, RAW_COLUMNS.index("series"))  # the per-CPU bytes, the packed series
LAYOUT_AT = RAW_COLUMNS.index("layout")
MOUNTS = Path("/proc/self/mounts")


class JournalError(Exception):
    """The journal cannot be used (its directory, or a file someone else made)."""


@dataclass(frozen=True)
class Recovered:
    """What a journal held: its rows (layouts as keys) and how many lines it had to skip."""

    rows: list[EncodedRow]
    skipped: int


def file_system_of(path: Path, mounts: str | None = None) -> str | None:
    """The type of the file system ``path`` is on (``/proc/self/mounts``: the longest mount point)."""
    try:
        text = MOUNTS.read_text() if mounts is None else mounts
    except OSError:
        return None
    target, best, kind = os.path.realpath(path), -1, None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) > best:
            best, kind = len(point), fields[2]
    return kind


def default_directory(environ: dict[str, str] | None = None, mounts: str | None = None) -> Path | None:
    """Where a journal goes when none is named: the first of ``$XDG_RUNTIME_DIR`` and ``/dev/shm``
    that is a writable directory in memory; None if neither is (then commits come every few seconds)."""
    environ = dict(os.environ) if environ is None else environ
    candidates = [environ.get("XDG_RUNTIME_DIR") or "", "/dev/shm"]
    for candidate in filter(None, candidates):
        path = Path(candidate)
        if path.is_dir() and os.access(path, os.W_OK | os.X_OK) and \
                file_system_of(path, mounts) in MEMORY_FILE_SYSTEMS:
            return path
    return None


def journal_path(directory: Path, database: Path) -> Path:
    """The journal of ``database`` in ``directory``: named after the database's absolute path."""
    digest = hashlib.sha256(os.path.realpath(database).encode()).hexdigest()[:16]
    return directory / f"perfmon-history-{digest}.journal"


def _blob(value: Any) -> Any:
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes | bytearray) else value


def _unblob(value: Any) -> Any:
    return base64.b64decode(value, validate=True) if isinstance(value, str) else value


class Journal:
    """One database's journal file, open for appending; used by the writer thread only."""

    def __init__(self, path: Path, database: Path) -> None:
        self.path = path
        self._header = json.dumps({"perfmon_journal": VERSION, "database": os.path.realpath(database)})
        self._layouts: dict[Layout, int] = {}
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            self._fd = os.open(path, flags, 0o600)
        except OSError as exc:
            raise JournalError(f"cannot open the journal {path}: {exc.strerror or exc}") from exc
        info = os.fstat(self._fd)
        problem = ("is not a regular file" if not stat.S_ISREG(info.st_mode) else
                   "belongs to another user" if info.st_uid != os.geteuid() else
                   f"may be read by others (mode {stat.S_IMODE(info.st_mode):04o})"
                   if info.st_mode & 0o077 else None)
        if problem is not None:
            os.close(self._fd)
            raise JournalError(f"the journal {path} {problem}: not used")

    def recover(self) -> Recovered:
        """The rows a run that did not close left behind (none if the file is another database's)."""
        with open(os.dup(self._fd), encoding="utf-8", errors="replace", closefd=True) as file:
            file.seek(0)
            lines = file.read().splitlines()
        if not lines or lines[0] != self._header:
            return Recovered([], 0 if not lines or len(lines) == 1 else len(lines) - 1)
        layouts: dict[int, Layout] = {}
        rows: list[EncodedRow] = []
        skipped = 0
        for line in lines[1:]:
            try:
                row = _parse(line, layouts)
            except (ValueError, TypeError, KeyError, IndexError):
                skipped += 1
                continue
            if row is not None:
                rows.append(row)
        return Recovered(rows, skipped)

    def append(self, row: EncodedRow) -> None:
        """Add a row (its layout as keys); OSError if the file system refuses (full)."""
        lines = []
        if os.lseek(self._fd, 0, os.SEEK_END) == 0:
            lines.append(self._header)
            self._layouts.clear()
        layout = row[LAYOUT_AT]
        ref = None
        if layout:
            ref = self._layouts.get(layout)
            if ref is None:
                ref = self._layouts[layout] = len(self._layouts)
                lines.append(json.dumps({"layout": ref, "keys": [str(key) for key in layout]}))
        values = list(row)
        values[LAYOUT_AT] = ref
        for at in BLOB_AT:
            values[at] = _blob(values[at])
        lines.append(json.dumps(values, separators=(",", ":")))
        os.write(self._fd, ("\n".join(lines) + "\n").encode())

    def clear(self) -> None:
        """Empty the file: every row it held is in the database."""
        os.ftruncate(self._fd, 0)
        self._layouts.clear()

    def close(self, *, remove: bool) -> None:
        """Close the file; remove it when nothing it holds is missing from the database."""
        os.close(self._fd)
        if remove:
            try:
                os.unlink(self.path)
            except OSError:
                log.debug("the journal %s could not be removed", self.path, exc_info=True)


def _parse(line: str, layouts: dict[int, Layout]) -> EncodedRow | None:
    """A row of the journal (None for a layout line, which is learnt); ValueError and kin if damaged."""
    value = json.loads(line)
    if isinstance(value, dict):
        layouts[int(value["layout"])] = tuple(parse_key(str(key)) for key in value["keys"])
        return None
    if not isinstance(value, list) or len(value) != len(RAW_COLUMNS):
        raise ValueError("not a row")
    if not all(v is None or isinstance(v, int | float | str) for v in value):
        raise TypeError("not a row's values")
    ref = value[LAYOUT_AT]
    value[LAYOUT_AT] = () if ref is None else layouts[int(ref)]
    for at in BLOB_AT:
        value[at] = _unblob(value[at])
    if not isinstance(value[0], int) or not isinstance(value[2], int):
        raise TypeError("a row without its time and seq")
    return tuple(value)


def recover(journal: Journal, newest_ms: int | None) -> list[EncodedRow]:
    """What a run that did not close left in ``journal`` and the file lacks (rows after ``newest_ms``),
    said in the log; the file is emptied when nothing in it is missing (or it was another database's)."""
    found = journal.recover()
    rows = []
    for row in found.rows:
        if newest_ms is None or row[0] > newest_ms:
            newest_ms = row[0]
            rows.append(row)
    if not rows:
        journal.clear()
    if found.rows or found.skipped:
        log.info("history database: %d samples recovered from the journal %s (the last run did not "
                 "close)%s", len(rows), journal.path,
                 f"; {found.skipped} damaged lines skipped" if found.skipped else "")
    return rows


def open_journal(directory: Path | None, database: Path) -> Journal | None:
    """The database's journal in ``directory`` (None: no journal); a warning and None if unusable."""
    if directory is None:
        return None
    try:
        return Journal(journal_path(directory, database), database)
    except JournalError as exc:
        log.warning("history database: %s; committing every few seconds instead", exc)
        return None
