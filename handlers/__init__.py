"""Service-task handlers, by topic. Never imports Flask or ``web``.

To add one: write ``def my_handler(ctx: HandlerContext) -> dict | None`` in the module of its
domain thing and register it in that module's ``register``; diagrams then name the topic with
``camunda:type="external" camunda:topic="..."``.
"""

from __future__ import annotations

from engine.service_tasks import HandlerRegistry

from . import (  # noqa: F401
    approvals,
    before_tables,
    cases,
    complaints,
    connectors,
    consultations,
    notices,
    parts,
    records,
    returns,
    settlement_regions,
    stock_reports,
    travel_expenses,
)


def default_registry() -> HandlerRegistry:
    registry = HandlerRegistry()
    for module in (cases, approvals, parts, returns, complaints, notices, connectors, before_tables, consultations,
                   travel_expenses, stock_reports, settlement_regions):
        module.register(registry)
    return registry
