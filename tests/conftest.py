"""Shared fixtures (a fake psutil, settable clocks, a Monitor over them) and the tiers' markers.

Every test's tier is its directory (``tests/unit/...`` is ``unit``, and so on), marked here at
collection so that no test can be left unmarked and ``pytest -m unit`` is the fast loop; a test
file outside these directories (the top-level system test) says its tier itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from perfmon.api.app import Monitor
from perfmon.settings import ServerConfig
from perfmon.store.sqlite.store import SqliteStore
from tests.support.fakes import FakeClock, FakePsutil

TIERS = ("unit", "integration", "system", "browser")  # registered in pyproject.toml, cheapest first
TESTS = Path(__file__).resolve().parent


def tier_of(path: Path) -> str | None:
    """The tier a test file's directory gives it: the first directory under tests/, if it is a tier."""
    try:
        parts = path.resolve().relative_to(TESTS).parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 and parts[0] in TIERS else None


def tier_markers(item: pytest.Item) -> list[str]:
    """The tier markers a collected test carries (exactly one, when the suite is sound)."""
    return [mark.name for mark in item.iter_markers() if mark.name in TIERS]


def tiers_selected(markexpr: str) -> set[str] | None:
    """The tiers a ``-m`` expression of tier names alone selects; None for any other expression."""
    tokens = re.findall(r"\(|\)|[^\s()]+", markexpr)
    if not tokens or any(token not in (*TIERS, "and", "or", "not", "(", ")") for token in tokens):
        return None
    code = " ".join(tokens)
    try:
        return {tier for tier in TIERS if eval(code, {"__builtins__": {}}, {t: t == tier for t in TIERS})}
    except SyntaxError:
        return None  # pytest itself says what is wrong with it


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under ``-m`` of tiers alone, skip importing the other tiers' modules: `-m unit` stays fast."""
    selected = tiers_selected(config.getoption("markexpr", ""))
    if selected is None or collection_path.parent != TESTS or collection_path.name not in TIERS:
        return None
    return collection_path.name not in selected or None


@pytest.hookimpl(tryfirst=True)  # before -m deselects, so `-m unit` sees the markers given here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its directory's tier; a test with no tier at all is a usage error."""
    strays = []
    for item in items:
        tier = tier_of(item.path)
        if tier is not None:
            item.add_marker(tier)
        elif not tier_markers(item):
            strays.append(item.nodeid)
    if strays:
        raise pytest.UsageError(f"tests outside tests/{{{','.join(TIERS)}}}/ with no tier marker "
                                f"(move them into a tier's directory): {', '.join(strays[:5])}")


@pytest.fixture
def fake_ps() -> FakePsutil:
    return FakePsutil()


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture
def mono() -> FakeClock:
    return FakeClock(1000.0)


PRESSURE_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pressure"


@pytest.fixture
def fake_procfs(tmp_path: Path) -> Path:
    """A /proc of the fake host: its pressure files are this machine's, recorded (fixtures/pressure/)."""
    root = tmp_path / "proc"
    root.mkdir()
    (root / "pressure").symlink_to(PRESSURE_FIXTURES / "linux-6.18")
    return root


@pytest.fixture
def make_monitor(fake_ps: FakePsutil, wall: FakeClock, mono: FakeClock,
                 fake_procfs: Path) -> Callable[..., Monitor]:
    """Build a primed Monitor over the fake psutil, clocks and /proc; other keyword arguments go to
    ServerConfig."""

    def build(clock: Callable[[], float] | None = None, **settings: object) -> Monitor:
        clock = clock or wall
        config = ServerConfig(**settings)  # type: ignore[arg-type]
        monitor = Monitor.build(config, ps=fake_ps, clock=clock, monotonic=mono, whole_disk=lambda _: True,
                                procfs=fake_procfs)
        monitor.sampler.prime()  # as Sampler.run does before its first sample: the CPU shares are real
        return monitor

    return build


STORE_T0 = 1_700_002_800.0  # on the hour, so minutes and hours start at STORE_T0 + k * 60


@pytest.fixture
def clock() -> FakeClock:
    """The wall clock of a SQLite store under test."""
    return FakeClock(STORE_T0)


@pytest.fixture
def make_store(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., SqliteStore]]:
    """Open SQLite stores on tmp_path/data/history.sqlite3 (new instance ids), closing them all at the end."""
    opened: list[SqliteStore] = []

    def make(instance_id: str = "first", history_size: int = 3600, **options: Any) -> SqliteStore:
        store = SqliteStore(tmp_path / "data" / "history.sqlite3", instance_id=instance_id,
                            interval_seconds=1.0, history_size=history_size, clock=clock, **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
