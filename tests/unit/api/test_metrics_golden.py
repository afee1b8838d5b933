"""``/metrics`` against its golden files: today's families stay byte for byte what they were.

``tests/fixtures/metrics/sample.json`` is a fixed sample, recorded once from the fake psutil of
``tests/fakes.py`` (two samples, so rates exist; two filesystems, two disks, a repeated sensor
label, a null value); ``exposition.txt`` and ``exposition.openmetrics.txt`` are what the
hand-written catalogue wrote for it, in both formats, before the families were derived from the
metric groups. Each family of the golden files must come out byte for byte the same and in the
same order; a family that is not in them comes from a group declared since (an addition).
Rewrite a golden file only for a change of the exposition that is meant, and say so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from perfmon import __version__
from perfmon.api.endpoints.metrics.catalogue import FAMILIES, Family
from perfmon.api.endpoints.metrics.prometheus import render

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "metrics"
GOLDEN = {False: "exposition.txt", True: "exposition.openmetrics.txt"}
EOF_LINE = "# EOF\n"


def sample() -> dict[str, Any]:
    """The fixed sample the golden files were written from."""
    loaded: dict[str, Any] = json.loads((FIXTURES / "sample.json").read_text())
    return loaded


def rendered(openmetrics_format: bool, over: tuple[Family, ...] = FAMILIES) -> str:
    """The fixed sample's exposition (every group's families), the server's version written VERSION."""
    text = render(sample(), openmetrics_format=openmetrics_format, families=over).decode()
    return text.replace(f'version="{__version__}"', 'version="VERSION"')


def blocks_of(text: str) -> dict[str, str]:
    """The exposition's families by name, each its exact text (HELP line to the next HELP)."""
    blocks: dict[str, str] = {}
    name = ""
    for line in text.removesuffix(EOF_LINE).splitlines(keepends=True):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert name not in blocks, f"family {name} written twice"
            blocks[name] = ""
        assert name, f"a line before any family: {line!r}"
        blocks[name] += line
    return blocks


@pytest.mark.parametrize("openmetrics_format", [False, True], ids=["text", "openmetrics"])
def test_every_golden_family_is_written_byte_for_byte_in_its_place(openmetrics_format: bool) -> None:
    golden = (FIXTURES / GOLDEN[openmetrics_format]).read_text()
    text = rendered(openmetrics_format)
    want, got = blocks_of(golden), blocks_of(text)
    missing = [name for name in want if name not in got]
    assert not missing, f"families gone from /metrics: {missing}"
    changed = [name for name in want if got[name] != want[name]]
    assert not changed, "families changed:\n" + "\n".join(
        f"--- golden\n{want[n]}+++ now\n{got[n]}" for n in changed)
    assert [n for n in got if n in want] == list(want), "today's families are in another order"
    assert text.endswith(EOF_LINE) == openmetrics_format == golden.endswith(EOF_LINE)


@pytest.mark.parametrize("openmetrics_format", [False, True], ids=["text", "openmetrics"])
def test_the_exposition_less_its_additions_is_the_golden_file_byte_for_byte(openmetrics_format: bool) -> None:
    """Nothing between or inside today's families moved: only whole families were added."""
    golden = (FIXTURES / GOLDEN[openmetrics_format]).read_text()
    today = blocks_of(golden)
    kept = "".join(block for name, block in blocks_of(rendered(openmetrics_format)).items() if name in today)
    assert kept + (EOF_LINE if openmetrics_format else "") == golden
