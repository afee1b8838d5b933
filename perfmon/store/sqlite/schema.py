"""The history database file: its tables, its migrations, and opening it safely.

Opening refuses what it must not touch (a directory it cannot write, a file from a newer
perfmon) with one line naming what to do. A damaged file is salvaged (``salvage``):
its readable rows go into a new file and the damaged one is kept aside. A file too short or
with no SQLite header is not a database: it is moved aside and a new one started.
``PRAGMA user_version`` is the schema version; version 0 is an empty file, and
``MIGRATIONS[n]`` takes a file from version n to n + 1.

``PRAGMA quick_check`` at every open reads every page: 50-110 ms for a 7.8 MiB file here
(2 days at 1 s), so several seconds at the default 1 GiB cap.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from urllib.request import pathname2url

from perfmon.store.base import StoreError
from perfmon.store.buckets import CORES, VALUE_COLUMNS
from perfmon.store.sqlite.copy import is_damage
from perfmon.store.sqlite.salvage import one_line, salvage, set_aside

log = logging.getLogger(__name__)

WAL_LIMIT_BYTES = 1 << 20  # the WAL is cut back to this after a checkpoint
# In WAL mode a killed process keeps every commit, and only an OS crash may lose the last ones.
# OFF (no fsync at checkpoints either) wrote only 6 % less (bench_writes.py): not worth a file an
# OS crash may damage.
SYNCHRONOUS = "NORMAL"
AUTOCHECKPOINT_PAGES = 1000  # SQLite checkpoints once a commit takes the WAL past this (250: no fewer bytes)
BUSY_MS = 5000
# Every commit appends the pages it changed to the WAL: at a commit every 5 s the process wrote
# 1.0 KB/s with 1 KiB pages, 1.5 KB/s with 4 KiB and no less with 512 B (bench_writes.py).
PAGE_SIZE = 1024
HEADER = b"SQLite format 3\x00"
HEADER_BYTES = 100  # a database file is at least its 100-byte header (and in fact one whole page)
# SQLite's primary codes that mean the file or its directory may not be written or opened
DENIED_CODES = (3, 8, 14, 23)  # SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_AUTH
DENIED_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS)


def _raw_table() -> str:
    values = ", ".join(f"{c} INTEGER" for c in VALUE_COLUMNS)
    return (f"CREATE TABLE raw (t INTEGER PRIMARY KEY, instance INTEGER NOT NULL, seq INTEGER NOT NULL, "
            f"{values}, {CORES} BLOB)")


def _tier_table(name: str) -> str:
    values = ", ".join(f"{c}_min INTEGER, {c}_max INTEGER, {c}_sum INTEGER, {c}_n INTEGER"
                       for c in VALUE_COLUMNS)
    return (f"CREATE TABLE {name} (t INTEGER PRIMARY KEY, n INTEGER NOT NULL, {values}, "
            f"{CORES}_sum BLOB, {CORES}_n INTEGER NOT NULL DEFAULT 0)")


def _create_v1(conn: sqlite3.Connection) -> None:
    """Version 1: instances, raw samples (t in ms), minute and hour roll-ups (t in s)."""
    conn.execute("CREATE TABLE instances (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "started_ms INTEGER NOT NULL)")
    conn.execute(_raw_table())
    for name in ("minute", "hour"):
        conn.execute(_tier_table(name))


def _add_ten_minutes_v2(conn: sqlite3.Connection) -> None:
    """Version 2: ten-minute roll-ups for fast week and month reads (the writer fills them from minutes)."""
    conn.execute(_tier_table("ten_minute"))


def _add_salvages_v3(conn: sqlite3.Connection) -> None:
    """Version 3: the reports of salvages of a damaged file (salvage), for /api/health."""
    conn.execute("CREATE TABLE salvages (at_ms INTEGER PRIMARY KEY, damaged_file TEXT NOT NULL, "
                 "problem TEXT NOT NULL, kept_rows INTEGER NOT NULL, lost_rows INTEGER NOT NULL, "
                 "lost_rows_exact INTEGER NOT NULL, lost_spans TEXT NOT NULL)")


def _add_series_v4(conn: sqlite3.Connection) -> None:
    """Version 4: every other kept series (per mount, interface, disk ...; ``perfmon.store.series``).

    Raw rows gain a layout id and a BLOB of packed values (``layouts``, ``varints``); older rows
    have neither (NULL costs nothing, and nothing is rewritten). Each tier gains a table with one
    row per (series, period), keyed by ``series_key`` (``series_tiers``).
    """
    conn.execute("CREATE TABLE series (id INTEGER PRIMARY KEY, key TEXT NOT NULL)")
    conn.execute("CREATE TABLE layouts (id INTEGER PRIMARY KEY, series BLOB NOT NULL)")
    conn.execute("ALTER TABLE raw ADD COLUMN layout INTEGER")
    conn.execute("ALTER TABLE raw ADD COLUMN series BLOB")
    for name in ("minute", "ten_minute", "hour"):
        conn.execute(f"CREATE TABLE series_{name} (k INTEGER PRIMARY KEY, n INTEGER NOT NULL, lo INTEGER, "
                     f"hi INTEGER, total INTEGER)")


Migration = Callable[[sqlite3.Connection], None]
# MIGRATIONS[n]: version n -> n + 1; append, never edit
MIGRATIONS: list[Migration] = [_create_v1, _add_ten_minutes_v2, _add_salvages_v3, _add_series_v4]


def schema_version() -> int:
    """The version this perfmon writes: every migration applied."""
    return len(MIGRATIONS)


def open_database(path: Path, pragmas: Mapping[str, int] | None = None,
                  clock: Callable[[], float] = time.time) -> sqlite3.Connection:
    """The writer's connection to ``path``, checked (salvaged if damaged, at ``clock``'s time), configured
    and migrated; StoreError if unusable."""
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        conn = _checked(path, clock)
        _configure(conn, pragmas or {})
        migrate(conn)
    except sqlite3.Error as exc:
        raise unusable(directory, exc) from exc
    except OSError as exc:
        raise unusable(directory, exc) from exc
    return conn


def unusable(directory: Path, exc: sqlite3.Error | OSError) -> StoreError:
    """The one-line refusal for a directory the history cannot live in; the hint fits the cause."""
    if isinstance(exc, OSError):
        denied, reason, hint = exc.errno in DENIED_ERRNOS, exc.strerror or str(exc), ""
    else:
        code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        denied, reason, hint = code in DENIED_CODES, str(exc), "check the disk, or "
    hint = "make that directory writable, or " if denied else hint
    return StoreError(f"cannot keep the history database in {directory}: {reason}; {hint}choose another "
                      f"--data-dir (or --data-dir none for memory only)")


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), usable from the owning thread."""
    return sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_MS / 1000)


def _checked(path: Path, clock: Callable[[], float]) -> sqlite3.Connection:
    """A connection to a file that is a sound database of a version we read, or to a new one."""
    problem = _not_sqlite(path)  # before SQLite opens it: it would delete a -wal beside a non-database
    if problem is not None:
        aside = set_aside(path)
        log.error("history database %s is not a database (%s): moved it to %s and started a new, empty one",
                  path, problem, aside)
    elif path.exists() and path.stat().st_size:
        problem, version = _inspect(path)
        if version > schema_version():
            raise StoreError(f"{path} was written by a newer perfmon (history schema version {version}); "
                             f"this perfmon reads versions up to {schema_version()}: upgrade perfmon, or "
                             f"choose another --data-dir")
        if problem is not None:
            salvage(path, problem, _build, clock)
    return connect(path)


def _inspect(path: Path) -> tuple[str | None, int]:
    """What is wrong with a file (None: it is sound) and its schema version, read without writing to it.

    Read-only, so that a damaged file and the -wal a crash left beside it stay as they were (a
    connection that writes would check the -wal into the damaged file when it closes).
    """
    with contextlib.closing(sqlite3.connect(f"file:{pathname2url(str(path))}?mode=ro", uri=True)) as conn:
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            return (None if version > schema_version() else _quick_check(conn)), version
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            return one_line(str(exc)), 0


def _build(conn: sqlite3.Connection) -> None:
    """Make ``conn``'s new, empty file a database of this version, as open_database would."""
    _new_file(conn)
    migrate(conn)


def _new_file(conn: sqlite3.Connection) -> None:
    """What only a new file can still take: small pages, and free pages that can be handed back."""
    conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
    conn.execute("PRAGMA auto_vacuum=INCREMENTAL")


def _not_sqlite(path: Path) -> str | None:
    """Why ``path`` is not a SQLite database, or None (it is one, or it is empty or absent)."""
    try:
        with path.open("rb") as file:
            header = file.read(HEADER_BYTES)
    except FileNotFoundError:
        return None
    if not header:
        return None
    if len(header) < HEADER_BYTES:
        return f"{len(header)} bytes long: too short for a database"
    return None if header.startswith(HEADER) else "no SQLite header"


def _quick_check(conn: sqlite3.Connection) -> str | None:
    """None if the file is sound, else what is wrong (the first problem quick_check found, one line)."""
    rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    first = str(rows[0][0]) if rows else "no answer"
    return None if first == "ok" else one_line(first)


def _configure(conn: sqlite3.Connection, pragmas: Mapping[str, int]) -> None:
    """WAL with synchronous=NORMAL: a killed process loses no committed transaction."""
    if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
        _new_file(conn)
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError(f"the database cannot use a write-ahead log (journal mode {mode})")
    conn.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
    conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
    conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    for name, value in pragmas.items():
        if not name.isidentifier():
            raise ValueError(f"not a PRAGMA name: {name!r}")
        conn.execute(f"PRAGMA {name}={int(value)}")


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations this file has not had yet, each in its own transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for step in range(version, schema_version()):
        with transaction(conn):
            MIGRATIONS[step](conn)
            conn.execute(f"PRAGMA user_version={step + 1}")
        if version:  # a new file is created, not migrated: nothing to say
            log.info("history database migrated from schema version %d to %d", step, step + 1)


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
