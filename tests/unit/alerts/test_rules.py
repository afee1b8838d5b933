"""The rules file: the README's example as written, the built-in rules, and every error at its line."""

from __future__ import annotations

import textwrap

import pytest

from perfmon.alerts.model import SEVERITIES
from perfmon.alerts.rules import builtin_rules, parse
from perfmon.alerts.yamlfile import FileError
from perfmon.core.metrics import Selector

EXAMPLE = textwrap.dedent("""\
    rules:
      - name: FilesystemAlmostFull
        select: disks[fstype!=tmpfs].percent
        above: 90          # or below:
        clear: 85          # hysteresis: resolves under this
        for: 10m
        severity: warning
        repeat: 4h         # notify again while it lasts
        notify: [ops]      # channels by name; default: all
    channels:
      ops: {type: webhook, url: "https://hooks.example/perfmon", secret_file: /etc/perfmon/hook.secret}
      phone: {type: ntfy, url: "https://ntfy.example/perfmon-alerts"}
      mail: {type: email, host: smtp.example, port: 587, starttls: true, from: perfmon@example, to: [ops@example], password_file: /etc/perfmon/smtp.pass}
      more: {type: apprise, urls_file: /etc/perfmon/apprise.urls}
    silences: [{match: {host: db1}, from: "2026-12-24T00:00Z", until: "2026-12-26T00:00Z", comment: maintenance}]
    """)  # noqa: E501 (the issue's example, as written)


def test_the_issue_s_example_reads_as_it_says() -> None:
    alerts = parse(EXAMPLE, "rules.yml")
    rule = next(r for r in alerts.rules if r.name == "FilesystemAlmostFull")
    assert rule.select == Selector.parse("disks[fstype!=tmpfs].percent") and rule.field.unit == "percent"
    assert (rule.above, rule.below, rule.clear, rule.for_seconds) == (90, None, 85, 600)
    assert (rule.severity, rule.repeat_seconds, rule.notify, rule.line) == ("warning", 14400, ("ops",), 2)
    assert rule.predict is None  # the file's rule replaced the built-in one of that name
    assert {name: c.type for name, c in alerts.channels.items()} == {
        "ops": "webhook", "phone": "ntfy", "mail": "email", "more": "apprise"}
    assert alerts.channels["mail"].options["to"] == ("ops@example",)
    assert alerts.channels["mail"].options["starttls"] is True and alerts.channels["mail"].line == 13
    (silence,) = alerts.silences
    assert silence.match == {"host": "db1"} and silence.comment == "maintenance"
    assert (silence.starts, silence.ends) == (1798070400.0, 1798243200.0)  # 2026-12-24 and 26, 00:00 UTC
    assert silence.covers({"host": "db1", "alertname": "X"}, 1798100000.0)
    assert not silence.covers({"host": "db2"}, 1798100000.0)
    assert not silence.covers({"host": "db1"}, 1798243200.0)  # until is the end, not in it


def test_with_no_file_the_built_in_rules_hold_and_read_as_a_file_s_would() -> None:
    names = [r.name for r in builtin_rules()]
    assert names == ["HighCpu", "MemoryAlmostFull", "SwapAlmostFull", "FilesystemAlmostFull",
                     "FilesystemFull", "HighLoad", "MemoryStalls", "IoStalls", "BatteryLow"]
    assert all(r.line is None and r.notify is None for r in builtin_rules())
    assert parse("", "empty.yml").rules == builtin_rules()
    full = next(r for r in builtin_rules() if r.name == "FilesystemAlmostFull")
    assert full.predict is not None and (full.predict.window_seconds, full.predict.ahead_seconds,
                                         full.predict.reaches) == (21600, 86400, 100)
    load = next(r for r in builtin_rules() if r.name == "HighLoad")
    assert str(load.divide_by) == "cpu.count_logical" and load.field.name == "load_average"


def test_a_file_replaces_disables_or_leaves_out_the_built_in_rules() -> None:
    replaced = parse("rules:\n  - name: HighCpu\n    select: cpu.percent\n    above: 50\n")
    assert [r.above for r in replaced.rules if r.name == "HighCpu"] == [50]
    off = parse("rules:\n  - name: HighCpu\n    select: cpu.percent\n    above: 50\n    enabled: false\n")
    assert "HighCpu" not in {r.name for r in off.rules} and len(off.rules) == len(builtin_rules()) - 1
    alone = parse("builtin_rules: false\nrules:\n  - name: Mine\n    select: memory.percent\n    below: 5\n"
                  "    clear: 10\n")
    read = [(r.name, r.below, r.clear, r.triggered(4), r.cleared(10), r.cleared(11)) for r in alone.rules]
    assert read == [("Mine", 5, 10, True, False, True)]


def test_thresholds_take_units_and_rows_take_their_descriptive_labels() -> None:
    alerts = parse(textwrap.dedent("""\
        builtin_rules: false
        rules:
          - {name: Hot, select: "sensors[sensor=~\\"coretemp.*\\"].current_celsius", above: 85 °C, for: 1m}
          - {name: Slow, select: "network[interface!=lo].recv_bytes_per_s", above: 50 MB/s, clear: 40 MB/s}
          - {name: Tiny, select: "disks[mountpoint=/].free_bytes", below: 2 GiB, clear: 3 GiB,
             severity: critical, labels: {team: ops}}
        """))
    hot, slow, tiny = alerts.rules
    assert (hot.above, hot.for_seconds, hot.field.unit) == (85, 60, "celsius")
    assert (slow.above, slow.clear) == (50e6, 40e6)
    assert (tiny.below, tiny.clear, tiny.severity, dict(tiny.labels)) == (2 * 2**30, 3 * 2**30, "critical",
                                                                          {"team": "ops"})


def rule(body: str) -> str:
    return "rules:\n  - name: X\n" + textwrap.indent(textwrap.dedent(body), "    ")


@pytest.mark.parametrize(("text", "error"), [
    ("x: 1\n", "r.yml:1: unknown key 'x' in the rules file"),
    ("rules: {a: 1}\n", "r.yml:1: rules must be a list"),
    (rule("select: cpu.percent\nabov: 2\n"), "r.yml:4: unknown key 'abov' in a rule"),
    (rule("select: dsks.percent\nabove: 2\n"), "r.yml:3: rule X: select: no metric group 'dsks'"),
    (rule("select: disks[fs=x].percent\nabove: 2\n"), "r.yml:3: rule X: select: disks has no label 'fs'"),
    (rule("select: disks[mountpoint=/\nabove: 2\n"), "r.yml:3: rule X: select: "),
    (rule("select: disks.mountpoint\nabove: 2\n"), "r.yml:3: rule X: select: disks has no numeric field "
                                                   "'mountpoint' (it has: free_bytes, percent"),
    (rule("select: disks\nabove: 2\n"), "r.yml:3: rule X: select: name a field, as in disks.percent"),
    (rule("select: cpu.percent\n"), "r.yml:2: rule X: give one of above or below"),
    (rule("select: cpu.percent\nabove: 2\nbelow: 1\n"), "r.yml:2: rule X: give one of above or below"),
    (rule("select: cpu.percent\nabove: 2 GB\n"),
     "r.yml:4: rule X: above: 'GB' is no unit for a field in percent"),
    (rule("select: cpu.percent\nabove: 80\nclear: 90\n"), "r.yml:5: rule X: clear must be at or under the "
                                                          "trigger (80)"),
    (rule("select: cpu.percent\nbelow: 80\nclear: 70\n"), "r.yml:5: rule X: clear must be at or over"),
    (rule("select: cpu.percent\nabove: 80\nfor: soon\n"), "r.yml:5: rule X: for must be like 30s"),
    (rule("select: cpu.percent\nabove: 80\nseverity: page\n"), "r.yml:5: rule X: severity must be one of "
                                                               "info, warning, critical"),
    (rule("select: cpu.percent\nabove: 80\nnotify: [ops]\n"), "r.yml:5: rule X: no channel 'ops' (channels: "
                                                              "none are defined)"),
    (rule("select: cpu.percent\nabove: 80\nenabled: maybe\n"),
     "r.yml:5: rule X: enabled must be true or false"),
    (rule("select: cpu.percent\nabove: 80\ndivide_by: disks.percent\n"),
     "r.yml:5: rule X: divide_by must name one numeric field of a section"),
    (rule("select: disks.free_bytes\nbelow: 1 GB\npredict: {window: 1h}\n"), "r.yml:5: rule X: predict needs "
                                                                             "reaches"),
    (rule("select: cpu.percent\nabove: 1\n") + "  - name: X\n    select: cpu.percent\n    above: 2\n",
     "r.yml:5: rule 'X' is given twice (first on line 2)"),
    ("rules:\n  - name: no spaces\n    select: cpu.percent\n    above: 1\n",
     "r.yml:2: a rule's name is letters"),
    ("channels:\n  a: {type: pager}\n",
     "r.yml:2: channel a: type must be one of webhook, ntfy, email, apprise"),
    ("channels:\n  a: {type: webhook, url: x}\n",
     "r.yml:2: channel a: url must be an http:// or https:// URL"),
    ("channels:\n  a: {type: webhook}\n", "r.yml:2: channel a: a webhook channel needs url"),
    ("channels:\n  a: {type: webhook, url: 'https://x', secret: abc}\n",
     "r.yml:2: channel a: a secret is not written in the rules file: name a file that holds it (secret_file"),
    ("channels:\n  a: {type: email, host: h, from: f, to: t, password: p}\n", "a password is not written"),
    ("channels:\n  a: {type: email, host: h, from: f, to: t, tls: true, starttls: true}\n",
     "exclude each other"),
    ("channels:\n  a: {type: email, host: h, from: f, to: t, port: 99999}\n", "port must be a number from 1"),
    ("channels:\n  a: {type: apprise}\n",
     "r.yml:2: channel a: an apprise channel needs urls_file or urls_env"),
    ("channels:\n  a: {type: ntfy, url: 'https://x', colour: red}\n",
     "unknown key 'colour' for a ntfy channel"),
    ("channels:\n  a: {type: ntfy, url: 'https://x', token_env: 'not a name'}\n",
     "names an environment variable"),
    ("channels:\n  a: {type: ntfy, url: 'https://x', severities: [urgent]}\n", "severities lists some of"),
    ("channels:\n  a:\n    type: webhook\n    url: 'https://x'\n    group_wait: 2m\n",
     "r.yml:5: channel a: group_wait must be from 0 (no grouping) to 1m, not '2m'"),
    ("channels:\n  a: {type: webhook, url: 'https://x', group_wait: soon}\n",
     "r.yml:2: channel a: group_wait must be like 30s"),
    ("channels:\n  a: {type: webhook, url: 'https://x', group_wait: -1}\n",
     "r.yml:2: channel a: group_wait must be 0 or more seconds"),
    ("channels:\n  a: {type: webhook, url: 'https://x', group_wait: true}\n",
     "r.yml:2: channel a: group_wait must be like 30s"),
    ("silences: [{match: {host: db1}, until: '2026-12-26T00:00'}]\n", "r.yml:1: until needs its time zone"),
    ("silences: [{match: {host: db1}}]\n", "r.yml:1: a silence needs until"),
    ("silences: [{until: '2026-12-26T00:00Z'}]\n", "r.yml:1: a silence needs match"),
    ("silences: [{match: {a: b}, from: '2026-12-27T00:00Z', until: '2026-12-26T00:00Z'}]\n",
     "must come after"),
    ("silences: [{match: {a: b}, until: 'Tuesday'}]\n", "until must be a time such as 2026-12-24T00:00Z"),
    ("builtin_rules: 1\n", "r.yml:1: builtin_rules must be true or false"),
    ("heartbeat: {url: 'ftp://x'}\n", "r.yml:1: heartbeat: url must be an http:// or https:// URL"),
    ("heartbeat: {url: 'https://hc.example/x', every: 1s}\n", "r.yml:1: heartbeat: every must be from 10s"),
    ("heartbeat: {url: 'https://hc.example/x', often: 1}\n", "r.yml:1: unknown key 'often' in heartbeat"),
])
def test_every_problem_is_one_line_naming_the_file_and_its_line(text: str, error: str) -> None:
    with pytest.raises(FileError) as raised:
        parse(text, "r.yml")
    assert error in str(raised.value), str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_heartbeat_is_a_url_and_how_often() -> None:
    beat = parse("heartbeat: {url: 'https://hc-ping.com/abc', every: 5m}\n").heartbeat
    assert beat is not None
    assert (beat.url, beat.every_seconds, beat.line) == ("https://hc-ping.com/abc", 300, 1)
    default = parse("heartbeat: {url: 'https://hc-ping.com/abc'}\n").heartbeat
    assert default is not None and default.every_seconds == 60
    assert parse("").heartbeat is None


def test_a_channel_groups_for_a_second_unless_its_group_wait_says_otherwise() -> None:
    alerts = parse("channels:\n  a: {type: webhook, url: 'https://x'}\n"
                   "  b: {type: webhook, url: 'https://x', group_wait: 0}\n"
                   "  c: {type: ntfy, url: 'https://x', group_wait: 500ms}\n"
                   "  d: {type: webhook, url: 'https://x', group_wait: 1m}\n", "r.yml")
    assert {name: c.group_wait_seconds for name, c in alerts.channels.items()} == {
        "a": 1.0, "b": 0.0, "c": 0.5, "d": 60.0}


def test_severities_rise_from_info_to_critical() -> None:
    assert SEVERITIES == ("info", "warning", "critical")
