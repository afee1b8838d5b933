"""Configuration: flags, PERFMON_* variables, bounds, and usage errors (exit 2)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
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
from perfmon.settings.environment import Environment, option_variables, unread_variables
from perfmon.settings.options import apply_env_defaults, byte_size, default_data_dir, shown
from perfmon.settings.security import Security, default_allowed_hosts

DAY = 86400
TOKEN = "0123456789abcdef012345"  # 22 characters: the shortest token taken


def test_defaults_are_loopback_and_documented_values() -> None:
    assert parse_server_config([], {}) == ServerConfig(
        host="127.0.0.1", port=8000, interval_seconds=1.0, process_interval_seconds=5.0,
        history_size=3600, log_level="info", data_dir=default_data_dir(),
        retention_raw_seconds=14 * DAY, retention_minute_seconds=90 * DAY,
        retention_hour_seconds=730 * DAY, max_db_bytes=2**30, journal_dir="auto",
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


def test_commit_interval_is_the_stores_choice_by_default_and_comes_from_flag_or_environment() -> None:
    assert parse_server_config([], {}).commit_interval_seconds is None  # 300 s with a journal, else 5 s
    assert parse_server_config(["--commit-interval", "0.5"], {}).commit_interval_seconds == 0.5
    env = {"PERFMON_COMMIT_INTERVAL": "30"}
    assert parse_server_config([], env).commit_interval_seconds == 30.0
    assert parse_launcher_config([], env).api.commit_interval_seconds == 30.0


def test_the_journal_directory_is_auto_by_default_none_or_a_directory_from_flag_or_environment(
        tmp_path: Path) -> None:
    assert parse_server_config([], {}).journal_dir == "auto"
    assert parse_server_config(["--journal-dir", "none"], {}).journal_dir is None
    assert parse_server_config(["--journal-dir", str(tmp_path)], {}).journal_dir == tmp_path
    env = {"PERFMON_JOURNAL_DIR": "None"}
    assert parse_server_config([], env).journal_dir is None
    assert parse_launcher_config([], env).api.journal_dir is None
    assert parse_launcher_config(["--journal-dir", str(tmp_path)], {}).api.journal_dir == tmp_path


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_journal_directory_is_a_one_line_usage_error(
        value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_server_config(["--journal-dir", value], {})
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--journal-dir" in err[0], err


@pytest.mark.parametrize("argv", [
    ["--commit-interval", "0"], ["--commit-interval", "301"], ["--commit-interval", "soon"],
    ["--commit-interval", "nan"],
    ["--commit-interval", "60", "--history-size", "50", "--interval", "1"],  # longer than the ring holds
])
def test_bad_commit_intervals_are_one_line_usage_errors(argv: list[str],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_server_config(argv, {})
    assert exit_info.value.code == 2
    assert_one_error_line(capsys.readouterr().err, "performance_api_server.py", "--commit-interval")


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
    assert_one_error_line(capsys.readouterr().err, "performance_api_server.py", argv[0])


def assert_one_error_line(err: str, prog: str, complaint: str) -> None:
    """A usage error is its one line naming the problem and where help is, never the whole usage."""
    assert err.count("\n") == 1 and "usage:" not in err, err
    assert err.startswith(f"{prog}: error: ") and complaint in err
    assert err.endswith(f" (try '{prog} --help')\n")


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
    assert_one_error_line(capsys.readouterr().err, "performance_dashboard_http_polling.py", complaint)


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


# --- what the command line says ---------------------------------------------------------------

def usage_error(capsys: pytest.CaptureFixture[str], parse: Callable[..., object], argv: list[str],
                env: dict[str, str] | None = None) -> str:
    """The one line a usage error prints (it must exit 2)."""
    with pytest.raises(SystemExit) as exit_info:
        parse(argv, env or {})
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def warnings_of(capsys: pytest.CaptureFixture[str], parse: Callable[..., object], env: dict[str, str],
                **options: str) -> list[str]:
    """The warning lines parsing prints (it must succeed)."""
    parse([], env, **options)
    return capsys.readouterr().err.splitlines()


def test_a_misspelt_variable_gets_one_warning_naming_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    assert warnings_of(capsys, parse_server_config, {"PERFMON_INTERVALL": "2"}) == [
        "performance_api_server.py: warning: PERFMON_INTERVALL is not a perfmon variable; "
        "did you mean PERFMON_INTERVAL?"]
    assert warnings_of(capsys, parse_launcher_config, {"PERFMON_DASHBOARD_PROT": "1"}) == [
        "run_http_polling_system.py: warning: PERFMON_DASHBOARD_PROT is not a perfmon variable; "
        "did you mean PERFMON_DASHBOARD_PORT?"]


def test_a_variable_of_another_entry_point_says_it_is_not_read(capsys: pytest.CaptureFixture[str]) -> None:
    assert warnings_of(capsys, parse_launcher_config, {"PERFMON_PORT": "9000"}, prog="perfmon run") == [
        "perfmon run: warning: PERFMON_PORT is not read by perfmon run; did you mean PERFMON_API_PORT?"]
    [warning] = warnings_of(capsys, parse_dashboard_config, {"PERFMON_RETENTION_RAW": "2d"})
    assert warning.startswith("performance_dashboard_http_polling.py: warning: PERFMON_RETENTION_RAW is not "
                              "read by performance_dashboard_http_polling.py; ")


def test_a_variable_like_no_other_points_to_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert warnings_of(capsys, parse_server_config, {"PERFMON_XYZZY": "1"}) == [
        "performance_api_server.py: warning: PERFMON_XYZZY is not a perfmon variable; "
        "'performance_api_server.py --help' lists the options"]


@pytest.mark.parametrize("make", [server_parser, dashboard_parser, launcher_parser])
def test_every_option_variable_is_read(make: Callable[[], argparse.ArgumentParser]) -> None:
    parser, environ = make(), Environment({})
    apply_env_defaults(parser, environ)
    assert option_variables(parser) <= environ.looked_up
    assert {"PERFMON_LOG_LEVEL", "PERFMON_TOKEN_FILE", "PERFMON_ALLOWED_HOSTS"} <= environ.looked_up


@pytest.mark.parametrize("parse", [parse_server_config, parse_dashboard_config, parse_launcher_config])
def test_variables_an_entry_point_reads_are_silent(parse: Callable[..., object], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    token.chmod(0o600)
    env = {"PERFMON_LOG_LEVEL": "info", "PERFMON_HOST": "127.0.0.1", "PERFMON_TOKEN": TOKEN, "HOME": "/x"}
    assert warnings_of(capsys, parse, env) == []
    assert warnings_of(capsys, parse, {"PERFMON_TOKEN_FILE": str(token)}) == []


def test_which_variables_were_read_is_recorded_not_listed() -> None:
    environ = Environment({"PERFMON_NEW_OPTION": "1", "PERFMON_NEW_OPTIONS": "2", "PERFMON_ELSEWHERE": "3",
                           "HOME": "/root"})
    assert environ.get("PERFMON_NEW_OPTION") == "1"  # as a new option's variable would be read
    assert unread_variables(environ, {"PERFMON_ELSEWHERE"}, "prog") == [
        "PERFMON_ELSEWHERE is not read by prog; 'prog --help' lists the options",
        "PERFMON_NEW_OPTIONS is not a perfmon variable; did you mean PERFMON_NEW_OPTION?"]


def test_the_same_port_for_both_servers_is_said_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    expected = ("run_http_polling_system.py: error: the API and the dashboard would both listen on port "
                "38000: give --api-port and --dashboard-port different ports (or 0 for any free one)")
    assert usage_error(capsys, parse_launcher_config, ["--api-port", "38000", "--dashboard-port", "38000"]
                       ).startswith(expected)
    assert "port 8050" in usage_error(capsys, parse_launcher_config, [], {"PERFMON_API_PORT": "8050"})
    assert parse_launcher_config(["--api-port", "0", "--dashboard-port", "0"], {}).api.port == 0


def test_numbers_in_messages_are_as_typed(capsys: pytest.CaptureFixture[str]) -> None:
    err = usage_error(capsys, parse_dashboard_config,
                      ["--warning-percent", "80.123456789", "--critical-percent", "80.1"])
    assert "--warning-percent 80.123456789 is above --critical-percent 80.1 " in err
    assert "4102444800" in shown(4_102_444_800.0) and shown(0.1) == "0.1" and shown(96.0) == "96"


def unusable_data_dir(capsys: pytest.CaptureFixture[str], parse: Callable[..., object], argv: list[str],
                      env: dict[str, str] | None = None) -> str:
    """The one line an unusable data directory prints: a runtime failure (exit 1), said before any start."""
    with pytest.raises(SystemExit) as exit_info:
        parse(argv, env or {})
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--help" not in err, err
    return err


@pytest.mark.parametrize("below", ["", "sub/dir"])
def test_a_data_dir_that_is_a_file_is_said_as_such(tmp_path: Path, below: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    data_dir = blocker / below if below else blocker
    said = f"cannot keep perfmon's state in --data-dir {data_dir}: {blocker} is a file, not a directory; "
    for parse in (parse_server_config, parse_dashboard_config):
        assert said in unusable_data_dir(capsys, parse, ["--data-dir", str(data_dir)])
    assert said in unusable_data_dir(capsys, parse_launcher_config, [], {"PERFMON_DATA_DIR": str(data_dir)})
    fresh = tmp_path / "new" / "dir"
    assert parse_server_config(["--data-dir", str(fresh)], {}).data_dir == fresh


def test_a_default_data_dir_under_a_file_is_said_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "share"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))  # where platformdirs puts user data on Linux
    err = unusable_data_dir(capsys, parse_server_config, [])
    assert f"--data-dir {blocker / 'perfmon'}: {blocker} is a file, not a directory" in err


def test_the_help_says_how_long_each_tier_is_kept() -> None:
    text = " ".join(server_parser().format_help().split())
    assert "how long every sample is kept" in text and "how long per-minute points are kept" in text


def test_allowed_hosts_add_to_the_servers_own_names() -> None:
    security = parse_server_config(["--host", "0.0.0.0", "--allowed-hosts", "monitor.example,192.0.2.10"],
                                   {"PERFMON_TOKEN": TOKEN}).security
    assert security.allowed_hosts == ("localhost", "127.0.0.1", "::1", "monitor.example", "192.0.2.10")
    for own in ("127.0.0.1:8000", "localhost:8050", "[::1]:8000", "monitor.example:8050", "192.0.2.10"):
        assert security.host_allowed(own), own
    for rebound in ("evil.example", "monitor.example.evil.example", "0.0.0.0", "192.0.2.11"):
        assert not security.host_allowed(rebound), rebound  # a rebinding page sends its own name
    bound = parse_server_config(["--host", "10.0.0.5", "--allowed-hosts", "m.example"],
                                {"PERFMON_TOKEN": TOKEN})
    assert bound.security.allowed_hosts == ("localhost", "127.0.0.1", "::1", "10.0.0.5", "m.example")
