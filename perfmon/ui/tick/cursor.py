"""The tab's cursor: what its screen already shows and how its charts follow the API, as one immutable type.

The browser keeps it in a ``dcc.Store`` between ticks and sends it back with each one; the
tick reads it (checked first by :func:`perfmon.ui.tick.inputs.read_cursor`), makes a new one
with :meth:`Cursor.but`, and hands it back as JSON with :meth:`Cursor.store`. These fields,
their defaults (a tab that shows nothing yet) and the checks in ``inputs`` are one list:
``tests/test_inputs.py`` holds them together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple


class Cursor(NamedTuple):
    """One tab's state between ticks; the defaults are a tab that shows nothing yet.

    ``view`` is the span its charts show (``Span.key``), ``mode`` how they follow the API
    (``raw``, ``buckets`` or ``fixed``, see :mod:`perfmon.ui.tick.charts`), ``res`` their points'
    width in seconds and ``max`` how many they hold; ``seq`` is the last sample appended, ``next``
    the start of the next bucket. ``perf``, ``procs``, ``disks`` and ``host`` say what the cards
    and tables show; ``link``, ``fails``, ``since`` and ``reason`` the connection badge; ``n``
    counts the views sent, so the browser can tell when it missed one. ``rows`` holds digests of
    the row groups' row sets and card values on screen (:mod:`perfmon.ui.tick.row_updates`),
    ``rseq`` the last sample their charts got, ``rhist`` whether the API keeps the rows' history.
    ``raw`` says whether the raw-data panel is open on screen: the tick compares it with the
    toggle, rather than trusting that the tick the toggle set off reached the page (the page
    drops a callback's answer when a newer one of it is on its way). ``alerts`` is a digest of the
    alerts' badge and panel on screen (:mod:`perfmon.ui.tick.alert_view`).

    A named tuple, not a frozen dataclass: a tick makes about ten of them, and a frozen
    dataclass of 21 fields sets each one through ``object.__setattr__`` (``but`` took 13.5 us
    with ``dataclasses.replace``, 2.9 as ``_replace``; a fifth of a tick's CPU in py-spy).
    """

    instance: str | None = None
    seq: int | None = None
    perf: int | None = None
    procs: str | None = None
    disks: str | None = None
    host: str | None = None
    link: str | None = None
    fails: int = 0
    since: float | None = None
    reason: str | None = None
    view: str | None = None
    mode: str | None = None
    res: float | None = None
    max: int | None = None
    next: float | None = None
    swap: bool | None = None
    n: int = 0
    rows: str | None = None
    rseq: int | None = None
    rhist: bool | None = None
    raw: bool | None = None
    alerts: str | None = None

    @classmethod
    def from_store(cls, stored: Mapping[str, Any]) -> Cursor:
        """The cursor the store holds, keys it lacks (an older page's) from the defaults; unchecked."""
        return cls(**stored)

    def store(self) -> dict[str, Any]:
        """The cursor as the page's store keeps it: a JSON object of every field."""
        return self._asdict()

    def but(self, **changes: Any) -> Cursor:
        """This cursor with ``changes`` (a name that is not a field is a ValueError)."""
        return self._replace(**changes)


FIELDS: tuple[str, ...] = Cursor._fields
