"""The unit tier stays pure: a test here that opens a network socket or starts a process fails.

Such a test belongs in tests/integration/ (sockets) or tests/system/ (processes); the guard keeps
`pytest -m unit` the fast loop the README promises, whoever adds a test.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest


def refuse(what: str, tier: str) -> Any:
    """A stand-in that fails the test, saying which tier it belongs in."""

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a unit test {what}: move it to tests/{tier}/")

    return refused


@pytest.fixture(autouse=True)
def pure(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refuse network sockets (binding, connecting) and child processes for the test's duration."""
    for name in ("bind", "connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse("opened a network socket", "integration"))
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("started a process", "system"))
    yield
