"""The alerts on the dashboard in real Chromium: the header's count, the panel, the charts' marks, silencing.

The API and the dashboard run as the user runs them, with a rules file whose one rule fires on any
host (CPU above -1 %) and one that stays pending (the root filesystem above 0 % for an hour), both
behind a token. The browser signs in, sees the count and the worst severity in the header, the two
alerts in the panel, the firing period shaded under the CPU chart with the rule's level drawn
across it; then it silences the firing alert from the panel, sees the API hold that silence, and
lifts it again. Waits use Playwright's ``expect``, never a fixed sleep; any CSP violation fails.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.test_browser import CHROMIUM, CHROMIUM_ARGS, playwright_or_skip
from tests.browser.test_browser_security import TOKEN, VIOLATIONS_JS, answers
from tests.support.processes import Running, free_port, http_get, wait_for, wait_until_healthy

RULES = """\
rules:
  - {name: AnyCpu, select: cpu.percent, above: -1, severity: critical, summary: the CPU is on}
  - {name: RootUsed, select: "disks[mountpoint=/].percent", above: 0, for: 1h}
  - {name: RootSeen, select: "disks[mountpoint=/].percent", above: -1, severity: info}
"""
BAND_JS = """(graph) => {
  const plot = document.querySelector('#' + graph + ' .js-plotly-plot');
  const band = plot && plot.data.find((trace) => trace.meta && trace.meta.firing);
  return band ? band.y.filter((v) => v === 1).length : -1;
}"""
LEVELS_JS = """(graph) => {
  const plot = document.querySelector('#' + graph + ' .js-plotly-plot');
  return plot ? (plot.layout.annotations || []).map((a) => a.text) : [];
}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The API and the dashboard with the rules file and a token: the dashboard's URL and the API's."""
    rules = tmp_path_factory.mktemp("alerts") / "alerts.yml"
    rules.write_text(RULES)
    env = {**os.environ, "PERFMON_TOKEN": TOKEN}
    api_port, port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    with Running("performance_api_server.py", "--port", str(api_port), "--interval", "0.2",
                 "--alerts-file", str(rules), env=env) as api:
        wait_until_healthy(f"{api_url}/api/health", api.proc)
        with Running("performance_dashboard_http_polling.py", "--port", str(port), "--api-url", api_url,
                     "--poll-interval", "1", env=env) as dashboard:
            url = f"http://127.0.0.1:{port}/"
            wait_for(lambda: answers(url + "login"), "login page")
            yield url, api_url
            assert dashboard.stop() == 0, dashboard.stderr()
        assert api.stop() == 0


def silences(api_url: str) -> list[dict[str, Any]]:
    status, _, body = http_get(f"{api_url}/api/silences", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200
    return list(json.loads(body)["silences"])


def test_the_alerts_show_mark_the_charts_and_are_silenced_and_lifted_from_the_panel(
    served: tuple[str, str],
) -> None:
    url, api_url = served
    sync_api = playwright_or_skip()
    expect = sync_api.expect
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context().new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.add_init_script(VIOLATIONS_JS)
        page.goto(url)
        page.fill("#token", TOKEN)
        page.click("button[type=submit]")
        expect(page).to_have_url(url)
        badge = page.locator("#alerts-badge")
        expect(badge).to_have_text("2 firing · critical")
        expect(badge).to_have_class(re.compile(r"\bcrit\b"))
        rows = page.locator("#alerts-body tr")
        expect(rows).to_have_count(3)
        expect(rows.nth(0)).to_contain_text("firing")
        expect(rows.nth(0)).to_contain_text("AnyCpu")
        expect(rows.nth(1)).to_contain_text("RootSeen")
        expect(rows.nth(2)).to_contain_text("pending")
        expect(rows.nth(2)).to_contain_text("mountpoint=/")
        expect(page.locator("#kpi-cpu")).to_have_class(re.compile(r"\bcrit\b"))  # the rule's level: -1 %
        wait_for(lambda: page.evaluate(BAND_JS, "graph-cpu") > 0, "the firing band under the CPU chart")
        wait_for(lambda: page.evaluate(BAND_JS, "graph-rows-disks") > 0, "the band under the filesystems")
        assert "AnyCpu > -1.0 %" in page.evaluate(LEVELS_JS, "graph-cpu")
        assert any(text.startswith("RootUsed > 0.0") for text in page.evaluate(LEVELS_JS, "graph-rows-disks"))

        rows.nth(0).get_by_role("button", name="Silence").click()
        expect(page.locator("#alerts-action")).to_contain_text("AnyCpu silenced until")
        (silence,) = silences(api_url)
        assert silence["match"] == {"alertname": "AnyCpu", "severity": "critical"}
        assert silence["until"] - silence["from"] == pytest.approx(3600, abs=5)
        expect(rows.nth(0).get_by_role("button", name="Lift silence")).to_be_visible()
        rows.nth(0).get_by_role("button", name="Lift silence").click()
        expect(page.locator("#alerts-action")).to_contain_text(f"silence {silence['id']} lifted")
        assert silences(api_url) == []
        expect(rows.nth(0).get_by_role("button", name="Silence")).to_be_visible()
        assert page.evaluate("window.__csp || []") == []
        assert errors == [], errors
        browser.close()
