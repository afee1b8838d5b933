"""A linear trend over a window of a series, as Prometheus' ``predict_linear`` draws it.

Points are kept one per ``window / 120`` seconds (the last value of each step), so six hours cost
120 points whatever the sampling interval. The trend is a least-squares line through them; it
is known once the points span a quarter of the window (before that, :meth:`Trend.reaches` says
no: a rule with ``predict`` does not fire on a guess).
"""

from __future__ import annotations

from collections import deque

STEPS = 120  # points kept over a window
KNOWN_SHARE = 0.25  # of the window the points must span before the trend is used


class Trend:
    """The recent points of one series, and the line through them."""

    def __init__(self, window_seconds: float) -> None:
        self.window = window_seconds
        self.step = window_seconds / STEPS
        self.points: deque[tuple[float, float]] = deque()

    def add(self, t: float, value: float) -> None:
        """A new point: the newest of each step is kept, and none older than the window."""
        if self.points and int(self.points[-1][0] // self.step) == int(t // self.step):
            self.points[-1] = (t, value)
        else:
            self.points.append((t, value))
        while self.points[0][0] < t - self.window:
            self.points.popleft()

    def slope(self) -> float | None:
        """Units per second of the least-squares line, or None while the points span too little."""
        if len(self.points) < 2 or self.points[-1][0] - self.points[0][0] < KNOWN_SHARE * self.window:
            return None
        n = len(self.points)
        mean_t = sum(t for t, _ in self.points) / n
        mean_v = sum(v for _, v in self.points) / n
        spread = sum((t - mean_t) ** 2 for t, _ in self.points)
        if spread == 0:
            return None
        return sum((t - mean_t) * (v - mean_v) for t, v in self.points) / spread

    def predict(self, at: float) -> float | None:
        """The line's value at ``at``, or None while the trend is unknown."""
        slope = self.slope()
        if slope is None:
            return None
        n = len(self.points)
        mean_t = sum(t for t, _ in self.points) / n
        mean_v = sum(v for _, v in self.points) / n
        return mean_v + slope * (at - mean_t)

    def reaches(self, level: float, now: float, ahead: float) -> bool:
        """Whether the line reaches ``level`` by ``now + ahead`` (from below or from above)."""
        predicted = self.predict(now + ahead)
        if predicted is None or not self.points:
            return False
        current = self.points[-1][1]
        return predicted >= level if level >= current else predicted <= level
