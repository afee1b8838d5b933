"""What the endpoints read from the application: the hub (what the sampler published), store and alerts."""

from __future__ import annotations

from aiohttp import web

from perfmon.alerts.book import AlertBook
from perfmon.alerts.silences import SilenceBook
from perfmon.sampling.hub import Hub
from perfmon.store.base import HistoryStore

HUB = web.AppKey("hub", Hub)
STORE = web.AppKey("store", HistoryStore)
ALERTS = web.AppKey("alerts", AlertBook)
SILENCES = web.AppKey("silences", SilenceBook)
