"""History on disk with the real server process: kept across a restart and a kill -9, real gaps,
a damaged file salvaged and served, and the startup errors a user meets (a directory it may not
write, a file from a newer perfmon, a file too short to be a database)."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

from tests.integration.test_openapi import assert_conforms
from tests.integration.test_sqlite_file import bulk_database, damage
from tests.support.processes import Running, free_port, get_json, wait_for, wait_until_healthy

SCRIPT = "performance_api_server.py"
DATABASE = "history.sqlite3"


def serve(data_dir: Path, port: int, *args: str) -> Running:
    env = {**os.environ, "PERFMON_DATA_DIR": str(data_dir)}
    return Running(SCRIPT, "--port", str(port), "--interval", "0.2", *args, env=env)


def latest_seq(base: str) -> int:
    return int(get_json(f"{base}/api/health")[1]["latest_seq"] or 0)


def newest_raw_time(database: Path) -> float:
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (newest,) = conn.execute("SELECT max(t) FROM raw").fetchone()
    return float(newest) / 1000


def newest_committed(database: Path) -> float | None:
    """The newest sample in the file (as a reader sees it: committed rows only), in seconds."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        (newest,) = conn.execute("SELECT max(t) FROM raw").fetchone()
    return None if newest is None else float(newest) / 1000


def lags(base: str, database: Path, seconds: float) -> list[float]:
    """For ``seconds``, how far the file's newest sample trails the newest one served, polled."""
    seen: list[float] = []
    until = time.monotonic() + seconds

    def poll() -> bool:
        served = float(get_json(f"{base}/api/history?limit=1")[1]["series"]["timestamp"][-1])
        committed = newest_committed(database)  # read after: it can only have grown meanwhile
        if committed is not None:
            seen.append(served - committed)
        return time.monotonic() > until

    wait_for(poll, f"{seconds} s of polls", timeout=seconds + 30)
    return seen


def test_kill_9_loses_at_most_the_commit_interval_and_a_restart_shows_the_real_gap(tmp_path: Path) -> None:
    port, commit_seconds = free_port(), 2.0
    base = f"http://127.0.0.1:{port}"
    with serve(tmp_path, port, "--commit-interval", f"{commit_seconds:g}", "--journal-dir", "none") as server:
        wait_until_healthy(f"{base}/api/health", server.proc)
        wait_for(lambda: newest_committed(tmp_path / DATABASE) is not None, "a first commit", timeout=20)
        seen = lags(base, tmp_path / DATABASE, 4 * commit_seconds)  # what a kill at each poll would lose
        # samples do wait, at most the interval (timestamps are taken a few ms before the writer has them)
        assert commit_seconds / 2 <= max(seen) <= commit_seconds + 0.05, seen
        before = float(get_json(f"{base}/api/history?limit=1")[1]["series"]["timestamp"][-1])
        committed = newest_committed(tmp_path / DATABASE)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(10)
    newest = newest_raw_time(tmp_path / DATABASE)
    assert committed is not None and committed <= newest and before - newest <= commit_seconds + 0.05
    killed_at = time.time()
    down_until = time.time() + 1.5  # stay down a while: the gap must show
    wait_for(lambda: time.time() > down_until, "downtime to pass")
    with serve(tmp_path, port) as again:
        health = wait_until_healthy(f"{base}/api/health", again.proc)
        assert health["store"]["status"] == "ok" and health["store"]["path"].endswith(DATABASE)
        wait_for(lambda: latest_seq(base) >= 5, "5 new samples")
        start = before - 3
        status, body = get_json(f"{base}/api/history?start={start:.3f}&end={time.time():.3f}&points=400")
        assert status == 200 and body["tier"] == "raw"
        values = list(zip(body["series"]["timestamp"], body["series"]["cpu_percent"], strict=True))
        assert any(v is not None for t, v in values if t < killed_at - 0.5)  # from before the kill
        assert any(v is not None for t, v in values if t > down_until)  # from after the restart
        assert all(v is None for t, v in values if killed_at + 0.2 < t < down_until - 0.5)  # the gap
        assert again.stop() == 0
        assert "Traceback" not in again.stderr()


def test_kill_9_with_the_journal_loses_no_sample_though_the_file_waits_minutes_for_it(tmp_path: Path) -> None:
    journals = Path("/dev/shm") / f"perfmon-test-{tmp_path.name}"  # a real tmpfs
    journals.mkdir(mode=0o700)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        with serve(tmp_path, port, "--journal-dir", str(journals)) as server:
            wait_until_healthy(f"{base}/api/health", server.proc)
            wait_for(lambda: latest_seq(base) >= 10, "10 samples")
            (journal,) = journals.iterdir()
            assert journal.stat().st_mode & 0o777 == 0o600
            served = latest_seq(base)
            wait_for(lambda: len(journal.read_text().splitlines()) >= served, "the samples in the journal")
            assert committed_seq(tmp_path / DATABASE) == 0  # the file waits (300 s by default)
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait(10)
        assert journal.exists() and committed_seq(tmp_path / DATABASE) == 0
        with serve(tmp_path, port, "--journal-dir", str(journals)) as again:
            wait_until_healthy(f"{base}/api/health", again.proc)
            wait_for(lambda: committed_seq(tmp_path / DATABASE) >= served, "the killed run's samples stored")
            assert again.stop() == 0
            assert "samples recovered from the journal" in again.stderr()
            assert "Traceback" not in again.stderr()
        assert not journal.exists()  # a clean stop commits everything and removes it
        with sqlite3.connect(tmp_path / DATABASE) as conn:
            first_run = [seq for (seq,) in conn.execute(
                "SELECT seq FROM raw WHERE instance = (SELECT min(id) FROM instances) ORDER BY seq")]
        assert first_run == list(range(1, len(first_run) + 1)) and len(first_run) >= served  # none lost
    finally:
        for left in journals.iterdir():
            left.unlink()
        journals.rmdir()


def committed_seq(database: Path) -> int:
    """The newest seq in the file (committed rows only)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT coalesce(max(seq), 0) FROM raw").fetchone()[0])


def test_sigterm_writes_every_sample_still_waiting_for_its_commit(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serve(tmp_path, port, "--commit-interval", "60") as server:
        wait_until_healthy(f"{base}/api/health", server.proc)
        wait_for(lambda: latest_seq(base) >= committed_seq(tmp_path / DATABASE) + 10, "10 samples waiting")
        served = latest_seq(base)
        assert server.stop() == 0
        assert "Traceback" not in server.stderr()
    assert committed_seq(tmp_path / DATABASE) >= served


def test_an_unwritable_data_dir_is_one_line_and_exit_1(tmp_path: Path) -> None:
    unwritable = Path("/sys") / f"perfmon-{tmp_path.name}"  # even root may not make a directory in sysfs
    with serve(unwritable, free_port()) as server:
        assert server.proc.wait(20) == 1
        lines = [line for line in server.stderr().splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error:")]
        assert len(errors) == 1 and str(unwritable) in errors[0], lines
        assert "Traceback" not in server.stderr()


def test_a_database_from_a_newer_perfmon_is_refused_with_exit_1(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / DATABASE) as conn:
        conn.execute("PRAGMA user_version = 999")
    with serve(tmp_path, free_port()) as server:
        assert server.proc.wait(20) == 1
        errors = [line for line in server.stderr().splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "newer" in errors[0] and "999" in errors[0], server.stderr()


def test_the_launcher_keeps_history_too_and_reports_a_bad_data_dir(tmp_path: Path) -> None:
    unwritable = Path("/sys") / f"perfmon-{tmp_path.name}"  # even root may not make a directory in sysfs
    env = {**os.environ, "PERFMON_DATA_DIR": str(unwritable)}
    with Running("run_http_polling_system.py", "--api-port", "0", "--dashboard-port", "0", env=env) as run:
        assert run.proc.wait(30) == 1
        errors = [line for line in run.stderr().splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and str(unwritable) in errors[0], run.stderr()


def test_a_second_server_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    port = free_port()
    with serve(tmp_path, port) as first:
        wait_until_healthy(f"http://127.0.0.1:{port}/api/health", first.proc)
        with serve(tmp_path, free_port()) as second:
            assert second.proc.wait(20) == 1
            errors = [line for line in second.stderr().splitlines() if line.startswith("error:")]
            assert len(errors) == 1 and f"pid {first.proc.pid}" in errors[0], second.stderr()
        assert first.stop() == 0


def test_a_server_started_on_a_damaged_database_serves_what_was_salvaged(tmp_path: Path) -> None:
    start = int(time.time()) // 60 * 60 - 4 * 3600  # 20,000 samples a second apart, ending 1.5 h ago
    keys = bulk_database(tmp_path / DATABASE, 20_000, start)
    damage(tmp_path / DATABASE, (tmp_path / DATABASE).stat().st_size * 3 // 4)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serve(tmp_path, port) as server:
        health = wait_until_healthy(f"{base}/api/health", server.proc)
        assert health["status"] == "ok" and health["store"]["status"] == "salvaged"  # 200: it serves
        report = health["store"]["salvaged"]
        assert report["kept_rows"] >= 19_500 and 0 < report["lost_rows"] < 500
        assert_conforms(get_json(f"{base}/api/openapi.json")[1], "/api/health", 200, health)
        ((last_read, first_after),) = report["lost_spans"]
        status, body = get_json(f"{base}/api/history?start={start}&end={start + 20_000}&points=200")
        assert status == 200 and body["tier"] == "minute" and None not in body["series"]["cpu_percent"]
        status, body = get_json(f"{base}/api/history?start={last_read - 100}&end={first_after + 100}")
        assert status == 200 and body["tier"] == "raw"
        width = body["resolution_seconds"]
        kept = [k / 1000 for k in keys if last_read - 200 < k / 1000 < first_after + 200
                and not last_read < k / 1000 < first_after]
        for t, value in zip(body["series"]["timestamp"], body["series"]["cpu_percent"], strict=True):
            assert (value is not None) == any(t <= k < t + width for k in kept), (t, value)
        assert server.stop() == 0
        lines = server.stderr().splitlines()
        assert len([line for line in lines if "was damaged" in line and "kept" in line]) == 1, lines
        assert "Traceback" not in server.stderr()


def test_a_database_cut_to_40_bytes_is_replaced_and_the_server_runs(tmp_path: Path) -> None:
    bulk_database(tmp_path / DATABASE, 10, time.time() - 3600)
    (tmp_path / DATABASE).write_bytes((tmp_path / DATABASE).read_bytes()[:40])
    port = free_port()
    with serve(tmp_path, port) as server:
        health = wait_until_healthy(f"http://127.0.0.1:{port}/api/health", server.proc)
        assert health["store"]["status"] == "ok" and health["store"]["salvaged"] is None
        assert server.stop() == 0
        (aside,) = tmp_path.glob(f"{DATABASE}.corrupt-*")
        assert aside.stat().st_size == 40
        log = server.stderr()
    lines = [line for line in log.splitlines() if "not a database" in line]
    assert len(lines) == 1 and str(aside) in lines[0] and "new, empty one" in lines[0], log
    assert "writable" not in log and "Traceback" not in log
