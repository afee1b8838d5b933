"""Figure builders: plain lists only, no template, and extendData payloads that match them."""

from __future__ import annotations

import json

from perfmon.ui import figures

SERIES = {
    "seq": [1, 2, 3],
    "timestamp": [1_700_000_000.0, 1_700_000_001.0, 1_700_000_002.0],
    "cpu_percent": [1.0, 2.0, 3.0],
    "memory_percent": [10.0, 10.5, 11.0],
    "swap_percent": [None, None, None],
    "load_1": [0.1, 0.2, 0.3],
    "disk_read_bytes_per_s": [None, 100.0, 200.0],
    "disk_write_bytes_per_s": [None, 0.0, 4096.0],
    "net_sent_bytes_per_s": [None, 1.0, 2.0],
    "net_recv_bytes_per_s": [None, 3.0, 4.0],
    "per_cpu_percent": [[1.0, 2.0], None, [3.0, 4.0]],
}


def test_every_chart_is_a_plain_json_dict_without_a_template() -> None:
    built = figures.figures(SERIES, 1.0)
    assert set(built) == set(figures.GRAPH_IDS)
    for figure in built.values():
        text = json.dumps(figure, allow_nan=False)  # plain lists and numbers: no numpy, no NaN
        assert "bdata" not in text and "template" not in figure["layout"]
        assert len(text) < 2500
    cpu = built["cpu"]["data"][0]
    assert cpu["y"] == [1.0, 2.0, 3.0] and len(cpu["x"]) == 3
    assert [trace["name"] for trace in built["network"]["data"]] == ["received", "sent"]
    assert built["memory"]["data"][1]["y"] == [None, None, None]


def test_the_core_heatmap_holds_a_row_per_sample() -> None:
    heatmap = figures.figures(SERIES, 1.0)["cores"]["data"][0]
    assert heatmap["transpose"] is True
    assert heatmap["z"] == [[1.0, 2.0], [None, None], [3.0, 4.0]]
    assert heatmap["y"] == ["cpu0", "cpu1"]


def test_empty_history_gives_empty_charts() -> None:
    built = figures.figures({}, 1.0)
    assert built["cpu"]["data"][0]["x"] == [] and built["cpu"]["data"][0]["y"] == []
    assert built["cores"]["data"][0]["z"] == []


def test_extend_payloads_append_the_same_columns_the_figures_hold() -> None:
    assert figures.extend_payload("diskio", SERIES, 300) == [
        {"y": [[None, 100.0, 200.0], [None, 0.0, 4096.0]]}, [0, 1], 300]
    assert figures.extend_payload("cores", SERIES, 60) == [
        {"z": [[[1.0, 2.0], [None, None], [3.0, 4.0]]]}, [0], 60]


def test_a_gap_starts_with_a_null_point() -> None:
    payload = figures.extend_payload("memory", SERIES, 300, gap=True)
    assert payload[0]["y"][0] == [None, 10.0, 10.5, 11.0]
    assert figures.extend_payload("cores", SERIES, 300, gap=True)[0]["z"][0][0] == [None, None]
    assert figures.gap_time(100.0, 1.0) == 99.5


def test_window_points_and_sub_second_times() -> None:
    assert figures.window_points(300, 1.0) == 300
    assert figures.window_points(300, 0.7) == 429
    assert figures.window_points(300, 3600) == 2
    assert figures.chart_times({"timestamp": [1_700_000_000.25]}, 0.5)[0].endswith(".250")
    assert "." not in figures.chart_times({"timestamp": [1_700_000_000.25]}, 1.0)[0]
