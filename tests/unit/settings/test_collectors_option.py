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


@pytest.mark.parametrize(("value", "complaint"), [
    ("+gpu", "unknown collector 'gpu' in --collectors (PERFMON_COLLECTORS); the collectors are: host, cpu"),
    ("cpu,-sensors", "mixes a plain list with +/- changes"),
    ("cpu,cpu", "names cpu twice"),
    ("c p u", "is not a collector name"),
])
def test_bad_values_are_one_line_usage_errors(value: str, complaint: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    for parse in (parse_server_config, parse_launcher_config):
        with pytest.raises(SystemExit) as stopped:
            parse(["--collectors", value], {}, collectors=NAMES)
        assert stopped.value.code == 2
        err = capsys.readouterr().err
        assert complaint in err and err.count("\n") == 1, err


def test_an_unknown_name_from_the_environment_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_server_config([], {"PERFMON_COLLECTORS": "-nope"}, collectors=NAMES)
    assert stopped.value.code == 2 and "unknown collector 'nope'" in capsys.readouterr().err


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
