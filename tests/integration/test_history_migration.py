"""A history file written by the release before series (schema 3, commit b6a3e99) migrates to schema 4.

``tests/fixtures/history-v3-b6a3e99.sqlite3`` was written by that release's own API server
(``python performance_api_server.py --interval 0.2 --data-dir DIR``, run twice: 140 s, then 25 s):
779 raw samples of two instances, their minutes, a ten-minute and an hour point. Nothing of it may
be lost or read back differently, and new samples (with their per-row series) append after it.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from perfmon.core.metrics import Selector
from perfmon.core.schema import empty_sample
from perfmon.store.buckets import from_rows
from perfmon.store.sqlite.codec import decode_row
from perfmon.store.sqlite.schema import schema_version
from perfmon.store.sqlite.store import SqliteStore
from tests.support.fakes import FakeClock

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "history-v3-b6a3e99.sqlite3"
TABLES = ("instances", "raw", "minute", "ten_minute", "hour")


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in the columns that table has in ``path`` now."""
    with sqlite3.connect(path) as conn:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in TABLES}


def columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def test_a_file_of_the_release_before_migrates_with_nothing_lost_and_takes_new_samples(
        tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    shutil.copy(FIXTURE, path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    before, old_raw_columns = dump(path), columns(path, "raw")
    assert len(before["raw"]) == 779 and len(before["minute"]) == 3 and len(before["instances"]) == 2
    newest = before["raw"][-1][0] / 1000
    clock = FakeClock(newest + 3600)
    store = SqliteStore(path, instance_id="after", interval_seconds=1.0, history_size=10, clock=clock)
    try:
        assert store.flush()
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_version() == 4
        after = dump(path)
        # every old row is there, unchanged: raw rows gain two NULL columns (layout, series)
        assert [row[:len(old_raw_columns)] for row in after["raw"]] == before["raw"]
        assert all(row[len(old_raw_columns):] == (None, None) for row in after["raw"])
        for table in ("minute", "ten_minute", "hour"):
            assert after[table][:len(before[table])] == before[table], table
        assert after["instances"][:2] == before["instances"]
        assert len(after["minute"]) == 4  # the minute still open when the old server stopped: rolled up now

        # read back through the store as the old release read them: raw buckets, then the tiers
        rows = [decode_row(row) for row in before["raw"]]
        start, end = rows[0][1] // 1 - 1, rows[-1][1] // 1 + 1
        points = int(end - start)
        raw = store.read_range(start, end, points)
        assert raw.tier == "raw" and raw.series == from_rows(rows, start, end, raw.resolution_seconds).series
        minute_start = before["minute"][0][0]
        minutes = store.read_range(minute_start, minute_start + 180, 3)
        assert minutes.tier == "minute"
        names = columns(path, "minute")
        cpu_sum, cpu_n = names.index("cpu_percent_sum"), names.index("cpu_percent_n")
        expected = [round(row[cpu_sum] / row[cpu_n] / 10, 3) for row in before["minute"]]
        assert minutes.series["cpu_percent"] == expected

        # new samples append, with their per-row series; the old rows have none
        sample = empty_sample()
        sample.update(seq=1, timestamp=clock.now)
        sample["disks"] = [{"mountpoint": "/", "device": "/dev/vda", "fstype": "ext4", "percent": 41.5}]
        store.append(sample)
        assert store.flush()
        answer = store.read(None, 1)
        assert answer.rows[0][0] == 1 and answer.rows[0][1] == clock.now
        picked = store.read_range(start, clock.now + 1, 2, [Selector.parse("disks.percent")])
        assert [str(k) for k in picked.extra] == ["disks[mountpoint=/].percent"]
        means = picked.extra[next(iter(picked.extra))][0]
        assert means[-1] == 41.5 and means[0] is None
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM raw WHERE series IS NOT NULL").fetchone()[0] == 1
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
