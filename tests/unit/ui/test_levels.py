"""perfmon.ui.screen.levels: cards, bars and row cards coloured by the alert rules that watch them."""

from __future__ import annotations

from typing import Any

from perfmon.ui.screen.cards import CARDS, Thresholds, disk_bar
from perfmon.ui.screen.levels import Levels, levels_of, watches
from tests.unit.ui.rowsample import disk, sample


def rule(name: str, selector: str, field: str, threshold: float, severity: str = "warning",
         operator: str = ">", divide_by: str | None = None) -> dict[str, Any]:
    """A rule as /api/alerts/rules lists it (the fields the dashboard reads)."""
    return {"name": name, "selector": selector, "field": field, "operator": operator, "threshold": threshold,
            "severity": severity, "divide_by": divide_by}


RULES = (
    rule("HighCpu", "cpu.percent", "percent", 90),
    rule("CpuCritical", "cpu.percent", "percent", 97, "critical"),
    rule("HighLoad", "cpu.load_1", "load_1", 2, divide_by="cpu.count_logical"),
    rule("AlmostFull", 'disks[fstype!~"tmpfs|overlay"].percent', "percent", 90),
    rule("Full", 'disks[fstype!~"tmpfs|overlay"].percent', "percent", 95, "critical"),
    rule("LowMemory", "memory.available_percent", "available_percent", 10, operator="<"),
)
LEVELS = levels_of(Thresholds(50, 60), RULES)


def card(name: str) -> Any:
    return next(c for c in CARDS if c.name == name)


def host(cpu: float, load: float = 0.5, cores: int = 4, root: float = 40.0) -> dict[str, Any]:
    return {**sample(disks=[disk("/", root)]), "cpu": {"percent": cpu, "load_average": [load, 0, 0],
                                                      "count_logical": cores},
            "memory": {"percent": 70.0}, "swap": {"percent": 70.0}}


def test_a_value_turns_warn_past_a_warning_rule_and_crit_past_a_critical_one() -> None:
    assert [card("cpu").level(host(cpu), LEVELS) for cpu in (89.9, 90.5, 97.5)] == ["ok", "warn", "crit"]
    # memory and swap are watched by no rule here: the dashboard's own levels (50, 60) colour them
    assert card("memory").level(host(10), LEVELS) == "crit"


def test_a_rule_per_cpu_compares_the_value_divided() -> None:
    assert card("load").level(host(10, load=7.9, cores=4), LEVELS) == "ok"  # 1.98 per CPU
    assert card("load").level(host(10, load=8.5, cores=4), LEVELS) == "warn"
    assert card("load").level(host(10, load=8.5, cores=8), LEVELS) == "ok"


def test_a_rows_labels_decide_which_rules_watch_it() -> None:
    watched, left = disk("/", 96.0), {**disk("/run", 96.0), "fstype": "tmpfs"}
    snap = sample(disks=[watched, left])
    assert disk_bar(watched, snap, LEVELS)["level"] == "crit"
    assert disk_bar(left, snap, LEVELS)["level"] == "crit"  # no rule watches a tmpfs: the dashboard's 60
    assert disk_bar(disk("/", 92.0), snap, LEVELS)["level"] == "warn"
    assert card("disk").level(host(10, root=92.0), LEVELS) == "warn"


def test_below_rules_and_unread_values() -> None:
    assert LEVELS.of("memory", "available_percent", None, 5.0, {}) == "warn"
    assert LEVELS.of("memory", "available_percent", None, 50.0, {}) == "ok"
    assert LEVELS.of("memory", "available_percent", None, None, {}) == "na"
    assert LEVELS.of("memory", "percent", None, 99.0, {}) is None  # no rule: the caller's own levels


def test_a_row_card_takes_the_worst_of_its_watched_values() -> None:
    row = {"mountpoint": "/", "fstype": "ext4", "device": "/dev/sda1"}
    assert LEVELS.of_row("disks", row.items(), {"percent": 96.0}) == "crit"
    assert LEVELS.of_row("disks", row.items(), {"percent": 10.0}) == "ok"
    assert LEVELS.of_row("network", (), {"recv_bytes_per_s": 1.0}) is None


def test_no_rules_or_an_api_without_alerts_keep_the_dashboards_levels() -> None:
    plain = levels_of(Thresholds(50, 60), None)
    assert card("cpu").level(host(55.0), plain) == "warn" and plain.lines("cpu", ["percent"]) == []


def test_a_rule_the_dashboard_cannot_read_is_left_out_and_levels_are_made_once_per_rules() -> None:
    found = watches([rule("Odd", "cpu[", "percent", 1), {"name": "NoFields"}, *RULES[:1]])
    assert [w.name for w in found] == ["HighCpu"]
    made = levels_of(Thresholds(50, 60), RULES)
    assert levels_of(Thresholds(40, 60), RULES).watches is made.watches  # every tab's tick: read once
    assert levels_of(Thresholds(40, 60), RULES).warning_percent == 40
    assert isinstance(LEVELS, Levels) and [w.name for w in LEVELS.lines("disks", ["percent"])] == [
        "AlmostFull", "Full"]
