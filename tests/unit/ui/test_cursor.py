"""A tab's cursor (perfmon/ui/tick/cursor.py): stored as a JSON object of every field and read back."""

from __future__ import annotations

import pytest

from perfmon.ui.tick.cursor import FIELDS, Cursor


def test_a_cursor_is_stored_as_every_field_and_read_back_whole() -> None:
    cursor = Cursor(instance="a", seq=7, fails=2, view="1h", res=60.0, n=3, raw=True)
    stored = cursor.store()
    assert list(stored) == list(FIELDS) and FIELDS[:3] == ("instance", "seq", "perf")
    assert stored["instance"] == "a" and stored["seq"] == 7 and stored["fails"] == 2 and stored["res"] == 60.0
    assert stored["raw"] is True and stored["perf"] is None and stored["n"] == 3
    assert Cursor.from_store(stored) == cursor
    assert Cursor.from_store({"seq": 1}) == Cursor(seq=1)  # an older page's: the rest from the defaults
    assert cursor.but(seq=8) == Cursor(instance="a", seq=8, fails=2, view="1h", res=60.0, n=3, raw=True)


def test_a_name_that_is_not_a_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unexpected field"):
        Cursor().but(sequence=8)
    with pytest.raises(TypeError):
        Cursor.from_store({"sequence": 8})  # a page's store is checked before (inputs.read_cursor)
    assert type(Cursor().store()) is dict  # JSON for the page's store, not the cursor itself
