"""The dashboard's HTTP connections: uvicorn's h11 protocol with a deadline for each request head.

uvicorn 0.54 has a keep-alive timer, armed only after an answer and cancelled by any byte
received, and no timer at all before the first request: a connection that never sends a byte,
or sends one every few seconds (slowloris), stays open forever (20,000 of them ran the process
out of descriptors). This subclass gives every request head a deadline (``--header-timeout``):
from when the connection opens, or from the first byte of a request on a kept-alive one, to the
end of the head. uvicorn's keep-alive timer stays for the idle time after an answer. Connections
are also counted in a ``Connections`` table that sheds the longest-idle ones near the open-files
limit (see perfmon.core.connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from perfmon.core.connections import Connections

log = logging.getLogger(__name__)


class DashboardConnection(H11Protocol):
    """One dashboard connection; ``header_timeout`` and ``table`` are set by ``protocol_class``."""

    header_timeout: float = 10.0
    table: Connections | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the head's deadline and count the connection (which may shed idle ones)."""
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)
        if self.table is not None:
            self.table.opened(self)

    def data_received(self, data: bytes) -> None:
        """Parse as uvicorn does; a finished head ends its deadline, a new head's first bytes start one."""
        idle_before = self.is_idle()
        super().data_received(data)
        if not self.is_idle():  # a whole request head arrived: its request runs
            self._cancel_head_timer()
            if idle_before and self.table is not None:
                self.table.active(self)
        elif self._head_timer is None and data:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        """uvicorn's clean-up, and the connection leaves the table."""
        self._cancel_head_timer()
        if self.table is not None:
            self.table.closed(self)
        super().connection_lost(exc)

    def is_idle(self) -> bool:
        """No request in progress (before the first one, between two, or with a partial head)."""
        return self.cycle is None or self.cycle.response_complete

    def shed(self) -> None:
        """Close the connection now (near the open-files limit, while it is idle)."""
        self._close_idle()

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.is_idle():
            log.debug("closing a dashboard connection from %s: no whole request head within %g s",
                      self.client[0] if self.client else "unknown", self.header_timeout)
            self._close_idle()

    def _close_idle(self) -> None:
        if self.transport.is_closing():
            return
        with contextlib.suppress(h11.LocalProtocolError):  # h11 already in an error state
            self.conn.send(h11.ConnectionClosed())  # what uvicorn's keep-alive timeout does
        self.transport.close()


def protocol_class(header_timeout: float, table: Connections | None) -> type[DashboardConnection]:
    """The protocol class for one dashboard server (uvicorn.Config takes a class as ``http=``)."""
    return type("DashboardConnection", (DashboardConnection,),
                {"header_timeout": header_timeout, "table": table})
