"""Sign-out is final: across restarts, token changes and "sign out everywhere"; the sessions file.

Each dashboard runs on its real server (uvicorn on a loopback port, in a thread) over a data
directory of the test's; a restart is that dashboard stopped and a new one started over the
same directory, as a restarted process would. The last tests run the dashboard's real
process for what only a process shows: its one line and exit code.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from perfmon.api.app import Monitor
from perfmon.settings import DashboardConfig, Security
from perfmon.ui.edge.session_file import FILE_NAME, SessionFileError
from perfmon.ui.edge.sessions import LIFETIME_SECONDS, Sessions
from tests.integration.test_dashboard_security import OWN_PAGE, TOKEN, Dashboard, assert_secured, set_cookie
from tests.support.apiserver import ServedApi
from tests.support.fakes import FakeClock

OTHER_TOKEN = "another-token-of-more-than-22-chars"
LAYOUT = "/_dash-layout"


@pytest.fixture
def api(make_monitor: Callable[..., Monitor]) -> Iterator[ServedApi]:
    served = ServedApi(make_monitor(process_interval_seconds=1.0)).start()
    served.sample(2)
    yield served
    served.close()


@pytest.fixture
def start(api: ServedApi, tmp_path: Path) -> Iterator[Callable[..., Dashboard]]:
    """Start a dashboard over ``tmp_path / "state"`` (one at a time: the last one is stopped first)."""
    running: list[Dashboard] = []
    wall = FakeClock(1_700_000_000.0)

    def start_one(token: str = TOKEN, data_dir: Path | None = tmp_path / "state") -> Dashboard:
        if running:
            running.pop().close()
        config = DashboardConfig(api_url=api.url, security=Security(token=token), data_dir=data_dir)
        running.append(Dashboard(config, wall=wall))
        return running[-1]

    yield start_one
    for dashboard in running:
        dashboard.close()


def sign_out(dash: Dashboard, cookie: str, scope: str = "this", **headers: str) -> Any:
    return dash.request("POST", "/logout", cookie, headers=headers or OWN_PAGE, data={"scope": scope})


def test_a_restart_keeps_sessions_but_never_revives_a_signed_out_one(start: Callable[..., Dashboard]) -> None:
    dash = start()
    kept, ended = dash.session(), dash.session()
    assert sign_out(dash, ended).status_code == 303
    dash = start()  # a restart with the same token over the same directory
    assert dash.request("GET", LAYOUT, kept).status_code == 200
    assert dash.request("GET", LAYOUT, ended).status_code == 401
    assert dash.tick(ended).status_code == 401
    dash = start()
    assert dash.request("GET", LAYOUT, ended).status_code == 401  # and after any number of restarts


def test_a_token_switched_away_and_back_ends_every_earlier_session(start: Callable[..., Dashboard]) -> None:
    dash = start()
    before = dash.session()
    dash = start(OTHER_TOKEN)
    assert dash.request("GET", LAYOUT, before).status_code == 401
    signed_in = dash.sign_in(OTHER_TOKEN)
    assert signed_in.status_code == 303
    other = set_cookie(signed_in)["value"]
    dash = start(TOKEN)  # and back
    assert dash.request("GET", LAYOUT, before).status_code == 401
    assert dash.request("GET", LAYOUT, other).status_code == 401
    assert dash.request("GET", LAYOUT, dash.session()).status_code == 200


def test_an_expired_session_stays_expired_across_a_restart(start: Callable[..., Dashboard]) -> None:
    dash = start()
    cookie = dash.session()
    dash.wall.advance(LIFETIME_SECONDS)
    assert dash.request("GET", LAYOUT, cookie).status_code == 401
    dash = start()
    assert dash.request("GET", LAYOUT, cookie).status_code == 401
    assert dash.request("GET", "/", cookie).headers["location"] == "/login"


def test_signing_out_everywhere_ends_every_browsers_session(start: Callable[..., Dashboard]) -> None:
    dash = start()
    mine, other_browser = dash.session(), dash.session()
    response = sign_out(dash, mine, "everywhere")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert set_cookie(response)["max-age"] == "0"
    assert dash.request("GET", LAYOUT, other_browser).status_code == 401
    assert dash.request("GET", LAYOUT, mine).status_code == 401
    after = dash.session()
    assert dash.request("GET", LAYOUT, after).status_code == 200  # signing in again works at once
    dash = start()
    assert dash.request("GET", LAYOUT, other_browser).status_code == 401
    assert dash.request("GET", LAYOUT, after).status_code == 200


def test_without_a_session_nobody_signs_out_everywhere(start: Callable[..., Dashboard]) -> None:
    dash = start()
    cookie = dash.session()
    assert sign_out(dash, "1.forged.cookie", "everywhere").status_code == 303
    assert dash.request("GET", LAYOUT, cookie).status_code == 200


def test_a_get_of_logout_signs_nobody_out(start: Callable[..., Dashboard]) -> None:
    dash = start()
    cookie = dash.session()
    navigation = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    for method in ("GET", "HEAD"):
        # Another site's link or redirect: SameSite=Strict keeps the cookie out of it.
        response = dash.request(method, "/logout", headers=navigation)
        assert response.status_code == 303 and response.headers["location"] == "/login"
        assert "set-cookie" not in response.headers
        assert_secured(response)
    page = dash.request("GET", "/logout", cookie)  # from the dashboard itself: the two buttons, nothing ended
    assert page.status_code == 200 and "set-cookie" not in page.headers
    assert 'method="post" action="/logout"' in page.text and 'value="everywhere"' in page.text
    assert "<script" not in page.text and page.headers["cache-control"] == "no-store"
    assert dash.request("GET", LAYOUT, cookie).status_code == 200


@pytest.mark.parametrize("headers", [
    {}, {"Origin": "https://evil.example"}, {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    {"Origin": "null", "Sec-Fetch-Site": "same-site"},
], ids=["no Origin", "another site", "a sandboxed page", "a sibling site"])
def test_a_sign_out_post_not_from_the_dashboards_page_is_a_403(start: Callable[..., Dashboard],
                                                              headers: dict[str, str]) -> None:
    dash = start()
    cookie = dash.session()
    for scope in ("this", "everywhere"):
        response = dash.request("POST", "/logout", cookie, headers=headers, data={"scope": scope})
        assert response.status_code == 403 and response.json()["error"]["status"] == 403
        assert "set-cookie" not in response.headers
        assert_secured(response)
    assert dash.request("GET", LAYOUT, cookie).status_code == 200
    own = {"Origin": dash.base}  # the page's own origin, as a browser without no-referrer sends it
    assert sign_out(dash, cookie, **own).status_code == 303
    assert dash.request("GET", LAYOUT, cookie).status_code == 401


# The file


def test_the_file_is_0600_in_a_0700_directory_and_holds_no_token(start: Callable[..., Dashboard],
                                                                tmp_path: Path) -> None:
    dash = start()
    sign_out(dash, dash.session())
    state = tmp_path / "state"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((state / FILE_NAME).stat().st_mode) == 0o600
    text = (state / FILE_NAME).read_text()
    assert TOKEN not in text and len(json.loads(text)["revoked"]) == 1
    assert sorted(path.name for path in state.iterdir()) == [FILE_NAME, FILE_NAME + ".lock"]  # no leftovers


def test_revocations_are_kept_only_until_their_cookies_expire(tmp_path: Path) -> None:
    wall = FakeClock(1_700_000_000.0)
    sessions = Sessions(TOKEN, tmp_path, clock=wall)
    sessions.revoke([sessions.issue()])
    wall.advance(LIFETIME_SECONDS / 2)
    late = sessions.issue()
    sessions.revoke([late])
    assert len(json.loads((tmp_path / FILE_NAME).read_text())["revoked"]) == 2
    sessions.close()
    wall.advance(LIFETIME_SECONDS / 2)  # the first one's cookie has expired: nothing to remember
    again = Sessions(TOKEN, tmp_path, clock=wall)
    assert list(json.loads((tmp_path / FILE_NAME).read_text())["revoked"]) == [late.split(".")[1]]
    assert again.check(late) is None
    again.close()


DAMAGE = {
    "garbage": b"\x00\xff not json",
    "cut short": b'{"version": 1, "key": "',
    "empty": b"",
    "a key of the wrong size": b'{"version": 1, "key": "AAAA", "token": "x", "revoked": {}}',
    "revocations not a map": None,  # filled in from a real file below
}


@pytest.mark.parametrize("damage", DAMAGE, ids=DAMAGE.keys())
def test_a_damaged_file_is_one_warning_and_a_fresh_start_that_revives_nothing(
        start: Callable[..., Dashboard], tmp_path: Path, damage: str,
        caplog: pytest.LogCaptureFixture) -> None:
    dash = start()
    kept, ended = dash.session(), dash.session()
    sign_out(dash, ended)
    dash.close()
    path = tmp_path / "state" / FILE_NAME
    content = DAMAGE[damage]
    if content is None:
        content = json.dumps({**json.loads(path.read_text()), "revoked": [1]}).encode()
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, "perfmon.ui"):
        dash = start()
    [warning] = [r for r in caplog.records if r.name.startswith("perfmon.ui")]
    assert str(path) in warning.getMessage() and "everyone signs in again" in warning.getMessage()
    assert warning.exc_info is None
    assert dash.request("GET", LAYOUT, ended).status_code == 401  # never a sign-out undone
    assert dash.request("GET", LAYOUT, kept).status_code == 401
    assert dash.request("GET", LAYOUT, dash.session()).status_code == 200
    assert json.loads(path.read_text())["version"] == 1


def test_a_file_others_could_read_gets_a_new_key(start: Callable[..., Dashboard], tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    dash = start()
    cookie = dash.session()
    dash.close()
    path = tmp_path / "state" / FILE_NAME
    path.chmod(0o644)  # anyone who read its key could have forged a cookie
    with caplog.at_level(logging.WARNING, "perfmon.ui"):
        dash = start()
    assert "mode 0644" in caplog.text
    assert dash.request("GET", LAYOUT, cookie).status_code == 401
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_unusable_directory_or_a_second_dashboard_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for directory, words in ((blocker, "is a file, not a directory"), (blocker / "sub", "Not a directory")):
        with pytest.raises(SessionFileError) as refused:
            Sessions(TOKEN, directory)
        message = str(refused.value)
        assert "\n" not in message and str(directory) in message and words in message, message
        assert "--data-dir" in message
    first = Sessions(TOKEN, tmp_path / "state")
    with pytest.raises(SessionFileError, match=f"another perfmon dashboard \\(pid {os.getpid()}\\)"):
        Sessions(TOKEN, tmp_path / "state")
    first.close()
    Sessions(TOKEN, tmp_path / "state").close()  # once the first one stopped


def test_in_memory_a_restart_signs_everyone_out(start: Callable[..., Dashboard]) -> None:
    dash = start(data_dir=None)
    cookie = dash.session()
    assert dash.request("GET", LAYOUT, cookie).status_code == 200
    dash = start(data_dir=None)
    assert dash.request("GET", LAYOUT, cookie).status_code == 401




