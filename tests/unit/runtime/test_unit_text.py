"""The unit ``perfmon install-unit`` writes, as text: with a rules file, the rules and every file they name
are credentials, and ExecStart reads the rules from the credentials directory. What install-unit checks
and refuses, and systemd's own reading of this text, are in tests/system/test_deploy.py."""

from __future__ import annotations

from pathlib import Path

from perfmon.runtime.unit import DEFAULT_COMMAND, Unit, credential_word


def directives(text: str, key: str) -> list[str]:
    return [line.removeprefix(f"{key}=") for line in text.splitlines() if line.startswith(f"{key}=")]


def test_a_rules_file_and_the_files_it_names_are_handed_over_as_credentials() -> None:
    unit = Unit(DEFAULT_COMMAND, Path("/etc/perfmon/token"), alerts_file=Path("/etc/perfmon/alerts.yml"),
                alerts_files=(Path("/etc/perfmon/hook.secret"), Path("/etc/perfmon/smtp-pass word"),
                              Path("/srv/100%/ca:1.pem")))
    text = unit.render()
    assert directives(text, "LoadCredential") == [
        "token:/etc/perfmon/token", "alerts.yml:/etc/perfmon/alerts.yml",
        "etc-perfmon-hook.secret:/etc/perfmon/hook.secret",
        "etc-perfmon-smtp\\\\x2dpass\\\\x20word:/etc/perfmon/smtp-pass word",  # systemd reads \\ as one \
        "srv-100\\\\x25-ca\\:1.pem:/srv/100%%/ca:1.pem"]  # and \: as a ':' of the name
    assert directives(text, "ExecStart") == [f"{DEFAULT_COMMAND} run --host 0.0.0.0 --token-file "
                                             "${CREDENTIALS_DIRECTORY}/token --alerts-file "
                                             "${CREDENTIALS_DIRECTORY}/alerts.yml"]
    assert "/etc/perfmon/alerts.yml" not in directives(text, "ExecStart")[0]


def test_without_a_rules_file_the_unit_names_none() -> None:
    text = Unit().render()
    assert directives(text, "LoadCredential") == ["token:/etc/perfmon/token"]
    assert "--alerts-file" not in directives(text, "ExecStart")[0]


def test_a_credential_s_name_is_written_as_load_credential_reads_it_back() -> None:
    assert credential_word("etc-perfmon-hook.secret") == "etc-perfmon-hook.secret"
    assert credential_word("etc-a\\x2db:c") == "etc-a\\\\x2db\\:c"
