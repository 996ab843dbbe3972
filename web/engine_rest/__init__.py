"""Camunda 7's REST API under ``/engine-rest``, where tools written for it expect it: Camunda Modeler's
Deploy dialog, external task workers (``camunda-external-task-client-python3``, the Java/JS clients)
and clients that start cases, correlate messages and complete tasks.

The same authentication as ``/api`` (HTTP Basic, Bearer tokens: ``web/auth.py``) and the one access
policy (``engine/access.py``). Answers and errors are shaped as Camunda's (``{"type", "message"}``,
``web/errors.py``); the engine does the work, these views only translate.
"""

from __future__ import annotations

from flask import Blueprint

from . import deployment, external_task, process


def blueprint() -> Blueprint:
    bp = Blueprint("engine_rest", __name__, url_prefix="/engine-rest")
    for module in (deployment, external_task, process):
        bp.register_blueprint(module.bp)
    return bp
