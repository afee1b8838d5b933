"""The OpenAPI descriptions of the paths with more than one form: history and health."""

from __future__ import annotations

from perfmon.api.endpoints.history import PARAMETERS as HISTORY_PARAMETERS
from perfmon.api.endpoints.openapi_parts import JSON, PathDoc, header, json_content, ref


def history_doc() -> PathDoc:
    """/api/history: two forms, two formats."""
    either = {"oneOf": [ref("schemas", "HistoryTail"), ref("schemas", "HistoryRange")]}
    return PathDoc(
        "Two forms that cannot be mixed (400 names the parameter that mixes them): the live tail by "
        "cursor (`since`, `limit`, `wait`) or a time range (`start`, `end`, `points`), as JSON "
        "columns or as a CSV download (`format`).",
        {"description": "rows as columns (tail) or buckets (range); CSV with `format=csv`",
         "content": {JSON: {"schema": either}, "text/csv": {"schema": {"type": "string"}}},
         "headers": {"Content-Disposition": header("with format=csv: the file name to save as",
                                                   {"type": "string"}, required=False)}},
        HISTORY_PARAMETERS, unavailable="when too many long-polls wait, or the server is stopping")


def health_doc() -> PathDoc:
    """/api/health: the same body with 200 (fresh) and 503 (starting or stale)."""
    answer = json_content({"oneOf": [ref("schemas", "Health"), ref("schemas", "HealthStatus")]})
    return PathDoc(
        "Liveness and freshness of the sampler, for load balancers and monitoring: 200 while samples are "
        "fresh, 503 (same body) while starting or stale. Without any Authorization header on a server "
        "with a token, the status alone; a wrong token is still a 401.",
        {"description": "status ok", "content": answer}, unhealthy="starting or stale", anonymous=True)
