"""Configuration: flags, PERFMON_* variables, bounds, and usage errors (exit 2)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import pytest

from perfmon.settings import (
    DashboardConfig,
    ServerConfig,
    dashboard_parser,
    launcher_parser,
    parse_dashboard_config,
    parse_launcher_config,
    parse_server_config,
    server_parser,
)
from perfmon.settings.options import byte_size, default_data_dir
from perfmon.settings.security import Security, default_allowed_hosts

DAY = 86400
TOKEN = "0123456789abcdef012345"  # 22 characters: the shortest token taken


def test_defaults_are_loopback_and_documented_values() -> None:
    assert parse_server_config([], {}) == ServerConfig(
        host="127.0.0.1", port=8000, interval_seconds=1.0, process_interval_seconds=5.0,
        history_size=3600, log_level="info", data_dir=default_data_dir(),
        retention_raw_seconds=14 * DAY, retention_minute_seconds=90 * DAY,
        retention_hour_seconds=730 * DAY, max_db_bytes=2**30,
        security=Security(allowed_hosts=default_allowed_hosts("127.0.0.1")),
    )
    assert str(default_data_dir()).endswith("perfmon")
    assert parse_server_config([], {}).database == default_data_dir() / "history.sqlite3"


def test_flags() -> None:
    config = parse_server_config(
        ["--host", "0.0.0.0", "--port", "9001", "--interval", "0.5", "--process-interval", "10",
         "--history-size", "100", "--log-level", "DEBUG", "--data-dir", "none"], {"PERFMON_TOKEN": TOKEN})
    assert replace(config, security=Security()) == ServerConfig("0.0.0.0", 9001, 0.5, 10.0, 100, "debug")
    assert config.security.token == TOKEN
    assert config.database is None


def test_environment_is_used_and_flags_win() -> None:
    env = {"PERFMON_PORT": "9100", "PERFMON_INTERVAL": "2", "PERFMON_PROCESS_INTERVAL": "7",
           "PERFMON_HISTORY_SIZE": "50", "PERFMON_LOG_LEVEL": "warning", "PERFMON_HOST": "::1",
           "PERFMON_DATA_DIR": "None"}
    config = parse_server_config([], env)
    assert replace(config, security=Security()) == ServerConfig("::1", 9100, 2.0, 7.0, 50, "warning")
    assert parse_server_config(["--port", "9200"], env).port == 9200


def test_history_store_options(tmp_path: Path) -> None:
    config = parse_server_config(["--data-dir", str(tmp_path), "--retention-raw", "36h", "--retention-minute",
                                  "2w", "--retention-hour", "1y", "--max-db-size", "512MiB"], {})
    assert config.database == tmp_path / "history.sqlite3"
    assert (config.retention_raw_seconds, config.retention_minute_seconds) == (36 * 3600, 14 * DAY)
    assert config.retention_hour_seconds == 365 * DAY and config.max_db_bytes == 512 * 2**20
    env = {"PERFMON_RETENTION_RAW": "90m", "PERFMON_MAX_DB_SIZE": "2G", "PERFMON_DATA_DIR": "~/x"}
    from_env = parse_server_config([], env)
    assert from_env.retention_raw_seconds == 5400 and from_env.max_db_bytes == 2 * 2**30
    assert from_env.data_dir == Path("~/x").expanduser()


@pytest.mark.parametrize(("text", "size"), [("1GiB", 2**30), ("500MB", 500 * 10**6), ("1.5 G", 3 * 2**29),
                                            ("2097152", 2**21), ("4k", None), ("1 furlong", None)])
def test_sizes(text: str, size: int | None) -> None:
    parse = byte_size(2**20, 2**50)
    if size is None:
        with pytest.raises(argparse.ArgumentTypeError):
            parse(text)
    else:
        assert parse(text) == size


@pytest.mark.parametrize("argv", [
    ["--retention-raw", "30m"], ["--retention-raw", "14"], ["--retention-minute", "-1d"],
    ["--retention-hour", "21y"], ["--max-db-size", "10KiB"], ["--max-db-size", "lots"], ["--data-dir", ""],
])
def test_bad_store_options_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_server_config(argv, {})
    assert exit_info.value.code == 2 and argv[0] in capsys.readouterr().err


def test_config_is_frozen() -> None:
    with pytest.raises(AttributeError):
        parse_server_config([], {}).port = 1  # type: ignore[misc]


@pytest.mark.parametrize("argv", [
    ["--interval", "0.05"], ["--interval", "3601"], ["--interval", "nan"], ["--interval", "fast"],
    ["--port", "70000"], ["--port", "-1"], ["--port", "http"], ["--history-size", "5"],
    ["--process-interval", "0"], ["--log-level", "loud"], ["--bogus"],
])
def test_bad_flags_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_server_config(argv, {})
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: performance_api_server.py")
    assert "error:" in err


def test_bad_environment_is_a_usage_error_naming_the_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_server_config([], {"PERFMON_INTERVAL": "0"})
    assert exit_info.value.code == 2
    assert "PERFMON_INTERVAL='0'" in capsys.readouterr().err


# --- the dashboard and the launcher ---------------------------------------------------------

def test_dashboard_defaults_flags_and_environment() -> None:
    assert parse_dashboard_config([], {}) == DashboardConfig(
        security=Security(allowed_hosts=default_allowed_hosts("127.0.0.1")), data_dir=default_data_dir())
    env = {"PERFMON_DASHBOARD_PORT": "9050", "PERFMON_API_URL": "http://10.0.0.5:9000/",
           "PERFMON_POLL_INTERVAL": "0.5", "PERFMON_WARNING_PERCENT": "70", "PERFMON_PORT": "1234"}
    config = parse_dashboard_config([], env)
    assert (config.port, config.api_url, config.poll_interval_seconds, config.warning_percent) == (
        9050, "http://10.0.0.5:9000", 0.5, 70.0)  # PERFMON_PORT is the API server's, not the dashboard's
    assert parse_dashboard_config(["--port", "9051"], env).port == 9051


def test_the_dashboard_keeps_its_sessions_in_the_same_data_dir_as_the_api(tmp_path: Path) -> None:
    assert parse_dashboard_config(["--data-dir", str(tmp_path)], {}).data_dir == tmp_path
    assert parse_dashboard_config([], {"PERFMON_DATA_DIR": "none"}).data_dir is None
    launcher = parse_launcher_config([], {"PERFMON_DATA_DIR": str(tmp_path)})
    assert launcher.api.data_dir == launcher.dashboard.data_dir == tmp_path
    assert "sessions" in dashboard_parser().format_help()


@pytest.mark.parametrize(("argv", "complaint"), [
    (["--poll-interval", "0.2"], "--poll-interval"),
    (["--api-url", "127.0.0.1:8000"], "is not an http:// or https:// URL"),
    (["--api-url", "http://host:99999"], "--api-url"),
    (["--warning-percent", "96"], "--warning-percent 96 is above --critical-percent 95"),
    (["--critical-percent", "101"], "--critical-percent"),
])
def test_dashboard_usage_errors(argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_dashboard_config(argv, {})
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: performance_dashboard_http_polling.py") and complaint in err


def test_launcher_builds_both_configs_from_one_set_of_flags() -> None:
    config = parse_launcher_config(
        ["--host", "127.0.0.2", "--api-port", "0", "--dashboard-port", "0", "--interval", "0.5",
         "--poll-interval", "2", "--critical-percent", "90", "--open", "--data-dir", "none"],
        {"PERFMON_LOG_LEVEL": "debug"})
    security = Security(allowed_hosts=default_allowed_hosts("127.0.0.2"))
    assert config.api == ServerConfig(host="127.0.0.2", port=0, interval_seconds=0.5, log_level="debug",
                                      security=security)
    assert config.dashboard == DashboardConfig(host="127.0.0.2", port=0, api_url="",
                                               poll_interval_seconds=2.0, critical_percent=90.0,
                                               log_level="debug", security=security)
    assert config.open_browser is True
    assert parse_launcher_config([], {"PERFMON_DASHBOARD_PORT": "8060"}).dashboard.port == 8060


def test_max_waiters() -> None:
    assert parse_server_config([], {}).max_waiters == 10_000
    assert parse_server_config(["--max-waiters", "50"], {}).max_waiters == 50
    assert parse_launcher_config([], {"PERFMON_MAX_WAITERS": "7"}).api.max_waiters == 7
    with pytest.raises(SystemExit):
        parse_server_config(["--max-waiters", "0"], {})


def test_every_api_option_is_a_launcher_option_with_the_same_variable() -> None:
    def options(parser: argparse.ArgumentParser) -> dict[str, str]:
        return {o: a.dest for a in parser._actions for o in a.option_strings if o not in ("-h", "--help")}

    api, launcher = options(server_parser()), options(launcher_parser())
    assert set(api) - {"--port"} <= set(launcher)  # --port is the launcher's --api-port
    assert all(launcher[o] == dest for o, dest in api.items() if o != "--port")
    env = {"PERFMON_HISTORY_SIZE": "99", "PERFMON_PROCESS_INTERVAL": "9", "PERFMON_RETENTION_HOUR": "1y"}
    api_config = parse_launcher_config([], env).api
    assert (api_config.history_size, api_config.process_interval_seconds) == (99, 9.0)
    assert api_config.retention_hour_seconds == 365 * DAY


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("yes", True), ("0", False), ("off", False)])
def test_a_switch_from_the_environment(value: str, expected: bool) -> None:
    assert parse_launcher_config([], {"PERFMON_OPEN": value}).open_browser is expected


def test_a_bad_switch_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_launcher_config([], {"PERFMON_OPEN": "maybe"})
    assert exit_info.value.code == 2
    assert "PERFMON_OPEN='maybe'" in capsys.readouterr().err
