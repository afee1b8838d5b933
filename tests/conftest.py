"""Shared fixtures: a fake psutil, settable clocks, a Monitor (hub, store, sampler) over them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from perfmon.api.app import Monitor
from perfmon.settings import ServerConfig
from perfmon.store.sqlite.store import SqliteStore
from tests.support.fakes import FakeClock, FakePsutil


@pytest.fixture
def fake_ps() -> FakePsutil:
    return FakePsutil()


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture
def mono() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
def make_monitor(fake_ps: FakePsutil, wall: FakeClock, mono: FakeClock) -> Callable[..., Monitor]:
    """Build a Monitor over the fake psutil and clocks; other keyword arguments go to ServerConfig."""

    def build(clock: Callable[[], float] | None = None, **settings: object) -> Monitor:
        clock = clock or wall
        config = ServerConfig(**settings)  # type: ignore[arg-type]
        return Monitor.build(config, ps=fake_ps, clock=clock, monotonic=mono, whole_disk=lambda _: True)

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
