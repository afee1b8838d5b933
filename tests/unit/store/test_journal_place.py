"""Where the history store's journal goes (perfmon/store/sqlite/journal.py): the file system of a path
from a mount table, the first directory in memory of $XDG_RUNTIME_DIR and /dev/shm, and the file's name."""

from __future__ import annotations

from pathlib import Path

from perfmon.store.sqlite.journal import default_directory, file_system_of, journal_path

MOUNTS = """\
/dev/vda / ext4 rw,relatime 0 0
tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0
tmpfs /run tmpfs rw,nosuid,nodev,mode=755 0 0
/dev/vdb /run/media/usb\\040stick vfat rw 0 0
"""


def test_the_file_system_is_the_longest_mount_point_the_path_is_under() -> None:
    assert file_system_of(Path("/dev/shm"), MOUNTS) == "tmpfs"
    assert file_system_of(Path("/dev/shm/x/y"), MOUNTS) == "tmpfs"
    assert file_system_of(Path("/dev/shmem"), MOUNTS) == "ext4"  # a prefix of a name is not a mount
    assert file_system_of(Path("/run/user/1000"), MOUNTS) == "tmpfs"
    assert file_system_of(Path("/run/media/usb stick/a"), MOUNTS) == "vfat"  # \040 is a space
    assert file_system_of(Path("/var/lib"), MOUNTS) == "ext4"
    assert file_system_of(Path("/x"), "garbage\n") is None


def mounts_with(memory: list[Path], disk: Path) -> str:
    return "".join([f"/dev/vda {disk} ext4 rw 0 0\n", *(f"tmpfs {p} tmpfs rw 0 0\n" for p in memory)])


def test_the_runtime_directory_comes_first_then_dev_shm_and_only_in_memory(tmp_path: Path) -> None:
    runtime = tmp_path / "run-user"
    runtime.mkdir()
    in_memory = mounts_with([runtime, Path("/dev/shm")], Path("/"))
    assert default_directory({"XDG_RUNTIME_DIR": str(runtime)}, in_memory) == runtime
    on_disk = mounts_with([Path("/dev/shm")], Path("/"))
    found = default_directory({"XDG_RUNTIME_DIR": str(runtime)}, on_disk)  # the runtime dir is on disk here
    assert found == (Path("/dev/shm") if Path("/dev/shm").is_dir() else None)
    nothing = mounts_with([], Path("/"))
    assert default_directory({"XDG_RUNTIME_DIR": str(tmp_path / "missing")}, nothing) is None
    assert default_directory({}, nothing) is None  # nothing in memory: no journal


def test_a_runtime_directory_that_is_a_file_is_passed_over(tmp_path: Path) -> None:
    runtime = tmp_path / "run-user"
    runtime.write_text("")
    mounts = mounts_with([runtime], Path("/nowhere"))
    assert default_directory({"XDG_RUNTIME_DIR": str(runtime)}, mounts) is None


def test_the_journal_is_named_after_the_databases_absolute_path(tmp_path: Path) -> None:
    one = journal_path(tmp_path, Path("/var/lib/perfmon/history.sqlite3"))
    assert one.parent == tmp_path and one.name.startswith("perfmon-history-") and one.suffix == ".journal"
    assert one == journal_path(tmp_path, Path("/var/lib/perfmon/../perfmon/history.sqlite3"))
    assert one != journal_path(tmp_path, Path("/srv/perfmon/history.sqlite3"))
