"""Shared fixtures: a fake psutil, settable clocks, a sampler over them, and the app's client."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from perfmon.collectors import default_collectors
from perfmon.config import ServerConfig
from perfmon.sampler import Sampler
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
def make_sampler(fake_ps: FakePsutil, wall: FakeClock, mono: FakeClock) -> Callable[..., Sampler]:
    """Build a Sampler over the fake psutil and clocks; other keyword arguments go to ServerConfig."""

    def build(clock: Callable[[], float] | None = None, **settings: object) -> Sampler:
        clock = clock or wall
        config = ServerConfig(**settings)  # type: ignore[arg-type]
        collectors = default_collectors(fake_ps, clock=clock, monotonic=mono, whole_disk=lambda _: True)
        return Sampler(config, ps=fake_ps, collectors=collectors, clock=clock, monotonic=mono)

    return build
