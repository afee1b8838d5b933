"""A notification: one message to one channel about the alerts of one kind that changed together.

Its ``id`` is stable (made from the channel, the kind and the alerts' transitions), so a receiver
that sees the same id twice (delivery is at least once: a send cut short by a crash is sent
again) can drop the second. The webhook's JSON body is documented in the README ("Alerts:
notifications") and is a contract.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

KINDS = ("firing", "repeat", "resolved", "test")


@dataclass(frozen=True, slots=True)
class Notification:
    """One message: to ``channel``, of ``kind``, about ``alerts`` (each as /api/alerts shows it, with
    ``at`` and ``kind`` of its transition), made at ``created`` on ``host``."""

    id: str
    channel: str
    kind: str
    created: float
    host: str
    alerts: tuple[Mapping[str, Any], ...]

    @classmethod
    def of(cls, channel: str, kind: str, created: float, host: str,
           alerts: Sequence[Mapping[str, Any]]) -> Notification:
        """A notification whose id is made from what it tells."""
        what = json.dumps([channel, kind, host, [(a["id"], a["at"]) for a in alerts]], separators=(",", ":"))
        return cls("pm-" + hashlib.sha256(what.encode()).hexdigest()[:24], channel, kind, created, host,
                   tuple(alerts))

    def body(self) -> dict[str, Any]:
        """The JSON a webhook receives."""
        return {"id": self.id, "kind": self.kind, "channel": self.channel, "created": self.created,
                "host": self.host, "title": self.title(), "alerts": [dict(a) for a in self.alerts]}

    def title(self) -> str:
        """One line: ``[FIRING] FilesystemFull on db1: mountpoint=/ 96.2 > 95 (and 2 more)``."""
        if self.kind == "test":
            return f"[TEST] perfmon on {self.host}: a test notification to {self.channel}"
        first = self.alerts[0]
        where = ",".join(row_labels(first))
        value = "" if first.get("value") is None else f" {shown(first['value'])}"
        level = "" if self.kind == "resolved" else f" {first['operator']} {shown(first['threshold'])}"
        more = f" (and {len(self.alerts) - 1} more)" if len(self.alerts) > 1 else ""
        return (f"[{self.kind.upper()}] {first['alertname']} on {self.host}"
                f"{': ' + where if where else ''}{value}{level}{more}")

    def text(self) -> str:
        """The message's body as plain text: a line per alert."""
        if self.kind == "test":
            return f"A test notification from perfmon on {self.host} to the channel {self.channel}."
        lines = []
        for a in self.alerts:
            labels = ", ".join(row_labels(a))
            value = "unknown" if a.get("value") is None else shown(a["value"])
            why = a.get("summary") or a["selector"]
            lines.append(f"{a['kind'].upper()} {a['alertname']} ({a['severity']}) {labels}: {value} "
                         f"{a['operator']} {shown(a['threshold'])} {a['unit']}; {why}")
        return "\n".join(lines)

    def to_row(self) -> dict[str, Any]:
        """As the outbox keeps it."""
        return {"id": self.id, "channel": self.channel, "kind": self.kind, "created": self.created,
                "host": self.host, "alerts": [dict(a) for a in self.alerts]}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Notification:
        """Back from the outbox."""
        return cls(row["id"], row["channel"], row["kind"], row["created"], row["host"], tuple(row["alerts"]))


def row_labels(alert: Mapping[str, Any]) -> list[str]:
    """``name=value`` of an alert's labels but its name and severity (the row, the rule's own)."""
    return [f"{k}={v}" for k, v in alert["labels"].items() if k not in ("alertname", "severity")]


def shown(value: float) -> str:
    """A number as a person reads it: 96.2, 90, 1.5e+09."""
    return f"{value:.4g}" if abs(value) < 1e15 else f"{value:.3e}"
