"""Linux pressure stall information: ``/proc/pressure/{cpu,memory,io}``, one row per resource and kind.

The kernel writes (total in microseconds; a kernel before 5.13 has no ``full`` line for cpu)::

    some avg10=0.84 avg60=0.69 avg300=0.85 total=162195257
    full avg10=0.00 avg60=0.00 avg300=0.00 total=63281946

and this collector reads it as ``[{"resource": "io", "kind": "some", "avg10_percent": 0.84,
"avg60_percent": 0.69, "avg300_percent": 0.85, "stalled_seconds_total": 162.195257}, ...]``.
Without ``/proc/pressure`` (no CONFIG_PSI, or not Linux), or when no file can be read (a kernel
booted with ``psi=0`` answers EOPNOTSUPP), the group is null and the reason is in the errors.
The root is injected, so tests read recorded trees (``tests/fixtures/pressure/``).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

from perfmon.sampling.collectors.base import Note

RESOURCES = ("cpu", "memory", "io")
KINDS = ("some", "full")
AVERAGES = (("avg10", "avg10_percent"), ("avg60", "avg60_percent"), ("avg300", "avg300_percent"))
MICROSECONDS = 1e6


class PressureCollector:
    """Stall averages and totals of CPU, memory and I/O from the kernel's PSI files."""

    name = "pressure"
    section = "pressure"

    def __init__(self, root: str | Path = "/proc/pressure") -> None:
        self._root = str(root)
        # the paths made once: a Path per file and sample allocated (and kept, in pathlib's caches) more
        self._files = tuple((resource, os.path.join(self._root, resource)) for resource in RESOURCES)

    def collect(self, note: Note) -> list[dict[str, Any]] | None:
        """Read each resource's file; None (with the reason noted) when there is none to read."""
        if not os.path.isdir(self._root):
            note(f"{self._root} is missing: this kernel reports no pressure stall information "
                 "(Linux 4.20+ with CONFIG_PSI)")
            return None
        rows: list[dict[str, Any]] = []
        unread: list[str] = []
        for resource, path in self._files:
            try:
                text = read_text(path)
            except OSError as exc:
                unread.append(f"{resource}: {reason(exc)}")
                continue
            rows.extend(parse(resource, text, note))
        if unread and not rows:
            note(f"{self._root} cannot be read: {'; '.join(unread)}")
            return None
        for problem in unread:
            note(f"{self._root}/{problem}")
        return rows


def read_text(path: str) -> str:
    """A small kernel file's text, read with one system call (no file object: nothing cached per call)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 4096).decode("ascii", "replace")
    finally:
        os.close(fd)


def reason(exc: OSError) -> str:
    """Why a PSI file could not be read, in words."""
    if exc.errno == errno.EOPNOTSUPP:
        return "not supported (the kernel was booted with psi=0)"
    if exc.errno == errno.ENOENT:
        return "missing"
    return exc.strerror or type(exc).__name__


def parse(resource: str, text: str, note: Note) -> list[dict[str, Any]]:
    """The rows of one PSI file: one per ``some``/``full`` line; a malformed line is noted and left out."""
    rows = []
    for line in text.splitlines():
        kind, _, rest = line.strip().partition(" ")
        if not kind:
            continue
        values = dict(item.partition("=")[::2] for item in rest.split())
        try:
            if kind not in KINDS:
                raise ValueError(f"unknown kind {kind!r}")
            row: dict[str, Any] = {"resource": resource, "kind": kind}
            row.update((name, float(values[key])) for key, name in AVERAGES)
            row["stalled_seconds_total"] = int(values["total"]) / MICROSECONDS
        except (KeyError, ValueError) as exc:
            note(f"{resource}: cannot read the line {line.strip()!r} ({type(exc).__name__}: {exc})")
            continue
        rows.append(row)
    return rows
