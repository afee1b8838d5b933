"""What every tick of one dashboard needs besides the API: built once from the dashboard's config."""

from __future__ import annotations

from dataclasses import dataclass

from perfmon.ui.screen.cards import Thresholds


@dataclass(frozen=True)
class TickConfig:
    """The poll interval, the card thresholds and the process table's length, for every tab's ticks."""

    poll_interval_seconds: float = 5.0
    warning_percent: float = 80.0
    critical_percent: float = 95.0
    process_limit: int = 10
    signs_in: bool = False  # people sign in (a token is set): they may silence alerts from the panel

    @property
    def thresholds(self) -> Thresholds:
        """When cards and bars turn amber and red."""
        return Thresholds(self.warning_percent, self.critical_percent)

    @property
    def budget_seconds(self) -> float:
        """How long a tick's requests may take in all: a hung API costs a tick no more.

        The browser asks for the next tick only when a view has come (``assets/perfmon.js``), so
        ticks never overlap (the dropped results of plotly/dash#941); a budget longer than a short
        poll interval only delays the next tick.
        """
        return min(3.0, max(0.5, 0.6 * self.poll_interval_seconds))
