"""The API's application factory: routes, and a Monitor (hub, store, sampler) for the app's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from perfmon import __version__
from perfmon.api.alerting import Alerting
from perfmon.api.edge.cors import cors_headers
from perfmon.api.edge.errors import add_endpoint, add_fallback
from perfmon.api.edge.security import GUARD, Guard
from perfmon.api.endpoints import alerts, health, history, index, openapi, performance, processes, silences
from perfmon.api.endpoints.health import freshness
from perfmon.api.endpoints.health_answer import HEALTH, HealthAnswers
from perfmon.api.endpoints.metrics.prometheus import EXPOSITION, Exposition, metrics
from perfmon.api.endpoints.prebuilt import PARKED, ParkedPolls
from perfmon.api.endpoints.state import ALERTS, HUB, SILENCES, STORE
from perfmon.sampling import registry
from perfmon.sampling.hub import Hub
from perfmon.sampling.sampler import Sampler
from perfmon.settings import ServerConfig
from perfmon.settings.options import AUTO
from perfmon.store.base import HistoryStore, Retention
from perfmon.store.lock import DirectoryLock
from perfmon.store.ring import RingStore
from perfmon.store.sqlite.journal import default_directory
from perfmon.store.sqlite.store import SqliteStore

Context = Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]

ROUTES = (
    ("/", index.index),
    ("/api", index.index),
    ("/api/performance", performance.performance),
    ("/api/history", history.endpoint),
    ("/api/processes", processes.processes),
    ("/api/health", health.health),
    ("/api/alerts", alerts.alerts),
    ("/api/alerts/history", alerts.alerts_history),
    ("/api/alerts/rules", alerts.alert_rules),
    ("/api/silences", silences.silences),
    ("/api/openapi.json", openapi.openapi_json),
    ("/metrics", metrics),
)
WRITES = {"/api/silences": {"POST": silences.create, "DELETE": silences.lift}}  # path: method: handler
ANONYMOUS = ("/api/health",)  # answered without a token too: its status only, for load balancers


@dataclass(frozen=True)
class Monitor:
    """One server instance's moving parts: the hub and the store, and the sampler that feeds both."""

    config: ServerConfig
    hub: Hub
    store: HistoryStore
    sampler: Sampler
    lock: DirectoryLock | None = None  # held while a server keeps its history in a directory

    @classmethod
    def build(cls, config: ServerConfig, **sampler_options: Any) -> Monitor:
        """A hub, the history store and a sampler over psutil (or the ``ps`` etc. given).

        Raises StoreError (one line) when the history database cannot be used, and UnknownCollector
        for a name in ``config.collectors`` that is not registered.
        """
        clock = sampler_options.get("clock", time.time)
        hub = Hub(config.interval_seconds, clock=clock, max_waiters=config.max_waiters)
        if config.database is None:
            store: HistoryStore = RingStore(config.history_size, config.interval_seconds)
            lock = None
        else:
            lock = DirectoryLock(config.database).acquire()
            try:
                store = open_database(config, hub.instance_id, clock)
            except BaseException:
                lock.release()
                raise
        sampler = Sampler(hub, store.append, process_interval_seconds=config.process_interval_seconds,
                          enabled=registry.enabled_names(config.collectors),
                          cadences=dict(config.collector_intervals), **sampler_options)
        return cls(config, hub, store, sampler, lock)


def open_database(config: ServerConfig, instance_id: str, clock: Callable[[], float]) -> HistoryStore:
    """The SQLite store in ``--data-dir``, with the retention and size cap of the settings."""
    assert config.database is not None
    retention = Retention(config.retention_raw_seconds, config.retention_minute_seconds,
                          config.retention_hour_seconds, config.max_db_bytes)
    return SqliteStore(config.database, instance_id=instance_id, interval_seconds=config.interval_seconds,
                       history_size=config.history_size, retention=retention, clock=clock,
                       commit_seconds=config.commit_interval_seconds,
                       journal_dir=journal_directory(config))


def journal_directory(config: ServerConfig) -> Path | None:
    """Where the store keeps its journal: the one named, one in memory for ``auto``, or none."""
    if config.journal_dir == AUTO:
        return default_directory()
    return config.journal_dir if isinstance(config.journal_dir, Path) else None


def create_app(config: ServerConfig, *, monitor: Monitor | None = None,
               sample: bool = True, guard: Guard | None = None) -> web.Application:
    """Build the application; its Monitor is made when it starts, and closed when it stops.

    Tests inject a ``monitor`` over fakes, and with ``sample=False`` publish samples themselves;
    a ``guard`` over ``config.security`` with a fake clock tests the penalties.
    """
    app = web.Application()
    app[GUARD] = guard = guard or Guard(config.security)
    app[EXPOSITION] = Exposition()
    setup_routes(app.router, guard)
    origins = guard.security.cors_origins
    if origins:  # a signal costs every response something: only where CORS is configured
        app.on_response_prepare.append(cors_headers(origins))
    app.cleanup_ctx.append(monitoring(config, monitor, sample))
    app.on_shutdown.append(release_waiters)
    return app


def setup_routes(router: web.UrlDispatcher, guard: Guard) -> None:
    """Every endpoint behind its JSON error boundary and the guard's checks, then the JSON 404."""
    for path, handler in ROUTES:
        add_endpoint(router, path, handler, guard.check(anonymous=path in ANONYMOUS),
                     guard.check(preflight=True), WRITES.get(path))
    add_fallback(router, guard.check())


def monitoring(config: ServerConfig, monitor: Monitor | None, sample: bool) -> Context:
    """The cleanup context that makes the Monitor, runs its sampler, and closes it all at the end."""

    @contextlib.asynccontextmanager
    async def context(app: web.Application) -> AsyncIterator[None]:
        parts = monitor or Monitor.build(config)
        cors = bool(app[GUARD].security.cors_origins)
        app[HUB], app[STORE], app[PARKED] = parts.hub, parts.store, ParkedPolls(cors=cors)
        app[HEALTH] = HealthAnswers(__version__, parts.hub.instance_id, parts.hub.interval_seconds)
        parts.hub.on_publish.append(app[PARKED].publish)
        try:
            alerting = Alerting(parts.config)
        except BaseException:  # an alerts file it cannot use (StoreError, one line): close what is open
            await asyncio.get_running_loop().run_in_executor(None, parts.store.close)
            if parts.lock is not None:
                parts.lock.release()
            raise
        app[ALERTS], app[SILENCES] = alerting.book, alerting.silences
        parts.hub.on_publish.append(alerting.listener())
        delivery = alerting.start(lambda: freshness(parts.hub, time.time())[0] == "ok")
        task = asyncio.create_task(parts.sampler.run(), name="perfmon-sampler") if sample else None
        try:
            yield
        finally:
            parts.hub.on_publish.clear()
            parts.sampler.close()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, parts.sampler.shutdown_worker)
            await loop.run_in_executor(None, parts.store.close)  # writes what is pending
            await alerting.aclose(delivery)
            if parts.lock is not None:
                parts.lock.release()

    return context


async def release_waiters(app: web.Application) -> None:
    """Answer every long-polling request now instead of holding shutdown for up to a minute."""
    app[HUB].close()
