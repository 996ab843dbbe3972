"""The aftersales process engine: deployments, versions, instances, tasks, timers.

Built on SpiffWorkflow. This package never imports Flask or ``web``; the web layer and the CLI
construct a :class:`ProcessEngine` through ``engine.wiring`` and reach the engine through the names
exported here (``from engine import ProcessEngine, Instance, access``), as httpx exports its API.
The submodules import each other relatively and never through this package, so importing it
starts no import circle.
"""

from . import access, errors
from .db import as_utc
from .instances import INSTANCE_STATES, ProcessEngine, iso
from .models import Definition, HistoryEntry, Instance, OpenTask
from .users import SYSTEM, Actor

__all__ = [
    "INSTANCE_STATES", "SYSTEM", "Actor", "Definition", "HistoryEntry", "Instance", "OpenTask", "ProcessEngine",
    "access", "as_utc", "errors", "iso",
]
