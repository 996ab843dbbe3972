"""The dashboard's figures as JSON (R25): ``GET /api/kpis`` and the cases behind one figure."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from engine import access, kpis
from engine.instances import iso
from engine.users import Actor
from engine.working_days import SHANGHAI

from ..auth import current_actor, login_required
from ..context import db, engine

bp = Blueprint("kpis", __name__)


def asked() -> tuple[kpis.Period, str]:
    """The period and dimension of the request (``from``, ``to``, ``by``); bad values → 400 naming them."""
    e = engine()
    span = kpis.period(request.args.get("from"), request.args.get("to"), e.clock.now(),
                       e.settings.get("time_zone", SHANGHAI))
    return span, kpis.dimension(request.args.get("by"))


def require_kpis(actor: Actor) -> None:
    access.require(access.may(actor, "read_kpis"), "only supervisors and admins see the dashboard")


@bp.get("/kpis")
@login_required
def figures():
    require_kpis(current_actor())
    span, by = asked()
    found = kpis.figures(db(), span, by, engine().clock.now())
    return jsonify({**found, "generated_at": iso(engine().clock.now())})


@bp.get("/kpis/cases")
@login_required
def cases():
    """The cases counted in one figure: ``metric`` (e.g. ``first_time_fixes``, ``breach_R8``), and ``key``
    the row (absent: the total; empty: the unknown value)."""
    require_kpis(current_actor())
    span, by = asked()
    name = kpis.metric(request.args.get("metric"))
    found, count = kpis.drill_down(db(), span, by, engine().clock.now(), name, request.args.get("key"))
    return jsonify({"metric": name, "count": count,
                    "cases": [{"id": i.id, "key": i.key, "business_key": i.business_key, "state": i.state,
                               "product_model": i.product_model, "region": i.region, "technician": i.technician,
                               "started_at": iso(i.started_at), "ended_at": iso(i.ended_at)} for i in found]})
