"""The OpenAPI descriptions of /api/alerts and /api/alerts/history, and their schemas."""

from __future__ import annotations

from perfmon.alerts.model import SEVERITIES
from perfmon.api.endpoints.alerts import HISTORY_PARAMETERS
from perfmon.api.endpoints.openapi_parts import PathDoc, Schema, json_content, ref

NUMBER_OR_NULL: Schema = {"type": ["number", "null"]}


def alert_schema() -> Schema:
    """One alert: which rule and row, its state, value and levels."""
    text = {"type": "string"}
    return {"type": "object", "additionalProperties": False, "required": [
        "id", "alertname", "state", "severity", "labels", "selector", "value", "operator", "threshold",
        "clear", "unit", "for_seconds", "active_since", "fired_at", "summary"], "properties": {
        "id": {"type": "string", "description": "the rule and the row's key labels: Rule{mountpoint=/}"},
        "alertname": text, "state": {"enum": ["pending", "firing"]}, "severity": {"enum": list(SEVERITIES)},
        "labels": {"type": "object", "additionalProperties": text,
                   "description": "alertname, severity, the row's labels and the rule's own"},
        "selector": {"type": "string", "description": "the rule's selector"},
        "value": {**NUMBER_OR_NULL, "description": "the last value read (divided, with divide_by)"},
        "operator": {"enum": [">", "<"]}, "threshold": {"type": "number"},
        "clear": {"type": "number", "description": "the level it must pass back over to resolve"},
        "unit": text, "for_seconds": {"type": "number"},
        "active_since": {"type": "number", "description": "when its trigger began to hold, Unix seconds"},
        "fired_at": {**NUMBER_OR_NULL, "description": "when it fired (null while pending)"},
        "summary": {"type": ["string", "null"]}}}


def alerts_schema() -> Schema:
    """GET /api/alerts."""
    counts = {"type": "object", "required": list(SEVERITIES),
              "properties": {s: {"type": "integer", "minimum": 0} for s in SEVERITIES}}
    return {"type": "object", "required": ["evaluated_at", "samples_evaluated", "rules", "firing", "alerts"],
            "properties": {"evaluated_at": {**NUMBER_OR_NULL, "description": "the last sample evaluated"},
                           "samples_evaluated": {"type": "integer", "minimum": 0},
                           "rules": {"type": "integer", "minimum": 0}, "firing": counts,
                           "alerts": {"type": "array", "items": ref("schemas", "Alert")}}}


def alerts_history_schema() -> Schema:
    """GET /api/alerts/history: each transition is the alert as it was then, and what happened."""
    transition = alert_schema()
    transition["required"] = [*transition["required"], "at", "kind", "reason"]
    transition["properties"] = {**transition["properties"], "at": {"type": "number"},
                                "kind": {"enum": ["firing", "repeat", "resolved"]},
                                "reason": {"enum": ["cleared", "gone", None],
                                           "description": "why it resolved"}}
    return {"type": "object", "required": ["start", "end", "transitions"],
            "properties": {"start": {"type": "number"}, "end": {"type": "number"},
                           "transitions": {"type": "array", "items": transition}}}


def schemas() -> dict[str, Schema]:
    """The components these paths refer to."""
    return {"Alert": alert_schema(), "Alerts": alerts_schema(), "AlertsHistory": alerts_history_schema()}


def path_docs() -> dict[str, PathDoc]:
    """The two paths."""
    return {
        "/api/alerts": PathDoc(
            "The alerts pending or firing now (one per rule and row), from the rules of --alerts-file or "
            "the built-in ones, evaluated on every sample.",
            {"description": "the alerts", "content": json_content(ref("schemas", "Alerts"))}),
        "/api/alerts/history": PathDoc(
            "What the alerts did over a time range: each time one fired, was told again (repeat) or "
            "resolved, oldest first.",
            {"description": "the transitions", "content": json_content(ref("schemas", "AlertsHistory"))},
            HISTORY_PARAMETERS),
    }
