"""deploy/prometheus: promtool accepts the rules and the example config, the rules' unit tests pass
and catch a changed rule, and the rules use only metrics perfmon exposes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from perfmon.settings import ServerConfig
from tests.support.processes import ROOT
from tests.support.programs import program_or_skip

PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "perfmon-rules.yml"
RULE_TESTS = PROMETHEUS / "perfmon-rules.test.yml"
CONFIG = PROMETHEUS / "prometheus.yml"
TOKEN_LINE = "credentials_file: /etc/prometheus/perfmon.token"
# The config's commented-out HTTPS and file_sd lines, and the same lines switched on.
OPTIONAL_LINES = {
    "    # scheme: https\n": "    scheme: https\n",
    "    # tls_config:\n": "    tls_config:\n",
    "    #   ca_file: ": "      ca_file: ",
    "    # file_sd_configs:\n": "    file_sd_configs:\n",
    "    #   - files: ": "      - files: ",
}

# A changed rule (text in the rules, its replacement), the test group meant to catch it (the
# start of its name) and what promtool then reports as failing.
MUTATIONS = {
    "cpu threshold up": ("ratio > 0.90", "ratio > 0.95", "CPU", "alertname: PerfmonHighCpu"),
    "cpu threshold down": ("ratio > 0.90", "ratio > 0.85", "CPU", "alertname: PerfmonHighCpu"),
    "iowait counted as busy": ('"idle|iowait|steal"', '"idle|steal"', "CPU",
                               'expr: "instance:perfmon_cpu_utilisation:ratio"'),
    "memory threshold up": ("available:ratio < 0.10", "available:ratio < 0.11", "Memory",
                            "alertname: PerfmonMemoryPressure"),
    "memory wait shorter": ("for: 10m", "for: 8m", "Memory", "alertname: PerfmonMemoryPressure"),
    "loopback counted": ('perfmon_network_receive_bytes_total{interface!="lo"}',
                         "perfmon_network_receive_bytes_total", "Network",
                         'expr: "instance:perfmon_network_receive_bytes:rate1m"'),
    "filesystem horizon 1 h": ("24 * 3600", "3600", "Filesystems", "alertname: PerfmonFilesystemAlmostFull"),
    "filesystem critical up": ("ratio < 0.05", "ratio < 0.052", "Filesystems",
                               "alertname: PerfmonFilesystemAlmostFull"),
    "squashfs counted": ("|squashfs|", "|", "Filesystems",
                         'expr: "instance_mountpoint:perfmon_filesystem_avail:ratio"'),
    "any job down": ('up{job="perfmon"} == 0', "up == 0", "Host down", "alertname: PerfmonHostDown"),
    "any job absent": ('absent(up{job="perfmon"})', "absent(up)", "Targets missing: every",
                       "alertname: PerfmonTargetsMissing"),
    "stall after 30 s whatever the interval": ("clamp_min(3 * perfmon_sample_interval_seconds, 30)", "30",
                                               "Sampler", "alertname: PerfmonSamplerStalled"),
    "stall floor 20 s": ("perfmon_sample_interval_seconds, 30)", "perfmon_sample_interval_seconds, 20)",
                         "Sampler", "alertname: PerfmonSamplerStalled"),
}


def promtool() -> str:
    """The promtool command (Debian's prometheus package); a skip without it, a failure under CI."""
    return program_or_skip("promtool", "prometheus")


def run_promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run promtool with args; its output (both streams) is in the result."""
    return subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=30, cwd=cwd,
                          check=False)


def expressions(text: str) -> list[str]:
    """The PromQL of every rule in a rule file: after `expr:` on its line, or the `|` block under it."""
    found = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not line.strip().startswith("expr:"):
            continue
        value = line.split("expr:", 1)[1].strip()
        if value != "|":
            found.append(value)
            continue
        indent = len(line) - len(line.lstrip())
        block = []
        for following in lines[index + 1:]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            block.append(following)
        found.append("\n".join(block))
    return found


def one_test_group(name_start: str) -> str:
    """The rule tests cut down to their header and the one test group whose name starts so."""
    header, _, groups = RULE_TESTS.read_text().partition("\ntests:\n")
    chosen = [group for group in re.split(r"(?m)^(?=  - name: )", groups)
              if group.startswith(f'  - name: "{name_start}')]
    assert len(chosen) == 1, f"no single test group named {name_start}..."
    return f"{header}\ntests:\n{chosen[0]}"


def test_promtool_accepts_the_rules_without_a_lint_warning() -> None:
    result = run_promtool("check", "rules", "--lint=all", "--lint-fatal", str(RULES))
    assert result.returncode == 0 and result.stderr == "", result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_rules_pass_their_unit_tests() -> None:
    result = run_promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def test_every_rule_has_unit_tests_and_every_alert_fires_and_stays_quiet() -> None:
    rules, tests = RULES.read_text(), RULE_TESTS.read_text()
    alerts = set(re.findall(r"(?m)^\s+- alert: (\w+)$", rules))
    cases = re.findall(r"alertname: (\w+)\n\s+eval_time: \S+\n\s+exp_alerts:( \[\])?", tests)
    assert {name for name, empty in cases if not empty} == alerts, "an alert never tested firing"
    assert {name for name, empty in cases if empty} == alerts, "an alert never tested quiet"
    records = set(re.findall(r"(?m)^\s+- record: (\S+)$", rules))
    assert records <= set(re.findall(r"(?m)^\s+- expr: (\S+)$", tests)), "a recording rule untested"
    assert len(alerts) == 6 and len(records) == 7


@pytest.mark.parametrize(("original", "mutant", "group", "failure"), MUTATIONS.values(), ids=MUTATIONS.keys())
def test_the_unit_tests_catch_a_changed_rule(tmp_path: Path, original: str, mutant: str, group: str,
                                             failure: str) -> None:
    rules = RULES.read_text()
    assert rules.count(original) == 1, f"{original!r} is not one place in the rules"
    (tmp_path / RULES.name).write_text(rules.replace(original, mutant))
    (tmp_path / RULE_TESTS.name).write_text(one_test_group(group))
    result = run_promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "FAILED" in output and failure in output, output


@pytest.mark.parametrize("optional", [False, True], ids=["as shipped", "with https and file_sd"])
def test_promtool_accepts_the_example_config(tmp_path: Path, optional: bool) -> None:
    config = CONFIG.read_text()
    assert config.count(TOKEN_LINE) == 1
    # promtool checks that the token file exists, and reads the rule files next to the config.
    token = tmp_path / "perfmon.token"
    token.write_text("0123456789abcdef0123456789abcdef\n")
    config = config.replace(TOKEN_LINE, f"credentials_file: {token}")
    if optional:
        for commented, active in OPTIONAL_LINES.items():
            assert config.count(commented) == 1, commented
            config = config.replace(commented, active)
    (tmp_path / CONFIG.name).write_text(config)
    shutil.copy(RULES, tmp_path)
    result = run_promtool("check", "config", "--lint=all", "--lint-fatal", CONFIG.name, cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout


def test_the_config_scrapes_what_the_rules_and_perfmon_expect() -> None:
    config, rules = CONFIG.read_text(), RULES.read_text()
    assert "job_name: perfmon " in config and 'up{job="perfmon"}' in rules
    assert re.search(r"(?m)^  scrape_interval: 15s ", config), "the [1m] rate windows need 15 s or less"
    targets = re.findall(r"(?m)^ +- (\S+:\d+)$", config)
    assert targets and all(target.endswith(f":{ServerConfig().port}") for target in targets)
    assert TOKEN_LINE in config


def test_every_metric_the_rules_use_is_one_perfmon_exposes() -> None:
    used = {name for expr in expressions(RULES.read_text())
            for name in re.findall(r"(?<![\w:])perfmon_\w+(?![\w:])", expr)}
    # One of each kind of expression (a block, a line, a divisor, a comparison): none is missed.
    assert {"perfmon_cpu_seconds_total", "perfmon_memory_available_bytes", "perfmon_filesystem_size_bytes",
            "perfmon_sample_interval_seconds"} <= used

    from perfmon.api.endpoints.metrics.prometheus import (
        metric_names,  # the lead's module, written in parallel
    )

    assert used <= metric_names(), f"not exposed by /metrics: {sorted(used - metric_names())}"
