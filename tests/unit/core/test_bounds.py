"""The API's bounds, declared once (core.bounds): the API enforces them, the dashboard keeps within them."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from perfmon.api.edge.errors import ApiError
from perfmon.api.edge.params import Number
from perfmon.api.endpoints import history, longpoll, processes
from perfmon.core import bounds
from perfmon.ui.source import client
from perfmon.ui.tick import inputs, ranges, resolution
from perfmon.ui.tick.inputs import Forged, read_cursor

PACKAGE = Path(bounds.__file__).parent.parent
RAW = {"instance": "3f9c0a1b2c4d", "seq": 42, "link": "up", "view": "5m", "mode": "raw", "res": 1.0,
       "max": 300, "swap": True, "n": 17}
BUCKETS = {**RAW, "seq": None, "view": "24h", "mode": "buckets", "res": 300, "next": 1795599900.5}


@pytest.mark.parametrize(("param", "low", "high"), [
    (history.POINTS, 1, bounds.HISTORY_POINTS_MAX),
    (history.START, 0, bounds.LAST_TIMESTAMP),
    (history.END, 0, bounds.LAST_TIMESTAMP),
    (longpoll.WAIT, None, bounds.WAIT_MAX_SECONDS),
    (processes.PROCESS_LIMIT, 1, bounds.PROCESS_LIMIT_MAX),
], ids=lambda value: getattr(value, "name", None) or str(value))
def test_the_api_takes_the_declared_bound_and_refuses_one_more(param: Number, low: Any, high: float) -> None:
    assert param.high == high
    assert param.read({param.name: f"{high:g}" if param.integer else f"{high:.0f}"}) == high
    with pytest.raises(ApiError) as refused:
        param.read({param.name: f"{high + 1:.0f}"})
    assert refused.value.status == 400 and param.name in str(refused.value)
    assert low is None or param.low == low


def test_the_api_defaults_are_the_declared_ones() -> None:
    assert history.POINTS.default == bounds.HISTORY_POINTS_DEFAULT
    assert history.LIMIT.default == bounds.TAIL_LIMIT and history.LIMIT.high >= bounds.TAIL_LIMIT


def test_the_dashboard_asks_within_the_declared_bounds() -> None:
    assert resolution.CSV_POINTS == bounds.HISTORY_POINTS_MAX  # a download's points=
    assert client.TAIL_READ == bounds.TAIL_LIMIT  # the tail's limit=
    held = client.MAX_LEARN_SECONDS + client.LEARN_SLACK_SECONDS  # the longest wait= of a held read
    assert held <= bounds.WAIT_MAX_SECONDS


def test_a_cursor_asking_for_more_than_the_api_takes_is_forged() -> None:
    assert read_cursor({**BUCKETS, "max": bounds.HISTORY_POINTS_MAX}) is not None
    with pytest.raises(Forged, match=r"cursor\.max"):
        read_cursor({**BUCKETS, "max": bounds.HISTORY_POINTS_MAX + 1})
    assert read_cursor({**RAW, "max": bounds.TAIL_LIMIT}) is not None
    with pytest.raises(Forged, match=r"cursor\.max"):
        read_cursor({**RAW, "max": bounds.TAIL_LIMIT + 1})
    with pytest.raises(Forged, match=r"cursor\.next"):
        read_cursor({**BUCKETS, "next": bounds.LAST_TIMESTAMP + 1})


def test_a_zoom_past_the_last_time_the_api_takes_is_refused() -> None:
    assert ranges.fixed(bounds.LAST_TIMESTAMP - 10, bounds.LAST_TIMESTAMP) is not None
    assert ranges.fixed(bounds.LAST_TIMESTAMP - 10, bounds.LAST_TIMESTAMP + 1) is None
    assert inputs.LAST_TIMESTAMP == ranges.LAST_TIMESTAMP == bounds.LAST_TIMESTAMP


def literal_copies(path: Path, values: set[float]) -> list[str]:
    """Where a module writes one of ``values`` as a number of its own."""
    tree = ast.parse(path.read_text())
    return [f"{path.relative_to(PACKAGE)}:{node.lineno}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value in values]


def test_neither_side_keeps_a_copy_of_the_distinctive_bounds() -> None:
    values = {bounds.LAST_TIMESTAMP, bounds.HISTORY_POINTS_MAX}  # 3,600 and 60 are also an hour and a minute
    unrelated = {"ui/edge/sessions.py"}  # 10,000 revoked sessions at most
    copies = [where for side in ("api", "ui") for path in sorted((PACKAGE / side).rglob("*.py"))
              if path.relative_to(PACKAGE).as_posix() not in unrelated
              for where in literal_copies(path, values)]
    assert copies == [], f"declare these in perfmon/core/bounds.py and read them from there: {copies}"
