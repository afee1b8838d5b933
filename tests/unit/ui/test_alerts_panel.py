"""perfmon.ui.screen.alerts_panel: the header's count and worst severity, the panel's rows and history."""

from __future__ import annotations

from typing import Any

from perfmon.ui.screen import alerts_panel
from perfmon.ui.source.alerts import AlertsRead

NONE = {"info": 0, "warning": 0, "critical": 0}


def alert(name: str, state: str = "firing", severity: str = "warning", silenced: tuple[str, ...] = (),
          **labels: str) -> dict[str, Any]:
    return {"id": f"{name}{{}}", "alertname": name, "state": state, "severity": severity,
            "labels": {"alertname": name, "severity": severity, **labels}, "value": 96.2, "operator": ">",
            "threshold": 95.0, "unit": "percent", "active_since": 900.0,
            "fired_at": 940.0 if state == "firing" else None, "summary": "full",
            "silenced_by": list(silenced)}


def summary(*alerts: dict[str, Any]) -> dict[str, Any]:
    firing = dict(NONE)
    for a in alerts:
        if a["state"] == "firing":
            firing[a["severity"]] += 1
    return {"firing": firing, "alerts": list(alerts), "transitions": 0}


def texts(component: Any) -> str:
    """Every text a component tree holds, in order."""
    if isinstance(component, dict):
        return texts(component["props"].get("children"))
    if isinstance(component, list):
        return " ".join(" ".join(texts(c) for c in component).split())
    return "" if component is None else str(component).strip()


def test_the_badge_counts_what_fires_and_takes_the_worst_severity() -> None:
    assert alerts_panel.badge(summary()) == ("No alerts", "badge alerts ok", "no alert is firing")
    assert alerts_panel.badge(summary(alert("A", "pending")))[:2] == ("1 pending", "badge alerts ok")
    both = summary(alert("A"), alert("B", severity="critical"), alert("C"))
    assert alerts_panel.badge(both) == ("3 firing · critical", "badge alerts crit", "1 critical, 2 warning")
    text, class_name, title = alerts_panel.badge(None, "the API answered 404: not found")
    assert (text, class_name) == ("Alerts ?", "badge alerts na") and "404" in title


def test_a_row_says_state_severity_name_where_value_level_and_since() -> None:
    (row,) = alerts_panel.active_rows([alert("Full", mountpoint="/", fstype="ext4")], 1000.0, signs_in=False)
    assert texts(row) == "firing warning Full mountpoint=/, fstype=ext4 96.2 % > 95.0 % 1 min ago"


def test_silence_and_lift_buttons_only_for_people_who_signed_in() -> None:
    quiet = alert("Full", silenced=("api-0123456789ab",))
    assert "Silence" not in texts(alerts_panel.active_rows([alert("Full")], 1000.0, signs_in=False))
    assert texts(alerts_panel.active_rows([quiet], 1000.0, signs_in=False)).endswith("silenced")
    (loud,), (lifted,) = (alerts_panel.active_rows([a], 1000.0, signs_in=True)
                          for a in (alert("Full"), quiet))
    button = loud["props"]["children"][-1]["props"]["children"]
    assert button["props"]["id"] == {"type": alerts_panel.SILENCE, "alert": "Full{}"}
    lift = lifted["props"]["children"][-1]["props"]["children"]
    assert lift["props"]["id"] == {"type": alerts_panel.LIFT, "silence": "api-0123456789ab"}
    by_file = alerts_panel.active_rows([alert("Full", silenced=("file-0123456789ab",))], 1000.0,
                                       signs_in=True)
    assert "silenced by the rules file" in texts(by_file)


def test_the_panel_lists_the_newest_transitions_first_and_says_how_many() -> None:
    history = tuple({**alert("Full"), "kind": kind, "at": at, "reason": reason}
                    for kind, at, reason in (("firing", 100.0, None), ("resolved", 200.0, "gone")))
    read = AlertsRead(summary(), ({"name": "Full"},), history, since=1000.0 - 86400)
    body, recent, note = alerts_panel.panel(read, 1000.0, signs_in=False)
    assert texts(body) == "no alert is pending or firing"
    assert [texts(item).split(" ", 1)[1] for item in recent] == [
        "resolved (gone) Full · 96.2 % > 95.0 %", "firing Full · 96.2 % > 95.0 %"]
    assert note == "1 rule, evaluated on every sample · 2 transitions in the last day"
    failed, _, _ = alerts_panel.panel(None, 1000.0, signs_in=False, failure="no answer")
    assert texts(failed) == "the alerts could not be read: no answer"
