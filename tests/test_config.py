"""Configuration: flags, PERFMON_* variables, bounds, and usage errors (exit 2)."""

from __future__ import annotations

import pytest

from perfmon.config import ServerConfig, parse_server_config


def test_defaults_are_loopback_and_documented_values() -> None:
    assert parse_server_config([], {}) == ServerConfig(
        host="127.0.0.1", port=8000, interval_seconds=1.0, process_interval_seconds=5.0,
        history_size=3600, log_level="info",
    )


def test_flags() -> None:
    config = parse_server_config(
        ["--host", "0.0.0.0", "--port", "9001", "--interval", "0.5", "--process-interval", "10",
         "--history-size", "100", "--log-level", "DEBUG"], {})
    assert config == ServerConfig("0.0.0.0", 9001, 0.5, 10.0, 100, "debug")


def test_environment_is_used_and_flags_win() -> None:
    env = {"PERFMON_PORT": "9100", "PERFMON_INTERVAL": "2", "PERFMON_PROCESS_INTERVAL": "7",
           "PERFMON_HISTORY_SIZE": "50", "PERFMON_LOG_LEVEL": "warning", "PERFMON_HOST": "::1"}
    config = parse_server_config([], env)
    assert config == ServerConfig("::1", 9100, 2.0, 7.0, 50, "warning")
    assert parse_server_config(["--port", "9200"], env).port == 9200


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
