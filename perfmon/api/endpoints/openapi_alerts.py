"""The OpenAPI descriptions of /api/alerts and /api/alerts/history, and their schemas."""

from __future__ import annotations

from perfmon.alerts.model import SEVERITIES
from perfmon.api.endpoints.alerts import HISTORY_PARAMETERS
from perfmon.api.endpoints.openapi_parts import PathDoc, Schema, json_content, ref
from perfmon.api.endpoints.silences import ID_PATTERN

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
        "summary": {"type": ["string", "null"]},
        "silenced_by": {"type": "array", "items": {"type": "string"},
                        "description": "the silences that keep it from the channels now (/api/alerts only)"}}}


def rule_schema() -> Schema:
    """One rule, as it was read: what it selects, when its alerts fire and clear, whom they tell."""
    text, nullable_text = {"type": "string"}, {"type": ["string", "null"]}
    names = ["name", "selector", "group", "field", "rows", "operator", "threshold", "clear", "unit",
             "for_seconds", "severity", "repeat_seconds", "notify", "summary", "labels", "divide_by",
             "predict", "builtin"]
    return {"type": "object", "additionalProperties": False, "required": names, "properties": {
        "name": text, "selector": text, "group": text, "field": {**text, "description": "the series' field"},
        "rows": {"type": "boolean", "description": "an alert per row (true) or one for the section"},
        "operator": {"enum": [">", "<"]}, "threshold": {"type": "number"}, "clear": {"type": "number"},
        "unit": text, "for_seconds": {"type": "number"}, "severity": {"enum": list(SEVERITIES)},
        "repeat_seconds": NUMBER_OR_NULL,
        "notify": {"type": ["array", "null"], "items": text, "description": "channels (null: all)"},
        "summary": nullable_text, "labels": {"type": "object", "additionalProperties": text},
        "divide_by": {**nullable_text, "description": "a selector the value is divided by first"},
        "predict": {"type": ["object", "null"], "required": ["window_seconds", "ahead_seconds", "reaches"],
                    "properties": {k: {"type": "number"} for k in ("window_seconds", "ahead_seconds",
                                                                       "reaches")}},
        "builtin": {"type": "boolean", "description": "a built-in rule (not from the rules file)"}}}


def alerts_schema() -> Schema:
    """GET /api/alerts."""
    counts = {"type": "object", "required": list(SEVERITIES),
              "properties": {s: {"type": "integer", "minimum": 0} for s in SEVERITIES}}
    return {"type": "object", "required": ["evaluated_at", "samples_evaluated", "transitions", "rules",
                                           "firing", "alerts"],
            "properties": {"evaluated_at": {**NUMBER_OR_NULL, "description": "the last sample evaluated"},
                           "samples_evaluated": {"type": "integer", "minimum": 0},
                           "transitions": {"type": "integer", "minimum": 0, "description":
                                           "transitions recorded so far: when it changes, the history has"},
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


def silence_schema() -> Schema:
    """One silence, as GET lists it and POST answers it."""
    labels = {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"}}
    return {"type": "object", "additionalProperties": False,
            "required": ["id", "match", "from", "until", "comment", "source"], "properties": {
                "id": {"type": "string"}, "match": labels, "from": NUMBER_OR_NULL,
                "until": {"type": "number"}, "comment": {"type": "string"},
                "source": {"enum": ["file", "api"]}}}


def silence_request_schema() -> Schema:
    """POST /api/silences' body."""
    moment = {"oneOf": [{"type": "number", "minimum": 0}, {"type": "string"}],
              "description": "Unix seconds, or ISO 8601 with its zone (2026-12-24T00:00Z)"}
    return {"type": "object", "additionalProperties": False, "required": ["match", "until"], "properties": {
        "match": {"type": "object", "minProperties": 1, "maxProperties": 20,
                  "additionalProperties": {"type": "string"},
                  "description": "labels an alert must all have (alertname, severity, host, a row's)"},
        "from": moment, "until": moment, "comment": {"type": "string", "maxLength": 500}}}


def schemas() -> dict[str, Schema]:
    """The components these paths refer to."""
    return {"Alert": alert_schema(), "Alerts": alerts_schema(), "AlertsHistory": alerts_history_schema(),
            "AlertRule": rule_schema(), "AlertRules": {
                "type": "object", "required": ["rules"],
                "properties": {"rules": {"type": "array", "items": ref("schemas", "AlertRule")}}},
            "Silence": silence_schema(), "SilenceRequest": silence_request_schema(),
            "Silences": {"type": "object", "required": ["silences"], "properties": {
                "silences": {"type": "array", "items": ref("schemas", "Silence")}}}}


def error(description: str) -> Schema:
    """A JSON error answer."""
    return {"description": description, "content": json_content(ref("schemas", "Error"))}


def write_operations() -> dict[str, dict[str, Schema]]:
    """The operations beyond GET, by path and method (each behind the token, as every route)."""
    common = {"401": ref("responses", "Unauthorized"), "403": error("a page of another origin"),
              "421": ref("responses", "Misdirected"), "429": ref("responses", "TooManyRequests")}
    post = {"operationId": "post_api_silences", "summary": "Set a silence",
            "description": "Keeps the alerts whose labels all match from every channel until `until`.",
            "requestBody": {"required": True, "content": json_content(ref("schemas", "SilenceRequest"))},
            "responses": {"201": {"description": "the silence set",
                                  "content": json_content(ref("schemas", "Silence"))},
                          "400": error("a body that is no silence (the message names the field)"),
                          "409": error("1,000 silences are set already"), "413": error("a body over 16 KiB"),
                          "415": error("a body that is not application/json"), **common}}
    delete = {"operationId": "delete_api_silences", "summary": "Lift a silence set through the API",
              "parameters": [{"name": "id", "in": "query", "required": True,
                              "schema": {"type": "string", "pattern": ID_PATTERN},
                              "description": "the silence's id, as GET lists it"}],
              "responses": {"204": {"description": "lifted"}, "400": error("no id, or not an id"),
                            "404": error("no such silence (it may have ended)"),
                            "409": error("a silence of the rules file: lift it there"), **common}}
    return {"/api/silences": {"post": post, "delete": delete}}


def path_docs() -> dict[str, PathDoc]:
    """The alerts' paths."""
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
        "/api/alerts/rules": PathDoc(
            "The rules in force, from --alerts-file and the built-in ones, as they were read: the dashboard "
            "colours its cards and draws its charts' thresholds from them.",
            {"description": "the rules", "content": json_content(ref("schemas", "AlertRules"))}),
        "/api/silences": PathDoc(
            "The silences in force: those of the rules file and those set through the API (POST; lift one "
            "with DELETE). A silenced alert still fires and shows; no channel hears of it.",
            {"description": "the silences", "content": json_content(ref("schemas", "Silences"))}),
    }
