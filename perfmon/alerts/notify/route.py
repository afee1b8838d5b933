"""Which channels hear of which transitions: routing by rule and severity, silences, grouping.

The transitions of one evaluation (one sample) that go to the same channel and are of the same
kind become one notification: a disk that fills three mounts at once is one message, not three
(and those of the next samples, within the channel's group_wait, join it: perfmon.alerts.notify.group).
A rule's ``notify`` names its channels (all of them when it does not); a channel hears only of
its ``severities`` and, with ``send_resolved: false``, of no resolution. A silence whose labels
all match (the alert's labels and ``host``) keeps the transition from every channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from perfmon.alerts.book import alert_json
from perfmon.alerts.engine import Transition
from perfmon.alerts.model import AlertsFile
from perfmon.alerts.notify.message import Notification


def route(transitions: Sequence[Transition], alerts: AlertsFile, now: float, host: str,
          unannounced: set[str] | None = None) -> list[Notification]:
    """The notifications ``transitions`` make, one per channel and kind, in the channels' order.

    ``unannounced`` (kept by the caller from one evaluation to the next) holds the alerts whose
    firing a silence kept quiet and that no repeat has told since: their resolution is not told
    either, as nobody heard they fired.
    """
    quiet = set() if unannounced is None else unannounced
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for t in transitions:
        row = {**alert_json(t.rule, t.instance, t.value), "at": t.at, "kind": t.kind,
               "reason": t.reason or None}
        labels = {**row["labels"], "host": host}
        silenced = any(silence.covers(labels, now) for silence in alerts.silences)
        if t.kind == "resolved" and t.instance.id in quiet:
            quiet.discard(t.instance.id)
            continue
        if silenced:
            if t.kind == "firing":
                quiet.add(t.instance.id)
            continue
        quiet.discard(t.instance.id)
        for name in alerts.channels if t.rule.notify is None else t.rule.notify:
            channel = alerts.channels[name]
            if t.rule.severity in channel.severities and (t.kind != "resolved" or channel.send_resolved):
                grouped.setdefault((name, t.kind), []).append(row)
    return [Notification.of(name, kind, now, host, rows) for (name, kind), rows in grouped.items()]
