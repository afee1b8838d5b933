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
