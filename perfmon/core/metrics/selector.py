"""Selectors: the one way to name series, for history queries, alert rules, overview columns and charts.

Syntax (a contract: extend it, never break it)::

    group[label=value,label!=value,label=~regex,label!~regex].field

- ``memory.percent``: the field in every row and in the section (here: the section's one series).
- ``disks[mountpoint=/].percent``: the row whose ``mountpoint`` is ``/``.
- ``network[interface!=lo].recv_bytes_per_s``: every interface but ``lo`` (not the section's total:
  a series without the label never matches a matcher on it).
- ``network[].recv_bytes_per_s``: empty brackets, only the section's own series (the total).
- ``disks[mountpoint=/]``: no field, every field history keeps.

A value is bare (letters, digits and ``/_-.:@+%``; after ``=~`` or ``!~``, anything but ``,``, ``]``
and ``"``) or in double quotes with ``\\"`` and ``\\\\`` escapes. ``=~`` and ``!~`` match the whole
value, as in Prometheus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from perfmon.core.metrics.model import PLAIN_VALUE, SeriesKey, quote

Op = Literal["=", "!=", "=~", "!~"]
NAME = re.compile(r"[a-z_][a-z0-9_]*")
MAX_LENGTH = 1000


class SelectorError(ValueError):
    """A selector that cannot be read, or names what does not exist: the message says where and why."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label condition."""

    label: str
    op: Op
    value: str

    def matches(self, value: str | None) -> bool:
        """Whether a series whose label has ``value`` (None: no such label) satisfies it."""
        if value is None:
            return False
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        hit = re.fullmatch(self.value, value) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f"{self.label}{self.op}{quote(self.value)}"


@dataclass(frozen=True, slots=True)
class Selector:
    """A parsed selector: a group, its label matchers (None: no brackets) and a field (None: all)."""

    group: str
    matchers: tuple[Matcher, ...] | None = None
    field: str | None = None

    @classmethod
    def parse(cls, text: str) -> Selector:
        """Read a selector; SelectorError says what is wrong and where."""
        return _Reader(text).selector()

    def matches(self, key: SeriesKey) -> bool:
        """Whether the series ``key`` is one this selector picks."""
        if key.group != self.group or (self.field is not None and key.field != self.field):
            return False
        if self.matchers is None:
            return True
        if not self.matchers:
            return not key.labels
        return all(m.matches(key.label(m.label)) for m in self.matchers)

    def __str__(self) -> str:
        text = self.group
        if self.matchers is not None:
            text += "[" + ",".join(str(m) for m in self.matchers) + "]"
        return text if self.field is None else f"{text}.{self.field}"


class _Reader:
    """A small recursive-descent reader over one selector's text."""

    def __init__(self, text: str) -> None:
        if len(text) > MAX_LENGTH:
            raise SelectorError(f"a selector is at most {MAX_LENGTH} characters")
        self.text = text
        self.at = 0

    def fail(self, why: str) -> SelectorError:
        return SelectorError(f"{why} at character {self.at + 1} of {self.text!r}")

    def name(self, what: str) -> str:
        found = NAME.match(self.text, self.at)
        if not found:
            raise self.fail(f"expected {what} (lower-case letters, digits, _)")
        self.at = found.end()
        return found.group()

    def peek(self, token: str) -> bool:
        if self.text.startswith(token, self.at):
            self.at += len(token)
            return True
        return False

    def selector(self) -> Selector:
        group = self.name("a group name")
        matchers = self.matchers() if self.peek("[") else None
        field = self.name("a field name") if self.peek(".") else None
        if self.at != len(self.text):
            raise self.fail("unexpected text")
        return Selector(group, matchers, field)

    def matchers(self) -> tuple[Matcher, ...]:
        found: list[Matcher] = []
        while not self.peek("]"):
            if found and not self.peek(","):
                raise self.fail("expected ',' or ']'")
            found.append(self.matcher())
        return tuple(found)

    def matcher(self) -> Matcher:
        label = self.name("a label name")
        op: Op | None = next((o for o in ("!=", "=~", "!~", "=") if self.peek(o)), None)
        if op is None:
            raise self.fail("expected one of = != =~ !~")
        regex = op in ("=~", "!~")
        value = self.quoted() if self.peek('"') else self.bare(regex)
        if regex:
            try:
                re.compile(value)
            except re.error as exc:
                raise self.fail(f"not a regular expression ({exc})") from None
        return Matcher(label, op, value)

    def bare(self, regex: bool) -> str:
        start = self.at
        while self.at < len(self.text) and (self.text[self.at] in PLAIN_VALUE if not regex
                                            else self.text[self.at] not in ',]"'):
            self.at += 1
        return self.text[start:self.at]

    def quoted(self) -> str:
        out: list[str] = []
        while self.at < len(self.text):
            char = self.text[self.at]
            self.at += 1
            if char == '"':
                return "".join(out)
            if char == "\\":
                if self.at >= len(self.text):
                    break
                char = self.text[self.at]
                self.at += 1
            out.append(char)
        raise self.fail("a quoted value is not closed")
