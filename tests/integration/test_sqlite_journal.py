"""The history store's journal (perfmon/store/sqlite/journal.py): rows wait minutes for their commit in
a file in memory, and what a run that did not close left there is committed first by the next one.

The state a ``kill -9`` leaves is made for real: a store runs with its journal, the database file is
copied (SQLite's backup) while the rows still wait, and after that store has closed the copy and the
journal file as it was are put back. ``tests/system/test_history_process.py`` kills a real server.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from perfmon.core.metrics import Selector
from perfmon.store.sqlite import journal as journal_module
from perfmon.store.sqlite.journal import journal_path
from perfmon.store.sqlite.writer import COMMIT_SECONDS, JOURNAL_COMMIT_SECONDS
from tests.conftest import STORE_T0 as T0
from tests.integration.test_sqlite_store import MakeStore, sample
from tests.support.fakes import FakeClock
from tests.support.processes import wait_for

ROOT = Selector.parse("disks[mountpoint=/].percent")


def with_root(seq: int, t: float, percent: float) -> dict[str, Any]:
    """A sample whose one filesystem, ``/``, is ``percent`` full (a labelled series)."""
    s = sample(seq, t, float(seq))
    s["disks"] = [{"mountpoint": "/", "device": "/dev/vda", "fstype": "ext4", "total_bytes": 100,
                   "used_bytes": int(percent), "free_bytes": 100 - int(percent), "percent": percent}]
    return s


def journal_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def stored(database: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(database) as conn:
        return [(int(seq), int(instance)) for seq, instance in conn.execute(
            "SELECT seq, instance FROM raw ORDER BY t")]


@pytest.fixture
def journals(tmp_path: Path) -> Path:
    directory = tmp_path / "journals"
    directory.mkdir()
    return directory


def crashed(make_store: MakeStore, clock: FakeClock, journals: Path, count: int) -> tuple[Path, Path]:
    """The database and journal as a kill -9 leaves them: ``count`` rows in the journal, none committed."""
    store = make_store(journal_dir=journals)
    assert store.commit_seconds == JOURNAL_COMMIT_SECONDS and store.journal_path is not None
    assert store.flush()  # the file as it is before any row: its tables and this run's instance
    snapshot = store.path.with_name("snapshot.sqlite3")
    with sqlite3.connect(store.path) as source, sqlite3.connect(snapshot) as copy:
        source.backup(copy)
    for seq in range(1, count + 1):
        clock.now = T0 + seq
        store.append(with_root(seq, T0 + seq, 10.0 + seq))
    journal = store.journal_path
    wait_for(lambda: len(journal_lines(journal)) >= count + 2, "the rows in the journal")  # header, layout
    left = journal.read_bytes()
    assert stored(store.path) == []  # nothing committed: only the journal has them
    store.close()
    assert not journal.exists()  # a store that closes writes everything and removes its journal
    for suffix in ("-wal", "-shm"):
        Path(f"{store.path}{suffix}").unlink(missing_ok=True)
    os.replace(snapshot, store.path)
    journal.write_bytes(left)
    journal.chmod(0o600)
    return store.path, journal


def test_rows_wait_in_the_journal_and_a_close_commits_them_and_removes_it(
        make_store: MakeStore, clock: FakeClock, journals: Path) -> None:
    store = make_store(journal_dir=journals)
    journal = store.journal_path
    assert journal == journal_path(journals, store.path) and journal.exists()
    assert journal.stat().st_mode & 0o777 == 0o600
    for seq in range(1, 6):
        clock.now = T0 + seq
        store.append(with_root(seq, T0 + seq, 50.0))
    wait_for(lambda: len(journal_lines(journal)) == 7, "a header, a layout and 5 rows")
    assert stored(store.path) == [] and store.write_stats().commits == 0
    assert [row[0] for row in store.read(0, 10).rows] == [1, 2, 3, 4, 5]  # from the ring meanwhile
    assert store.flush()
    assert len(stored(store.path)) == 5 and journal_lines(journal) == []  # committed, so emptied
    clock.now = T0 + 6
    store.append(with_root(6, T0 + 6, 50.0))
    wait_for(lambda: len(journal_lines(journal)) == 3, "the header and layout again, and the new row")
    store.close()
    assert len(stored(store.path)) == 6 and not journal.exists()


def test_what_a_killed_run_left_in_the_journal_is_committed_first_with_its_series(
        make_store: MakeStore, clock: FakeClock, journals: Path, caplog: pytest.LogCaptureFixture) -> None:
    database, journal = crashed(make_store, clock, journals, count=8)
    clock.now = T0 + 100
    with caplog.at_level(logging.INFO, logger="perfmon.store.sqlite.journal"):
        again = make_store(instance_id="second", journal_dir=journals)
        assert again.flush()
    assert "8 samples recovered from the journal" in caplog.text
    rows = stored(database)
    assert [seq for seq, _ in rows] == list(range(1, 9))
    assert len({instance for _, instance in rows}) == 1  # the killed run's own instance, not the new one
    assert journal_lines(journal) == []
    assert again.first_seq is None  # nothing of this run is stored yet: the recovered rows are the last run's
    result = again.read_range(T0 + 1, T0 + 9, 8, selectors=[ROOT])
    assert result.tier == "raw"
    (means, _, _), = [v for key, v in result.extra.items() if str(key) == "disks[mountpoint=/].percent"]
    assert means == [10.0 + seq for seq in range(1, 9)]


def test_rows_already_in_the_file_are_not_stored_twice_and_damaged_lines_are_skipped(
        make_store: MakeStore, clock: FakeClock, journals: Path, caplog: pytest.LogCaptureFixture) -> None:
    database, journal = crashed(make_store, clock, journals, count=6)
    lines = journal_lines(journal)
    lines.insert(3, '{"not": "a row"')  # garbage among the rows
    journal.write_text("\n".join(lines) + '\n[1700002899000,1,7,"torn')  # the kill came mid-write
    with caplog.at_level(logging.INFO, logger="perfmon.store.sqlite.journal"):
        again = make_store(instance_id="second", journal_dir=journals)
        assert again.flush()
        again.close()
    assert "6 samples recovered" in caplog.text and "2 damaged lines skipped" in caplog.text
    assert [seq for seq, _ in stored(database)] == list(range(1, 7))
    journal.write_text("\n".join(lines[:1] + lines[2:4]) + "\n")  # rows the file already has
    third = make_store(instance_id="third", journal_dir=journals)
    assert third.flush() and [seq for seq, _ in stored(database)] == list(range(1, 7))


def test_another_databases_journal_is_ignored_and_emptied(
        make_store: MakeStore, clock: FakeClock, journals: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    store = make_store(journal_dir=journals)
    journal = store.journal_path
    assert journal is not None
    store.close()
    journal.write_text(f'{{"perfmon_journal": 1, "database": "{other}"}}\n[1,1,1]\n')
    journal.chmod(0o600)
    again = make_store(instance_id="second", journal_dir=journals)
    assert again.flush() and stored(again.path) == [] and journal_lines(journal) == []


@pytest.mark.parametrize("make_bad", ["readable by others", "a link", "no such directory"])
def test_a_journal_file_someone_else_could_have_made_is_refused_and_commits_come_every_few_seconds(
        make_bad: str, make_store: MakeStore, journals: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    target = journal_path(journals, tmp_path / "data" / "history.sqlite3")
    if make_bad == "no such directory":
        journals.rmdir()
    elif make_bad == "a link":
        (tmp_path / "elsewhere").write_text("")
        target.symlink_to(tmp_path / "elsewhere")
    else:
        target.write_text("")
        target.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        store = make_store(journal_dir=journals)
    assert store.journal_path is None and store.commit_seconds == COMMIT_SECONDS
    assert "committing every few seconds instead" in caplog.text
    assert (tmp_path / "elsewhere").read_text() == "" if make_bad == "a link" else True


def test_the_commit_interval_with_a_journal_is_at_most_what_the_ring_holds(
        make_store: MakeStore, journals: Path) -> None:
    assert make_store(history_size=120, journal_dir=journals).commit_seconds == 120
    assert make_store(instance_id="b", journal_dir=None).commit_seconds == COMMIT_SECONDS


def test_a_journal_whose_file_system_is_full_is_given_up_for_commits_every_few_seconds(
        make_store: MakeStore, clock: FakeClock, journals: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    store = make_store(journal_dir=journals)
    clock.now = T0 + 1
    store.append(with_root(1, T0 + 1, 5.0))
    assert store.journal_path is not None
    wait_for(lambda: len(journal_lines(store.journal_path)) == 3, "the first row in the journal")

    def full(fd: int, data: bytes) -> int:  # a tmpfs at its size= limit
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal_module.os, "write", full)
    with caplog.at_level(logging.WARNING):
        clock.now = T0 + 2
        store.append(with_root(2, T0 + 2, 5.0))
        wait_for(lambda: "No space left on device" in caplog.text, "the journal given up")
    monkeypatch.undo()
    assert f"committing every {COMMIT_SECONDS:g} s instead" in caplog.text
    wait_for(lambda: len(stored(store.path)) == 2, f"a commit within {COMMIT_SECONDS} s, without a flush",
             timeout=COMMIT_SECONDS + 20)
