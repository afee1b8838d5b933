"""--trusted-proxies and PERFMON_TRUSTED_PROXIES: one meaning in every entry point, the flag winning."""

from __future__ import annotations

import pytest

from perfmon.settings import (
    Security,
    parse_dashboard_config,
    parse_launcher_config,
    parse_server_config,
)


def securities(argv: list[str], environ: dict[str, str]) -> list[Security]:
    """The Security each entry point builds from ``argv`` and ``environ`` (the launcher's: both)."""
    launcher = parse_launcher_config(argv, environ)
    return [parse_server_config(argv, environ).security, parse_dashboard_config(argv, environ).security,
            launcher.api.security, launcher.dashboard.security]


def test_every_entry_point_takes_the_option_and_its_variable(capsys: pytest.CaptureFixture[str]) -> None:
    assert [str(s.trusted_proxies) for s in securities([], {})] == [""] * 4
    flagged = securities(["--trusted-proxies", "127.0.0.1,10.0.0.0/8"], {"PERFMON_TRUSTED_PROXIES": "::1"})
    assert [str(s.trusted_proxies) for s in flagged] == ["127.0.0.1/32,10.0.0.0/8"] * 4  # the flag wins
    from_env = securities([], {"PERFMON_TRUSTED_PROXIES": "::1"})
    assert [str(s.trusted_proxies) for s in from_env] == ["::1/128"] * 4
    for parse in (parse_server_config, parse_dashboard_config, parse_launcher_config):
        with pytest.raises(SystemExit) as exited:
            parse([], {"PERFMON_TRUSTED_PROXIES": "localhost"})
        assert exited.value.code == 2
        assert "PERFMON_TRUSTED_PROXIES='localhost'" in capsys.readouterr().err
