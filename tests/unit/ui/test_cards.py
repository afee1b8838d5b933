"""perfmon.ui.screen.cards: the root filesystem is found by the disks group's key."""

from __future__ import annotations

from perfmon.ui.screen.cards import root_disk
from tests.unit.ui.rowsample import disk, sample


def test_the_root_filesystem_is_the_row_keyed_mountpoint_slash() -> None:
    found = root_disk(sample(disks=[disk("/boot", 10.0), disk("/", 40.0)]))
    assert found is not None and found["percent"] == 40.0


def test_without_a_root_the_first_filesystem_and_without_any_none() -> None:
    found = root_disk(sample(disks=[disk("C:\\", 70.0), disk("D:\\", 10.0)]))
    assert found is not None and found["mountpoint"] == "C:\\"
    assert root_disk(sample(disks=[])) is None
    assert root_disk({"disks": None}) is None


def test_a_row_without_a_mountpoint_is_no_root_and_no_error() -> None:
    found = root_disk(sample(disks=[{"percent": 5.0}, disk("/", 40.0)]))
    assert found is not None and found["percent"] == 40.0
