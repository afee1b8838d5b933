"""Where to read a file the rules file names (a channel's secret, a CA), systemd credentials included.

A hardened service cannot read root's files: ``perfmon install-unit`` has systemd copy each one
the rules file names into ``$CREDENTIALS_DIRECTORY`` at every start (``LoadCredential=``), named
by its absolute path as ``systemd-escape --path`` writes it (/etc/perfmon/hook.secret becomes
``etc-perfmon-hook.secret``: a credential's name holds no '/'). The rules file keeps the paths a
person wrote; :func:`located` is the one place that turns such a path into the file to read, so
the check at start and the senders always read the same file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

CREDENTIALS_VARIABLE = "CREDENTIALS_DIRECTORY"  # set by systemd for a unit with credentials
KEPT = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:_.")  # as systemd keeps


def credential_name(path: str | os.PathLike[str]) -> str:
    """``path``'s name as ``systemd-escape --path`` writes it: the path simplified (no empty or ``.``
    parts), '/' between its parts as '-', and each byte other than letters, digits, ':', '_' and '.'
    (and a leading '.') as ``\\xNN``. ValueError for a relative path or one with '..' (systemd
    refuses to escape those)."""
    text = os.fspath(path)
    if not text.startswith("/"):
        raise ValueError(f"{text} is not an absolute path")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"{text} has a '..' in it")
    if not parts:
        return "-"
    escaped = []
    for index, byte in enumerate(os.fsencode("/".join(parts))):
        if byte == ord("/"):
            escaped.append("-")
        elif byte in KEPT and not (index == 0 and byte == ord(".")):
            escaped.append(chr(byte))
        else:
            escaped.append(f"\\x{byte:02x}")
    return "".join(escaped)


def located(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Path:
    """The file to read for ``path``: its credential, when ``$CREDENTIALS_DIRECTORY`` holds a file by
    the name :func:`credential_name` gives it; else ``path`` itself."""
    directory = (os.environ if environ is None else environ).get(CREDENTIALS_VARIABLE)
    if directory:
        try:
            candidate = Path(directory) / credential_name(path)
            if stat.S_ISREG(candidate.stat().st_mode):
                return candidate
        except (ValueError, OSError):  # no name for it, or no such credential: the path as given
            pass
    return Path(path)
