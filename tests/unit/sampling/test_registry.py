"""The collector registry: today's collectors by name, on by default, and --collectors' two forms."""

from __future__ import annotations

import pytest

from perfmon.sampling import registry
from perfmon.sampling.registry import Registration, Sources, UnknownCollector
from tests.support.fakes import FakePsutil

TODAY = ("host", "cpu", "load_average", "cpu_frequency", "memory", "swap", "disks", "disk_io", "network",
         "sensors", "processes")


def test_todays_collectors_are_registered_and_on_by_default() -> None:
    assert set(TODAY) <= set(registry.names())
    assert set(TODAY) <= registry.enabled_names()


def test_changes_switch_single_collectors_off_and_on() -> None:
    chosen = registry.enabled_names(("-sensors", "-processes"))
    assert chosen == registry.enabled_names() - {"sensors", "processes"}
    assert registry.enabled_names(("-sensors", "+sensors")) == registry.enabled_names()


def test_a_plain_list_runs_only_those() -> None:
    assert registry.enabled_names(("cpu", "memory")) == {"cpu", "memory"}


def test_an_off_by_default_collector_is_switched_on_by_name() -> None:
    table = (Registration("a", lambda s: None), Registration("b", lambda s: None, enabled_by_default=False))
    assert registry.enabled_names((), table) == {"a"}
    assert registry.enabled_names(("+b",), table) == {"a", "b"}


def test_an_unknown_name_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(UnknownCollector, match=r"'gpu'.*host, cpu"):
        registry.enabled_names(("+gpu",))
    with pytest.raises(UnknownCollector, match="'gpu'"):
        registry.build(Sources(FakePsutil()), {"cpu", "gpu"})


def test_build_makes_the_enabled_ones_in_registry_order_with_their_cadence() -> None:
    built = registry.build(Sources(FakePsutil()), {"processes", "memory", "cpu"}, cadences={"processes": 7.0})
    assert [s.collector.name for s in built] == ["cpu", "memory", "processes"]
    assert [s.cadence_seconds for s in built] == [None, None, 7.0]
    assert all(s.timeout_seconds > 0 for s in built)
