"""What every collector shares: the protocol, and reading a field that may fail.

A collector has a ``name``, the ``section`` of the sample it fills, and
``collect(note)``, which returns that section's values. A field that cannot be read
is left ``None`` and its reason passed to ``note(message)``; an exception escaping
``collect`` leaves the whole section null (the sampler records it). Collectors never
invent numbers: a rate needs two readings, so the first one is ``None``. A collector whose
reading is also served whole elsewhere (the process table) returns a ``WithTable``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from perfmon.sampling.snapshot import ProcessTable

Note = Callable[[str], None]
Clock = Callable[[], float]

class Collector(Protocol):
    """Reads one metric group."""

    name: str
    section: str

    def collect(self, note: Note) -> Any:
        """Return the section's values; report unreadable fields through ``note``."""
        ...


@dataclass(frozen=True, slots=True)
class WithTable:
    """A section's values and the whole table behind them, which the API serves on its own."""

    section: Any
    table: ProcessTable


def describe_error(exc: BaseException, ps: ModuleType | None = None) -> str:
    """A short, human reason for a failed read."""
    if ps is not None and isinstance(exc, getattr(ps, "AccessDenied", ())):
        return "access denied (the server's user may not read this)"
    if isinstance(exc, (AttributeError, NotImplementedError)):
        return f"not supported on this platform ({exc})"
    text = str(exc) or "no details"
    return f"{type(exc).__name__}: {text}"


def read_field(note: Note, what: str, read: Callable[[], Any], ps: ModuleType | None = None) -> Any:
    """Call ``read``; on an OS or psutil error note why and return None."""
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - each field degrades alone; the reason is reported
        note(f"{what}: {describe_error(exc, ps)}")
        return None


def round_or_none(value: float | None, digits: int = 1) -> float | None:
    """Round a measured value for the wire, keeping None."""
    return None if value is None else round(value, digits)


