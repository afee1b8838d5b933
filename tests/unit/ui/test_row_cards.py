"""perfmon.ui.row_cards: a card per row, labels as its title, fields with their units."""

from __future__ import annotations

from typing import Any

from perfmon.core.metrics import BY_NAME
from perfmon.ui.screen import row_cards
from perfmon.ui.screen.cards import Thresholds
from perfmon.ui.screen.rows import rows_shown
from tests.unit.ui.rowsample import disk, interface, sample

DISKS = BY_NAME["disks"]


def texts_in(component: Any) -> list[str]:
    """Every string in a component tree, in order."""
    if isinstance(component, str):
        return [component]
    if isinstance(component, list):
        return [t for child in component for t in texts_in(child)]
    if isinstance(component, dict):
        return texts_in(component.get("props", {}).get("children"))
    return []


def test_a_card_per_row_with_its_title_fields_units_and_level() -> None:
    found = rows_shown(DISKS, sample(disks=[disk("/", 40.0), disk("/data", 97.0, "/dev/sdb1")]))
    cards = row_cards.cards(DISKS, found, None, Thresholds())
    assert len(cards) == 2
    assert cards[1]["props"]["id"] == {"type": "row-card", "row": "disks[mountpoint=/data]"}
    assert cards[1]["props"]["className"] == "card row-card crit"
    assert cards[0]["props"]["className"] == "card row-card ok"
    words = texts_in(cards[1])
    assert words[:2] == ["/data", "device /dev/sdb1 · fstype ext4"]
    assert words[2:] == ["total", "100 GiB", "used", "97.0 GiB", "free", "10.0 GiB", "percent", "97.0 %"]


def test_a_rate_card_reads_per_second_and_has_no_threshold() -> None:
    group = BY_NAME["network"]
    found = rows_shown(group, sample(interfaces=[interface("eth0", 1536, 0)]))
    (card,) = row_cards.cards(group, found, None, Thresholds())
    assert card["props"]["className"] == "card row-card info"
    assert "1.50 KiB/s" in texts_in(card) and "0 B/s" in texts_in(card)


def test_a_group_without_rows_says_why_in_the_apis_words() -> None:
    missing = sample(disks=None, errors=[{"collector": "disks", "message": "PermissionError: denied"}])
    missing["disks"] = None
    reason = row_cards.reason_of(missing, DISKS)
    assert texts_in(row_cards.cards(DISKS, rows_shown(DISKS, missing), reason, Thresholds())) == [
        "PermissionError: denied"]
    assert texts_in(row_cards.cards(BY_NAME["sensors"], [], None, Thresholds())) == [
        "no temperatures on this host"]


def test_row_values_carry_each_rows_texts_and_level_compactly() -> None:
    found = rows_shown(DISKS, sample(disks=[disk("/", None)]))
    assert found is not None
    (values,) = row_cards.row_values(DISKS, found, Thresholds())
    assert values[:2] == ["disks[mountpoint=/]", "na"]
    assert values[2] == ["100 GiB", "n/a", "10.0 GiB", "n/a"]  # total, used, free, percent
    group = BY_NAME["network"]
    (eth0,) = row_cards.row_values(group, rows_shown(group, sample()) or [], Thresholds())
    assert eth0[1] is None  # rates have no threshold: the card's class never changes


def test_a_sensor_card_reads_degrees() -> None:
    group = BY_NAME["sensors"]
    (card,) = row_cards.cards(group, rows_shown(group, sample()), None, Thresholds())
    assert texts_in(card) == ["coretemp Core 0", "", "current", "45.0 °C", "high", "80.0 °C"]
