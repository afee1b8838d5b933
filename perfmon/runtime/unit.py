"""The systemd unit that runs perfmon as a service: one template, this installation's paths.

Why it is written, not copied: ExecStart must name the ``perfmon`` of the virtual environment
that will run it (Debian 12's pip refuses the system Python, so there is no fixed
/usr/local/bin/perfmon), and the secrets it names are handed over as credentials. The template
is package data beside this module; ``deploy/perfmon.service`` is it written for /opt/perfmon
(a test holds the two equal), so there is one source of truth. A rules file is handed over as
``alerts.yml``, and each file it names by that file's path (perfmon.alerts.credentials), where
the service looks for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from perfmon.alerts.credentials import credential_name
from perfmon.settings.unit_options import DEFAULT_HOST, DEFAULT_TOKEN_FILE

TEMPLATE = "perfmon.service"
DEFAULT_COMMAND = Path("/opt/perfmon/bin/perfmon")
CREDENTIALS_DIRECTORY = "${CREDENTIALS_DIRECTORY}"
PLAIN_WORD = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")  # needs no quoting on a systemd command line


@dataclass(frozen=True)
class Unit:
    """What one installation's unit says: its command, where the secrets come from, its options."""

    command: Path = DEFAULT_COMMAND  # the perfmon console script of the virtual environment
    token_file: Path = DEFAULT_TOKEN_FILE  # LoadCredential's source of the token
    host: str = DEFAULT_HOST
    tls_cert: Path | None = None
    tls_key: Path | None = None
    options: tuple[str, ...] = ()  # more `perfmon run` options, as given
    alerts_file: Path | None = None  # the rules file (credential alerts.yml)
    alerts_files: tuple[Path, ...] = ()  # the files it names, each a credential named by its path

    def credentials(self) -> dict[str, Path]:
        """Each credential's name and the file systemd reads it from (as root, at every start)."""
        found = {"token": self.token_file}
        if self.tls_cert is not None and self.tls_key is not None:
            found |= {"tls.crt": self.tls_cert, "tls.key": self.tls_key}
        if self.alerts_file is not None:
            found["alerts.yml"] = self.alerts_file
        return found | {credential_name(path): path for path in self.alerts_files}

    def argv(self, credential: Callable[[str], str] | None = None) -> list[str]:
        """The service's command line; ``credential(name)`` says where a credential is read from."""
        where = credential or (lambda name: f"{CREDENTIALS_DIRECTORY}/{name}")
        argv = [str(self.command), "run", "--host", self.host, "--token-file", where("token")]
        if "tls.crt" in self.credentials():
            argv += ["--tls-cert", where("tls.crt"), "--tls-key", where("tls.key")]
        if self.alerts_file is not None:
            argv += ["--alerts-file", where("alerts.yml")]
        return [*argv, *self.options]

    def exec_start(self) -> str:
        """ExecStart's value: the command line quoted for systemd, the credentials' paths left to it."""
        words = self.argv(lambda name: "\0" + name)  # a marker no option can hold
        return " ".join(f"{CREDENTIALS_DIRECTORY}/{word[1:]}" if word.startswith("\0") else quoted(word)
                        for word in words)

    def render(self) -> str:
        """The unit file's text."""
        load = "\n".join(f"LoadCredential={credential_word(name)}:{specifiers_escaped(str(path))}"
                         for name, path in self.credentials().items())
        text = files("perfmon.runtime").joinpath(TEMPLATE).read_text(encoding="utf-8")
        return text.replace("@EXEC_START@", self.exec_start()).replace("@LOAD_CREDENTIALS@", load)


def specifiers_escaped(text: str) -> str:
    """``text`` with systemd's ``%`` specifiers escaped (``%%``)."""
    return text.replace("%", "%%")


def credential_word(name: str) -> str:
    """A credential's name written for LoadCredential=, which takes a backslash as escaping the next
    character (``\\x2d`` as it is would be read ``x2d``) and ends the name at the first ':'."""
    return specifiers_escaped(name).replace("\\", "\\\\").replace(":", "\\:")


def quoted(word: str) -> str:
    """One word of a systemd command line as systemd will split it back (systemd.service, "Command lines")."""
    word = specifiers_escaped(word).replace("$", "$$")  # no specifier, no variable expansion
    if PLAIN_WORD.fullmatch(word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
