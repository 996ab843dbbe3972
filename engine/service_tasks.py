"""The seam between service tasks in diagrams and Python handlers.

A diagram names a topic (``camunda:topic="parts.reserve"``); a :class:`HandlerRegistry` maps
topics to functions ``handler(ctx: HandlerContext) -> dict | None``. The returned dict is merged
into the process variables. A handler writes through ``ctx.session`` and never commits: the
engine runs it inside a savepoint, so a handler that raises leaves nothing behind.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


@dataclass
class HandlerContext:
    session: Session
    now: datetime
    instance_id: int
    process_key: str
    business_key: str | None
    element_id: str
    variables: dict[str, Any]
    actor: str
    settings: dict[str, Any] = field(default_factory=dict)
    start_process: Callable[..., int] | None = None  # start_process(key, variables, business_key=None) -> id
    new_business_key: str | None = None

    def set_business_key(self, value: str) -> None:
        self.new_business_key = value


Handler = Callable[[HandlerContext], "dict[str, Any] | None"]


@dataclass(frozen=True)
class FieldSource:
    options: Callable[[Session], list[dict]]
    check: Callable[[Session, Any], str | None]


class HandlerRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._pure: set[str] = set()
        self._field_types: dict[str, FieldSource] = {}
        self._inputs: dict[str, tuple[str, ...]] = {}

    def register(self, topic: str, handler: Handler | None = None, *, writes: bool = True):
        """``registry.register("parts.reserve", fn)`` or as a decorator. A handler registered with
        ``writes=False`` only computes variables: it runs without a savepoint around it."""
        if handler is None:
            return lambda fn: self.register(topic, fn, writes=writes)
        if topic in self._handlers:
            raise ValueError(f"handler topic '{topic}' is registered twice")
        self._handlers[topic] = handler
        if not writes:
            self._pure.add(topic)
        return handler

    def writes(self, topic: str) -> bool:
        return topic not in self._pure

    def get(self, topic: str) -> Handler:
        return self._handlers[topic]

    def declare_inputs(self, topic: str, *names: str) -> None:
        """The variables a handler reads: what a supervisor is offered to correct when it fails."""
        self._inputs[topic] = names

    def inputs(self, topic: str) -> tuple[str, ...]:
        return self._inputs.get(topic, ())

    def register_field_type(self, name: str, *, options: Callable[[Session], list[dict]],
                            check: Callable[[Session, Any], str | None]) -> None:
        """A form field type whose values come from the database (``type="parts"``: picked from
        stock): ``options`` lists what may be picked, ``check`` says what is wrong with a value."""
        self._field_types[name] = FieldSource(options, check)

    def field_source(self, name: str) -> FieldSource | None:
        return self._field_types.get(name)

    def field_checks(self, session: Session) -> dict[str, Callable[[Any], str | None]]:
        return {name: functools.partial(src.check, session) for name, src in self._field_types.items()}

    @property
    def topics(self) -> set[str]:
        return set(self._handlers)
