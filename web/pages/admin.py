"""Admin pages: definitions and versions, deploy with a validation report, the in-browser modeler,
diff of two versions, roll-back and migration. Admins and process owners only; roll-back and
migration for admins."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from engine import access, deployments, diagram_diff, versions
from engine.diagram_labels import element_names
from engine.errors import DiagramInvalid, InvalidRequest, NotPermitted
from engine.models import Definition, Instance

from ..context import db, engine
from ..downloads import content_disposition
from . import diagram_report
from .labels import element_name, process_name, translate_error
from .login import actor

bp = Blueprint("admin", __name__, url_prefix="/admin")
log = logging.getLogger(__name__)


@bp.before_request
@login_required
def _only_owners():
    if not access.may(actor(), "manage_versions"):
        raise NotPermitted(_("Only admins and process owners manage flows."))


def _int(value, name: str) -> int:
    if value is None or not str(value).isdigit():
        raise InvalidRequest(_("%(name)s must be a version number", name=name))
    return int(value)


@bp.get("/")
def definitions():
    keys = sorted(set(db().scalars(select(Definition.key))))
    rows = [(deployments.get_definition(db(), k), len(deployments.versions(db(), k))) for k in keys]
    return render_template("admin/definitions.html", rows=rows)


@bp.get("/definitions/<key>")
def definition(key: str):
    current = deployments.get_definition(db(), key)
    return render_template("admin/definition.html", key=key, current=current,
                           versions=versions.versions_with_counts(db(), key), events=versions.events(db(), key))


@bp.get("/definitions/<key>/<int:version>.xml")
def xml(key: str, version: int):
    d = deployments.get_definition(db(), key, version)
    return Response(d.xml, mimetype="application/xml",
                    headers={"Content-Disposition": content_disposition("attachment", d.filename, f"{d.key}.{d.kind}")})


@bp.post("/definitions/<key>/rollback")
def rollback(key: str):
    version = _int(request.form.get("version"), "version")
    versions.rollback(db(), key, version, actor(), engine().clock.now())
    flash(_("New cases of %(key)s now start on version %(version)s.", key=key, version=version))
    return redirect(url_for("admin.definition", key=key))


def _files() -> dict[str, bytes]:
    files = {f.filename or "upload.bpmn": f.read() for f in request.files.getlist("file") if f.filename}
    if request.form.get("xml"):
        files[request.form.get("filename") or "diagram.bpmn"] = request.form["xml"].encode()
    return files


@bp.route("/deploy", methods=["GET", "POST"])
def deploy():
    """Upload: every problem of the files in the page's language (nothing stored), or what was (or
    would be) deployed with the warnings."""
    report, result, lines, warnings = None, None, [], []
    if request.method == "POST":
        dry_run = request.form.get("action") == "validate"
        files = _files()
        try:
            result = engine().deploy(db(), files, actor(), comment=request.form.get("comment", ""), dry_run=dry_run,
                                     java_as_external=request.form.get("java_as_external") == "1")
        except DiagramInvalid as exc:
            db().rollback()
            report = diagram_report.problem_views(exc.problems, files)
        else:
            lines = diagram_report.definition_lines(result.definitions, files)
            warnings = diagram_report.warning_views(result.warnings, files)
            if not dry_run:
                flash(_("Deployed.") if result.changed else _("Nothing changed: identical to the deployed versions."))
    status = 400 if report else 200
    return render_template("admin/deploy.html", report=report, result=result, lines=lines, warnings=warnings), status


@bp.get("/modeler")
def modeler():
    key, version = request.args.get("key"), request.args.get("version")
    d = deployments.get_definition(db(), key, int(version) if version and version.isdigit() else None) if key else None
    return render_template("admin/modeler.html", definition=d)


@bp.post("/modeler/check")
def modeler_check():
    """Validate (``action=validate``) or deploy the modeler's XML; answers JSON for the page script."""
    dry_run = request.form.get("action") != "deploy"
    files = _files()
    try:
        result = engine().deploy(db(), files, actor(), comment=request.form.get("comment", ""), dry_run=dry_run,
                                 java_as_external=request.form.get("java_as_external") == "1")
    except DiagramInvalid as exc:
        db().rollback()
        return jsonify({"ok": False, "errors": [p.to_dict() for p in exc.problems],
                        "status": diagram_report.status(exc.problems, None, files, dry_run=dry_run)}), 400
    return jsonify({"ok": True, "dry_run": dry_run, "definitions": [d.to_dict() for d in result.definitions],
                    "warnings": [w.to_dict() for w in result.warnings],
                    "status": diagram_report.status(None, result, files, dry_run=dry_run)})


@bp.get("/definitions/<key>/diff")
def diff(key: str):
    all_versions = deployments.versions(db(), key)
    newest = all_versions[-1].version
    a = _int(request.args.get("from", max(1, newest - 1)), "from")
    b = _int(request.args.get("to", newest), "to")
    da, dbv = deployments.get_definition(db(), key, a), deployments.get_definition(db(), key, b)
    result = diagram_diff.diff(da.xml, dbv.xml)
    return render_template("admin/diff.html", key=key, a=da, b=dbv, diff=result, versions=all_versions,
                           marks=json.dumps({"added": result["added"], "removed": result["removed"],
                                             "changed": result["changed"]}))


def _mapping(form) -> dict[str, str]:
    """Renamed elements: the text box's "old_id = new_id" lines and the dry run's pickers (``map:<old>``)."""
    mapping: dict[str, str] = {}
    for line in form.get("mapping", "").splitlines():
        if "=" in line:
            old, new = (p.strip() for p in line.split("=", 1))
            if old and new:
                mapping[old] = new
    for name, value in form.items():
        if name.startswith("map:") and value:
            mapping[name[4:]] = value
    return mapping


def _verdict(check: versions.MigrationCheck, names: dict, new_names: dict, target: int) -> dict:
    """One case's line of the dry run or the move, in the page's language: where it waits (the
    diagram's names), whether it can move and why not, and — for a case in error — the error."""
    why = []
    for p in check.problems:
        if p.get("code") == "missing_element":
            why.append(_("It waits in “%(step)s”, which version %(version)s does not have.",
                         step=element_name(names, p["element"]), version=target)
                       + ("" if p.get("mapped") else " " + _("If the step was renamed, pick its new name.")))
        elif p.get("code") == "worker_changed":
            why.append(_("It waits for a background worker at “%(step)s”, and version %(version)s does not hand "
                         "“%(target)s” to the same worker. Move the case once that work is done.",
                         step=element_name(names, p["element"]), version=target, target=element_name(new_names, p["target"])))
        elif p.get("code") == "not_called":
            why.append(_("Version %(version)s no longer calls “%(flow)s”, where the case waits.",
                         version=target, flow=process_name(p.get("process", ""))))
        else:
            why.append(_("The moved case would not load again; nothing was changed."))
    in_error = check.state == "error"
    verdicts = {"can_move": _("Can move only if you tick it") if in_error else _("Can move"),
                "moved": _("Moved"), "not_running": _("Not running"),
                "same_version": _("Already on version %(version)s", version=target),
                "blocked": _("Cannot move"), "in_error_skipped": _("Not moved: stopped by an error and not ticked")}
    error = ""
    if in_error:
        error = _("Stopped by an error at “%(step)s”: %(reason)s",
                  step=element_name(names, check.error_element or ""), reason=translate_error(check.error_message or ""))
    if check.code == "blocked" and any(p.get("code") == "would_not_load" for p in check.problems):
        log.warning("case %s would not load on v%s: %s", check.instance_id, target, check.reason)
    return {"id": check.instance_id, "case": check.business_key or str(check.instance_id), "code": check.code,
            "can_move": check.can_move, "in_error": in_error, "error": error, "verdict": verdicts.get(check.code, ""),
            "why": why, "waiting": [element_name(names, e) for e in check.waiting_in],
            "renamed": [p["element"] for p in check.problems if p.get("code") == "missing_element" and not p.get("mapped")]}


@bp.route("/definitions/<key>/migrate", methods=["GET", "POST"])
def migrate(key: str):
    """A dry run first (what would move, what cannot and why, which cases are in error); the move
    only from the dry run's confirmation form, for the cases it listed, a case in error only when
    the admin ticked it."""
    all_versions = deployments.versions(db(), key)
    rows, form, executed, status = None, request.form, False, 200
    choices: dict[str, list[tuple[str, str]]] = {}
    mapping: dict[str, str] = {}
    names: dict[str, tuple[str, str, str]] = {}
    if request.method == "POST":
        execute = form.get("action") == "execute"
        if execute and not access.may(actor(), "migrate"):
            raise NotPermitted(_("Only admins move cases."))
        source = deployments.get_definition(db(), key, _int(form.get("from_version"), "from"))
        target = deployments.get_definition(db(), key, _int(form.get("to_version"), "to"))
        field = "planned" if execute else "instances"
        ids = [int(x) for x in form.get(field, "").replace(",", " ").split() if x.isdigit()] or None
        if execute and (form.get("confirm") != "1" or ids is None):
            flash(_("Tick “I have checked the dry run” to move the cases."), "error")
            execute, status = False, 400
        mapping = _mapping(form)
        in_error = {int(x) for x in form.getlist("move_in_error") if x.isdigit()}
        names, new_names = element_names(source.xml), element_names(target.xml)
        rows = []
        for instance in versions.candidates(db(), key, source.version, ids):
            check = versions.check_migration(engine(), db(), instance, target, mapping, apply=execute, actor=actor(),
                                             move_in_error=instance.id in in_error)
            if execute and check.can_move:
                db().commit()  # one transaction per case
            else:
                db().rollback()
            rows.append(_verdict(check, names, new_names, target.version))
        new_only = sorted((i for i in new_names if i not in names), key=lambda i: element_name(new_names, i))
        for row in rows:
            for old in row["renamed"]:
                kind = names.get(old, ("", "", ""))[2]
                choices[old] = [(i, element_name(new_names, i)) for i in new_only if new_names[i][2] == kind]
        if execute:
            executed = True
            flash(_("%(n)s cases moved.", n=sum(1 for r in rows if r["code"] == "moved")))
    return render_template("admin/migrate.html", key=key, versions=all_versions, rows=rows, form=form,
                           executed=executed, choices=choices, names=names,
                           mapping=mapping,
                           may_move=access.may(actor(), "migrate")), status


@bp.get("/access-log")
def access_log():
    """Customer-data reads (R29), newest first; admins only."""
    if not access.may(actor(), "read_access_log"):
        raise NotPermitted(_("Only admins read the access log."))
    instance = request.args.get("instance", "")
    rows = access.reads(db(), instance_id=int(instance) if instance.isdigit() else None,
                        username=request.args.get("user") or None)
    cases = {i.id: i for i in db().scalars(select(Instance).where(Instance.id.in_({r.instance_id for r in rows})))}
    places = {"page:case": _("Case page"), "page:task": _("Task page"), "page:document": _("Document"),
              "page:search": _("Search"), "api:case": _("API: case"), "api:documents": _("API: documents"),
              "page:archive": _("Case archive (PDF)"), "api:archive": _("API: case archive (PDF)"),
              "api:start": _("API: start"), "api:complete": _("API: task completed"), "api:cancel": _("API: cancel"),
              "api:retry": _("API: retry"), "api:message": _("API: message")}
    return render_template("admin/access_log.html", rows=rows, cases=cases, instance=instance, places=places,
                           user=request.args.get("user", ""))
