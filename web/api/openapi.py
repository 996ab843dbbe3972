"""The OpenAPI 3 document of the JSON API, generated from the app's URL map (``GET /api/openapi.json``).

Paths, methods and path parameters come from the routes themselves, so a new route is in the
document the moment it exists; what a route takes (query parameters, request body) and answers is
described once, here, in ``OPERATIONS``. ``tests/web/test_openapi.py`` runs schemathesis against
the document and requires that every ``/api`` route is described in ``OPERATIONS``.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from flask import Blueprint, current_app, jsonify

from engine import kpis, limits

from ..auth import login_required

bp = Blueprint("openapi", __name__)

TITLE = "aftersales JSON API"
VERSION = "1"

_ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "error_id": {"type": "string"}},
          "required": ["error"]}
_OBJECT: dict[str, Any] = {"type": "object"}
_LIST: dict[str, Any] = {"type": "array", "items": {"type": "object"}}
_VARIABLES = {"type": "object", "description": "process variables by name (form field ids)", "additionalProperties": True}
_ID = {"type": "integer", "minimum": 1, "maximum": limits.MAX_ID}
# a list's page (web/paging.py): pass ``next`` as ``after`` for the following page; null: no more
_PAGE: dict[str, Any] = {"type": "object", "required": ["items", "next"], "properties": {
    "items": {"type": "array", "items": {"type": "object"}}, "next": {"type": "string", "nullable": True}}}
_DAY = {"type": "string", "format": "date", "example": "2027-02-14"}


def _query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {"in": "query", "name": name, "schema": schema, "description": description, "required": required}


_PAGING = [_query("after", {"type": "string", "maxLength": 200}, "the `next` of the page before (opaque)"),
           _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "rows per page (default 50)")]


def _json(properties: dict, required: tuple[str, ...] = ()) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return {"required": False if not required else True, "content": {"application/json": {"schema": schema}}}


def _multipart(properties: dict, required: tuple[str, ...]) -> dict:
    return {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "properties": properties, "required": list(required)}}}}


_FILE = {"type": "string", "format": "binary"}
_PDF = {"type": "string", "format": "binary", "x-media-type": "application/pdf"}
_KPI_PARAMETERS = [_query("from", _DAY, "first day (default: the first of the month five months ago)"),
                   _query("to", _DAY, "last day, included (default: today)"),
                   _query("by", {"type": "string", "enum": list(kpis.DIMENSIONS)}, "rows by (default month)")]

# endpoint -> (summary, operation fields beyond the generic ones, success status, success schema)
OPERATIONS: dict[str, tuple[str, dict, int, dict]] = {
    "api.tokens.me": ("Who the caller is, and their groups", {}, 200, _OBJECT),
    "api.tokens.issue": ("Issue an API token (ask with Basic auth, use as Bearer)", {
        "requestBody": _json({"label": {"type": "string", "maxLength": 120},
                              "days": {"type": "integer", "minimum": 1, "maximum": 3650,
                                       "description": "valid for this many days (default 90)"}})}, 201, _OBJECT),
    "api.tokens.list_tokens": ("The caller's API tokens", {}, 200, _LIST),
    "api.tokens.revoke": ("Revoke one of the caller's API tokens", {}, 204, {}),
    "api.definitions.deploy": ("Deploy BPMN/DMN files (a new version of each changed process)", {
        "parameters": [_query("dry_run", {"type": "string", "enum": ["0", "1", "true", "false"]},
                              "check only: answer what would be deployed, store nothing"),
                       _query("java_as_external", {"type": "string", "enum": ["0", "1", "true", "false"]},
                              "run a service task naming Java code (camunda:class, delegateExpression, expression) "
                              "with no Python handler as an external task of that name (a warning per element); "
                              "also accepted as a form field")],
        "requestBody": _multipart({"file": {"type": "array", "items": _FILE}, "comment": {"type": "string"},
                                   "java_as_external": {"type": "string", "enum": ["0", "1", "true", "false"]}},
                                  ("file",))}, 201, _OBJECT),
    "api.definitions.list_definitions": ("Deployed processes and decision tables, newest version of each", {}, 200, _LIST),
    "api.definitions.get_definition": ("A process: versions, running cases per version, start form", {}, 200, _OBJECT),
    "api.definitions.get_xml": ("The deployed diagram (BPMN/DMN XML)", {
        "parameters": [_query("version", _ID, "a version (default: the current one)")]}, 200,
        {"type": "string"}),
    "api.definitions.start": ("Start a case with the start form's values", {
        "requestBody": _json({"business_key": {"type": "string"}, "variables": _VARIABLES})}, 201, _OBJECT),
    "api.versions.rollback": ("Make an earlier version current again (admins)", {
        "requestBody": _json({"version": _ID}, ("version",))}, 200, _OBJECT),
    "api.versions.compare": ("What changed between two versions of a process", {
        "parameters": [_query("from", _ID, "older version", True), _query("to", _ID, "newer version", True)]},
        200, _OBJECT),
    "api.versions.history": ("Deployments, rollbacks and migrations of a process", {}, 200, _LIST),
    "api.versions.migrate": ("Move running cases to another version (dry run by default)", {
        "requestBody": _json({"from_version": _ID, "to_version": _ID, "dry_run": {"type": "boolean", "default": True},
                              "instances": {"type": "array", "items": _ID},
                              "move_in_error": {"type": "array", "items": _ID,
                                                "description": "cases in error to move too (others in error are skipped)"},
                              "mapping": {"type": "object", "additionalProperties": {"type": "string"},
                                          "description": "old element id -> new element id"}},
                             ("from_version", "to_version"))}, 200, _OBJECT),
    "api.instances.list_instances": ("Cases the caller may see, newest first, in pages", {
        "parameters": [_query("key", {"type": "string"}, "process key"),
                       _query("state", {"type": "string", "enum": ["running", "completed", "error", "cancelled"]},
                              "case state"),
                       _query("business_key", {"type": "string"}, "case number"), *_PAGING]}, 200, _PAGE),
    "api.instances.get_instance": ("A case: state, open tasks, variables the caller may see (history: …/history)",
                                   {}, 200, _OBJECT),
    "api.instances.history": ("One page of a case's history, oldest first", {
        "parameters": [_query("after", _ID, "the last entry id of the page before"),
                       _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "entries per page (default 100)")]},
        200, _OBJECT),
    "api.instances.cancel": ("Cancel a running case", {}, 200, _OBJECT),
    "api.instances.retry": ("Run a case in error again (after the cause was fixed)", {}, 200, _OBJECT),
    "api.instances.documents": ("The case's documents (slips, records, agreements)", {}, 200, _LIST),
    "api.instances.archive_pdf": ("The case archive (R13) as one PDF: repair request, work orders, fee settlement, "
                                  "follow-up record, an A4 page each, in Chinese; contact data only for groups that "
                                  "see it. 409 while the case has none of these documents", {}, 200, _PDF),
    "api.tasks.list_tasks": ("Open tasks of the caller's groups, or the caller's own, oldest first, in pages", {
        "parameters": [_query("mine", {"type": "string", "enum": ["0", "1", "true", "false"]},
                              "only tasks assigned to the caller"),
                       _query("group", {"type": "string"}, "only tasks of this group"),
                       _query("nobody", {"type": "string", "enum": ["0", "1", "true", "false"]},
                              "only tasks that name nobody (no assignee, candidate group or user), to claim or "
                              "assign: admins and process owners (403 for others; not with mine or group)"),
                       _query("instance", _ID, "only tasks of this case"), *_PAGING]}, 200, _PAGE),
    "api.tasks.get_task": ("An open task with its form", {}, 200, _OBJECT),
    "api.tasks.claim": ("Take a task (assign it to the caller)", {}, 200, _OBJECT),
    "api.tasks.unclaim": ("Give a task back to its group", {}, 200, _OBJECT),
    "api.tasks.assign": ("Assign a task to a user (supervisors; admins and process owners for a task naming nobody)", {
        "requestBody": _json({"user": {"type": "string", "minLength": 1}}, ("user",))}, 200, _OBJECT),
    "api.tasks.complete": ("Complete a task with its form's values", {
        "requestBody": _json({"variables": _VARIABLES})}, 200, _OBJECT),
    "api.messages.correlate": ("Deliver a message (a courier's scan, a shop callback) to the cases waiting for it", {
        "requestBody": _json({"name": {"type": "string", "minLength": 1},
                              "correlation": {"type": "object", "additionalProperties": True},
                              "variables": _VARIABLES,
                              "message_id": {"type": "string", "description": "the sender's id: a resend is answered once"}},
                             ("name",))}, 200, _OBJECT),
    "api.calendar.year": ("The working calendar of a year as it is counted, with each day's source", {
        "parameters": [_query("year", {"type": "integer", "minimum": 2000, "maximum": 2100}, "default: this year")]},
        200, _OBJECT),
    "api.calendar.add_day": ("Add a company day: closed, or an extra working day (admins)", {
        "requestBody": _json({"day": _DAY, "kind": {"type": "string", "enum": ["closed", "working"]},
                              "reason": {"type": "string"}}, ("day", "kind"))}, 201, _OBJECT),
    "api.calendar.remove_day": ("Remove a company day (admins)", {}, 200, _OBJECT),
    "api.calendar.import_schedule": ("Import a year's official schedule (.ics or a table of dates; admins)", {
        "requestBody": _multipart({"file": _FILE, "year": {"type": "integer", "minimum": 2000, "maximum": 2100}},
                                  ("file",))}, 201, _OBJECT),
    "api.calendar.changes": ("Who changed the calendar, when, and what moved", {}, 200, _LIST),
    "api.calendar.list_closed_days": ("Company closed days (the first calendar API, kept)", {}, 200, _LIST),
    "api.calendar.add_closed_day": ("Add a company closed day (admins)", {
        "requestBody": _json({"day": _DAY, "reason": {"type": "string"}}, ("day",))}, 201, _OBJECT),
    "api.calendar.remove_closed_day": ("Remove a company closed day (admins)", {}, 204, {}),
    "api.access_log.customer_data_reads": ("Who read which customer's data, when (admins; R29)", {
        "parameters": [_query("instance", _ID, "only reads of this case"),
                       _query("user", {"type": "string"}, "only reads by this user")]}, 200, _LIST),
    "api.kpis.figures": ("The dashboard's figures (R25, supervisors and admins): complaint rate, on-time repair "
                         "rate, first-time fix rate, satisfaction, SLA breaches per rule, open cases by age", {
        "parameters": _KPI_PARAMETERS}, 200, _OBJECT),
    "api.kpis.cases": ("The cases counted in one figure of the dashboard (supervisors and admins)", {
        "parameters": [*_KPI_PARAMETERS,
                       _query("metric", {"type": "string", "enum": list(kpis.METRICS)}, "the figure", True),
                       _query("key", {"type": "string"}, "the row (a month, week, group …; empty: unknown; "
                              "absent: the total)")]}, 200, _OBJECT),
    "api.incidents.list_incidents": ("Cases in error and overdue tasks (supervisors, admins), with counts", {}, 200, _OBJECT),
    "api.incidents.correct": ("Correct the variables of a case in error, with the reason (recorded in its history)", {
        "requestBody": _json({"variables": _VARIABLES, "reason": {"type": "string", "minLength": 1}},
                             ("variables", "reason"))}, 200, _OBJECT),
    "api.retention.show": ("Retention settings, what the next run removes and anonymises, the last runs (admins): "
                           "each with its totals (updated by every batch while it runs), phase, batch_count and its "
                           "last 20 batches (at, kind, count, ms, notifications, removed, anonymised)",
                           {}, 200, _OBJECT),
    "api.retention.change_settings": ("Change retention settings (admins); every value checked, nothing stored if one is wrong", {
        "requestBody": _json({"notifications_days": {"type": "integer", "minimum": 1, "maximum": 36500},
                              "history_days": {"type": "integer", "minimum": 1, "maximum": 36500},
                              "personal_data_days": {"type": "integer", "minimum": 1, "maximum": 36500},
                              "window": {"type": "string", "example": "01:00-05:00"},
                              "timezone": {"type": "string", "example": "Asia/Shanghai"},
                              "batch_size": {"type": "integer", "minimum": 1, "maximum": 5000},
                              "enabled": {"type": "boolean"}})}, 200, _OBJECT),
    "api.retention.due": ("One page of the cases the next run removes, anonymises or keeps because held (admins)", {
        "parameters": [_query("what", {"type": "string", "enum": ["remove", "anonymise", "held"]}, "default remove"),
                       _query("after", _ID, "the last case id of the page before"),
                       _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "cases per page (default 50)")]},
        200, _OBJECT),
    "api.retention.legal_hold": ("Set or release a case's legal hold, with the reason (admins; recorded in its history)", {
        "requestBody": _json({"hold": {"type": "boolean", "default": True},
                              "reason": {"type": "string", "minLength": 1, "maxLength": 500}}, ("reason",))},
        200, _OBJECT),
    "api.openapi.document": ("This document", {}, 200, _OBJECT),
    "api.people.list_groups": ("Groups with their members (admins)", {}, 200, _LIST),
    "api.people.add_group": ("Create a group (admins); BPMN candidate groups name its id", {
        "requestBody": _json({"id": {"type": "string", "minLength": 1, "maxLength": 80},
                              "name_zh": {"type": "string", "minLength": 1, "maxLength": 120},
                              "name_en": {"type": "string", "maxLength": 120}}, ("id", "name_zh"))}, 201, _OBJECT),
    "api.people.list_users": ("Users with their groups (admins; never a password hash)", {}, 200, _LIST),
    "api.people.add_user": ("Create a user in existing groups (admins)", {
        "requestBody": _json({"username": {"type": "string", "minLength": 1, "maxLength": 80},
                              "password": {"type": "string", "minLength": 8},
                              "groups": {"type": "array", "items": {"type": "string"}},
                              "display_name": {"type": "string", "maxLength": 120},
                              "email": {"type": "string", "maxLength": 200},
                              "region": {"type": "string", "maxLength": 60}}, ("username", "password"))}, 201, _OBJECT),
    "api.people.change_user": ("Change a user's groups, disable or enable, reset the password (admins)", {
        "requestBody": _json({"groups": {"type": "array", "items": {"type": "string"}},
                              "active": {"type": "boolean"},
                              "password": {"type": "string", "minLength": 8},
                              "display_name": {"type": "string", "maxLength": 120},
                              "email": {"type": "string", "maxLength": 200},
                              "region": {"type": "string", "maxLength": 60}})}, 200, _OBJECT),
}

# What every operation may answer besides success; the errors are {"error": ...} (web/errors.py).
_ERRORS = {400: "malformed request or value", 401: "not logged in", 403: "not allowed for the caller",
           404: "no such thing (or not visible to the caller)", 405: "method not allowed",
           409: "changed meanwhile; reload and try again", 413: "request too large",
           415: "state-changing calls need application/json or a Bearer token", 422: "form values invalid",
           429: "too many attempts; wait (Retry-After)", 503: "database unavailable; try again shortly"}

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _path(rule: str) -> tuple[str, list[dict]]:
    params = []
    for converter, name in _CONVERTER.findall(rule):
        schema = _ID if converter == "int" else ({"type": "string", "format": "date"} if name == "day"
                                                 else {"type": "string", "minLength": 1})
        params.append({"in": "path", "name": name, "required": True, "schema": schema})
    return _CONVERTER.sub(r"{\2}", rule), params


def build(app) -> dict:
    spec = APISpec(title=TITLE, version=VERSION, openapi_version="3.0.3", info={
        "description": "Cases, tasks, deployments, versions and the working calendar of aftersales. "
                       "Authenticate with a Bearer token (POST /api/tokens) or HTTP Basic; state-changing "
                       "calls send application/json (or a Bearer token)."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("basic", {"type": "http", "scheme": "basic"})
    spec.components.schema("Error", _ERROR)
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        # /engine-rest is Camunda 7's API, not ours: Camunda's own OpenAPI document describes it, so it is
        # left out here and schemathesis fuzzes /api only (tests/web/test_engine_rest.py pins its answers).
        if not rule.rule.startswith("/api/"):
            continue
        path, params = _path(rule.rule)
        summary, extra, status, schema = OPERATIONS.get(rule.endpoint, (rule.endpoint, {}, 200, _OBJECT))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            media = schema.get("x-media-type") or ("application/xml" if schema.get("type") == "string"
                                                    else "application/json")
            content = {media: {"schema": {k: v for k, v in schema.items() if k != "x-media-type"}}}
            responses: dict[str, Any] = {str(status): {"description": "done", **({"content": content} if schema else {})}}
            for code, text in _ERRORS.items():
                responses[str(code)] = {"description": text,
                                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            operation = {"operationId": rule.endpoint, "summary": summary, "responses": responses,
                         "security": [{"bearer": []}, {"basic": []}], **extra}
            if params:
                operation["parameters"] = [*params, *extra.get("parameters", [])]
            paths.setdefault(path, {})[method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
@login_required
def document():
    cache = current_app.extensions["aftersales"].setdefault("openapi", build(current_app))
    return jsonify(cache)
