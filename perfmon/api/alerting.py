"""The API's alerts: the book, fed each published sample on the loop, and kept on disk when there is one.

With ``--data-dir``, the instances and the transitions are kept in ``alerts.sqlite3`` beside the
history (perfmon.store.sqlite.alert_state), written by one thread of their own so that no write
waits on the event loop; a restart takes them back, so a firing alert is not told twice and one
that resolved meanwhile is noticed on the first sample. With ``--data-dir none`` all of it is in
memory.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable
from typing import Any

from perfmon.alerts.book import AlertBook
from perfmon.sampling.snapshot import Snapshot
from perfmon.settings import ServerConfig
from perfmon.store.sqlite.alert_state import AlertStateFile

log = logging.getLogger(__name__)


class Alerting:
    """The alert book of one server, its file (if any) and the thread that writes it."""

    def __init__(self, config: ServerConfig) -> None:
        self.book = AlertBook(config.alerts, keep_seconds=config.retention_minute_seconds)
        self.file = None if config.data_dir is None else AlertStateFile(config.data_dir)
        self._writer = concurrent.futures.ThreadPoolExecutor(1, "perfmon-alerts-writer")
        self._failed: set[str] = set()
        if self.file is not None:
            state, history = self.file.load(float("-inf"))  # the book drops what is old on its next sample
            self.book.restore(state, history)
            self.book.saver = self._save

    def _save(self, state: list[dict[str, Any]] | None, records: list[dict[str, Any]], prune: float) -> None:
        assert self.file is not None
        future = self._writer.submit(self.file.save, state, records, prune)
        future.add_done_callback(self._saved)

    def _saved(self, future: concurrent.futures.Future[None]) -> None:
        exc = future.exception()
        if exc is not None and type(exc).__name__ not in self._failed:
            self._failed.add(type(exc).__name__)
            log.error("cannot write the alerts' state to %s: %s (alerts go on in memory; logged once)",
                      self.file and self.file.path, exc)

    def listener(self) -> Callable[[Snapshot], None]:
        """A publish listener that evaluates the alerts just after the publish, on the running loop."""
        loop = asyncio.get_running_loop()

        def listener(snapshot: Snapshot) -> None:
            loop.call_soon(self._evaluate, snapshot)

        return listener

    def _evaluate(self, snapshot: Snapshot) -> None:
        try:
            self.book.evaluate(snapshot.data, snapshot.timestamp)
        except Exception as exc:  # noqa: BLE001 (a sample the engine cannot read: say so once, sample on)
            kind = type(exc).__name__
            if kind not in self._failed:
                self._failed.add(kind)
                log.warning("the alerts could not be evaluated on sample %s: %s: %s (logged once)",
                            snapshot.seq, kind, exc)

    def close(self) -> None:
        """Write what is pending, then close the file."""
        self._writer.shutdown(wait=True)
        if self.file is not None:
            self.file.close()
