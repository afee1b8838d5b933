"""--collectors / PERFMON_COLLECTORS: changes or a plain list, alike for the API server and the launcher."""

from __future__ import annotations

import argparse

import pytest

from perfmon.sampling import registry
from perfmon.settings import parse_launcher_config, parse_server_config
from perfmon.settings.collectors import HELP, add_collectors_option, collector_spec, unknown_collector

NAMES = registry.names()


def test_the_default_is_the_registrys_defaults() -> None:
    assert parse_server_config([], {}, collectors=NAMES).collectors == ()


@pytest.mark.parametrize(("text", "items"), [
    ("-sensors,+pressure", ("-sensors", "+pressure")),
    (" cpu , Memory ", ("cpu", "memory")),
    ("", ()),
])
def test_the_two_forms(text: str, items: tuple[str, ...]) -> None:
    assert collector_spec(text) == items


def test_flag_and_variable_for_both_entry_points() -> None:
    env = {"PERFMON_COLLECTORS": "-sensors"}
    assert parse_server_config([], env, collectors=NAMES).collectors == ("-sensors",)
    assert parse_launcher_config([], env, collectors=NAMES).api.collectors == ("-sensors",)
    assert parse_launcher_config(["--collectors", "cpu,memory"], env, collectors=NAMES).api.collectors == (
        "cpu", "memory")


@pytest.mark.parametrize(("flag", "value", "complaint"), [
    ("--collectors", "+gpu",
     "unknown collector 'gpu' in --collectors (PERFMON_COLLECTORS); the collectors are: host, cpu"),
    ("--collectors", "cpu,-sensors", "mixes a plain list with +/- changes"),
    ("--collectors", "cpu,cpu", "names cpu twice"),
    ("--collectors", "c p u", "is not a collector name"),
    ("--collector-intervals", "gpu=1", "unknown collector 'gpu' in --collector-intervals "
     "(PERFMON_COLLECTOR_INTERVALS); the collectors are: host, cpu, load_average"),
    ("--collector-intervals", "processes=10", "argument --collector-intervals: the process table's "
     "interval is --process-interval (PERFMON_PROCESS_INTERVAL) (try"),
    ("--collector-intervals", "disks=1=2",
     "argument --collector-intervals: 'disks=1=2': '1=2' is not a number of seconds (try"),
    ("--collector-intervals", "disks", "'disks' is not NAME=SECONDS"),
    ("--collector-intervals", "+disks=1", "'+disks=1' is not NAME=SECONDS"),
    ("--collector-intervals", "disks=soon", "'soon' is not a number of seconds"),
    ("--collector-intervals", "disks=0.05", "the interval must be 0.1-3600 seconds"),
    ("--collector-intervals", "disks=3601", "the interval must be 0.1-3600 seconds"),
    ("--collector-intervals", "disks=1,disks=2", "names disks twice"),
])
def test_bad_values_are_one_line_usage_errors(flag: str, value: str, complaint: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    for parse in (parse_server_config, parse_launcher_config):
        with pytest.raises(SystemExit) as stopped:
            parse([flag, value], {}, collectors=NAMES)
        assert stopped.value.code == 2
        err = capsys.readouterr().err
        assert complaint in err and err.count("\n") == 1, err


def test_an_unknown_name_from_the_environment_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_server_config([], {"PERFMON_COLLECTORS": "-nope"}, collectors=NAMES)
    assert stopped.value.code == 2 and "unknown collector 'nope'" in capsys.readouterr().err


def test_intervals_for_both_entry_points_from_the_flag_or_the_variable() -> None:
    env = {"PERFMON_COLLECTOR_INTERVALS": "disks=1, Sensors=30"}
    assert parse_server_config([], {}, collectors=NAMES).collector_intervals == ()
    assert parse_server_config([], env, collectors=NAMES).collector_intervals == (("disks", 1.0),
                                                                                   ("sensors", 30.0))
    assert parse_launcher_config([], env, collectors=NAMES).api.collector_intervals == (
        ("disks", 1.0), ("sensors", 30.0))
    assert parse_launcher_config(["--collector-intervals", "cpu=0.5"], env,
                                 collectors=NAMES).api.collector_intervals == (("cpu", 0.5),)
    given = ["--collector-intervals", "disks=0.1,,sensors=3600,"]  # the bounds; empty items are nothing
    assert parse_server_config(given, {}, collectors=NAMES).collector_intervals == (("disks", 0.1),
                                                                                     ("sensors", 3600.0))


def test_the_sampler_runs_a_collector_on_the_interval_given() -> None:
    from perfmon.sampling.hub import Hub
    from perfmon.sampling.sampler import Sampler
    from tests.support.fakes import FakePsutil

    sampler = Sampler(Hub(1.0), ps=FakePsutil(), enabled={"disks", "sensors", "cpu"},
                      cadences={"disks": 1.0})
    status = sampler.status()
    cadences = {name: state["cadence_seconds"] for name, state in status.items() if state["enabled"]}
    assert cadences == {"cpu": 1.0, "disks": 1.0, "sensors": registry.SLOW_SECONDS}


def test_a_name_signed_twice_or_a_mixed_list_is_refused_with_its_reason() -> None:
    with pytest.raises(argparse.ArgumentTypeError) as raised:
        collector_spec("+cpu,-cpu")
    assert str(raised.value) == "'+cpu,-cpu' names cpu twice"
    with pytest.raises(argparse.ArgumentTypeError) as raised:
        collector_spec("cpu,-sensors")
    assert str(raised.value) == ("'cpu,-sensors' mixes a plain list with +/- changes: give either "
                                 "cpu,memory (only those) or -sensors,+pressure (changes)")
    assert unknown_collector(["+cpu", "-nope"], ["cpu", "memory"]) == (
        "unknown collector 'nope' in --collectors (PERFMON_COLLECTORS); the collectors are: cpu, memory")
    assert unknown_collector(["-cpu", "memory"], ["cpu", "memory"]) is None


def test_the_option_is_a_list_in_its_help() -> None:
    parser = argparse.ArgumentParser()
    add_collectors_option(parser)
    action = next(a for a in parser._actions if a.dest == "collectors")
    assert (action.metavar, action.default, action.help) == ("LIST", (), HELP)
    assert "--collectors LIST" in parser.format_usage()
