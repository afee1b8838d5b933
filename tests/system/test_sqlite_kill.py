"""A store in a real process killed with SIGKILL: the file it leaves is sound, and reopened it catches up.

Its refusals, migrations and salvage are tests/integration/test_sqlite_file.py's.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.integration.test_sqlite_file import open_store, pragma
from tests.integration.test_sqlite_store import T0
from tests.support.fakes import FakeClock
from tests.support.processes import ROOT

CHILD = """
import sys
from pathlib import Path
from perfmon.store.sqlite.store import SqliteStore
from tests.support.fakes import FakeClock
from tests.integration.test_sqlite_store import T0, fill
clock = FakeClock(T0)
store = SqliteStore(Path(sys.argv[1]), instance_id="killed", interval_seconds=1.0, history_size=100,
                    clock=clock)
fill(store, clock, [T0 + k for k in range(200)])  # 3 minutes and 20 s
assert store.flush(upkeep=False)
print("written", flush=True)
sys.stdin.read()  # until killed
"""


def test_a_store_killed_with_sigkill_reopens_clean_and_catches_up(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "written\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert pragma(path, "integrity_check") == "ok"
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM raw").fetchone()[0] == 200
    clock = FakeClock(T0 + 200)
    store = open_store(path, clock, "after")
    assert store.flush()
    result = store.read_range(T0, T0 + 180, 3)  # three whole minutes, rolled up after the restart
    assert result.tier == "minute" and result.series["cpu_percent_max"] == [59.0, 99.0, 79.0]
    store.close()
