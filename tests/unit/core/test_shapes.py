"""``perfmon/core/shapes.py`` is the generator's output for today's groups; it follows new groups."""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any

import pytest

from perfmon.core import shapes, shapes_gen
from perfmon.core.metrics import GROUPS, INDEX, Field, Group
from perfmon.core.metrics.typeddicts import SCRIPT, shapes_source, spelled
from perfmon.core.schema import ERRORS

GPU = Group(
    "gpu", "gpu", "GPUs", "graphics processors",
    fields=(Field("count", "count", "GPUs found"), Field("driver", "text", "driver version", kind="info")),
    rows="devices", key=("uuid",), labels={"slot": INDEX},
    row_fields=(Field("uuid", "text", "the GPU's id", kind="info", nullable=False),
                Field("busy_percent", "percent", "time the GPU was busy"),
                Field("clocks_mhz", "mhz", "clocks per domain", shape="map")),
)
PSI = Group("psi", "psi", "Pressure", "stalls", rows="", key=("resource",),
            row_fields=(Field("resource", "text", "cpu, memory or io", kind="info", nullable=False),
                        Field("stalled_seconds_total", "seconds", "time stalled", kind="counter")))


def test_the_shapes_module_is_what_the_generator_writes_for_todays_groups() -> None:
    assert Path(shapes.__file__).read_text() == shapes_gen.text(), f"the groups changed: run {SCRIPT}"


def test_the_script_prints_the_module(capsys: pytest.CaptureFixture[str]) -> None:
    assert shapes_gen.main() == 0
    assert capsys.readouterr().out == shapes_gen.text()


def test_the_class_names_the_code_uses_are_kept() -> None:
    hints = typing.get_type_hints(shapes.Sample)
    assert hints["disks"] == list[shapes.DiskRow] | None
    assert hints["disk_io"] is shapes.DiskIOSection and hints["network"] is shapes.NetworkSection
    assert typing.get_type_hints(shapes.DiskIOSection)["devices"] == list[shapes.DiskDeviceRow] | None
    assert typing.get_type_hints(shapes.ProcessesSection)["top_cpu"] == list[shapes.TopProcessRow] | None
    assert typing.get_type_hints(shapes.SensorsSection)["temperatures"] == list[shapes.TemperatureRow] | None
    assert typing.get_type_hints(shapes.NetworkSection)["interfaces"] == list[shapes.InterfaceRow] | None
    assert hints["errors"] == list[shapes.ErrorRow]  # never null


@pytest.mark.parametrize(("f", "hint"), [
    (Field("a", "bytes", "d"), "int | None"),
    (Field("a", "count", "d", nullable=False), "int"),
    (Field("a", "text", "d"), "str | None"),
    (Field("a", "bool", "d", nullable=False), "bool"),
    (Field("a", "percent", "d", shape="list"), "list[float] | None"),
    (Field("a", "percent", "d", shape="map"), "dict[str, float] | None"),
    (Field("a", "seconds", "d", shape="list", items="map"), "list[dict[str, float]] | None"),
])
def test_a_value_is_typed_by_its_unit_shape_and_nullability(f: Field, hint: str) -> None:
    assert spelled(f) == hint


def generated(groups: tuple[Group, ...], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The classes the generator writes for ``groups``, imported as a module (its hints resolve there)."""
    module = types.ModuleType("generated_shapes")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(shapes_source(groups, ERRORS), "<generated_shapes>", "exec"), module.__dict__)
    return module.__dict__


def test_a_new_group_gets_its_classes_and_its_place_in_the_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    made = generated((*GROUPS, GPU, PSI), monkeypatch)
    gpu_row, psi_row = made["GpuRow"], made["PsiRow"]
    sample = typing.get_type_hints(made["Sample"])
    assert list(sample)[-3:] == ["gpu", "psi", "errors"]
    assert sample["gpu"] is made["GpuSection"] and sample["psi"] == list[psi_row] | None
    section = typing.get_type_hints(made["GpuSection"])
    assert section == {"count": int | None, "driver": str | None, "devices": list[gpu_row] | None}
    row = typing.get_type_hints(gpu_row)
    assert row == {"uuid": str, "busy_percent": float | None, "clocks_mhz": dict[str, float] | None}
    assert "GpuSection" not in generated(GROUPS, monkeypatch)  # and nothing else changes for today's groups:
    assert shapes_source(GROUPS, ERRORS) == shapes_gen.text()


def test_a_section_under_another_is_refused() -> None:
    nested = Group("deep", "a.b", "Deep", "nested", fields=(Field("x", "count", "d"),))
    with pytest.raises(ValueError, match="deep"):
        shapes_source((nested,), ERRORS)
