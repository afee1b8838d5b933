"""The CSV download: the range the charts show, as finely as the API keeps it, fetched by the dashboard.

The browser may not reach the API (it listens on loopback by default), so the dashboard
fetches ``/api/history?...&format=csv`` with its own client and hands the file over
through ``dcc.Download``.
"""

from __future__ import annotations

import re
import time
from typing import Any

from perfmon.ui.source.client import PerformanceClient
from perfmon.ui.tick import resolution
from perfmon.ui.tick.ranges import Span

TIMEOUT_SECONDS = 10.0  # a download is asked for, not polled: it may take longer than a tick
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def filename(hostname: str | None, start: float, end: float) -> str:
    """``perfmon-myhost-20261126-140000-20261126-150000.csv`` (local times)."""
    host = UNSAFE.sub("-", hostname or "host").strip("-") or "host"
    first, last = (time.strftime("%Y%m%d-%H%M%S", time.localtime(edge)) for edge in (start, end))
    return f"perfmon-{host}-{first}-{last}.csv"


async def csv_download(client: PerformanceClient, span: Span) -> dict[str, Any]:
    """``dcc.Download``'s data for the span: one row per sample where the API can, else per bucket."""
    sample = await client.performance(TIMEOUT_SECONDS)
    most = (resolution.CSV_POINTS - 2, resolution.CSV_POINTS)
    plan = resolution.plan(span, sample["timestamp"], sample["interval_seconds"], 1, most=most)
    text = await client.history_csv(plan.start, plan.end, plan.points, TIMEOUT_SECONDS)
    return {"content": text, "filename": filename(sample["host"]["hostname"], plan.start, plan.end),
            "type": "text/csv", "base64": False}
