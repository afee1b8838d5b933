"""Grouping across a few seconds: the notifications of a channel that come close together are one message.

A new notification waits in the outbox for its channel's ``group_wait`` (1 s by default), so that
the next samples' transitions can join it: three mounts that fill one sample after another make
one message, not three. When the first of them is due, the dispatcher takes with it every other
that was never tried, of the same channel, kind and host, and the outbox replaces them by the one
they make (``Outbox.merge``) before it is sent. That one is *settled*: it is sent as it is, with
its id, however often it is tried again (after a failure, or after a crash during its send), so
that a receiver can drop the second of the same message. A test notification is never grouped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perfmon.alerts.notify.message import Notification

GROUPED_KINDS = ("firing", "repeat", "resolved")


def queued(notification: Notification, group_wait: float) -> dict[str, Any]:
    """A new notification as the outbox takes it: due once its channel's ``group_wait`` has passed;
    settled at once when the channel does not group (0), so it is sent as its sample made it."""
    row = {**notification.to_row(), "due": notification.created + group_wait}
    if group_wait <= 0:
        row["settled"] = True
    return row


def joins(row: Mapping[str, Any], first: Mapping[str, Any]) -> bool:
    """Whether a notification never tried may join ``first`` in one message."""
    same = all(row[key] == first[key] for key in ("channel", "kind", "host"))
    return same and not row.get("settled") and row["kind"] in GROUPED_KINDS


def grouped(rows: Sequence[Mapping[str, Any]]) -> Notification:
    """One notification of what ``rows`` (of one channel, kind and host) tell, in the order they were
    made; its id is made from what it tells, as any notification's (one row: that row's own id)."""
    ordered = sorted(rows, key=lambda row: row["created"])
    first = ordered[0]
    return Notification.of(first["channel"], first["kind"], first["created"], first["host"],
                           [alert for row in ordered for alert in row["alerts"]])
