"""The API's alerts: the book, fed each published sample on the loop, kept on disk, and delivered.

With ``--data-dir``, the instances, the transitions and the undelivered notifications are kept in
``alerts.sqlite3`` beside the history (perfmon.store.sqlite.alert_state), written by one thread
of their own so that no write waits on the event loop, state and notifications in one
transaction; a restart takes them back, so a firing alert is not told twice, one that resolved
meanwhile is noticed on the first sample, and a notification queued before a crash is sent
after it. With ``--data-dir none`` all of it is in memory.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from perfmon.alerts.book import AlertBook
from perfmon.alerts.credentials import located
from perfmon.alerts.engine import Transition
from perfmon.alerts.heartbeat import Pinger
from perfmon.alerts.model import AlertsFile, Channel
from perfmon.alerts.notify import apprise_channel
from perfmon.alerts.notify.apprise_channel import AppriseChannel
from perfmon.alerts.notify.dispatcher import Dispatcher, Sender
from perfmon.alerts.notify.email import Email
from perfmon.alerts.notify.group import queued
from perfmon.alerts.notify.ntfy import Ntfy
from perfmon.alerts.notify.outbox import MemoryOutbox, Outbox
from perfmon.alerts.notify.route import route
from perfmon.alerts.notify.webhook import Webhook
from perfmon.alerts.silences import SilenceBook
from perfmon.alerts.stall import check_every
from perfmon.sampling.snapshot import Snapshot
from perfmon.settings import ServerConfig
from perfmon.store.sqlite.alert_state import AlertStateFile

log = logging.getLogger(__name__)


class Alerting:
    """The alert book of one server, its file (if any), the thread that writes it, and the deliveries."""

    def __init__(self, config: ServerConfig) -> None:
        self.alerts = config.alerts
        self.book = AlertBook(config.alerts, keep_seconds=config.retention_minute_seconds,
                              interval_seconds=config.interval_seconds)
        self.check_seconds = check_every(config.interval_seconds)
        self.file = None if config.data_dir is None else AlertStateFile(config.data_dir)
        self.memory = MemoryOutbox()
        self.outbox: Outbox = self.memory if self.file is None else self.file
        self._writer = concurrent.futures.ThreadPoolExecutor(1, "perfmon-alerts-writer")
        self._failed: set[str] = set()
        self._session: aiohttp.ClientSession | None = None
        self.host = socket.gethostname()
        self.book.host = self.host
        self.senders = senders(config.alerts, self.session)
        saver = None if self.file is None else self._save_silences
        self.silences = SilenceBook(config.alerts.silences, saver)
        if self.file is not None:
            state, history = self.file.load(float("-inf"))  # the book drops what is old on its next sample
            self.book.restore(state, history)
            self.silences.restore(self.file.silences())
        self.book.saver = self._save
        self.book.notifier = self._notifications
        self.dispatcher: Dispatcher | None = None
        self.pinger: Pinger | None = None

    def session(self) -> aiohttp.ClientSession:
        """The HTTP client the channels share (made on the loop, on first use)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    def _save_silences(self, rows: list[dict[str, Any]]) -> None:
        assert self.file is not None
        self._writer.submit(self.file.save_silences, rows).add_done_callback(self._saved)

    def _notifications(self, transitions: list[Transition], now: float) -> list[dict[str, Any]]:
        alerts = dataclasses.replace(self.alerts, silences=self.silences.all())
        made = route(transitions, alerts, now, self.host, self.book.quiet)
        return [queued(n, alerts.channels[n.channel].group_wait_seconds) for n in made
                if n.channel in self.senders]

    def _save(self, state: list[dict[str, Any]] | None, records: list[dict[str, Any]], prune: float,
              outgoing: list[dict[str, Any]]) -> None:
        if self.file is None:
            self.memory.add(outgoing)
        else:
            saved = self._writer.submit(self.file.save, state, records, prune, outgoing)
            saved.add_done_callback(self._saved)
        if outgoing and self.dispatcher is not None:
            self.dispatcher.wake()

    def _saved(self, future: concurrent.futures.Future[None]) -> None:
        exc = future.exception()
        if exc is not None and type(exc).__name__ not in self._failed:
            self._failed.add(type(exc).__name__)
            log.error("cannot write the alerts' state to %s: %s (alerts go on in memory; logged once)",
                      self.file and self.file.path, exc)

    def start(self, healthy: Callable[[], bool]) -> list[asyncio.Task[None]]:
        """Start delivering, and the heartbeat while ``healthy()`` (on the running loop)."""
        loop = asyncio.get_running_loop()

        async def run(function: Callable[..., Any], *args: Any) -> Any:
            return await loop.run_in_executor(self._writer, function, *args)

        self.dispatcher = Dispatcher(self.outbox, self.senders, run)
        tasks = [loop.create_task(self.dispatcher.run(), name="perfmon-alerts-delivery"),
                 loop.create_task(self._watch_sampler(time.time()), name="perfmon-alerts-sampler-watch")]
        if self.alerts.heartbeat is not None:
            self.pinger = Pinger(self.alerts.heartbeat, healthy, self.session)
            tasks.append(loop.create_task(self.pinger.run(), name="perfmon-heartbeat"))
        return tasks

    def listener(self) -> Callable[[Snapshot], None]:
        """A publish listener that evaluates the alerts just after the publish, on the running loop."""
        loop = asyncio.get_running_loop()

        def listener(snapshot: Snapshot) -> None:
            loop.call_soon(self._evaluate, snapshot)

        return listener

    async def _watch_sampler(self, since: float) -> None:
        """SamplerStalled: the age of the last sample, looked at every few seconds (perfmon.alerts.stall)."""
        while self.book.stall is not None:
            await asyncio.sleep(self.check_seconds)
            try:
                self.book.check(time.time(), since)
            except Exception as exc:  # noqa: BLE001 (as an evaluation: said once, the watch goes on)
                if type(exc).__name__ not in self._failed:
                    self._failed.add(type(exc).__name__)
                    log.warning("the sampler's watch failed: %s: %s (logged once)", type(exc).__name__, exc)

    def _evaluate(self, snapshot: Snapshot) -> None:
        try:
            self.book.evaluate(snapshot.data, snapshot.timestamp)
        except Exception as exc:  # noqa: BLE001 (a sample the engine cannot read: say so once, sample on)
            kind = type(exc).__name__
            if kind not in self._failed:
                self._failed.add(kind)
                log.warning("the alerts could not be evaluated on sample %s: %s: %s (logged once)",
                            snapshot.seq, kind, exc)

    async def aclose(self, tasks: list[asyncio.Task[None]]) -> None:
        """Stop delivering and the heartbeat, write what is pending, close the file and the HTTP client."""
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.get_running_loop().run_in_executor(None, self._writer.shutdown)
        if self.file is not None:
            self.file.close()
        if self._session is not None:
            await self._session.close()


def senders(alerts: AlertsFile, session: Callable[[], aiohttp.ClientSession]) -> dict[str, Sender]:
    """A sender for each channel; one this perfmon cannot deliver to (Apprise not installed) is said
    once, at start, and nothing is queued for it."""
    made: dict[str, Sender] = {}
    for name, channel in alerts.channels.items():
        options, timeout = channel.options, channel.timeout_seconds
        if channel.type == "webhook":
            key = secret(channel, "secret")
            made[name] = Webhook(options["url"], None if key is None else key.encode(), timeout, session)
        elif channel.type == "ntfy":
            made[name] = Ntfy(options["url"], secret(channel, "token"), options.get("priority"),
                              options.get("tags", ()), timeout, session)
        elif channel.type == "email":
            made[name] = Email(options, secret(channel, "password"), timeout)
        elif apprise_channel.available():
            try:
                made[name] = AppriseChannel((secret(channel, "urls") or "").split())
            except ValueError as exc:
                log.error("channel %s: %s; none of its notifications are queued", name, exc)
        else:
            log.warning("channel %s: Apprise is not installed (pip install 'perfmon[apprise]'); none of its "
                        "notifications are queued", name)
    return made


def secret(channel: Channel, name: str) -> str | None:
    """A channel's secret from its ``<name>_file`` (checked at start; its credential under systemd) or
    ``<name>_env``, or None."""
    path = channel.options.get(f"{name}_file")
    if path is not None:
        return located(path).read_text(encoding="utf-8").strip()
    variable = channel.options.get(f"{name}_env")
    return None if variable is None else os.environ.get(variable)
