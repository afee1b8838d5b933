"""One server per data directory: an advisory lock next to the database, held while it runs.

Two servers writing one history file would interleave two instances' samples and fight
over the write lock; the second one is refused at start instead, in one line.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO

from perfmon.store.base import StoreError

try:
    import fcntl
except ImportError:  # not POSIX: no advisory locks, the database's own locking remains
    fcntl = None  # type: ignore[assignment]


class DirectoryLock:
    """An exclusive ``flock`` on ``<database>.lock``, released by release() or at process exit."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> DirectoryLock:
        """Take the lock, or raise StoreError naming the directory and the holder's pid."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+")
        except OSError as exc:
            raise StoreError(f"cannot use {self.path.parent} for history: {exc.strerror or exc} "
                             "(pass --data-dir DIR, or --data-dir none for memory only)") from None
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                handle.close()
                raise StoreError(f"another perfmon server (pid {holder}) keeps its history in "
                                 f"{self.path.parent}: stop it or pass another --data-dir") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        """Let another server use the directory."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()  # closing drops the flock
            self._file = None
