"""The Prometheus catalogue is derived from the metric groups: a group registered later is exposed with
no edit of the api, labelled from its rows, and the families of the groups there are stay as they were."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families as parse_text

from perfmon.api.endpoints.metrics.catalogue import FAMILIES, PLACES, families
from perfmon.api.endpoints.metrics.prometheus import metric_names, render
from perfmon.core.metrics import GROUPS, INDEX, Field, Group

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "metrics"

# A group the registry does not have: one declaration, as a GPU collector would bring.
GPU = Group(
    "gpu", "gpu", "GPUs", "graphics processors",
    fields=(
        Field("count", "count", "GPUs found", prometheus="perfmon_gpus"),
        Field("driver", "text", "driver version", kind="info"),
        Field("clocks_mhz", "mhz", "graphics and memory clocks", shape="list",
              prometheus=("perfmon_gpu_graphics_clock_hertz", "perfmon_gpu_memory_clock_hertz")),
    ),
    rows="devices", key=("uuid",), labels={"name": "name", "slot": INDEX},
    prometheus_labels=("name", "uuid", "slot"),
    row_fields=(
        Field("uuid", "text", "the GPU's id", kind="info"),
        Field("name", "text", "the GPU's model", kind="info"),
        Field("utilisation_percent", "percent", "time the GPU was busy", prometheus="perfmon_gpu_busy_ratio"),
        Field("energy_joules_total", "count", "energy used since the driver loaded", kind="counter",
              prometheus="perfmon_gpu_energy_joules_total", prometheus_help="energy used, in joules"),
        Field("memory_used_bytes", "bytes", "memory in use (not exported)"),
    ),
)


def gpu_sample() -> dict[str, Any]:
    """The golden fixed sample with a gpu section."""
    sample: dict[str, Any] = json.loads((FIXTURES / "sample.json").read_text())
    sample["gpu"] = {"count": 2, "driver": "535", "clocks_mhz": [1500.0, 7000.0], "devices": [
        {"uuid": "GPU-a", "name": "T4", "utilisation_percent": 12.5, "energy_joules_total": 900,
         "memory_used_bytes": 1},
        {"uuid": "GPU-b", "name": "T4", "utilisation_percent": None, "energy_joules_total": 20,
         "memory_used_bytes": 2},
    ]}
    return sample


def values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in parse_text(text) for s in family.samples}


def test_a_group_registered_later_is_exposed_with_no_api_edit() -> None:
    extended = families((*GROUPS, GPU))
    names = [f.name for f in extended]
    added = ["perfmon_gpus", "perfmon_gpu_graphics_clock_hertz", "perfmon_gpu_memory_clock_hertz",
             "perfmon_gpu_busy_ratio", "perfmon_gpu_energy_joules_total"]
    assert names == [f.name for f in FAMILIES] + added  # additions, after today's
    text = render(gpu_sample(), openmetrics_format=False, families=extended).decode()
    got = values(text)
    assert got[("perfmon_gpus", ())] == 2
    assert got[("perfmon_gpu_memory_clock_hertz", ())] == 7e9  # MHz to hertz, one family per element
    a = (("name", "T4"), ("slot", "0"), ("uuid", "GPU-a"))
    assert got[("perfmon_gpu_busy_ratio", a)] == 0.125
    assert ("perfmon_gpu_busy_ratio", (("name", "T4"), ("slot", "1"), ("uuid", "GPU-b"))) not in got  # null
    assert got[("perfmon_gpu_energy_joules_total", (("name", "T4"), ("slot", "1"), ("uuid", "GPU-b")))] == 20
    busy = next(f for f in extended if f.name == "perfmon_gpu_busy_ratio")
    assert busy.labels == ("name", "uuid", "slot")  # prometheus_labels' order (the client writes them sorted)
    assert "# HELP perfmon_gpu_energy_joules_total energy used, in joules" in text
    assert "# TYPE perfmon_gpu_energy_joules_total counter" in text
    assert "# HELP perfmon_gpu_busy_ratio time the GPU was busy (0-1)" in text
    assert "gpu_memory_used" not in text and "driver" not in text  # only what declares a family
    assert metric_names(extended) >= set(added)
    assert render(gpu_sample(), openmetrics_format=False).decode() == render(
        {k: v for k, v in gpu_sample().items() if k != "gpu"}, openmetrics_format=False).decode()


def test_a_missing_section_leaves_its_families_empty() -> None:
    got = values(render({"errors": []}, openmetrics_format=False, families=families((*GROUPS, GPU))).decode())
    assert {name for name, _ in got} == {"perfmon_info"}


def test_every_declared_family_is_exposed_and_every_old_place_is_still_declared() -> None:
    declared = {name for g in GROUPS for f in g.placed if f.prometheus
                for name in ((f.prometheus,) if isinstance(f.prometheus, str) else f.prometheus)}
    assert {f.name for f in FAMILIES} == declared
    assert set(PLACES) <= declared, "a family of today's /metrics is no longer declared (additions only)"


def test_two_fields_naming_one_family_are_refused() -> None:
    twin = Group("twin", "twin", "Twin", "a copy", fields=(
        Field("count", "count", "processes again", prometheus="perfmon_processes"),))
    with pytest.raises(ValueError, match="perfmon_processes"):
        families((*GROUPS, twin))


def test_a_list_of_families_takes_one_help_per_family() -> None:
    odd = Group("odd", "odd", "Odd", "helps", fields=(
        Field("pair", "count", "two", shape="list", prometheus=("perfmon_a", "perfmon_b"),
              prometheus_help=("only one",)),))
    with pytest.raises(ValueError, match=r"odd\.pair"):
        families((odd,))
