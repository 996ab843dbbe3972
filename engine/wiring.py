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
from .working_days import WorkingHours, time_zone


def build(registry: HandlerRegistry, database_url: str | None = None, *, clock: Clock | None = None,
          settings: dict[str, Any] | None = None, create: bool = True):
    """Returns ``(process_engine, session_factory, sqlalchemy_engine)``."""
    db = make_engine(database_url)
    if create:
        create_schema(db)
    settings = dict(settings or {})
    # Working time: the zone deadlines are counted in, and the working periods of a day.
    settings["time_zone"] = time_zone(str(settings.get("time_zone") or os.environ.get("AFTERSALES_TIMEZONE")
                                          or "Asia/Shanghai"))
    hours = settings.get("working_hours") or os.environ.get("AFTERSALES_WORKING_HOURS") or "09:00-18:00"
    settings["working_hours"] = hours if isinstance(hours, WorkingHours) else WorkingHours.parse(str(hours))
    engine = ProcessEngine(clock=clock or SystemClock(), handlers=registry, settings=settings)
    return engine, make_session_factory(db), db
