"""Fixtures the integration tests of the dashboard's ticks share."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.dashclient import Client
from tests.support.fakes import FakeClock


@pytest.fixture
def new_client(wall: FakeClock) -> Iterator[Callable[[str], Client]]:
    """Clients for the test's own API servers, closed after it."""
    made: list[Client] = []

    def new_client(url: str) -> Client:
        made.append(Client(url, wall))
        return made[-1]

    yield new_client
    for client in made:
        client.close()
