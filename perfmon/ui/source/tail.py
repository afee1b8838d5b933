"""The API's newest samples, kept by the dashboard server so tabs' cursor reads cost one request.

Each tab asks for the samples after its own cursor (``since``). Tabs' cursors differ, so
asking the API for each would cost a request per tab. Instead the dashboard follows the
API's tail once (``since`` = the newest row it holds) and answers every tab from these
rows, as the API would: the rows after the tab's cursor, oldest first, at most ``limit``.
A tab whose cursor is older than these rows is asked about directly (:meth:`covers`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from typing import Any

KEEP_ROWS = 3600  # an hour at 1 s; a live chart's raw window never holds more points


class RecentHistory:
    """Columnar rows of one API instance after ``base``, contiguous as the API gave them."""

    def __init__(self, keep: int = KEEP_ROWS) -> None:
        self.keep = keep
        self.instance: str | None = None
        self.base = 0  # the cursor the rows follow: every row after it is here
        self.columns: dict[str, list[Any]] = {}

    @property
    def last(self) -> int | None:
        """The newest row's seq, or None without rows."""
        seqs = self.columns.get("seq")
        return int(seqs[-1]) if seqs else None

    def covers(self, instance: str, since: int, upto: int) -> bool:
        """Whether the rows answer ``since`` up to the sample ``upto`` of ``instance``."""
        last = self.last
        return (self.instance == instance and last is not None
                and self.base <= since and upto <= last)

    def can_extend(self, instance: str, since: int) -> bool:
        """Whether a read after :attr:`last` would also answer a tab at ``since``."""
        return self.instance == instance and self.last is not None and self.base <= since

    def read(self, since: int, limit: int) -> dict[str, Any]:
        """The rows after ``since``, at most ``limit``, in the API's answer format."""
        start = bisect_right(self.columns["seq"], since)
        series = {name: values[start:start + limit] for name, values in self.columns.items()}
        return {"instance_id": self.instance, "truncated": False, "series": series}

    def add(self, answer: Mapping[str, Any], since: int) -> None:
        """Take a cursor read's answer (rows after ``since``): extend, or start again from it."""
        series: Mapping[str, list[Any]] = answer["series"]
        instance = answer["instance_id"]
        contiguous = (instance == self.instance and self.last == since and not answer["truncated"])
        if not contiguous:
            first = series["seq"][0] if series.get("seq") else since + 1
            self.instance, self.columns = instance, {name: [] for name in series}
            self.base = since if not answer["truncated"] else int(first) - 1
        if not series.get("seq"):
            return
        for name, values in series.items():
            self.columns.setdefault(name, []).extend(values)
        excess = len(self.columns["seq"]) - self.keep
        if excess > 0:
            self.base = int(self.columns["seq"][excess - 1])
            for values in self.columns.values():
                del values[:excess]
