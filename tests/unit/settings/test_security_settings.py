"""Security settings: the token from a file or the environment, no open listening without it, Host names.

The API server refusing (or warning) as a real process is in tests/system/test_security_settings.py.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from perfmon.settings import parse_dashboard_config, parse_launcher_config, parse_server_config
from perfmon.settings.security import Security, default_allowed_hosts, host_name, is_loopback

TOKEN = "s3cret-0123456789abcdef"


def usage_error(capsys: pytest.CaptureFixture[str], argv: list[str], env: dict[str, str]) -> str:
    """Parse as the API server does; the one error line (the exit code must be 2)."""
    with pytest.raises(SystemExit) as exit_info:
        parse_server_config(argv, env)
    assert exit_info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_the_token_comes_from_the_environment_or_a_file_never_a_flag(tmp_path: Path) -> None:
    assert parse_server_config([], {}).security.token is None
    assert parse_server_config([], {"PERFMON_TOKEN": f" {TOKEN}\n"}).security.token == TOKEN
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)  # a token file others may read is refused (tests/test_token.py)
    assert parse_server_config(["--token-file", str(path)], {}).security.token == TOKEN
    assert parse_launcher_config([], {"PERFMON_TOKEN_FILE": str(path)}).dashboard.security.token == TOKEN
    assert TOKEN not in repr(parse_server_config([], {"PERFMON_TOKEN": TOKEN}))  # never in a log line
    with pytest.raises(SystemExit):
        parse_server_config(["--token", TOKEN], {})


@pytest.mark.parametrize(("argv", "env", "complaint"), [
    (["--host", "0.0.0.0"], {}, "listening on 0.0.0.0 without a token would open every endpoint"),
    (["--host", "192.0.2.1"], {}, "--token-file PATH (or set PERFMON_TOKEN); --insecure-no-auth"),
    ([], {"PERFMON_TOKEN": "short"}, "the token must be at least 22 characters"),
    ([], {"PERFMON_TOKEN": "has a space in it ok"}, "without spaces"),
    (["--token-file", "/nonexistent/token"], {}, "cannot read the token file /nonexistent/token"),
    (["--token-file", "/etc/hostname"], {"PERFMON_TOKEN": TOKEN}, "both --token-file and PERFMON_TOKEN"),
    (["--tls-cert", "/etc/hostname"], {}, "--tls-cert and --tls-key go together"),
    (["--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"], {}, "no such file"),
    (["--cors-origin", "*"], {}, "is not an origin"),
    (["--cors-origin", "https://a.example/path"], {}, "is not an origin"),
])
def test_usage_errors_say_what_to_do(capsys: pytest.CaptureFixture[str], argv: list[str],
                                     env: dict[str, str], complaint: str) -> None:
    assert complaint in usage_error(capsys, argv, env)


def test_a_ca_file_without_certificates_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_dashboard_config(["--api-ca-file", "/etc/hostname"], {})
    assert exit_info.value.code == 2
    assert "--api-ca-file /etc/hostname: no usable CA certificates" in capsys.readouterr().err


def test_listening_openly_takes_a_token_or_insecure_no_auth() -> None:
    assert parse_server_config(["--host", "0.0.0.0"], {"PERFMON_TOKEN": TOKEN}).security.token == TOKEN
    insecure = parse_server_config(["--host", "0.0.0.0", "--insecure-no-auth"], {}).security
    assert insecure.token is None and insecure.insecure_no_auth
    dashboard = parse_dashboard_config(["--host", "::"], {"PERFMON_INSECURE_NO_AUTH": "1"})
    assert dashboard.security.insecure_no_auth
    with pytest.raises(SystemExit):
        parse_launcher_config(["--host", "0.0.0.0"], {})


def test_allowed_hosts_and_cors_origins() -> None:
    named = parse_server_config(["--allowed-hosts", "Monitor.Example., 10.0.0.5"], {}).security
    # The server's own names stay allowed besides those named.
    assert named.allowed_hosts == ("localhost", "127.0.0.1", "::1", "monitor.example", "10.0.0.5")
    cors = parse_server_config(["--cors-origin", "https://A.example:8443", "--cors-origin", "http://b.example"],
                               {"PERFMON_CORS_ORIGIN": "https://c.example"}).security
    assert cors.cors_origins == ("https://a.example:8443", "http://b.example")  # the flags win
    assert parse_server_config([], {"PERFMON_CORS_ORIGIN": "https://c.example,https://d.example"}
                               ).security.cors_origins == ("https://c.example", "https://d.example")


def test_the_default_host_names_are_loopback_the_address_and_this_machine() -> None:
    names = default_allowed_hosts("127.0.0.1")
    assert {"localhost", "127.0.0.1", "::1", socket.gethostname().lower()} <= set(names)
    assert "10.1.2.3" in default_allowed_hosts("10.1.2.3")
    wildcard = default_allowed_hosts("0.0.0.0")
    assert "127.0.0.1" in wildcard and "0.0.0.0" not in wildcard


@pytest.mark.parametrize(("header", "allowed"), [
    ("localhost", True), ("localhost:8050", True), ("LOCALHOST.:8050", True), ("127.0.0.1:8000", True),
    ("[::1]:8000", True), ("evil.example", False), ("evil.example:8000", False), ("127.0.0.1.evil", False),
    ("", False), (None, False),
])
def test_host_headers_match_by_name_without_port(header: str | None, allowed: bool) -> None:
    assert Security().host_allowed(header) is allowed
    assert Security(allowed_hosts=("*",)).host_allowed(header) is True


def test_helpers() -> None:
    assert host_name("[::1]:8000") == "::1" and host_name("::1") == "::1" and host_name("A.B:1") == "a.b"
    assert is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")




