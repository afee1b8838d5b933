"""Every collected test has exactly one tier marker, the one its directory gives (tests/conftest.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TESTS, TIERS, tier_markers, tier_of, tiers_selected


def test_every_collected_test_has_exactly_one_tier_marker(request: pytest.FixtureRequest) -> None:
    items = request.session.items
    wrong = {item.nodeid: tier_markers(item) for item in items if len(tier_markers(item)) != 1}
    assert not wrong, f"each test takes its tier from its directory only: {wrong}"


def test_each_test_is_marked_with_its_own_directorys_tier(request: pytest.FixtureRequest) -> None:
    wrong = {item.nodeid: tier_markers(item) for item in request.session.items
             if tier_of(item.path) not in (None, *tier_markers(item))}
    assert not wrong


@pytest.mark.parametrize(("path", "tier"), [
    (TESTS / "unit" / "core" / "test_x.py", "unit"),
    (TESTS / "integration" / "test_x.py", "integration"),
    (TESTS / "system" / "test_x.py", "system"),
    (TESTS / "browser" / "test_x.py", "browser"),
    (TESTS / "support" / "test_x.py", None),
    (TESTS / "test_x.py", None),
    (TESTS / "unit.py", None),
    (TESTS.parent / "test_http_polling_system.py", None),
])
def test_the_tier_is_the_first_directory_under_tests(path: Path, tier: str | None) -> None:
    assert tier_of(path) == tier


def test_the_tiers_are_registered_markers(pytestconfig: pytest.Config) -> None:
    registered = {line.split(":", 1)[0] for line in pytestconfig.getini("markers")}
    assert registered >= set(TIERS)


@pytest.mark.parametrize(("markexpr", "selected"), [
    ("unit", {"unit"}),
    ("not unit", {"integration", "system", "browser"}),
    ("unit or integration", {"unit", "integration"}),
    ("not (system or browser)", {"unit", "integration"}),
    ("unit and integration", set()),
    ("unit and slow", None),  # another marker: every directory is collected, pytest selects
    ("slow", None),
    ("", None),
    ("unit or", None),
])
def test_a_markexpr_of_tiers_alone_names_the_directories_to_collect(markexpr: str,
                                                                    selected: set[str] | None) -> None:
    assert tiers_selected(markexpr) == selected


def test_a_unit_test_that_opens_a_socket_fails_saying_where_it_belongs() -> None:
    with socket.socket() as sock, pytest.raises(AssertionError, match="tests/integration/"):
        sock.bind(("127.0.0.1", 0))
    with socket.socket() as sock, pytest.raises(AssertionError, match="tests/integration/"):
        sock.connect(("127.0.0.1", 9))


def test_a_unit_test_that_starts_a_process_fails_saying_where_it_belongs() -> None:
    with pytest.raises(AssertionError, match="tests/system/"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)
