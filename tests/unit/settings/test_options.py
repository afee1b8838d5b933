"""Option types and the PERFMON_* environment (perfmon/settings/options.py): values, bounds, messages."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from perfmon.settings import options
from perfmon.settings.options import (
    AUTO,
    Parser,
    apply_env_defaults,
    boolean,
    bounded_float,
    bounded_int,
    byte_size,
    data_dir,
    duration,
    env_name,
    http_url,
    journal_dir,
    log_level,
    not_a_directory,
    refuse,
    shown,
)

DAY = 86400


def refusal(parse: Callable[[str], object], text: str) -> str:
    """The message an argparse type gives for ``text``."""
    with pytest.raises(argparse.ArgumentTypeError) as raised:
        parse(text)
    return str(raised.value)


def exit_of(run: Callable[[], object], capsys: pytest.CaptureFixture[str]) -> tuple[object, str]:
    """The exit status of ``run`` and what it wrote on stderr."""
    with pytest.raises(SystemExit) as raised:
        run()
    return raised.value.code, capsys.readouterr().err


def test_a_usage_error_is_one_line_pointing_to_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = Parser(prog="prog")
    assert exit_of(lambda: parser.error("bad"), capsys) == (2, "prog: error: bad (try 'prog --help')\n")
    assert exit_of(lambda: refuse(parser, "do this"), capsys) == (2, "prog: error: do this\n")
    assert exit_of(lambda: refuse(parser, "do that", 1), capsys) == (1, "prog: error: do that\n")


def test_numbers_are_shown_as_written() -> None:
    assert shown(4102444800) == "4102444800" and shown(4102444800.0) == "4102444800"
    assert shown(0.1) == "0.1" and shown(96.5) == "96.5" and shown(-5.0) == "-5" and shown(0) == "0"
    assert shown(1e16) == "1e+16" and shown(-1e17) == "-1e+17"
    assert shown(9999999999999998.0) == "9999999999999998"


def test_a_bounded_float_takes_its_bounds_and_refuses_beyond() -> None:
    parse = bounded_float(0.1, 3600)
    assert parse("0.1") == 0.1 and parse("3600") == 3600.0 and parse(" 2.5 ") == 2.5
    assert isinstance(parse("1"), float)
    assert refusal(parse, "0.09") == "0.09 is outside 0.1..3600"
    assert refusal(parse, "3600.5") == "3600.5 is outside 0.1..3600"
    assert refusal(parse, "nan") == "nan is outside 0.1..3600"
    assert refusal(parse, "soon") == "'soon' is not a number"


def test_a_bounded_int_takes_its_bounds_and_refuses_beyond() -> None:
    parse = bounded_int(10, 86400)
    assert parse("10") == 10 and parse("86400") == 86400
    assert refusal(parse, "9") == "9 is outside 10..86400"
    assert refusal(parse, "86401") == "86401 is outside 10..86400"
    assert refusal(parse, "2.5") == "'2.5' is not a whole number"


def test_an_http_url_has_a_host_and_loses_its_trailing_slash() -> None:
    assert http_url(" http://127.0.0.1:8000/ ") == "http://127.0.0.1:8000"
    assert http_url("https://example.org/api//") == "https://example.org/api"
    assert http_url("http://h") == "http://h" and http_url("http://h/XX") == "http://h/XX"
    assert refusal(http_url, "ftp://h") == "'ftp://h' is not an http:// or https:// URL with a host"
    assert refusal(http_url, "http://") == "'http://' is not an http:// or https:// URL with a host"
    assert refusal(http_url, "http://h:99999") == "'http://h:99999': Port out of range 0-65535"


def test_a_duration_has_a_unit_and_bounds() -> None:
    parse = duration(3600, 20 * 365 * DAY)
    assert [parse(t) for t in ("3600s", "60m", "1h", "2d", "1w", "1y")] == [
        3600.0, 3600.0, 3600.0, 2 * DAY, 7 * DAY, 365 * DAY]
    assert parse(" 1.5 H ") == 5400.0 and parse("20y") == 20 * 365 * DAY
    assert refusal(parse, "14") == "'14' is not a duration such as 14d, 36h, 90m or 30s"
    assert refusal(parse, "2 fortnights") == "'2 fortnights' is not a duration such as 14d, 36h, 90m or 30s"
    assert refusal(parse, "-1d") == "'-1d' is not a duration such as 14d, 36h, 90m or 30s"
    assert refusal(parse, "30m") == "30m is outside 3600 s..7300 days"
    assert refusal(parse, "21y") == "21y is outside 3600 s..7300 days"


def test_a_size_has_a_unit_binary_or_decimal_and_bounds() -> None:
    parse = byte_size(2**20, 2**50)
    sizes = {"1048576": 2**20, "1048576b": 2**20, "1024k": 2**20, "1024KiB": 2**20, "2000kb": 2 * 10**6,
             "1m": 2**20, "1MiB": 2**20, "2MB": 2 * 10**6, "1g": 2**30, "1GiB": 2**30, "1gb": 10**9,
             "1t": 2**40, "1TiB": 2**40, "1TB": 10**12, " 1.5 m ": 3 * 2**19, "1024T": 2**50}
    assert {text: parse(text) for text in sizes} == sizes
    assert refusal(parse, "1 furlong") == "'1 furlong' is not a size such as 1GiB, 512MiB or 500MB"
    assert refusal(parse, "-1G") == "'-1G' is not a size such as 1GiB, 512MiB or 500MB"
    assert refusal(parse, "1023k") == "1023k is outside 1 MiB..1024 TiB"
    assert refusal(parse, "1025T") == "1025T is outside 1 MiB..1024 TiB"


def test_a_data_dir_is_a_path_or_none() -> None:
    assert data_dir(" None ") is None and data_dir("none") is None
    assert data_dir(" /var/lib/perfmon ") == Path("/var/lib/perfmon")
    assert data_dir("~/x") == Path("~/x").expanduser()
    assert refusal(data_dir, " ") == "give a directory, or 'none' to keep everything in memory only"


def test_a_journal_dir_is_a_path_auto_or_none() -> None:
    assert journal_dir(" NONE ") is None and journal_dir("Auto") == AUTO == "auto"
    assert journal_dir(" /dev/shm/p ") == Path("/dev/shm/p")
    assert journal_dir("~/j") == Path("~/j").expanduser()
    assert refusal(journal_dir, "") == "give a directory in memory, 'auto' or 'none'"


def test_not_a_directory_finds_the_nearest_part_that_exists(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "file"
    file.write_text("")
    assert not_a_directory(tmp_path) is None and not_a_directory(tmp_path / "new" / "deeper") is None
    assert not_a_directory(file) == file and not_a_directory(file / "a" / "b") == file

    def unreadable(self: Path) -> bool:
        raise PermissionError("no")

    monkeypatch.setattr(Path, "exists", unreadable)
    assert not_a_directory(file / "a") is None


def test_a_switch_from_the_environment_is_one_of_eight_words() -> None:
    assert [boolean(t) for t in ("1", "true", "yes", "on", " ON ", "True")] == [True] * 6
    assert [boolean(t) for t in ("0", "false", "no", "off", "", " Off ")] == [False] * 6
    assert refusal(boolean, "maybe") == "'maybe' is not one of 1, true, yes, on, 0, false, no, off"


def test_a_log_level_is_one_of_four() -> None:
    assert log_level(" DEBUG ") == "debug" and log_level("error") == "error"
    assert refusal(log_level, "loud") == "'loud' is not one of debug, info, warning, error"
    assert env_name("max_db_size") == "PERFMON_MAX_DB_SIZE"


def test_environment_defaults_go_through_each_option_s_type(capsys: pytest.CaptureFixture[str]) -> None:
    parser = Parser(prog="prog")
    parser.add_argument("--open", action="store_true")
    parser.add_argument("--size", type=int, default=1)
    parser.add_argument("--name", default="a")
    parser.add_argument("--colour", nargs="?", const=True, default=False)  # a value, not a switch
    parser.add_argument("where", nargs="?", default="here")
    apply_env_defaults(parser, {"PERFMON_OPEN": "yes", "PERFMON_SIZE": "7", "PERFMON_NAME": "b",
                                "PERFMON_COLOUR": "auto", "PERFMON_WHERE": "there", "PERFMON_HELP": "1"})
    assert vars(parser.parse_args([])) == {"open": True, "size": 7, "name": "b", "colour": "auto",
                                           "where": "here"}
    assert vars(parser.parse_args(["--size", "8"]))["size"] == 8
    status, err = exit_of(lambda: apply_env_defaults(parser, {"PERFMON_SIZE": "many"}), capsys)
    assert (status, err) == (2, "prog: error: environment variable PERFMON_SIZE='many': invalid literal for "
                                "int() with base 10: 'many' (try 'prog --help')\n")
    status, err = exit_of(lambda: apply_env_defaults(parser, {"PERFMON_OPEN": "perhaps"}), capsys)
    assert status == 2 and "PERFMON_OPEN='perhaps': 'perhaps' is not one of 1, true" in err


def parsed(add: Callable[[argparse.ArgumentParser], None], *argv: str) -> dict[str, Any]:
    """The options ``add`` puts on a parser, parsed from ``argv``."""
    parser = Parser(prog="prog")
    add(parser)
    return vars(parser.parse_args(list(argv)))


def test_the_options_defaults() -> None:
    assert parsed(options.add_logging_option) == {"log_level": "info"}
    sampling = parsed(options.add_sampling_options)
    assert {k: sampling[k] for k in ("interval", "process_interval", "history_size", "max_waiters")} == {
        "interval": 1.0, "process_interval": 5.0, "history_size": 3600, "max_waiters": 10_000}
    assert {k: sampling[k] for k in ("retention_raw", "retention_minute", "retention_hour", "max_db_size",
                                     "commit_interval", "journal_dir", "data_dir")} == {
        "retention_raw": 14 * DAY, "retention_minute": 90 * DAY, "retention_hour": 2 * 365 * DAY,
        "max_db_size": 2**30, "commit_interval": None, "journal_dir": AUTO,
        "data_dir": options.default_data_dir()}
    assert parsed(options.add_poll_option) == {"poll_interval": 5.0}
    assert parsed(options.add_threshold_options) == {"warning_percent": 80.0, "critical_percent": 95.0}
    assert parsed(options.add_connection_options) == {"header_timeout": 10.0, "keepalive_timeout": 20.0}


SAMPLING, POLL = options.add_sampling_options, options.add_poll_option
THRESHOLDS, CONNECTIONS = options.add_threshold_options, options.add_connection_options


@pytest.mark.parametrize(("add", "flag", "within", "beyond"), [
    (SAMPLING, "--interval", ("0.1", "3600"), ("0.09", "3601")),
    (SAMPLING, "--process-interval", ("0.1", "3600"), ("0.09", "3601")),
    (SAMPLING, "--history-size", ("10", "86400"), ("9", "86401")),
    (SAMPLING, "--max-waiters", ("1", "1000000"), ("0", "1000001")),
    (SAMPLING, "--commit-interval", ("0.1", "300"), ("0.09", "301")),
    (SAMPLING, "--retention-raw", ("1h", "20y"), ("59m", "21y")),
    (SAMPLING, "--retention-minute", ("1h", "20y"), ("59m", "21y")),
    (SAMPLING, "--retention-hour", ("1h", "20y"), ("59m", "21y")),
    (SAMPLING, "--max-db-size", ("1MiB", "1024TiB"), ("1023KiB", "1025TiB")),
    (POLL, "--poll-interval", ("0.25", "3600"), ("0.24", "3601")),
    (THRESHOLDS, "--warning-percent", ("0", "100"), ("-1", "101")),
    (THRESHOLDS, "--critical-percent", ("0", "100"), ("-1", "101")),
    (CONNECTIONS, "--header-timeout", ("0.5", "300"), ("0.4", "301")),
    (CONNECTIONS, "--keepalive-timeout", ("0.5", "3600"), ("0.4", "3601")),
])
def test_each_option_takes_its_bounds_and_refuses_beyond(
        add: Callable[[argparse.ArgumentParser], None], flag: str, within: tuple[str, str],
        beyond: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    dest = flag[2:].replace("-", "_")
    values = [parsed(add, f"{flag}={text}")[dest] for text in within]
    assert values[0] < values[1]
    for text in beyond:
        status, err = exit_of(lambda text=text: parsed(add, f"{flag}={text}"), capsys)  # type: ignore[misc]
        assert status == 2 and err.startswith(f"prog: error: argument {flag}: {text} is outside "), err


def test_the_help_of_every_option_names_its_range_and_default() -> None:
    parser = Parser(prog="prog")
    for add in (options.add_logging_option, options.add_sampling_options, options.add_poll_option,
                options.add_threshold_options, options.add_connection_options):
        add(parser)
    helps = {a.dest: parser._get_formatter()._expand_help(a) for a in parser._actions if a.dest != "help"}
    metavars = {a.dest: a.metavar for a in parser._actions if a.dest not in ("help", "collectors")}
    assert helps["log_level"] == "one of debug, info, warning, error (default: info)"
    assert helps["collector_intervals"] == (
        "seconds between runs of some collectors, as disks=1,sensors=30, each 0.1-3600 (default: "
        "cpu_frequency, disks, sensors, fans and battery every 5 s, the others every sample; the "
        "process table has --process-interval)")
    assert helps["interval"] == "seconds between samples, 0.1-3600 (default: 1.0)"
    assert helps["process_interval"] == ("seconds between process-table scans (the processes collector's "
                                         "cadence), 0.1-3600 (default: 5.0)")
    assert helps["history_size"] == "samples kept in memory for /api/history, 10-86400 (default: 3600)"
    assert helps["max_waiters"] == ("long-polling requests (?wait=) held at once; more get 503 with "
                                    "Retry-After, 1-1000000 (default: 10000)")
    assert helps["retention_raw"] == "how long every sample is kept, 1h-20y, e.g. 14d or 36h (default: 14d)"
    assert helps["retention_minute"] == ("how long per-minute points are kept, 1h-20y, e.g. 14d or 36h "
                                         "(default: 90d)")
    assert helps["retention_hour"] == ("how long per-hour points are kept, 1h-20y, e.g. 14d or 36h "
                                       "(default: 2y)")
    assert helps["max_db_size"] == "cap on the database file; the oldest samples go first (default: 1GiB)"
    assert helps["commit_interval"] == (
        "seconds a sample may wait before it is written to the database, 0.1-300; fewer, larger writes "
        "spare the disk; without a journal a kill -9 loses at most this much (default: 300 with a "
        "journal, else 5)")
    assert helps["journal_dir"] == (
        "directory in memory (tmpfs) where samples wait for their commit, so a kill -9 loses none of "
        "them and the disk sees a commit every few minutes; 'none' for no journal (default: auto: "
        "$XDG_RUNTIME_DIR or /dev/shm, if in memory)")
    assert helps["data_dir"] == (
        "directory of perfmon's state (the API's history database, the dashboard's sessions), or 'none' "
        f"to keep it in memory only (default: {options.default_data_dir()})")
    assert helps["poll_interval"] == (
        "seconds between the dashboard's polls, 0.25-3600, rounded to whole sampling intervals and timed "
        "to come just after a sample (default: 5.0)")
    unless = "unless a rule watches it"
    assert helps["warning_percent"] == f"cards turn amber at this usage {unless} (default: 80.0)"
    assert helps["critical_percent"] == f"cards turn red at this usage {unless} (default: 95.0)"
    assert helps["header_timeout"] == (
        "close a connection that has not sent a whole request head this long after it opened or began a "
        "request (slowloris), 0.5-300 (default: 10)")
    assert helps["keepalive_timeout"] == (
        "close a kept-alive connection idle this long after its last answer (a long-poll in progress is "
        "not idle), 0.5-3600 (default: 20)")
    assert metavars == {
        "log_level": "LEVEL", "interval": "SECONDS", "process_interval": "SECONDS", "history_size": "SAMPLES",
        "max_waiters": "N", "data_dir": "DIR", "retention_raw": "DURATION", "retention_minute": "DURATION",
        "retention_hour": "DURATION", "max_db_size": "SIZE", "commit_interval": "SECONDS",
        "journal_dir": "DIR", "poll_interval": "SECONDS", "warning_percent": "PERCENT",
        "critical_percent": "PERCENT", "header_timeout": "SECONDS", "keepalive_timeout": "SECONDS",
        "collector_intervals": "LIST", "alerts_file": "FILE"}
    assert helps["alerts_file"] == ("the alerts rules file (YAML; see 'perfmon alerts check'); without it "
                                    "the built-in rules hold")


def test_logging_goes_to_stderr_at_the_level_with_timestamps(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: calls.append(kwargs))
    options.configure_logging("warning")
    assert calls == [{"level": logging.WARNING,
                      "format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"}]
