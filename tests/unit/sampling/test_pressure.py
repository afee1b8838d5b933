"""The pressure collector over recorded /proc/pressure trees (tests/fixtures/pressure/).

``linux-6.18`` is this machine's real files, copied as they were; ``before-5.13`` is the same
with cpu's ``full`` line removed, as kernels before 5.13 write cpu.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from perfmon.sampling import registry
from perfmon.sampling.collectors.pressure import PressureCollector, reason
from perfmon.sampling.registry import Sources
from tests.support.fakes import FakePsutil

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pressure"


def read(root: Path) -> tuple[object, list[str]]:
    notes: list[str] = []
    return PressureCollector(root).collect(notes.append), notes


def test_a_recorded_tree_is_one_row_per_resource_and_kind() -> None:
    rows, notes = read(FIXTURES / "linux-6.18")
    assert notes == []
    assert isinstance(rows, list)
    assert [(r["resource"], r["kind"]) for r in rows] == [
        ("cpu", "some"), ("cpu", "full"), ("memory", "some"), ("memory", "full"),
        ("io", "some"), ("io", "full")]
    assert rows[0] == {"resource": "cpu", "kind": "some", "avg10_percent": 96.62, "avg60_percent": 98.01,
                       "avg300_percent": 97.19, "stalled_seconds_total": 5498.236492}
    assert rows[5]["stalled_seconds_total"] == 63.288113  # microseconds in the file, seconds here


def test_a_kernel_without_cpus_full_line_gives_no_such_row() -> None:
    rows, notes = read(FIXTURES / "before-5.13")
    assert notes == []
    assert isinstance(rows, list)
    assert [(r["resource"], r["kind"]) for r in rows if r["resource"] == "cpu"] == [("cpu", "some")]
    assert len(rows) == 5


def test_no_pressure_directory_is_null_with_a_reason(tmp_path: Path) -> None:
    rows, notes = read(tmp_path / "pressure")
    assert rows is None
    assert len(notes) == 1 and "missing" in notes[0] and "CONFIG_PSI" in notes[0]


def test_psi_switched_off_is_null_with_a_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> int:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")  # what psi=0 answers on read

    monkeypatch.setattr("perfmon.sampling.collectors.pressure.os.open", refuse)
    rows, notes = read(tmp_path)
    monkeypatch.undo()
    assert rows is None
    assert notes == [f"{tmp_path} cannot be read: cpu: not supported (the kernel was booted with psi=0); "
                     "memory: not supported (the kernel was booted with psi=0); io: not supported (the "
                     "kernel was booted with psi=0)"]


def test_one_unreadable_file_drops_only_its_rows(tmp_path: Path) -> None:
    for name in ("cpu", "memory"):
        (tmp_path / name).write_text((FIXTURES / "linux-6.18" / name).read_text())
    rows, notes = read(tmp_path)
    assert isinstance(rows, list) and {r["resource"] for r in rows} == {"cpu", "memory"}
    assert notes == [f"{tmp_path}/io: missing"]


def test_a_malformed_line_is_noted_and_the_others_kept(tmp_path: Path) -> None:
    for name in ("cpu", "memory", "io"):
        (tmp_path / name).write_text((FIXTURES / "linux-6.18" / name).read_text())
    (tmp_path / "io").write_text("some avg10=0.50 avg60=x avg300=0.10 total=7\nfull avg10=0.00 avg60=0.00 "
                                 "avg300=0.00 total=3\nweird avg10=1\n")
    rows, notes = read(tmp_path)
    assert isinstance(rows, list)
    assert [(r["resource"], r["kind"]) for r in rows if r["resource"] == "io"] == [("io", "full")]
    assert len(notes) == 2 and all(n.startswith("io: cannot read the line") for n in notes)


def test_reasons_in_words() -> None:
    assert reason(OSError(errno.EACCES, "Permission denied")) == "Permission denied"
    assert reason(OSError(errno.ENOENT, "No such file")) == "missing"


def test_registered_on_by_default_reading_the_injected_tree(tmp_path: Path) -> None:
    assert "pressure" in registry.enabled_names()
    (tmp_path / "pressure").symlink_to(FIXTURES / "linux-6.18")
    (built,) = registry.build(Sources(FakePsutil(), procfs=tmp_path), {"pressure"})  # type: ignore[arg-type]
    notes: list[str] = []
    rows = built.collector.collect(notes.append)
    assert notes == [] and rows is not None and len(rows) == 6
