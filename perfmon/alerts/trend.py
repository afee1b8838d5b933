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
    """The recent points of one series, and the line through them.

    The least-squares sums are kept as points come and go, so a sample costs the same whatever the
    window holds; times are counted from the first point seen, so the sums keep their precision.
    """

    def __init__(self, window_seconds: float) -> None:
        self.window = window_seconds
        self.step = window_seconds / STEPS
        self.points: deque[tuple[float, float]] = deque()
        self._origin: float | None = None
        self._n = 0
        self._t = self._v = self._tt = self._tv = 0.0

    def _sum(self, t: float, v: float, sign: int) -> None:
        self._n += sign
        self._t += sign * t
        self._v += sign * v
        self._tt += sign * t * t
        self._tv += sign * t * v

    def add(self, t: float, value: float) -> None:
        """A new point: the newest of each step is kept, and none older than the window."""
        if self._origin is None:
            self._origin = t
        at = t - self._origin
        if self.points and int(self.points[-1][0] // self.step) == int(at // self.step):
            self._sum(*self.points.pop(), -1)
        self.points.append((at, value))
        self._sum(at, value, 1)
        while self.points[0][0] < at - self.window:
            self._sum(*self.points.popleft(), -1)

    def slope(self) -> float | None:
        """Units per second of the least-squares line, or None while the points span too little."""
        if self._n < 2 or self.points[-1][0] - self.points[0][0] < KNOWN_SHARE * self.window:
            return None
        spread = self._tt - self._t * self._t / self._n
        if spread <= 0:
            return None
        return (self._tv - self._t * self._v / self._n) / spread

    def predict(self, at: float) -> float | None:
        """The line's value at ``at`` (the caller's time), or None while the trend is unknown."""
        slope = self.slope()
        if slope is None or self._origin is None:
            return None
        mean_t, mean_v = self._t / self._n, self._v / self._n
        return mean_v + slope * (at - self._origin - mean_t)

    def reaches(self, level: float, now: float, ahead: float) -> bool:
        """Whether the line reaches ``level`` by ``now + ahead`` (from below or from above)."""
        predicted = self.predict(now + ahead)
        if predicted is None:
            return False
        current = self.points[-1][1]
        return predicted >= level if level >= current else predicted <= level
