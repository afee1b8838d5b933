"""The systemd unit: the one deploy/ ships, and the one ``perfmon install-unit`` writes for an installation.

The README's recipe runs here as written, but for systemctl (PID 1 is no systemd here): a
virtual environment made by Debian's /usr/bin/python3 in a directory under /opt, perfmon
installed into it by its own pip from a copy of this checkout (``--no-deps``: the dependencies
come from this test environment through a ``.pth`` file, so it takes seconds, not minutes), a
0600 token, ``install-unit``, and ``systemd-analyze verify`` on the unit it wrote. Then the
unit's command line is started as systemd would start it: as an unprivileged user, with
/root and /home hidden (ProtectHome) and an empty /tmp (PrivateTmp), in a network namespace
of its own (it listens on 0.0.0.0), its token in a credentials directory.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
import stat
import struct
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from perfmon.alerts.credentials import credential_name
from perfmon.alerts.rules import builtin_rules
from perfmon.runtime.install import Installation, Refused, checked, rules_files
from perfmon.runtime.unit import DEFAULT_COMMAND, Unit, credential_word, quoted
from perfmon.settings import parse_launcher_config
from tests.support.processes import ROOT, Running

UNIT = ROOT / "deploy" / "perfmon.service"
DEBIAN_PYTHON = Path("/usr/bin/python3")
SERVICE_UID = 65534  # nobody: stands for the unit's DynamicUser
TOKEN = "Jv8c0Zr1n0Zq0v6bqQx3yC2Yx9mUj4nq8F0rT1o5s2E"  # 43 characters, as `perfmon token` prints


def directives(text: str) -> dict[str, list[str]]:
    """Every ``Key=value`` of the unit (comments and continuation lines left out)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[", " ")) and "=" in line:
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def load_credentials(text: str) -> dict[str, Path]:
    """The unit's ``LoadCredential=NAME:PATH`` as systemd reads them: in the name a backslash takes the
    next character as it is and the first other ':' ends it (checked against systemd-analyze below);
    the path is the rest, ``%%`` a '%'."""
    found = {}
    for value in directives(text).get("LoadCredential", []):
        parsed = re.fullmatch(r"((?:\\.|[^\\:])*):(.*)", value)
        assert parsed, value
        found[re.sub(r"\\(.)", r"\1", parsed[1])] = Path(parsed[2].replace("%%", "%"))
    return found


def needed(tool: str | None, why: str) -> str:
    """The tool's path; a skip (a failure under CI=true) when it is missing."""
    if tool is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why} must run in CI")
        pytest.skip(why)
    return tool


def analyze() -> str:
    """systemd-analyze, which checks a unit file without a running systemd."""
    return needed(shutil.which("systemd-analyze"), "no systemd-analyze (apt-get install systemd)")


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` of a unit file (it checks that ExecStart's command is executable)."""
    return subprocess.run([analyze(), "verify", str(unit)], capture_output=True, text=True, timeout=60,
                          cwd=unit.parent, check=False)


def secret(path: Path, text: str = TOKEN + "\n", mode: int = 0o600) -> Path:
    """A file as `umask 077; ... > path` makes it."""
    path.write_text(text)
    path.chmod(mode)
    return path


# --- the unit in deploy/ ---------------------------------------------------------------------------

def test_deploy_holds_the_unit_install_unit_writes_for_opt() -> None:
    assert Unit().render() == UNIT.read_text(), "regenerate: python -c 'from perfmon.runtime.unit import " \
        "Unit; open(\"deploy/perfmon.service\", \"w\").write(Unit().render())'"
    assert "@" not in "".join(directives(UNIT.read_text())["ExecStart"])  # every placeholder filled


def test_systemd_analyze_verifies_the_deploy_unit(tmp_path: Path) -> None:
    perfmon = Path(sys.executable).with_name("perfmon")  # the console script of this environment
    assert perfmon.exists(), "pip install -r requirements-dev.txt installs the perfmon command"
    unit = tmp_path / "perfmon.service"
    unit.write_text(UNIT.read_text().replace(str(DEFAULT_COMMAND), str(perfmon)))
    result = verify(unit)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_the_unit_runs_unprivileged_and_hardened_with_the_token_as_a_credential() -> None:
    found = directives(UNIT.read_text())
    for key, value in (("DynamicUser", "yes"), ("StateDirectory", "perfmon"), ("ProtectSystem", "strict"),
                       ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"), ("ProtectHome", "yes"),
                       ("Environment", "PERFMON_DATA_DIR=/var/lib/perfmon"),
                       ("Environment", "PERFMON_JOURNAL_DIR=/run/perfmon"), ("RuntimeDirectory", "perfmon"),
                       ("RuntimeDirectoryPreserve", "restart"),
                       ("LoadCredential", "token:/etc/perfmon/token")):
        assert value in found.get(key, []), key
    assert found["CapabilityBoundingSet"] == [""]  # no capabilities at all


def test_its_command_line_is_one_the_launcher_takes(tmp_path: Path) -> None:
    secret(tmp_path / "token")
    [command] = directives(UNIT.read_text())["ExecStart"]
    argv = shlex.split(command.replace("${CREDENTIALS_DIRECTORY}", str(tmp_path)))
    assert argv[:2] == [str(DEFAULT_COMMAND), "run"]
    config = parse_launcher_config(argv[2:], {})  # exits 2 on anything it does not take
    assert config.api.host == "0.0.0.0" and config.api.security.token == TOKEN
    assert "--token" not in argv  # the secret is never on a command line


def acl_granting_read(path: Path, uid: int) -> None:
    """What systemd's write_credential does to a 0400 root file: ``user:UID:r--``, mask ``r--``."""
    undefined = 0xFFFFFFFF
    entries = ((0x01, 4, undefined), (0x02, 4, uid), (0x04, 0, undefined), (0x10, 4, undefined),
               (0x20, 0, undefined))  # user::r-- user:UID:r-- group::--- mask::r-- other::---
    value = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *entry) for entry in entries)
    try:
        os.setxattr(path, "system.posix_acl_access", value)
    except OSError as exc:
        pytest.skip(f"no POSIX ACLs on {path.parent}: {exc.strerror}")


@pytest.mark.parametrize("shape", ["owned by the service's user, 0400", "root's, 0400, an ACL for the user"])
def test_the_launcher_takes_the_token_as_systemd_hands_it_over(tmp_path: Path, shape: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """systemd writes each credential 0400 and lets the service's user read it with an ACL entry, or,
    where the file system has none (ramfs), by giving it the file (src/core/exec-credential.c,
    write_credential). ``stat`` shows an ACL's mask as the group bits: 0440, yet no group can read it."""
    if os.geteuid() != 0:
        pytest.skip("changing a file's owner needs root")
    token = secret(tmp_path / "token", mode=0o400)
    if shape.startswith("owned"):
        os.chown(token, SERVICE_UID, SERVICE_UID)
        assert stat.S_IMODE(token.stat().st_mode) == 0o400
        monkeypatch.setattr(os, "geteuid", lambda: SERVICE_UID)  # read as the service's user reads it
    else:
        acl_granting_read(token, SERVICE_UID)
        assert stat.S_IMODE(token.stat().st_mode) == 0o440 and token.stat().st_uid == 0
    # systemd names the directory it hands credentials over in (the group bit is its ACL's mask only there)
    config = parse_launcher_config(["--host", "0.0.0.0", "--token-file", str(token)],
                                   {"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert config.api.security.token == TOKEN


# --- what install-unit writes and refuses, in this process ----------------------------------------

def fake_installation(prefix: str, base: str = "/usr", *imports: str) -> Installation:
    return Installation(Path(prefix), Path(base), Path(prefix) / "bin" / "python3",
                        tuple(Path(path) for path in imports))


@pytest.mark.parametrize(("installation", "said"), [
    (fake_installation("/usr", "/usr"), "is not in a virtual environment"),
    (fake_installation("/tmp/perfmon"), "/tmp/perfmon is under /tmp, which the service cannot see "
                                        "(PrivateTmp=yes)"),
    (fake_installation("/var/tmp/venv"), "under /var/tmp"),
    (fake_installation("/home/ann/venv"), "under /home, which the service cannot see (ProtectHome=yes)"),
    (fake_installation("/opt/perfmon", "/root"), "/root is under /root"),  # pyenv's Python, say
    (fake_installation("/opt/perfmon", "/usr", "/root"), "/root is under /root"),  # pip install -e from /root
])
def test_install_unit_refuses_an_installation_the_service_could_not_run(installation: Installation,
                                                                        said: str) -> None:
    with pytest.raises(Refused, match=re.escape(said)) as refused:
        installation.command()
    assert "/usr/bin/python3 -m venv /opt/perfmon" in str(refused.value) and "\n" not in str(refused.value)


def test_install_unit_sees_through_a_symbolic_link_into_tmp(tmp_path: Path) -> None:
    if not os.access("/opt", os.W_OK):
        pytest.skip("needs a writable /opt (root)")
    link = Path(tempfile.mkdtemp(prefix="perfmon-test-", dir="/opt")) / "venv"
    try:
        link.symlink_to(tmp_path)
        with pytest.raises(Refused, match="^" + re.escape(f"{link} (really {tmp_path}) is under /tmp")):
            fake_installation(str(link)).command()
    finally:
        shutil.rmtree(link.parent)


def test_install_unit_refuses_a_token_others_can_read_or_change(tmp_path: Path) -> None:
    unit = Unit(Path("/opt/perfmon/bin/perfmon"), tmp_path / "token")
    with pytest.raises(Refused, match=rf"^cannot use {tmp_path}/token: No such file or directory; make it "
                                      rf"with: install -d -m 0700 {tmp_path} && \(umask 077; "
                                      rf"/opt/perfmon/bin/perfmon token > {tmp_path}/token\)$"):
        checked(unit, "perfmon install-unit")
    secret(unit.token_file, mode=0o644)
    readable = rf"can be read by group or others \(mode 0644\): chmod 600 {tmp_path}/token$"
    with pytest.raises(Refused, match=readable):
        checked(unit, "perfmon install-unit")
    if os.geteuid() == 0:
        unit.token_file.chmod(0o600)
        os.chown(unit.token_file, SERVICE_UID, SERVICE_UID)
        with pytest.raises(Refused, match=rf"belongs to uid {SERVICE_UID}, who could change it: chown root:"):
            checked(unit, "perfmon install-unit")
        os.chown(unit.token_file, 0, 0)
    assert checked(unit, "perfmon install-unit") is unit


def test_run_options_go_on_exec_start_as_systemd_reads_them_back(tmp_path: Path) -> None:
    unit = checked(Unit(DEFAULT_COMMAND, secret(tmp_path / "token"), "127.0.0.1",
                        options=("--allowed-hosts", "monitor.example,100%$x", "--interval=2")), "p")
    [exec_start] = directives(unit.render())["ExecStart"]
    assert exec_start == (f"{DEFAULT_COMMAND} run --host 127.0.0.1 --token-file "
                          '${CREDENTIALS_DIRECTORY}/token --allowed-hosts "monitor.example,100%%$$x" '
                          "--interval=2")
    assert [quoted(word) for word in ("a b", 'say "hi"', "back\\slash", ";")] == [
        '"a b"', '"say \\"hi\\""', '"back\\\\slash"', '";"']


def test_install_unit_refuses_options_perfmon_run_would_refuse(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    token = secret(tmp_path / "token")
    with pytest.raises(Refused, match=r"^--data-dir cannot be given: the unit keeps history in /var/lib/"):
        checked(Unit(DEFAULT_COMMAND, token, options=("--data-dir", "/srv")), "p")
    with pytest.raises(SystemExit) as usage:
        checked(Unit(DEFAULT_COMMAND, token, options=("--intervall", "2")), "perfmon install-unit")
    assert usage.value.code == 2
    assert "perfmon install-unit (an option for perfmon run): error: unrecognized arguments: --intervall" \
        in capsys.readouterr().err


def test_tls_certificate_and_key_are_credentials_too(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("monitor.example")
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "tls.crt"))
    cert.private_key_pem.write_to_path(str(tmp_path / "tls.key"))
    (tmp_path / "tls.key").chmod(0o600)
    unit = checked(Unit(DEFAULT_COMMAND, secret(tmp_path / "token"), tls_cert=tmp_path / "tls.crt",
                        tls_key=tmp_path / "tls.key"), "p")
    found = directives(unit.render())
    assert found["LoadCredential"] == [f"token:{tmp_path}/token", f"tls.crt:{tmp_path}/tls.crt",
                                       f"tls.key:{tmp_path}/tls.key"]
    assert found["ExecStart"][0].endswith("--tls-cert ${CREDENTIALS_DIRECTORY}/tls.crt "
                                          "--tls-key ${CREDENTIALS_DIRECTORY}/tls.key")
    secret(tmp_path / "tls.key", "not a key\n")
    with pytest.raises(Refused, match=r"^cannot use the TLS certificate"):
        checked(unit, "p")


# --- a rules file, and the files it names, as credentials ------------------------------------------

RULES = """\
builtin_rules: false
rules:
  - {{name: NeverFires, select: cpu.percent, above: 100, notify: [ops]}}
channels:
  ops: {{type: webhook, url: "https://hooks.example/perfmon", secret_file: "{secret}"}}
"""
# paths with dashes, spaces, non-ASCII letters, a leading dot, a colon, a '%', a backslash, a tab
ESCAPED = ["/etc/perfmon/hook.secret", "/etc/perfmon/hook-key secret", "/etc/pérfmon/ü.pass", "/.dot/x",
           "/srv/.hidden//./x/", "/x/100%:\\y", "/etc/perfmon/tab\there", "/"]


def rules_naming(directory: Path, name: str = "hook-key.secret") -> tuple[Path, Path]:
    """A rules file whose webhook channel names a secret file beside it, both root's and 0600."""
    hook = secret(directory / name, "s3cret\n")
    return secret(directory / "alerts.yml", RULES.format(secret=hook)), hook


def test_credential_names_are_what_systemd_escape_path_prints() -> None:
    tool = needed(shutil.which("systemd-escape"), "no systemd-escape (apt-get install systemd)")
    printed = subprocess.run([tool, "--path", *ESCAPED], capture_output=True, text=True, timeout=30,
                             check=True)
    assert printed.stdout.split() == [credential_name(path) for path in ESCAPED]


def test_systemd_reads_each_credential_name_back_as_the_service_looks_it_up(tmp_path: Path) -> None:
    """A '/' after each name makes systemd refuse it, and say the name as it read it."""
    names = [credential_name(path) for path in ESCAPED]
    unit = tmp_path / "names.service"
    unit.write_text("[Service]\nExecStart=/bin/true\n" + "".join(
        f"LoadCredential={credential_word(name)}/:/etc/hostname\n" for name in names))
    assert re.findall(r'Credential name "(.*)/" not valid', verify(unit).stderr) == names
    assert load_credentials(unit.read_text()) == {f"{name}/": Path("/etc/hostname") for name in names}


def test_a_rules_file_and_the_files_it_names_are_credentials_systemd_accepts(tmp_path: Path) -> None:
    rules, hook = rules_naming(tmp_path)
    assert rules_files(rules) == (hook,)
    unit = checked(Unit(DEFAULT_COMMAND, secret(tmp_path / "token"), alerts_file=rules,
                        alerts_files=rules_files(rules)), "p")
    text = unit.render()
    assert load_credentials(text) == {"token": tmp_path / "token", "alerts.yml": rules,
                                      credential_name(hook): hook}
    assert "\\\\x2d" in directives(text)["LoadCredential"][2]  # hook-key: \x2d in the name, \\x2d in the unit
    [exec_start] = directives(text)["ExecStart"]
    assert exec_start.endswith(" --token-file ${CREDENTIALS_DIRECTORY}/token "
                               "--alerts-file ${CREDENTIALS_DIRECTORY}/alerts.yml")
    written = tmp_path / "perfmon.service"
    written.write_text(text.replace(str(DEFAULT_COMMAND), str(Path(sys.executable).with_name("perfmon"))))
    result = verify(written)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_install_unit_refuses_a_rules_file_perfmon_would_refuse(tmp_path: Path) -> None:
    rules = secret(tmp_path / "alerts.yml", "rules:\n  - name: X\n    select: disks[fstype!=tmpfs].percent\n"
                                            "    above: 2 GB\n")
    said = f"{rules}:4: rule X: above: 'GB' is no unit for a field in percent (in percent, or with a unit: %)"
    with pytest.raises(Refused, match="^" + re.escape(said) + "$"):
        rules_files(rules)
    rules.chmod(0o644)
    with pytest.raises(Refused, match=rf"^{rules} can be read by group or others \(mode 0644\): chmod 600"):
        rules_files(rules)
    rules.unlink()
    with pytest.raises(Refused, match=rf"^cannot use {rules}: No such file or directory; put the rules file "
                                      r"there, root's and mode 0600"):
        rules_files(rules)


def test_install_unit_refuses_a_secret_file_others_can_read_or_change(tmp_path: Path) -> None:
    rules, hook = rules_naming(tmp_path)
    where = f"{rules}:5: channel ops: secret_file: "
    hook.chmod(0o644)
    with pytest.raises(Refused, match="^" + re.escape(f"{where}{hook} can be read by group or others (mode "
                                                      f"0644): chmod 600 {hook}") + "$"):
        rules_files(rules)
    hook.chmod(0o600)
    if os.geteuid() == 0:
        os.chown(hook, SERVICE_UID, SERVICE_UID)
        with pytest.raises(Refused, match="^" + re.escape(f"{where}{hook} belongs to uid {SERVICE_UID}")):
            rules_files(rules)
        os.chown(hook, 0, 0)
    hook.unlink()
    missing = f"{where}cannot use {hook}: No such file or directory; make it, or correct the rules file"
    with pytest.raises(Refused, match="^" + re.escape(missing) + "$"):
        rules_files(rules)


@pytest.mark.parametrize(("named", "said"), [
    ("hook.secret", "hook.secret is not an absolute path: the service starts in /"),
    ("/etc/../hook.secret", "/etc/../hook.secret has a '..' in it, which systemd refuses"),
    ("/token", "/token would be handed over as token, the name of the unit's own credential"),
    ("/" + "x" * 254 + "/y", "would be handed over as x" + "x" * 253 + "-y, over 255 characters"),
])
def test_install_unit_refuses_a_file_systemd_could_not_hand_over_by_its_path(tmp_path: Path, named: str,
                                                                           said: str) -> None:
    rules = secret(tmp_path / "alerts.yml", RULES.format(secret=named))
    with pytest.raises(Refused, match="^" + re.escape(f"{rules}:5: channel ops: secret_file: ") + ".*"
                                      + re.escape(said)):
        rules_files(rules)


# --- the README's recipe, for real -----------------------------------------------------------------

@dataclass(frozen=True)
class Installed:
    """perfmon installed by the README's recipe into a directory under /opt."""

    root: Path
    venv: Path

    @property
    def perfmon(self) -> Path:
        return self.venv / "bin" / "perfmon"

    def site_packages(self) -> Path:
        [found] = self.venv.glob("lib/python3*/site-packages")
        return found

    def run(self, *argv: str, program: Path | None = None,
            variables: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}  # no PYTHONPATH, no PERFMON_*
        return subprocess.run([str(program or self.perfmon), *argv], capture_output=True, text=True,
                              env=env | (variables or {}), cwd=self.root, timeout=120, check=False)


def clean_copy(target: Path) -> Path:
    """The files a clone would have (tracked, and new ones not ignored), without build/ or .venv/."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def link_or_copy(source: str, target: str) -> None:
    """A hard link where the two are on one file system (instant), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """``python3 -m venv /opt/...`` and its pip installing this checkout (about 30 s here)."""
    if not DEBIAN_PYTHON.exists() or not os.access("/opt", os.W_OK):
        needed(None, "the recipe needs Debian's /usr/bin/python3 and a writable /opt (root)")
    version = subprocess.run([str(DEBIAN_PYTHON), "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    if version != str(sys.version_info[:2]):
        pytest.skip(f"{DEBIAN_PYTHON} is Python {version}: this environment's packages do not fit it")
    root = Path(tempfile.mkdtemp(prefix="perfmon-test-", dir="/opt"))
    root.chmod(0o755)  # the service's user walks through it
    try:
        installed = Installed(root, root / "venv")
        subprocess.run([str(DEBIAN_PYTHON), "-m", "venv", str(installed.venv)], check=True, timeout=300)
        clone = clean_copy(tmp_path_factory.mktemp("clone"))
        subprocess.run([str(installed.venv / "bin" / "pip"), "install", "-q", "--no-deps", str(clone)],
                       check=True, timeout=300, capture_output=True)
        # aiohttp, dash, psutil... from this environment, linked under /opt: the service sees no /tmp,
        # /root or /home, where this environment may live (CI's clone may be anywhere)
        dependencies = root / "dependencies"
        shutil.copytree(sysconfig.get_paths()["purelib"], dependencies, copy_function=link_or_copy,
                        ignore=shutil.ignore_patterns("__pycache__", "__editable__*", "perfmon*"))
        (installed.site_packages() / "perfmon-test-dependencies.pth").write_text(f"{dependencies}\n")
        yield installed
    finally:
        shutil.rmtree(root)


def make_token(installed: Installed) -> Path:
    """The README's token step: ``install -d -m 0700 /etc/perfmon && (umask 077; perfmon token > ...)``."""
    token = installed.root / "etc" / "perfmon" / "token"
    subprocess.run(["install", "-d", "-m", "0700", str(token.parent)], check=True)
    made = subprocess.run(["sh", "-c", 'umask 077; exec "$1" token > "$2"', "sh", str(installed.perfmon),
                           str(token)], capture_output=True, text=True, check=False)
    assert made.returncode == 0 and made.stderr == "", made.stderr
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    return token


def test_the_readme_recipe_writes_a_unit_systemd_accepts(installed: Installed) -> None:
    analyze()
    token = make_token(installed)
    output = installed.root / "systemd" / "perfmon.service"
    output.parent.mkdir()
    wrote = installed.run("install-unit", "--token-file", str(token), "--output", str(output))
    assert wrote.returncode == 0 and wrote.stderr == "", wrote.stderr
    assert wrote.stdout.splitlines() == [
        f"wrote {output}: {installed.perfmon} run, the token from {token}",
        f"next: install -m 0644 {output} /etc/systemd/system/perfmon.service && "
        "systemctl daemon-reload && systemctl enable --now perfmon"]
    assert output.read_text() == Unit(installed.perfmon, token).render()  # deploy/'s unit, with its paths
    assert stat.S_IMODE(output.stat().st_mode) == 0o644
    result = verify(output)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    again = installed.run("install-unit", "--token-file", str(token), "--output", str(output), "--stdout")
    assert again.stdout == output.read_text()
    again = installed.run("install-unit", "--token-file", str(token), "--output", str(output))
    assert again.stdout.startswith(f"replaced {output}") and "systemctl restart perfmon" in again.stdout


def test_install_unit_hands_over_the_rules_file_of_its_option_or_variable(installed: Installed) -> None:
    token = make_token(installed)
    rules, hook = rules_naming(token.parent)
    output = installed.root / "perfmon.service"
    wrote = installed.run("install-unit", "--token-file", str(token), "--alerts-file", str(rules),
                          "--output", str(output))
    assert wrote.returncode == 0 and wrote.stderr == "", wrote.stderr
    assert wrote.stdout.startswith(f"wrote {output}: {installed.perfmon} run, the token from {token}, the "
                                   f"alerts rules from {rules}\n")
    assert output.read_text() == Unit(installed.perfmon, token, alerts_file=rules,
                                      alerts_files=(hook,)).render()
    assert load_credentials(output.read_text())[credential_name(hook)] == hook
    result = verify(output)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    printed = installed.run("install-unit", "--token-file", str(token), "--stdout",
                            variables={"PERFMON_ALERTS_FILE": str(rules)})
    assert printed.stdout == output.read_text(), printed.stderr
    hook.chmod(0o640)
    refused = installed.run("install-unit", "--token-file", str(token), "--stdout",
                            variables={"PERFMON_ALERTS_FILE": str(rules)})
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == (f"perfmon install-unit: {rules}:5: channel ops: secret_file: {hook} can be "
                              f"read by group or others (mode 0640): chmod 600 {hook}\n")


def test_install_unit_says_in_one_line_what_is_missing(installed: Installed) -> None:
    missing = installed.root / "nowhere" / "token"
    result = installed.run("install-unit", "--token-file", str(missing), "--stdout")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"perfmon install-unit: cannot use {missing}: No such file or directory; "
                             f"make it with: install -d -m 0700 {missing.parent} && (umask 077; "
                             f"{installed.perfmon} token > {missing})\n")


def test_install_unit_refuses_a_virtual_environment_under_tmp(installed: Installed, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([str(DEBIAN_PYTHON), "-m", "venv", "--without-pip", str(venv)], check=True)
    [site] = venv.glob("lib/python3*/site-packages")
    (site / "perfmon.pth").write_text(f"{installed.site_packages()}\n{installed.root / 'dependencies'}\n")
    result = installed.run("-m", "perfmon", "install-unit", "--stdout", program=venv / "bin" / "python")
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"perfmon install-unit: {venv} is under /tmp, which the service cannot see "
                           "(PrivateTmp=yes): "), line
    paths = [str(installed.site_packages()), str(installed.root / "dependencies")]
    script = (f"import sys; sys.path[:0] = {paths}; from perfmon.cli import main; "
              "sys.exit(main(['install-unit']))")
    result = installed.run("-c", script, program=DEBIAN_PYTHON)  # Debian's own Python, no virtual environment
    assert result.returncode == 2 and "is not in a virtual environment" in result.stderr, result.stderr


PROBE = """
import json, sys, time, urllib.request
def get(path):
    headers = {"Authorization": "Bearer " + sys.argv[1]}
    request = urllib.request.Request("http://127.0.0.1:8000" + path, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)
deadline = time.monotonic() + 30
while True:
    try:
        paths = ("/api/health", "/api/performance", "/api/processes?limit=100", "/api/alerts")
        answers = {path: get(path) for path in paths}
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
print(json.dumps(answers))
"""


def sandbox_script(state: Path, runtime: Path) -> str:
    """A shell script that builds, in new mount and network namespaces, what the unit asks systemd for,
    then runs its arguments as the service would be run (ProtectHome, PrivateTmp, ProtectSystem=strict
    with the StateDirectory writable, the RuntimeDirectory a tmpfs of the user's, NoNewPrivileges)."""
    return ("ip link set lo up && for hidden in /root /home /run/user; do [ -d $hidden ] && "
            "mount -t tmpfs -o mode=000 tmpfs $hidden; done; mount -t tmpfs -o mode=1777 tmpfs /tmp && "
            f"mount -t tmpfs -o mode=1777 tmpfs /var/tmp && mount --bind {state} {state} && "
            f"mount -t tmpfs -o mode=0700,uid={SERVICE_UID},gid={SERVICE_UID} tmpfs {runtime} && "
            "mount -o remount,bind,ro / && exec setpriv --reuid=65534 --regid=65534 --clear-groups "
            '--no-new-privs "$@"')


def hand_over(unit: Path, credentials: Path) -> None:
    """What systemd does at each start: copy each LoadCredential= file into the credentials directory under
    its name, mode 0400, the service's user's (here, where there is no ACL to grant it)."""
    credentials.mkdir(mode=0o500)
    for name, source in load_credentials(unit.read_text()).items():
        shutil.copy(source, credentials / name)
        os.chown(credentials / name, SERVICE_UID, SERVICE_UID)
        (credentials / name).chmod(0o400)
    os.chown(credentials, SERVICE_UID, SERVICE_UID)


@pytest.mark.parametrize("alerts", [False, True], ids=["built-in rules", "a rules file with a secret file"])
def test_the_written_unit_starts_in_the_sandbox_systemd_gives_it(installed: Installed, alerts: bool) -> None:
    """ExecStart as systemd runs it, as user nobody in a read-only system with /root and /home hidden, an
    empty /tmp and the token a credential: it serves samples and processes read from /proc, and exits 0.
    With a rules file, the rules and the webhook's secret are read from the credentials directory: the
    files themselves (root's, 0600, in a 0700 directory) are out of the service's reach."""
    for tool in ("unshare", "setpriv", "ip", "nsenter"):
        needed(shutil.which(tool), f"needs {tool} (util-linux, iproute2)")
    if os.geteuid() != 0:
        pytest.skip("mount namespaces and another user need root")
    token = make_token(installed)
    rules, hook = rules_naming(token.parent)
    case = installed.root / ("alerts" if alerts else "builtin")  # the two cases share the installation
    case.mkdir()
    case.chmod(0o755)  # the service's user walks through it
    output = case / "perfmon.service"
    wrote = installed.run("install-unit", "--token-file", str(token), "--output", str(output),
                          *(("--alerts-file", str(rules)) if alerts else ()))
    assert wrote.returncode == 0, wrote.stderr
    credentials, state = case / "credentials", case / "state"
    hand_over(output, credentials)
    assert sorted(os.listdir(credentials)) == sorted(["token", *(["alerts.yml", credential_name(hook)]
                                                                  if alerts else [])])
    state.mkdir(mode=0o700)
    os.chown(state, SERVICE_UID, SERVICE_UID)
    runtime = case / "runtime"  # /run/perfmon: systemd's RuntimeDirectory, in memory
    runtime.mkdir()
    [exec_start] = directives(output.read_text())["ExecStart"]
    argv = shlex.split(exec_start.replace("${CREDENTIALS_DIRECTORY}", str(credentials)))
    env = {"PATH": "/usr/bin:/bin", "PERFMON_DATA_DIR": str(state), "PERFMON_JOURNAL_DIR": str(runtime),
           "PYTHONUNBUFFERED": "1",
           "CREDENTIALS_DIRECTORY": str(credentials)}
    with Running("unshare", "--mount", "--net", "sh", "-c", sandbox_script(state, runtime), "sh", *argv,
                 env=env) as service:
        printed = service.read_stdout_until("perfmon dashboard:", timeout=60)
        assert "perfmon API:" in printed, service.stderr()
        probe = subprocess.run(["nsenter", f"--net=/proc/{service.proc.pid}/ns/net", sys.executable, "-c",
                                PROBE, token.read_text().strip()],
                               capture_output=True, text=True, timeout=60, check=False)
        assert probe.returncode == 0, probe.stderr + service.stderr()
        namespace = f"--mount=/proc/{service.proc.pid}/ns/mnt"
        journals = subprocess.run(["nsenter", namespace, "ls", "-l", str(runtime)],
                                  capture_output=True, text=True, timeout=30, check=False)
        assert re.search(r"^-rw------- 1 nobody \S+ +\d+ .* perfmon-history-[0-9a-f]{16}\.journal$",
                         journals.stdout, re.M), journals.stdout + journals.stderr  # samples wait in memory
        assert service.stop() == 0, service.stderr()
        log = service.stderr()
    answers = json.loads(probe.stdout)
    assert answers["/api/health"]["store"]["status"] == "ok"
    assert answers["/api/health"]["store"]["path"] == str(state / "history.sqlite3")
    assert 0 <= answers["/api/performance"]["cpu"]["percent"] <= 100
    assert answers["/api/performance"]["memory"]["total_bytes"] > 0
    assert len(answers["/api/processes?limit=100"]["processes"]) > 1  # other users' processes too
    # the file's one rule; or the built-in ones, and SamplerStalled on its clock
    assert answers["/api/alerts"]["rules"] == (1 if alerts else len(builtin_rules()) + 1)
    assert "Traceback" not in log and " ERROR " not in log, log
    with sqlite3.connect(state / "history.sqlite3") as database:  # it kept history where the unit says
        assert database.execute("select count(*) from sqlite_master").fetchone()[0] > 0
