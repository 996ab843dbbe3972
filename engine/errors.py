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
    ├── ScriptFailed          a condition or script in a diagram failed
    ├── NoMatchingMessage     a message that nothing waits for
    ├── SchemaOutdated        the database schema is not at this code's migration head
    └── TooManyAttempts       too many wrong passwords for a user or from an address: locked a while

HTTP status codes for these are chosen in one place: ``web/errors.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


class AftersalesError(Exception):
    """Base of every error the engine raises on purpose."""

    def to_dict(self) -> dict:
        return {"error": str(self)}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a diagram, located as precisely as the input allows."""

    file: str
    element_id: str | None
    line: int | None
    message: str

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element_id:
            where += f" [{self.element_id}]"
        return f"{where}: {self.message}"


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
