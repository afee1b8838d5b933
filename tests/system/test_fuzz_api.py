"""Schemathesis against a real API server process, driven by the OpenAPI document that server serves.

Every operation of ``/api/openapi.json`` (each route's GET, and the other methods it refuses) is
fuzzed twice: with the Bearer token and without any Authorization header. Positive cases follow
the document, negative ones break it on purpose (wrong types, out of bounds, repeated values)
for every operation with query parameters. Each answer must conform to the document (status,
content type, body schema, headers), no answer may be a 5xx, documented-invalid input must be
refused, and, without the token, nothing but ``/api/health``'s status may come back. Then the
server's log must hold no traceback.

Long-polls cannot make cases slow: the server samples every 0.25 s and every long-poll ends at
the next sample, so the documented ``wait`` (up to 60 s) is fuzzed whole and costs at most an
interval; a request timeout of 10 s turns a hang into a failure rather than a stuck run.

Numbers in positive cases are spelled as the document says clients must (plain decimals, at
most 9 digits after the point): hypothesis' floats (``4.5e-29``, ``28.984902276337056``) are
valid JSON Schema numbers the server refuses by design, and negative cases send those anyway.
Generation is derandomized (a fixed seed per test), so a failure reproduces run after run.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.errors import FailureGroup

from perfmon.api.app import ANONYMOUS, ROUTES
from tests.support.processes import Running, free_port, wait_until_healthy

TOKEN = "fuzz-" + "0123456789abcdef" * 2
AUTH = {"Authorization": f"Bearer {TOKEN}"}
INTERVAL_SECONDS = "0.25"
MAX_LINE_BYTES = 8190  # the longest request line aiohttp's parser reads
REQUEST_TIMEOUT_SECONDS = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
# Cases per operation: (token sent, mode) -> max_examples. Hypothesis stops earlier for an operation
# with nothing to vary (a GET without parameters, a refused POST).
BUDGET = {(True, GenerationMode.POSITIVE): 60, (True, GenerationMode.NEGATIVE): 30,
          (False, GenerationMode.POSITIVE): 8, (False, GenerationMode.NEGATIVE): 5}
CONFIG = schemathesis.Config.from_dict({"generation": {
    "with-security-parameters": False,  # the token is ours to send (or not), never a generated one
    "allow-extra-parameters": False,  # unknown parameters are ignored by design, not refused
    "allow-x00": False,
}})


@dataclass
class Tally:
    """What was sent and what came back, and every check that failed."""

    cases: Counter[tuple[bool, str, str]] = field(default_factory=Counter)  # (token, mode, operation)
    statuses: Counter[tuple[bool, int]] = field(default_factory=Counter)
    sent_parameters: set[tuple[str, str]] = field(default_factory=set)  # (path, name) sent with the token
    failures: dict[str, str] = field(default_factory=dict)  # first line of each distinct failure: details

    def total(self, token: bool) -> int:
        return sum(n for (sent, _, _), n in self.cases.items() if sent is token)

    def fail(self, title: str, details: str) -> None:
        self.failures.setdefault(title, details)


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[Running, str]]:
    """A real server with a token and history on disk, once its first sample (and process scan) is out."""
    port = free_port()
    env = {**os.environ, "PERFMON_TOKEN": TOKEN, "PERFMON_INTERVAL": INTERVAL_SECONDS}
    with Running("performance_api_server.py", "--port", str(port), env=env) as server:
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(f"{base}/api/health", server.proc)  # 200: a sample was published
        yield server, base


def plain_decimal(value: float) -> str:
    """A number as the document says to write it: ASCII digits, at most 9 after the point."""
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def spell_numbers(case: schemathesis.Case) -> None:
    """Write a positive case's floats as plain decimals (see the module docstring)."""
    if case.query:
        for name, value in case.query.items():
            if isinstance(value, float):
                case.query[name] = plain_decimal(value)


def check_answer(case: schemathesis.Case, response: requests.Response, token: bool) -> str | None:
    """What the document cannot say: no 5xx at all once sampling runs, and nothing without the token."""
    status, path = response.status_code, case.operation.path
    if status >= 500:
        return f"{status} from {case.operation.label}: {response.text[:300]}"
    if token and status in (401, 429):
        return f"{status} with the right token from {case.operation.label}: {response.text[:300]}"
    if not token:
        if parser_refused(response):  # refused before any route (and its token check) ran: says nothing
            return None
        if path not in ANONYMOUS or case.method.upper() != "GET":
            return None if status == 401 else f"{status} without a token from {case.operation.label}"
        if set(json.loads(response.content)) != {"status"}:
            return f"{case.operation.label} without a token said more than its status: {response.text[:300]}"
    return None


def parser_refused(response: requests.Response) -> bool:
    """Whether the HTTP parser refused the request for a line longer than it reads (aiohttp's 8190
    bytes), which is answered before routing, so before the token is looked at, and names nothing."""
    line = len(f"{response.request.method} {response.request.path_url} HTTP/1.1")
    return response.status_code == 400 and line > MAX_LINE_BYTES and response.json() == {"error": {
        "status": 400, "message": f"malformed HTTP request: a request line or header is longer than "
                                  f"{MAX_LINE_BYTES} bytes"}}


def fuzz(operation: schemathesis.APIOperation, mode: GenerationMode, token: bool, base: str,
         session: requests.Session, tally: Tally) -> None:
    """Generate this operation's cases in ``mode``, send each, and check each answer."""
    checks = [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS
    headers = AUTH if token else None

    @settings(max_examples=BUDGET[(token, mode)], derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        if mode is GenerationMode.POSITIVE:
            spell_numbers(case)
        if token:
            tally.sent_parameters.update((operation.path, name) for name in case.query or {})
        response = case.call(base_url=base, session=session, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS)
        tally.cases[(token, mode.value, operation.label)] += 1
        tally.statuses[(token, response.status_code)] += 1
        if (problem := check_answer(case, response, token)) is not None:
            tally.fail(problem.splitlines()[0], f"{problem}\n{case.as_curl_command(headers=headers)}")
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                where = f"{operation.label} ({mode.value}, token: {token})"
                tally.fail(f"{where}: {failure.code} {failure.title}",
                           f"{failure}\n{case.as_curl_command(headers=headers)}")

    run()


def test_every_operation_conforms_with_and_without_the_token(
    api: tuple[Running, str], record_property: Any
) -> None:
    server, base = api
    # Loaded from the bytes, not with from_url: schemathesis leaves out the operation its document
    # came from unless told otherwise, and GET /api/openapi.json is to be fuzzed like the others.
    served = requests.get(f"{base}/api/openapi.json", headers=AUTH, timeout=REQUEST_TIMEOUT_SECONDS)
    assert served.status_code == 200, served.text
    schema = schemathesis.openapi.from_dict(served.json(), config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations if op.method.upper() == "GET"} == {path for path, _ in ROUTES}
    tally = Tally()
    with requests.Session() as session:
        for token in (True, False):
            for operation in operations:
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    if mode is GenerationMode.POSITIVE or len(operation.query):
                        fuzz(operation, mode, token, base, session, tally)
    summary = (f"{tally.total(True)} cases with token, {tally.total(False)} without, over "
               f"{len(operations)} operations; statuses: {dict(sorted(tally.statuses.items()))}")
    record_property("schemathesis_cases", summary)
    print(summary)
    assert not tally.failures, "\n\n".join(f"{title}\n{details}" for title, details in tally.failures.items())
    documented = {(op.path, p.name) for op in operations for p in op.query}
    assert documented <= tally.sent_parameters, f"never sent: {documented - tally.sent_parameters}"
    assert tally.statuses[(True, 200)] and tally.statuses[(True, 400)] and tally.statuses[(True, 304)]
    log = server.stderr()
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
