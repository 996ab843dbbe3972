"""The aftersales exception tree.

    AftersalesError
    ├── DiagramInvalid        a deployment was refused; ``problems`` lists file / element / line
    ├── NotFound              no such definition, instance, task or user
    ├── NotPermitted          the caller may never act on this
    ├── Conflict              the thing changed under the caller (task no longer open, claimed
    │                         by someone else, instance moved on)
    ├── FormInvalid           submitted values fail the form; ``errors`` maps field -> message
    ├── InvalidRequest        a malformed request
    │   └── ScheduleInvalid   an uploaded holiday schedule; ``problems`` lists line / message
    ├── HandlerFailed         a service-task handler raised; the instance is in state ``error``
    ├── BpmnError             a handler's business error, caught by the diagram's error boundary event
    ├── ScriptFailed          a condition or script in a diagram failed
    ├── NoMatchingMessage     a message that nothing waits for
    ├── SchemaOutdated        the database schema is not at this code's migration head
    └── TooManyAttempts       too many wrong passwords for a user or from an address: locked a while

HTTP status codes for these are chosen in one place: ``web/errors.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class AftersalesError(Exception):
    """Base of every error the engine raises on purpose."""

    def to_dict(self) -> dict:
        return {"error": str(self)}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a diagram, located as precisely as the input allows.

    ``message`` is the English sentence for the API and the logs; ``code`` names the kind of
    problem (``xml_broken``, ``unknown_topic``, ``gateway_no_condition``, ``unreachable`` …, listed in
    ``PROBLEM_CODES``) and ``params`` its particulars, for pages that say it in their own language.
    An empty code is a problem nobody classified yet (a page shows it generically)."""

    file: str
    element_id: str | None
    line: int | None
    message: str
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element_id:
            where += f" [{self.element_id}]"
        return f"{where}: {self.message}"


# Every code a Problem is raised with, and the params it carries (web/pages/diagram_report.py says each).
PROBLEM_CODES: dict[str, tuple[str, ...]] = {
    "no_files": (), "file_type": (), "file_too_large": ("mb",), "xml_dtd": (), "xml_too_deep": (),
    "xml_broken": (), "not_a_diagram": ("root",), "no_process": (), "not_executable": ("processes",), "duplicate_key": ("key", "other_file"),
    "timer_start_invalid": ("text",), "ttl_invalid": ("text",), "cron_timer": ("text",), "timer_invalid": ("text",),
    "condition_invalid": ("text",), "script_format": ("format",), "script_invalid": (),
    "gateway_no_condition": ("flows", "targets"), "unreachable": (), "no_topic": (), "unknown_topic": ("topic",),
    "java_code": ("attribute", "name", "listener"), "connector": ("name",), "retry_cycle_invalid": ("text",), "due_date_invalid": ("text",),
    "form_field_type": ("field", "label", "type"), "form_field_constraint": ("field", "label", "constraint"),
    "form_field_no_values": ("field", "label"), "unsupported_element": ("kind",), "called_process_missing": ("process",),
    "decision_missing": ("decision",), "process_unreadable": ("process",), "listener_event": ("kind", "event"),
    "collection_invalid": ("text",), "feel_invalid": ("text", "near", "column"),
}


class DiagramInvalid(AftersalesError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems) or "invalid diagram")

    def to_dict(self) -> dict:
        return {"error": "diagram invalid", "errors": [p.to_dict() for p in self.problems]}


class NotFound(AftersalesError):
    pass


class NotPermitted(AftersalesError):
    pass


class Conflict(AftersalesError):
    pass


class FormInvalid(AftersalesError):
    def __init__(self, errors: dict[str, str], labels: dict[str, str] | None = None):
        self.errors = errors
        self.labels = labels or {}  # field id -> the diagram's label, for messages people read
        super().__init__("form values invalid: " + ", ".join(f"{k}: {v}" for k, v in errors.items()))

    def to_dict(self) -> dict:
        return {"error": "form values invalid", "errors": self.errors}


class InvalidRequest(AftersalesError):
    """A request is malformed in a way that is not about a form field."""


class ScheduleInvalid(InvalidRequest):
    def __init__(self, filename: str, problems: list[tuple[int | None, str]]):
        self.filename = filename
        self.problems = problems
        super().__init__("; ".join(f"{filename}:{line}: {msg}" if line else f"{filename}: {msg}"
                                   for line, msg in problems))

    def to_dict(self) -> dict:
        return {"error": "calendar file invalid",
                "errors": [{"file": self.filename, "line": line, "message": msg} for line, msg in self.problems]}


class HandlerFailed(AftersalesError):
    def __init__(self, element_id: str, message: str):
        self.element_id = element_id
        self.message = message
        super().__init__(f"{element_id}: {message}")


class BpmnError(AftersalesError):
    """Raised by a handler for a business error the diagram handles (Camunda's ``BpmnError``):
    ``raise BpmnError("SERIAL_UNKNOWN", "no such serial")``. The error boundary event with that
    ``errorCode`` on the service task (or on a subprocess around it) takes over; the handler's own
    writes are rolled back, ``variables`` are set. With no boundary event to catch it the case
    stops in ``error``."""

    def __init__(self, code: str, message: str = "", variables: dict[str, Any] | None = None):
        self.code = code
        self.message = message
        self.variables = dict(variables or {})
        super().__init__(f"BPMN error {code}" + (f": {message}" if message else ""))


class ScriptFailed(AftersalesError):
    def __init__(self, element_id: str, message: str):
        self.element_id = element_id
        self.message = message
        super().__init__(f"{element_id}: {message}")


class NoMatchingMessage(NotFound):
    pass


class SchemaOutdated(AftersalesError):
    """The database needs ``aftersales db upgrade`` (or newer code) before this code may use it."""


class TooManyAttempts(AftersalesError):
    def __init__(self, field: str, value: str, retry_after: int, message: str | None = None):
        self.field, self.value, self.retry_after = field, value, retry_after
        what = f"user '{value}'" if field == "user" else f"address {value}"
        wait = f"{retry_after} s" if retry_after < 120 else f"{retry_after // 60} min"
        super().__init__(message or f"too many failed logins: {what} is locked for {wait}")


class FieldsInvalid(InvalidRequest):
    """Admin input (users, groups) with bad fields: 400 naming each field; nothing is stored."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("invalid input: " + ", ".join(f"{k}: {v}" for k, v in errors.items()))

    def to_dict(self) -> dict:
        return {"error": "invalid input", "errors": self.errors}
