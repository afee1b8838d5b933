"""The PERFMON_* environment as an entry point reads it, and one warning for each variable it ignores.

A misspelt variable (``PERFMON_INTERVALL``) or one meant for another entry point
(``PERFMON_PORT`` is the API server's; ``perfmon run`` reads ``PERFMON_API_PORT``) would
otherwise be ignored in silence, and the user would wonder why the setting does nothing.
What an entry point reads is recorded while its settings are built, and what the others
read comes from their parsers, so a new option is known everywhere without a list kept by hand.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Iterable, Iterator, Mapping

from perfmon.settings.options import ENV_PREFIX, env_name


class Environment(Mapping[str, str]):
    """A read-only view of the environment that remembers every name looked up in it."""

    def __init__(self, source: Mapping[str, str]) -> None:
        self._source = source
        self.looked_up: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.looked_up.add(name)
        return self._source[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self.looked_up.add(name)
        return name in self._source

    def __iter__(self) -> Iterator[str]:
        return iter(self._source)

    def __len__(self) -> int:
        return len(self._source)


def option_variables(parser: argparse.ArgumentParser) -> set[str]:
    """The PERFMON_* variables behind a parser's options."""
    return {env_name(action.dest) for action in parser._actions
            if action.option_strings and action.dest != "help"}


def unread_variables(environ: Environment, elsewhere: Iterable[str], prog: str) -> list[str]:
    """A warning for each PERFMON_* variable that is set but was never read, naming the closest one read."""
    read = sorted(name for name in environ.looked_up if name.startswith(ENV_PREFIX))
    known = set(read) | set(elsewhere)
    warnings = []
    for name in sorted(name for name in environ if name.startswith(ENV_PREFIX) and name not in read):
        what = f"is not read by {prog}" if name in known else "is not a perfmon variable"
        closest = closest_name(name, read)
        hint = f"did you mean {closest}?" if closest else f"'{prog} --help' lists the options"
        warnings.append(f"{name} {what}; {hint}")
    return warnings


def closest_name(name: str, names: Iterable[str]) -> str | None:
    """The name most like ``name`` after the shared prefix (which would make every pair look alike)."""
    by_rest = {known[len(ENV_PREFIX):]: known for known in names}
    closest = difflib.get_close_matches(name[len(ENV_PREFIX):], list(by_rest), n=1, cutoff=0.6)
    return by_rest[closest[0]] if closest else None
