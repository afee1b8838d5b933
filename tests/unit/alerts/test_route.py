"""Routing: which channels hear of which transitions, silences, and one message per channel and kind."""

from __future__ import annotations

from typing import Any

from perfmon.alerts.engine import Engine
from perfmon.alerts.notify.message import Notification
from perfmon.alerts.notify.route import route
from perfmon.alerts.rules import parse

T0 = 1_800_000_000.0
FILE = """\
builtin_rules: false
rules:
  - {name: Full, select: disks.percent, above: 90, severity: critical}
  - {name: Busy, select: cpu.percent, above: 90, notify: [chat]}
channels:
  pager: {type: ntfy, url: "https://ntfy.example/p", severities: [critical]}
  chat: {type: webhook, url: "https://hooks.example/c", send_resolved: false}
silences:
  - {match: {mountpoint: /tmp}, until: "2100-01-01T00:00Z"}
  - {match: {host: quiet}, until: "2100-01-01T00:00Z"}
"""


def sample(cpu: float, **disks: float) -> dict[str, Any]:
    rows = [{"mountpoint": f"/{name}".replace("/root", "/"), "device": name, "fstype": "ext4", "percent": v}
            for name, v in disks.items()]
    return {"cpu": {"percent": cpu}, "disks": rows}


def told(notifications: list[Notification]) -> list[tuple[str, str, list[str]]]:
    return [(n.channel, n.kind, [a["id"] for a in n.alerts]) for n in notifications]


def test_each_channel_hears_what_its_rules_and_severities_say_in_one_message_per_kind() -> None:
    alerts = parse(FILE, "r.yml")
    engine = Engine(alerts.rules)
    fired = engine.evaluate(sample(95, root=95, data=96, tmp=99), T0)
    assert told(route(fired, alerts, T0, "db1")) == [
        ("pager", "firing", ["Full{mountpoint=/}", "Full{mountpoint=/data}"]),  # /tmp is silenced
        ("chat", "firing", ["Full{mountpoint=/}", "Full{mountpoint=/data}", "Busy{}"]),
    ]  # Busy names only chat, and is no critical for the pager anyway
    resolved = engine.evaluate(sample(10, root=10, data=10, tmp=10), T0 + 1)
    assert told(route(resolved, alerts, T0 + 1, "db1")) == [
        ("pager", "resolved", ["Full{mountpoint=/}", "Full{mountpoint=/data}"])]  # chat: no resolutions


def test_a_silence_on_the_host_keeps_everything_from_every_channel_while_it_lasts() -> None:
    alerts = parse(FILE, "r.yml")
    fired = Engine(alerts.rules).evaluate(sample(95, root=95), T0)
    assert route(fired, alerts, T0, "quiet") == []
    ended = parse(FILE.replace("2100-01-01T00:00Z", "2020-01-01T00:00Z"), "r.yml")
    assert len(route(fired, ended, T0, "quiet")) == 2


def test_a_notification_s_id_is_stable_and_names_what_it_tells() -> None:
    alerts = parse(FILE, "r.yml")
    fired = Engine(alerts.rules).evaluate(sample(95, root=95), T0)
    first, again = route(fired, alerts, T0, "db1"), route(fired, alerts, T0 + 5, "db1")
    assert [n.id for n in first] == [n.id for n in again]  # made again later: the same ids
    assert len({n.id for n in first}) == 2  # one per channel
    other = Engine(alerts.rules).evaluate(sample(95, root=95), T0 + 60)
    assert route(other, alerts, T0 + 60, "db1")[0].id != first[0].id  # another firing: another id
    assert Notification.from_row(first[0].to_row()) == first[0]


def test_an_alert_whose_firing_a_silence_kept_quiet_resolves_quietly_unless_a_repeat_told_it() -> None:
    alerts = parse(FILE.replace("{match: {mountpoint: /tmp}", "{match: {mountpoint: /data}"), "r.yml")
    unlifted = parse(FILE, "r.yml")  # the same, the /data silence lifted (only /tmp's stays)
    engine, quiet = Engine(alerts.rules), set[str]()
    fired = engine.evaluate(sample(10, data=95), T0)
    assert route(fired, alerts, T0, "db1", quiet) == [] and quiet == {"Full{mountpoint=/data}"}
    resolved = engine.evaluate(sample(10, data=10), T0 + 1)
    assert route(resolved, unlifted, T0 + 1, "db1", quiet) == [] and quiet == set()  # nobody heard it fire
    with_repeat = FILE.replace("severity: critical}", "severity: critical, repeat: 1m}")
    repeating = Engine(parse(with_repeat, "r.yml").rules)
    quiet = set[str]()
    route(repeating.evaluate(sample(10, data=95), T0), alerts, T0, "db1", quiet)
    told = route(repeating.evaluate(sample(10, data=95), T0 + 60), unlifted, T0 + 60, "db1", quiet)
    assert [n.kind for n in told] == ["repeat", "repeat"] and quiet == set()
    again = route(repeating.evaluate(sample(10, data=10), T0 + 61), unlifted, T0 + 61, "db1", quiet)
    assert [n.kind for n in again] == ["resolved"]  # told it fires, so told it resolved (pager only)
