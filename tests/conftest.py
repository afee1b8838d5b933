"""Shared fixtures: a fake psutil, settable clocks, a Monitor (hub, store, sampler) over them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from perfmon.api.app import Monitor
from perfmon.sampling.collectors import default_collectors
from perfmon.settings import ServerConfig
from tests.fakes import FakeClock, FakePsutil


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
        collectors = default_collectors(fake_ps, clock=clock, monotonic=mono, whole_disk=lambda _: True)
        return Monitor.build(config, ps=fake_ps, collectors=collectors, clock=clock, monotonic=mono)

    return build
