"""Files the rules file names, read from systemd's credentials directory when the service has one there:
their names as ``systemd-escape --path`` writes them (held against the real command in
tests/system/test_deploy.py), and every reader of such a file going through the one lookup."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from perfmon.alerts.credentials import credential_name, located
from perfmon.alerts.model import Channel
from perfmon.alerts.notify.email import Email
from perfmon.alerts.yamlfile import FileError
from perfmon.api.alerting import secret
from perfmon.settings.alerts import load_alerts

# what systemd-escape --path (systemd 252) prints for each
ESCAPED = {
    "/etc/perfmon/hook.secret": "etc-perfmon-hook.secret",
    "/etc/perfmon/my secret": "etc-perfmon-my\\x20secret",
    "/etc/perfmon/hook-key.secret": "etc-perfmon-hook\\x2dkey.secret",
    "/etc/pérfmon/x": "etc-p\\xc3\\xa9rfmon-x",
    "/etc//a/./b/": "etc-a-b",
    "/.hidden/x": "\\x2ehidden-x",
    "/a/.b:c_d": "a-.b:c_d",
    "/": "-",
}


@pytest.mark.parametrize(("path", "name"), ESCAPED.items())
def test_a_credential_is_named_by_its_path_as_systemd_escape_does_it(path: str, name: str) -> None:
    assert credential_name(path) == name
    assert credential_name(Path(path)) == name


@pytest.mark.parametrize("path", ["etc/perfmon/hook.secret", "/etc/../perfmon/hook.secret"])
def test_a_path_systemd_would_not_escape_has_no_credential_name(path: str) -> None:
    with pytest.raises(ValueError):
        credential_name(path)


def credentials_holding(directory: Path, path: str, text: str, mode: int = 0o400) -> Path:
    """A credentials directory as systemd makes it, holding the file named ``path``."""
    directory.mkdir(exist_ok=True)
    credential = directory / credential_name(path)
    credential.write_text(text)
    credential.chmod(mode)
    return credential


def test_the_credential_is_read_when_systemd_handed_it_over(tmp_path: Path) -> None:
    credential = credentials_holding(tmp_path / "credentials", "/etc/perfmon/hook secret", "s3cret\n")
    environ = {"CREDENTIALS_DIRECTORY": str(tmp_path / "credentials")}
    assert located("/etc/perfmon/hook secret", environ) == credential
    assert located(Path("/etc/perfmon/hook secret"), environ) == credential


@pytest.mark.parametrize("directory", [None, "", "/nowhere", "credentials"])
def test_without_its_credential_the_path_itself_is_read(tmp_path: Path, directory: str | None) -> None:
    credentials_holding(tmp_path / "credentials", "/etc/perfmon/other.secret", "s3cret\n")
    environ = {} if directory is None else {"CREDENTIALS_DIRECTORY": str(tmp_path / directory) if directory
                                            else ""}
    assert located("/etc/perfmon/hook.secret", environ) == Path("/etc/perfmon/hook.secret")
    assert located("hook.secret", environ) == Path("hook.secret")  # relative: no credential name


def rules(tmp_path: Path, channels: str) -> Path:
    path = tmp_path / "alerts.yml"
    path.write_text(textwrap.dedent(channels))
    return path


def test_the_check_at_start_and_the_senders_read_the_credential(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The paths the file names do not exist here: only their credentials (0440, as systemd's ACL shows)."""
    credentials = tmp_path / "credentials"
    for path, text in (("/etc/perfmon/hook.secret", "s3cret\n"), ("/etc/perfmon/smtp.pass", "pa55\n"),
                       ("/etc/perfmon/ca.pem", "a CA\n")):
        credentials_holding(credentials, path, text, 0o440)
    file = rules(tmp_path, """\
        channels:
          ops: {type: webhook, url: "https://hooks.example/perfmon", secret_file: /etc/perfmon/hook.secret}
          mail: {type: email, host: smtp.example, from: p@example, to: o@example, starttls: true,
                 username: p, password_file: /etc/perfmon/smtp.pass, ca_file: /etc/perfmon/ca.pem}
        """)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    alerts = load_alerts(file)
    assert secret(alerts.channels["ops"], "secret") == "s3cret"
    assert secret(alerts.channels["mail"], "password") == "pa55"
    email = Email(alerts.channels["mail"].options, None, 10.0)
    assert email.ca_file == str(credentials / "etc-perfmon-ca.pem")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    with pytest.raises(FileError, match=r"alerts.yml:2: channel ops: secret_file: cannot read "
                                        r"/etc/perfmon/hook.secret: No such file or directory$"):
        load_alerts(file)


def test_without_a_credentials_directory_the_secret_is_read_from_its_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = tmp_path / "hook.secret"
    hook.write_text("from the path\n")
    hook.chmod(0o600)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    channel = Channel("ops", "webhook", {"url": "https://hooks.example/", "secret_file": str(hook)})
    assert secret(channel, "secret") == "from the path"
    elsewhere = credentials_holding(tmp_path / "credentials", "/etc/perfmon/other", "not this\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(elsewhere.parent))  # holds no credential of this path
    assert secret(channel, "secret") == "from the path"
    credentials_holding(elsewhere.parent, str(hook), "from the credential\n")
    assert secret(channel, "secret") == "from the credential"


def test_a_credential_open_to_others_is_refused_as_the_file_would_be(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    credential = credentials_holding(tmp_path / "credentials", "/etc/perfmon/hook.secret", "s3cret\n", 0o404)
    file = rules(tmp_path, """\
        channels:
          ops: {type: webhook, url: "https://hooks.example/perfmon", secret_file: /etc/perfmon/hook.secret}
        """)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credential.parent))
    with pytest.raises(FileError, match=rf"channel ops: secret_file: the secret file {credential} is open to "
                                        r"others \(mode 0404\)"):
        load_alerts(file)
