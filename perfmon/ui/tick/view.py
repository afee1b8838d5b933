"""What one tick tells a tab: the updates, keyed ``"component-id.property"``, and what goes with them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Updates = dict[str, Any]


@dataclass
class View:
    """The result of a tick: updates, the x values of the points they carry, and the data's age.

    ``x`` belongs to every figure or ``extendData`` in ``updates`` (they share one list of
    times); the browser puts it into each trace (``assets/perfmon.js``).
    """

    updates: Updates = field(default_factory=dict)
    x: list[str] = field(default_factory=list)
    age_seconds: float | None = None
    n: int = 0  # the view's number for this tab: the browser notices one it never got
    full: bool = False  # made from a fresh cursor: it assumes nothing on screen
    next_seconds: float | None = None  # when the tab should tick again (None: its poll interval)
    # [row, level, [text, ...]] of cards that come and go with rows (``perfmon.ui.screen.row_cards``):
    # the browser sets them by their ids with dash_clientside.set_props
    rows: list[list[Any]] = field(default_factory=list)
