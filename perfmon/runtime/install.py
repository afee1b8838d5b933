"""``perfmon install-unit``: write the systemd unit for the installation that runs this command.

It refuses, in one line that says what to do, what systemd would only fail at start: an
installation outside a virtual environment (Debian 12's pip refuses the system Python), one
under /root, /home, /tmp or /var/tmp (the unit's ``ProtectHome=`` and ``PrivateTmp=`` hide
them from the service: a virtual environment made there, or made from a Python there such as
pyenv's, cannot start), a secret that others can read or change, a rules file perfmon would
refuse (or a file it names that others can read or change, or that systemd could not hand
over), and options ``perfmon run`` would refuse. The options are checked by the launcher's own
parser, with the secrets read from where systemd will read them.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from perfmon.alerts.credentials import credential_name
from perfmon.alerts.rules import read_file
from perfmon.alerts.yamlfile import FileError
from perfmon.runtime.unit import Unit
from perfmon.sampling import registry
from perfmon.settings import parse_launcher_config
from perfmon.settings.options import apply_env_defaults
from perfmon.settings.unit_options import DEFAULT_OUTPUT, install_unit_parser

HIDDEN = (("/root", "ProtectHome=yes"), ("/home", "ProtectHome=yes"), ("/run/user", "ProtectHome=yes"),
          ("/tmp", "PrivateTmp=yes"), ("/var/tmp", "PrivateTmp=yes"))
NOT_IN_A_UNIT = {"--data-dir": "the unit keeps history in /var/lib/perfmon (StateDirectory=perfmon)",
                 "--open": "a service has no browser to open"}
OWN_CREDENTIALS = ("token", "tls.crt", "tls.key", "alerts.yml")  # the unit's own names
NAME_MAX = 255  # systemd's longest credential name
RECIPE = ("/usr/bin/python3 -m venv /opt/perfmon && /opt/perfmon/bin/pip install /path/to/perfmon, "
          "then /opt/perfmon/bin/perfmon install-unit")


class Refused(Exception):
    """A unit that would not work, in one line that says what to do instead."""


@dataclass(frozen=True)
class Installation:
    """Where the running perfmon and its Python live."""

    prefix: Path  # the virtual environment (sys.prefix)
    base_prefix: Path  # the Python it was made from (sys.base_prefix)
    executable: Path
    imports: tuple[Path, ...] = ()  # where code is imported from: perfmon's package, sys.path

    @classmethod
    def running(cls) -> Installation:
        """This process's installation."""
        import perfmon

        paths = [Path(perfmon.__file__).parent, *(Path(entry) for entry in sys.path[1:] if entry)]
        return cls(Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable), tuple(paths))

    def command(self) -> Path:
        """The ``perfmon`` command the service can run; Refused if it could not."""
        if self.prefix == self.base_prefix:
            raise Refused(f"{self.executable} is not in a virtual environment (Debian's pip refuses to "
                          f"install into the system's Python): {RECIPE}")
        for path in (self.prefix, self.executable, self.base_prefix, *self.imports):
            real = Path(os.path.realpath(path))
            for top, directive in HIDDEN:
                if real.is_relative_to(top) and (path in (self.prefix, self.executable) or real.exists()):
                    shown = str(path) if real == path else f"{path} (really {real})"
                    raise Refused(f"{shown} is under {top}, which the service cannot see ({directive}): "
                                  f"make the virtual environment outside /root, /home, /tmp and /var/tmp, "
                                  f"from a Python that is not there either: {RECIPE}")
        command = self.prefix / "bin" / "perfmon"
        if not os.access(command, os.X_OK):
            raise Refused(f"no {command}: install perfmon into {self.prefix} ({self.prefix}/bin/pip install "
                          "/path/to/perfmon)")
        return command


def check_secret(path: Path, remedy: str) -> None:
    """A file systemd hands over as a credential: there, root's, and unreadable by anyone else."""
    try:
        status = path.stat()
    except OSError as exc:
        raise Refused(f"cannot use {path}: {exc.strerror}; {remedy}") from None
    if not stat.S_ISREG(status.st_mode):
        raise Refused(f"{path} is not a regular file")
    if status.st_uid != 0:
        raise Refused(f"{path} belongs to uid {status.st_uid}, who could change it: chown root: {path}")
    if status.st_mode & 0o077:
        raise Refused(f"{path} can be read by group or others (mode {stat.S_IMODE(status.st_mode):04o}): "
                      f"chmod 600 {path}")


def rules_files(path: Path) -> tuple[Path, ...]:
    """The files the rules file at ``path`` names (secrets, a CA), which systemd hands over with it;
    Refused for a rules file perfmon would refuse, and for any of them that is not private to root or
    has no credential name."""
    check_secret(path, "put the rules file there, root's and mode 0600 (perfmon alerts check FILE "
                       "checks it)")
    try:
        alerts = read_file(path)
    except FileError as exc:
        raise Refused(str(exc)) from None
    found: dict[Path, None] = {}
    for channel in alerts.channels.values():
        for key, value in channel.options.items():
            if key.endswith("_file"):
                where = f"{alerts.source}:{channel.line}: channel {channel.name}: {key}"
                try:
                    check_named(Path(value))
                except Refused as exc:
                    raise Refused(f"{where}: {exc}") from None
                found[Path(value)] = None
    return tuple(found)


def check_named(path: Path) -> None:
    """A file a rules file names: private to root, and a credential systemd can hand over under a name
    the service finds it by (its path, escaped)."""
    if not path.is_absolute():
        raise Refused(f"{path} is not an absolute path: the service starts in /, name the file from there")
    try:
        name = credential_name(path)
    except ValueError:
        raise Refused(f"{path} has a '..' in it, which systemd refuses: name the file without") from None
    if len(name) > NAME_MAX or name in OWN_CREDENTIALS:
        why = "over 255 characters" if len(name) > NAME_MAX else "the name of the unit's own credential"
        raise Refused(f"{path} would be handed over as {name}, {why}: move the file")
    check_secret(path, "make it, or correct the rules file")


def checked(unit: Unit, prog: str) -> Unit:
    """``unit`` if ``perfmon run`` would start with it; Refused (or a usage error, exit 2) if not."""
    for option in unit.options:
        reason = NOT_IN_A_UNIT.get(option.split("=", 1)[0])
        if reason:
            raise Refused(f"{option} cannot be given: {reason}")
    make_token = (f"make it with: install -d -m 0700 {unit.token_file.parent} && "
                  f"(umask 077; {unit.command} token > {unit.token_file})")
    check_secret(unit.token_file, make_token)
    if unit.tls_key is not None:
        check_secret(unit.tls_key, "give the certificate's private key")
    sources = unit.credentials()
    config = parse_launcher_config(unit.argv(lambda name: str(sources[name]))[2:], service_environment(unit),
                                   prog=f"{prog} (an option for perfmon run)", collectors=registry.names())
    try:
        config.api.security.server_context()
    except ValueError as exc:
        raise Refused(str(exc)) from None
    return unit


def service_environment(unit: Unit) -> dict[str, str]:
    """The variables the unit sets (``Environment=``): the service sees these and no others of ours."""
    settings = (line.removeprefix("Environment=") for line in unit.render().splitlines()
                if line.startswith("Environment="))
    return dict(setting.split("=", 1) for setting in settings)




def write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` at once (mode 0644, as unit files are), never half written."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.chmod(0o644)
    os.replace(partial, path)


def next_steps(path: Path, replaced: bool) -> str:
    """What to run once the unit is written."""
    name = path.name
    start = f"systemctl daemon-reload && systemctl {'restart' if replaced else 'enable --now'} {path.stem}"
    if path.parent != DEFAULT_OUTPUT.parent:
        return f"next: install -m 0644 {path} {DEFAULT_OUTPUT.parent / name} && {start}"
    return f"next: {start}"


def main(argv: Sequence[str], prog: str = "perfmon install-unit") -> int:
    """Check, then write (or print) the unit; exit 2 with one line when it would not work."""
    options = install_unit_parser(prog)
    apply_env_defaults(options, os.environ)
    args, run_options = options.parse_known_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        options.error("--tls-cert and --tls-key go together")
    try:
        command = Installation.running().command()
        cert, key = (path and path.absolute() for path in (args.tls_cert, args.tls_key))
        alerts = args.alerts_file and args.alerts_file.absolute()
        unit = Unit(command, args.token_file.absolute(), args.host, cert, key, tuple(run_options), alerts,
                    rules_files(alerts) if alerts else ())
        checked(unit, prog)
    except Refused as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    if args.stdout:
        sys.stdout.write(unit.render())
        return 0
    replaced = args.output.exists()
    try:
        write(args.output, unit.render())
    except OSError as exc:
        print(f"{prog}: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 1
    done = "replaced" if replaced else "wrote"
    rules = f", the alerts rules from {alerts}" if alerts else ""
    print(f"{done} {args.output}: {command} run, the token from {unit.token_file}{rules}")
    print(next_steps(args.output, replaced))
    return 0
