"""Versions for admins and process owners: roll back, compare, move running cases."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from engine import access, deployments, diagram_diff, limits, versions
from engine.errors import InvalidRequest
from engine.instances import iso

from ..auth import current_actor, login_required
from ..context import db, engine
from .body import json_body

bp = Blueprint("versions", __name__)


def _owner():
    actor = current_actor()
    access.require(access.may(actor, "manage_versions"), "only admins and process owners manage versions")
    return actor


def _int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not (str(value).isascii() and str(value).isdigit()) \
            or not limits.valid_id(int(value)):
        raise InvalidRequest(f"'{name}' must be a version number")
    return int(value)


@bp.post("/process-definitions/<key>/rollback")
@login_required
def rollback(key: str):
    access.require(access.may(current_actor(), "rollback"), "only admins roll back")
    version = _int(json_body().get("version"), "version")
    versions.rollback(db(), key, version, current_actor(), engine().clock.now())
    return jsonify({"key": key, "current_version": version})


@bp.get("/process-definitions/<key>/diff")
@login_required
def compare(key: str):
    _owner()
    a = deployments.get_definition(db(), key, _int(request.args.get("from"), "from"))
    b = deployments.get_definition(db(), key, _int(request.args.get("to"), "to"))
    return jsonify({"key": key, "from": a.version, "to": b.version, **diagram_diff.diff(a.xml, b.xml)})


@bp.get("/process-definitions/<key>/history")
@login_required
def history(key: str):
    _owner()
    return jsonify([{"kind": e.kind, "from_version": e.from_version, "to_version": e.to_version, "by": e.by,
                     "at": iso(e.at), "detail": e.detail} for e in versions.events(db(), key)])


@bp.post("/process-definitions/<key>/migrations")
@login_required
def migrate(key: str):
    """Dry run by default; ``"dry_run": false`` moves the cases that can move, one commit per case."""
    actor = current_actor()
    body = json_body()
    dry_run = body.get("dry_run", True) is not False
    _owner()
    access.require(dry_run or access.may(actor, "migrate"), "only admins migrate cases")
    source = _int(body.get("from_version"), "from_version")
    target = deployments.get_definition(db(), key, _int(body.get("to_version"), "to_version"))
    ids = body.get("instances")
    if ids is not None and (not isinstance(ids, list) or
                            not all(isinstance(i, int) and not isinstance(i, bool) and limits.valid_id(i) for i in ids)):
        raise InvalidRequest("'instances' must be a list of case ids")
    mapping = versions._validate_mapping(body.get("mapping"))
    in_error = body.get("move_in_error", [])  # cases in error move only when named here
    if not isinstance(in_error, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in in_error):
        raise InvalidRequest("'move_in_error' must be a list of case ids")
    results = []
    for instance in versions.candidates(db(), key, source, ids):
        check = versions.check_migration(engine(), db(), instance, target, mapping, apply=not dry_run, actor=actor,
                                         move_in_error=instance.id in in_error)
        if dry_run or not check.can_move:
            db().rollback()  # a dry run or a case that cannot move changes nothing
        else:
            db().commit()  # one transaction per moved case
        results.append(check.to_dict())
    return jsonify({"key": key, "from_version": source, "to_version": target.version, "dry_run": dry_run,
                    "results": results})
