"""The installed ``perfmon`` command: the three scripts' commands with their options, --version."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from perfmon import __version__
from tests.support.processes import ROOT, Running, get_json, printed_urls

# pip install -r requirements-dev.txt installs perfmon (editable) beside this Python.
PERFMON = shutil.which("perfmon", path=str(Path(sys.executable).parent))
SCRIPTS = {"run": "run_http_polling_system.py", "api": "performance_api_server.py",
           "dashboard": "performance_dashboard_http_polling.py"}
pytestmark = pytest.mark.skipif(PERFMON is None and os.environ.get("CI") != "true",
                                reason="perfmon is not installed here: pip install -e .")


def perfmon(*args: str) -> subprocess.CompletedProcess[str]:
    assert PERFMON, "the perfmon command is not installed beside this Python"
    return subprocess.run([PERFMON, *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def options(help_text: str) -> list[str]:
    return sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", help_text)))


def test_version_is_the_package_version() -> None:
    result = perfmon("--version")
    assert result.returncode == 0 and result.stdout == f"perfmon {__version__}\n"


def test_python_dash_m_perfmon_is_the_same_command() -> None:
    result = subprocess.run([sys.executable, "-m", "perfmon", "--version"], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.stdout == f"perfmon {__version__}\n"


def test_help_lists_the_commands() -> None:
    result = perfmon("--help")
    assert result.returncode == 0
    for command in SCRIPTS:
        assert re.search(rf"^\s+{command}\s+\w", result.stdout, re.MULTILINE), command


@pytest.mark.parametrize("command", list(SCRIPTS))
def test_each_command_takes_exactly_its_scripts_options(command: str) -> None:
    mine = perfmon(command, "--help")
    script = subprocess.run([sys.executable, SCRIPTS[command], "--help"], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert mine.returncode == script.returncode == 0
    assert mine.stdout.startswith(f"usage: perfmon {command} ")
    assert options(mine.stdout) == options(script.stdout) and "--help" in options(mine.stdout)
    assert "PERFMON_" in mine.stdout  # the same variables, said the same way


@pytest.mark.parametrize("args", [[], ["bogus"], ["--port", "80"]])
def test_no_or_an_unknown_command_is_a_usage_error(args: list[str]) -> None:
    result = perfmon(*args)
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()  # one line, not the usage before it
    assert line.startswith("perfmon: error: ") and line.endswith("(try 'perfmon --help')"), line


def test_a_bad_option_is_a_usage_error_of_that_command() -> None:
    result = perfmon("api", "--interval", "0")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == ("perfmon api: error: argument --interval: 0 is outside 0.1..3600 "
                             "(try 'perfmon api --help')\n")  # one line, not the usage before it


@pytest.mark.parametrize(("args", "line"), [
    (["run", "--api-port", "38000", "--dashboard-port", "38000"],
     "perfmon run: error: the API and the dashboard would both listen on port 38000: give --api-port and "
     "--dashboard-port different ports (or 0 for any free one) (try 'perfmon run --help')"),
    (["run", "--no-such-flag"],
     "perfmon run: error: unrecognized arguments: --no-such-flag (try 'perfmon run --help')"),
    (["dashboard", "--warning-percent", "96.5"],
     "perfmon dashboard: error: --warning-percent 96.5 is above --critical-percent 95 "
     "(try 'perfmon dashboard --help')"),
])
def test_each_usage_error_is_its_one_line(args: list[str], line: str) -> None:
    result = perfmon(*args)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", line + "\n")


def test_a_data_dir_that_is_a_file_is_one_line_and_exit_1() -> None:
    result = perfmon("api", "--data-dir", "/etc/hostname")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", (
        "perfmon api: error: cannot keep perfmon's state in --data-dir /etc/hostname: /etc/hostname is a "
        "file, not a directory; choose another --data-dir (or --data-dir none for memory only)\n"))


def test_an_unknown_variable_is_one_warning_and_the_command_runs() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PERFMON_")}
    env.update({"PERFMON_PORT": "9000", "PERFMON_INTERVALL": "2", "PERFMON_DATA_DIR": "none"})
    with Running(str(PERFMON), "run", "--api-port", "0", "--dashboard-port", "0", env=env) as system:
        system.read_stdout_until("Ctrl-C stops both")
        warnings = [line for line in system.stderr().splitlines() if "PERFMON_" in line]
        assert warnings == [
            "perfmon run: warning: PERFMON_INTERVALL is not a perfmon variable; "
            "did you mean PERFMON_INTERVAL?",
            "perfmon run: warning: PERFMON_PORT is not read by perfmon run; did you mean PERFMON_API_PORT?"]
        assert system.stop() == 0


def test_a_bad_variable_is_a_usage_error_naming_it() -> None:
    env = {**os.environ, "PERFMON_POLL_INTERVAL": "soon"}
    result = subprocess.run([str(PERFMON), "dashboard"], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2 and "PERFMON_POLL_INTERVAL" in result.stderr


def test_perfmon_run_serves_both_and_stops_on_sigterm() -> None:
    with Running(str(PERFMON), "run", "--api-port", "0", "--dashboard-port", "0",
                 "--interval", "0.2") as system:
        urls = printed_urls(system.read_stdout_until("Ctrl-C stops both"))
        status, health = get_json(urls["API"].replace("/api/performance", "/api/health"))
        assert status == 200 and health["version"] == __version__
        assert system.stop() == 0
        assert "Traceback" not in system.stderr()
