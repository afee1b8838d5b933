"""Silencing from the dashboard: a signed-in user's click, made a silence (or its lifting) at the API.

The dashboard's server asks with its own token, so the browser never holds it. What the click names
comes from the page, so anyone signed in could send anything: the alert must be one the API listed
as active, the time one the panel offers, the silence an id the API could have made. The answer is
one line for the panel, in the API's own words when it refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from perfmon.ui.source.client import ApiUnavailable, PerformanceClient

SILENCE_ID = re.compile(r"api-[0-9a-f]{12}")
TIMEOUT_SECONDS = 3.0
COMMENT = "silenced from the dashboard"


async def silence(client: PerformanceClient, alert_id: object, seconds: object, offered: tuple[int, ...],
                  wall: Callable[[], float] = time.time) -> str:
    """Silence the active alert ``alert_id`` for ``seconds``: its labels, all of them, are the match."""
    latest = client.alerting.latest
    alert = next((a for a in (latest or {}).get("alerts", ()) if a["id"] == alert_id), None)
    if alert is None:
        return "that alert is no longer active"
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds not in offered:
        return "choose how long to silence for"
    until = round(wall() + seconds)
    body = {"match": dict(alert["labels"]), "until": until, "comment": COMMENT}
    try:
        made = await client.write("POST", "/api/silences", None, body, TIMEOUT_SECONDS)
    except ApiUnavailable as exc:
        return f"could not silence {alert['alertname']}: {exc}"
    return (f"{alert['alertname']} silenced until {time.strftime('%H:%M', time.localtime(until))} "
            f"({(made or {}).get('id', '?')})")


async def lift(client: PerformanceClient, silence_id: object) -> str:
    """Lift the silence ``silence_id``, one set through the API."""
    if not isinstance(silence_id, str) or not SILENCE_ID.fullmatch(silence_id):
        return "no such silence"
    try:
        await client.write("DELETE", "/api/silences", {"id": silence_id}, None, TIMEOUT_SECONDS)
    except ApiUnavailable as exc:
        return f"could not lift the silence: {exc}"
    return f"silence {silence_id} lifted"
