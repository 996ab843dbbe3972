"""The one place that builds an engine from its parts.

Callers pass the handler registry (``handlers.default_registry()``); importing ``handlers``
also registers its tables on the shared metadata before the schema is created.
"""

from __future__ import annotations

import os
from typing import Any

from .clock import Clock, SystemClock
from .db import create_schema, make_engine, make_session_factory
from .instances import ProcessEngine
from .service_tasks import HandlerRegistry


def build(registry: HandlerRegistry, database_url: str | None = None, *, clock: Clock | None = None,
          settings: dict[str, Any] | None = None, create: bool = True):
    """Returns ``(process_engine, session_factory, sqlalchemy_engine)``."""
    db = make_engine(database_url)
    if create:
        create_schema(db)
    settings = dict(settings or {})
    settings.setdefault("finance_threshold", int(os.environ.get("AFTERSALES_FINANCE_THRESHOLD", "5000")))
    engine = ProcessEngine(clock=clock or SystemClock(), handlers=registry, settings=settings)
    return engine, make_session_factory(db), db
