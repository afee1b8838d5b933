"""alerts.sqlite3: what the alert book keeps across restarts, in a real SQLite file."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from perfmon.store.base import StoreError
from perfmon.store.sqlite.alert_state import FILE_NAME, AlertStateFile

FIRING = {"id": "Hot{}", "rule": "Hot", "key": [], "labels": [], "state": "firing", "active_since": 10.0,
          "value": 95.0, "fired_at": 70.0, "notified_at": 70.0}


def record(at: float, kind: str = "firing") -> dict[str, object]:
    return {"at": at, "kind": kind, "reason": None, "id": "Hot{}", "alertname": "Hot"}


def test_what_is_saved_is_loaded_by_the_next_process(tmp_path: Path) -> None:
    kept = AlertStateFile(tmp_path)
    kept.save([FIRING], [record(70.0)], prune_before=0.0)
    kept.save(None, [record(80.0, "repeat")], prune_before=0.0)  # None: the instances did not change
    kept.close()
    again = AlertStateFile(tmp_path)
    state, history = again.load(float("-inf"))
    assert state == [FIRING]
    assert [(r["at"], r["kind"]) for r in history] == [(70.0, "firing"), (80.0, "repeat")]
    again.save([], [], prune_before=75.0)  # every instance gone, and the history before 75 dropped
    assert again.load(float("-inf")) == ([], [record(80.0, "repeat")])
    assert again.load(81.0)[1] == []
    again.close()


def test_a_damaged_file_is_moved_aside_and_the_alerts_start_afresh(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with caplog.at_level(logging.ERROR):
        fresh = AlertStateFile(tmp_path)
    assert fresh.load(float("-inf")) == ([], [])
    fresh.close()
    aside = [p.name for p in tmp_path.iterdir() if p.name.startswith(FILE_NAME + ".")]
    assert len(aside) == 1 and aside[0].startswith(FILE_NAME + ".corrupt-"), aside
    assert len(caplog.records) == 1 and "the alerts start afresh" in caplog.records[0].getMessage()


def test_a_file_of_a_newer_perfmon_is_refused_in_one_line(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        conn.execute("PRAGMA user_version=9")
    with pytest.raises(StoreError, match="written by a newer perfmon"):
        AlertStateFile(tmp_path)


def notification(name: str, created: float, **extra: object) -> dict[str, object]:
    return {"id": f"pm-{name}", "channel": "ops", "kind": "firing", "created": created, "host": "db1",
            "alerts": [{"id": name, "at": created}], **extra}


def test_a_new_notification_is_due_at_its_due_and_kept_without_it(tmp_path: Path) -> None:
    kept = AlertStateFile(tmp_path)
    kept.save(None, [], 0.0, [notification("a", 100.0, due=101.0), notification("b", 100.5)])
    assert kept.next_due() == 100.5  # b says no due: at once
    assert [row["id"] for row, _ in kept.due(100.9, 10)] == ["pm-b"]
    assert kept.due(101.0, 10) == [(notification("b", 100.5), 0), (notification("a", 100.0), 0)]  # no "due"
    kept.close()


def test_a_merge_replaces_the_rows_by_the_one_they_became_in_one_transaction(tmp_path: Path) -> None:
    kept = AlertStateFile(tmp_path)
    kept.save(None, [], 0.0, [notification("a", 100.0, due=101.0), notification("b", 100.4, due=101.4),
                              notification("c", 100.8, due=101.8)])
    kept.retry("pm-c", 200.0, 1)  # tried once: no longer waiting to be grouped
    assert [row["id"] for row in kept.waiting()] == ["pm-a", "pm-b"]
    with pytest.raises(KeyError):  # a row it cannot write, after the rows went out: all of it undone
        kept.merge(["pm-a", "pm-b"], {"id": "pm-ab"})
    assert [row["id"] for row in kept.waiting()] == ["pm-a", "pm-b"]
    merged = notification("ab", 100.0, due=101.0, settled=True)
    kept.merge(["pm-a", "pm-b"], merged)
    kept.close()
    again = AlertStateFile(tmp_path)  # what the next process finds
    assert [(row["id"], n) for row, n in again.due(1000.0, 10)] == [("pm-ab", 0), ("pm-c", 1)]
    assert again.waiting() == [notification("ab", 100.0, settled=True)]
    assert again.next_due() == 101.0
    again.close()
