"""/api/health's bytes joined from parts: exactly what json.dumps of the whole answer makes."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import make_mocked_request
from hypothesis import given, settings
from hypothesis import strategies as st

from perfmon.api.endpoints.health_answer import HealthAnswers, store_json
from perfmon.store.base import SalvageReport, StoreStatus

SALVAGE = SalvageReport(
    at=1_700_000_000.5,
    damaged_file="/var/lib/perfmon/h.damaged",
    problem="bad page",
    kept_rows=10,
    lost_rows=2,
    lost_rows_exact=False,
    lost_spans=((1.0, 2.0), (None, 3.5)),
)
seconds = st.none() | st.floats(min_value=0, max_value=1e10, allow_nan=False).map(lambda x: round(x, 3))
counts = st.none() | st.integers(min_value=0, max_value=2**53)
stores = st.builds(
    StoreStatus,
    path=st.none() | st.text(max_size=40),
    size_bytes=st.none() | st.integers(0, 2**40),
    oldest_timestamp=seconds,
    status=st.sampled_from(["memory", "ok", "degraded", "salvaged", "damaged"]),
    error=st.none() | st.text(max_size=60),
    salvaged=st.none() | st.just(SALVAGE),
)


collector_runs = st.dictionaries(st.sampled_from(["cpu", "disks", "processes"]), st.fixed_dictionaries({
    "enabled": st.booleans(), "last_duration_seconds": seconds, "last_success": st.none() | st.booleans(),
    "last_error": st.none() | st.text(max_size=30)}))
COLLECTORS = {"cpu": {"enabled": True, "last_duration_seconds": 0.002, "last_success": True,
                      "last_error": None}}


def whole(payload: dict[str, Any], store: StoreStatus, collectors: dict[str, Any]) -> bytes:
    """What the handler sent before: json.dumps of the whole answer."""
    return json.dumps(
        {**payload, "store": store_json(store), "collectors": collectors}, separators=(",", ":"),
        allow_nan=False).encode()


@settings(max_examples=60, deadline=None)  # a shared machine: no per-example deadline
@given(
    status=st.sampled_from(["ok", "stale", "starting"]),
    uptime=st.floats(0, 1e9).map(lambda x: round(x, 3)),
    age=seconds,
    seq=counts,
    samples=st.integers(0, 10**6),
    waiters=st.integers(0, 10**6),
    interval=st.sampled_from([0.1, 1.0, 2.5, 3600.0]),
    store=stores,
    instance=st.text(min_size=1, max_size=16),
    collectors=collector_runs,
)
def test_the_bytes_are_json_dumps_of_the_whole_answer(
    status: str,
    uptime: float,
    age: float | None,
    seq: int | None,
    samples: int,
    waiters: int,
    interval: float,
    store: StoreStatus,
    instance: str,
    collectors: dict[str, Any],
) -> None:
    answers = HealthAnswers('0.2.0 "dev"', instance, interval)
    payload = {
        "status": status,
        "version": '0.2.0 "dev"',
        "instance_id": instance,
        "uptime_seconds": uptime,
        "last_sample_age_seconds": age,
        "latest_seq": seq,
        "interval_seconds": interval,
        "samples_in_memory": samples,
        "long_poll_waiters": waiters,
    }
    numbers = (uptime, age, seq, samples, waiters)
    assert answers.body(status, numbers, store, collectors) == whole(payload, store, collectors)


def test_the_collectors_part_is_made_again_for_each_published_mapping() -> None:
    answers = HealthAnswers("1", "abc", 1.0)
    numbers = (1.5, 0.25, 3, 3, 0)
    store = StoreStatus(path=None, size_bytes=None, oldest_timestamp=None, status="memory")
    first = {"cpu": {"enabled": True, "last_duration_seconds": 0.5}}
    assert json.loads(answers.body("ok", numbers, store, first))["collectors"] == first
    second = {"cpu": {"enabled": True, "last_duration_seconds": 0.25}}
    assert json.loads(answers.body("ok", numbers, store, second))["collectors"] == second


def test_the_counts_after_the_age_are_written_again_when_they_change() -> None:
    answers = HealthAnswers("1", "abc", 1.0)
    store = StoreStatus(path=None, size_bytes=None, oldest_timestamp=None, status="memory")
    for numbers in [(1.5, 0.25, 3, 3, 0), (1.5, 0.25, 3, 3, 2), (1.5, 0.25, 4, 3, 2), (1.5, 0.25, 4, 4, 2),
                    (2.5, 0.5, 4, 4, 2)]:
        uptime, age, seq, samples, waiters = numbers
        assert json.loads(answers.body("ok", numbers, store, COLLECTORS)) | {"store": None} == {
            "status": "ok", "version": "1", "instance_id": "abc", "uptime_seconds": uptime,
            "last_sample_age_seconds": age, "latest_seq": seq, "interval_seconds": 1.0,
            "samples_in_memory": samples, "long_poll_waiters": waiters, "store": None,
            "collectors": COLLECTORS}


def test_a_changed_store_is_serialised_again() -> None:
    answers = HealthAnswers("1", "abc", 1.0)
    numbers = (1.5, 0.25, 3, 3, 0)
    first = StoreStatus(path="/h", size_bytes=4096, oldest_timestamp=1.0, status="ok")
    assert json.loads(answers.body("ok", numbers, first, COLLECTORS))["store"]["size_bytes"] == 4096
    grown = StoreStatus(
        path="/h", size_bytes=8192, oldest_timestamp=1.0, status="degraded", error="disk full"
    )
    assert json.loads(answers.body("ok", numbers, grown, COLLECTORS))["store"] == store_json(grown)


def test_a_big_answer_is_gzipped_for_a_client_that_accepts_it() -> None:
    answers = HealthAnswers("1", "abc", 1.0)
    numbers = (1.5, 0.25, 3, 3, 0)
    store = StoreStatus(path="/h", size_bytes=1, oldest_timestamp=1.0, status="degraded", error="x" * 2000)
    request = make_mocked_request("GET", "/api/health", headers={"Accept-Encoding": "gzip"})
    response = answers.response(request, 200, answers.body("ok", numbers, store, COLLECTORS))
    assert response.headers["Vary"] == "Accept-Encoding" and response.compression
    assert isinstance(response.body, bytes) and json.loads(response.body)["store"] == store_json(store)
    memory = StoreStatus(path=None, size_bytes=None, oldest_timestamp=None, status="memory")
    small = answers.response(request, 200, answers.body("ok", numbers, memory, COLLECTORS))
    assert not small.compression and small.headers["Content-Type"] == "application/json"
    assert small.headers["Cache-Control"] == "no-cache" and small.headers["X-Frame-Options"] == "DENY"


class CountingStore:
    """A store whose status() is counted and can change."""

    def __init__(self) -> None:
        self.calls = 0
        self.size = 100
        self.held = 3

    def status(self) -> StoreStatus:
        self.calls += 1
        return StoreStatus(path="/h", size_bytes=self.size, oldest_timestamp=None, status="ok", error=None,
                           salvaged=None)

    def __len__(self) -> int:
        return self.held


def test_the_store_is_read_once_a_sample_and_again_with_the_next() -> None:
    answers = HealthAnswers("1.0", "i", 1.0)
    store = CountingStore()
    first = [answers.store_status(store, 7) for _ in range(5)]  # type: ignore[arg-type]
    assert store.calls == 1 and {(s.size_bytes, n) for s, n in first} == {(100, 3)}
    store.size, store.held = 250, 4
    assert answers.store_status(store, 7)[0].size_bytes == 100  # type: ignore[arg-type]  # as read with it
    status, held = answers.store_status(store, 8)  # type: ignore[arg-type]
    assert (status.size_bytes, held, store.calls) == (250, 4, 2)
    store.held = 5
    assert answers.store_status(store, None)[1] == 5  # type: ignore[arg-type]  # no sample yet: every time
    assert answers.store_status(store, None)[1] == 5 and store.calls == 4  # type: ignore[arg-type]
