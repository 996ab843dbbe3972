"""A deployment's outcome in the page's language: each problem the validation found (the engine gives
each a code and its particulars, ``engine.errors.Problem``) as a sentence naming the element by its
name, each warning (a group or user that does not exist), and each definition by its process name
with its version and whether it changed. Used by the upload page and the modeler's status."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from lxml import etree

from engine import diagram_xml
from engine.deployments import DeployedDefinition, DeployWarning
from engine.diagram_labels import element_names
from engine.errors import Problem

from .labels import _chinese, element_name, field_label, group_name, person_name, process_name

_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"

# elements that are part of another one: a problem there is shown on the element they belong to
_PARTS = {"timerEventDefinition", "conditionExpression", "condition", "timeDate", "timeDuration", "timeCycle",
          "script", "messageEventDefinition", "signalEventDefinition", "errorEventDefinition",
          "conditionalEventDefinition", "escalationEventDefinition", "multiInstanceLoopCharacteristics",
          "completionCondition", "extensionElements"}


@dataclass
class _Diagram:
    """What one uploaded file says about its elements: names by id, parents, branch targets."""

    names: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)
    target: dict[str, str] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)  # DMN decision id -> its name


def _read(xml: bytes | None) -> _Diagram:
    d = _Diagram()
    if not xml:
        return d
    d.names = element_names(xml)
    try:
        root = diagram_xml.parse_stored(xml)
    except Exception:  # a file that does not read has no names: its problem says so
        return d
    for el in root.iter():
        if not isinstance(el.tag, str) or not el.get("id"):
            continue
        up = el.getparent()
        while up is not None and not up.get("id"):
            up = up.getparent()
        if up is not None:
            d.parent[el.get("id") or ""] = up.get("id") or ""
        if el.tag == f"{_BPMN}sequenceFlow":
            d.target[el.get("id") or ""] = el.get("targetRef") or ""
        if etree.QName(el).localname == "decision":
            d.decisions[el.get("id") or ""] = (el.get("name") or "").strip()
    return d


class _Files:
    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.read: dict[str, _Diagram] = {}

    def __getitem__(self, filename: str) -> _Diagram:
        if filename not in self.read:
            self.read[filename] = _read(self.files.get(filename))
        return self.read[filename]

    def flow_name(self, key: str, as_written: bool = False) -> str:
        """A process or decision table by its name in the page's language: the uploaded file's words
        first (a flow not deployed yet), then the deployed diagrams'; one nobody names is "an unnamed
        flow" — or, ``as_written``, the id the diagram refers to it by (a flow that does not exist has
        no other name)."""
        for filename in self.files:
            d = self[filename]
            if d.names.get(key, ("", "", ""))[2] == "process" and any(d.names[key][:2]):
                return element_name(d.names, key)
            if d.decisions.get(key):
                return d.decisions[key]
        name = process_name(key)
        return name if name != key or as_written else _("an unnamed flow")


def _where(d: _Diagram, element_id: str | None) -> str:
    """The element a problem is about, by its name; a part (a timer, a condition) by its owner; an
    unnamed branch by where it leads."""
    if not element_id:
        return ""
    seen = 0
    while element_id in d.parent and d.names.get(element_id, ("", "", ""))[2] in _PARTS and seen < 20:
        element_id, seen = d.parent[element_id], seen + 1
    zh, en, kind = d.names.get(element_id, ("", "", ""))
    if kind == "sequenceFlow" and not (zh or en) and d.target.get(element_id):
        return _("the branch to “%(step)s”", step=element_name(d.names, d.target[element_id]))
    if not kind and d.decisions.get(element_id):
        return d.decisions[element_id]  # a DMN decision, by the name the table gives it
    if not kind:
        return _("an unnamed step")
    return element_name(d.names, element_id)


def _element_kind(kind: str) -> str:
    words = {"complexGateway": _("a complex gateway"), "transaction": _("a transaction"),
             "adHocSubProcess": _("an ad-hoc sub-process")}
    return words.get(kind, _("this kind of element"))


def _quoted(names: Iterable[str]) -> str:
    return ("、" if _chinese() else ", ").join(f"“{n}”" for n in names)


def _field(params: dict) -> str:
    return field_label(params.get("field", ""), params.get("label") or None)


_Sentence = Callable[[dict, _Diagram, _Files], str]

def _java_in_expression(p: dict) -> str | None:
    """A Java method call in a condition, timer or mapping: no handler is called from an expression."""
    call = p.get("name", "")
    if p.get("attribute") == "condition":
        return _("The condition calls Java (“%(call)s”), which cannot run here: write it in Python over the "
                 "case's variables.", call=call)
    if p.get("attribute") == "timer":
        return _("The timer calls Java (“%(call)s”), which cannot run here: write an ISO 8601 date or duration, "
                 "or a variable holding one.", call=call)
    if p.get("attribute") == "script":
        return _("The JavaScript calls Java (“%(call)s”), which cannot run here: scripts run without Java, over the "
                 "case's variables.", call=call)
    if p.get("attribute") == "mapping":
        return _("The mapping calls Java (“%(call)s”), which cannot run here: write it in Python over the "
                 "case's variables.", call=call)
    return None


SENTENCES: dict[str, _Sentence] = {
    "no_files": lambda p, d, f: _("No file was chosen."),
    "file_type": lambda p, d, f: _("Only .bpmn and .dmn files can be deployed."),
    "file_too_large": lambda p, d, f: _("The file is larger than %(mb)s MB.", mb=p.get("mb", 5)),
    "xml_dtd": lambda p, d, f: _("The file declares a DTD or entities, which diagrams may not contain."),
    "xml_too_deep": lambda p, d, f: _("The file's elements are nested too deeply."),
    "xml_broken": lambda p, d, f: _("The file is not well-formed XML, so the diagram cannot be read."),
    "not_a_diagram": lambda p, d, f: _("The file is not a BPMN or DMN diagram."),
    "no_process": lambda p, d, f: _("The file contains no process and no decision table."),
    "duplicate_key": lambda p, d, f: _("“%(flow)s” is also defined in %(file)s.", flow=f.flow_name(p.get("key", "")),
                                       file=p.get("other_file", "")),
    "timer_start_invalid": lambda p, d, f: _(
        "The start timer “%(text)s” is not an ISO 8601 date, duration or cycle (e.g. R/P7D).", text=p.get("text", "")),
    "ttl_invalid": lambda p, d, f: _(
        "The history time to live “%(text)s” is not a number of days (e.g. P30D or 30).", text=p.get("text", "")),
    "cron_timer": lambda p, d, f: _(
        "The cron timer “%(text)s” cannot be used here: a cron is a time cycle of six fields, seconds first "
        "(e.g. 0 0/5 * * * ?), and on a boundary or intermediate timer it must repeat at one fixed interval.",
        text=p.get("text", "")),
    "timer_invalid": lambda p, d, f: _(
        "The timer “%(text)s” cannot be computed: it is neither ISO 8601 nor a valid expression.", text=p.get("text", "")),
    "condition_invalid": lambda p, d, f: _("The condition “%(text)s” is not a valid expression.", text=p.get("text", "")),
    "script_format": lambda p, d, f: _(
        "This FEEL goes beyond names, literals, comparisons and arithmetic, the FEEL read here: write it in Python."
    ) if p.get("format") == "feel" else _("Scripts must be Python or JavaScript, not %(format)s.", format=p.get("format", "")),
    "feel_invalid": lambda p, d, f: _(
        "The FEEL expression “%(text)s” cannot be read: it goes wrong at “%(near)s” (column %(column)s).",
        text=p.get("text", ""), near=p.get("near", ""), column=p.get("column") or "?") if p.get("near") else _(
        "The FEEL expression “%(text)s” cannot be read: it is incomplete or uses something FEEL here does not know.",
        text=p.get("text", "")),
    "script_invalid": lambda p, d, f: _("The script is not valid Python or JavaScript, or uses something scripts may not use."),
    "gateway_no_condition": lambda p, d, f: _(
        "The branch to %(steps)s has no condition and is not the default branch.",
        steps=_quoted(element_name(d.names, t) for t in p.get("targets", []))),
    "unreachable": lambda p, d, f: _("No sequence flow leads here, so this step can never be reached."),
    "no_topic": lambda p, d, f: _("This automatic step names no handler (Topic)."),
    "unknown_topic": lambda p, d, f: _("No handler is registered for the topic “%(topic)s”.", topic=p.get("topic", "")),
    "not_executable": lambda p, d, f: _(
        "No process in this file is marked executable (%(processes)s): there is nothing to run. Tick "
        "“Executable” on the process to run in Camunda Modeler.", processes=p.get("processes", "")),
    "java_code": lambda p, d, f: _java_in_expression(p) or (_(
        "The listener names Java code (%(attribute)s “%(name)s”) and no Python handler is registered under that "
        "name. A listener cannot run as an external task (nothing waits for a worker while it runs): register a "
        "Python handler under that name.", attribute=p.get("attribute", ""), name=p.get("name", ""))
        if p.get("listener") else _(
        "Java code (%(attribute)s “%(name)s”) cannot run here: no Python handler is registered under that name. "
        "Register one, or deploy with “Java as external tasks” to have an external worker serve it.",
        attribute=p.get("attribute", ""), name=p.get("name", ""))) if p.get("name") else _(
        "Java code (%(attribute)s) cannot run here; set the implementation to External with a registered topic.",
        attribute=p.get("attribute", "")),
    "collection_invalid": lambda p, d, f: _(
        "The multi-instance collection “%(text)s” must name a variable, e.g. ${approvers}.", text=p.get("text", "")),
    "listener_event": lambda p, d, f: _(
        "A listener on the event “%(event)s” is not supported (only start and end; create, assignment and complete "
        "on user tasks), nor on the process itself.", event=p.get("event", "")),
    "connector": lambda p, d, f: _(
        "The connector “%(name)s” is not supported here (http-connector and mail-connector are).", name=p.get("name", "")),
    "retry_cycle_invalid": lambda p, d, f: _(
        "The retry cycle “%(text)s” is not R<tries>/<ISO duration>, e.g. R3/PT10S.", text=p.get("text", "")),
    "due_date_invalid": lambda p, d, f: _(
        "The due date “%(text)s” can never be computed: use an ISO date or duration, or an expression such as "
        "${working_days(2)}.", text=p.get("text", "")),
    "form_field_type": lambda p, d, f: _("The form field “%(field)s” has a type this service does not know (%(type)s).",
                                         field=_field(p), type=p.get("type", "")),
    "form_field_constraint": lambda p, d, f: _("The form field “%(field)s” has an invalid constraint “%(constraint)s”.",
                                               field=_field(p), constraint=p.get("constraint", "")),
    "form_field_no_values": lambda p, d, f: _("The form field “%(field)s” is a choice without any values.",
                                              field=_field(p)),
    "unsupported_element": lambda p, d, f: _("%(kind)s is not supported here.", kind=_element_kind(p.get("kind", ""))),
    "called_process_missing": lambda p, d, f: _(
        "The called flow “%(flow)s” is not deployed: deploy it first or together with this diagram.",
        flow=f.flow_name(p.get("process", ""), as_written=True)),
    "decision_missing": lambda p, d, f: _(
        "The decision table “%(decision)s” is not deployed: deploy it first or together with this diagram.",
        decision=p.get("decision", "")),
}


def problem_views(problems: Iterable[Problem], files: dict[str, bytes]) -> list[dict]:
    """Every problem, in the order found, as ``{"file", "line", "where", "sentence", "detail"}``;
    ``detail`` (the engine's English) only for a problem without a sentence here."""
    known = _Files(files)
    views = []
    for p in problems:
        d = known[p.file]
        say = SENTENCES.get(p.code)
        if say is not None:
            sentence, detail = say(p.params, d, known), ""
        else:
            sentence, detail = _("The diagram has a problem this page cannot describe; the technical text is below."), p.message
        views.append({"file": p.file, "line": p.line, "where": _where(d, p.element_id), "sentence": sentence,
                      "detail": detail, "code": p.code or "unknown"})
    return views


def warning_views(warnings: Iterable[DeployWarning], files: dict[str, bytes]) -> list[dict]:
    known = _Files(files)
    views = []
    for w in warnings:
        if w.code == "group_missing":
            sentence = _("Candidate group %(group)s does not exist: nobody can take this task until an admin creates it.",
                         group=w.name)
        elif w.code == "group_disabled":
            sentence = _("The group “%(group)s” is disabled: nobody can take this task.", group=group_name(w.name))
        elif w.code == "group_unstaffed":
            sentence = _("The group “%(group)s” has no active member: nobody can take this task.", group=group_name(w.name))
        elif w.code == "user_missing":
            sentence = _("User %(user)s does not exist: nobody can take this task until an admin creates it.",
                         user=w.name)
        elif w.code == "user_disabled":
            sentence = _("The user %(user)s is disabled: nobody can take this task.", user=person_name(w.name))
        elif w.code == "conditions_mixed":
            sentence = _("This diagram writes some conditions as ${…} and others as plain Python, starting here "
                         "(%(condition)s): write them all one way, plain Python as the shipped diagrams do.",
                         condition=w.name)
        elif w.code == "java_bridged":
            sentence = _("“%(name)s” is Java code in Camunda: here it runs the Python handler registered under that "
                         "name.", name=w.name)
        elif w.code == "java_external":
            sentence = _("“%(name)s” is Java code in Camunda: it runs as the external task topic “%(name)s” until a "
                         "Python handler is registered under that name.", name=w.name)
        elif w.code == "process_skipped":
            sentence = _("The process “%(process)s” is not marked executable: it is skipped, as Camunda skips it.",
                         process=w.name)
        elif w.code == "branch_true":
            sentence = _("The branch to %(steps)s has no condition: it is taken as if its condition were true, as "
                         "Camunda does.", steps=_quoted(element_name(known[w.file].names, t) for t in w.name.split(",")))
        elif w.code == "nobody_named":
            sentence = _("This task names no assignee, candidate group or user: it opens unassigned, and admins and "
                         "process owners claim or assign it from the inbox's “Nobody named” tab.")
        elif w.code == "external_topic":
            sentence = _("No Python handler serves the topic “%(topic)s”: this step waits for an external worker.",
                         topic=w.name)
        elif w.code == "called_process_missing":
            sentence = _("The called flow “%(flow)s” is not deployed: a case stops at this step until it is deployed "
                         "and the case is retried.", flow=w.name)
        elif w.code == "decision_missing":
            sentence = _("The decision table “%(decision)s” is not deployed: a case stops at this step until it is "
                         "deployed and the case is retried.", decision=w.name)
        else:
            sentence = _("Nobody may be able to take this task.")
        views.append({"file": w.file, "line": w.line, "where": _where(known[w.file], w.element_id),
                      "sentence": sentence, "group": w.group})
    return views


def definition_lines(definitions: Iterable[DeployedDefinition], files: dict[str, bytes]) -> list[str]:
    """“维修流程” 第 3 版 · 有改动 — one line per process or decision table of the upload."""
    known = _Files(files)
    return [_("“%(flow)s” version %(version)s · changed", flow=known.flow_name(d.key), version=d.version) if d.changed
            else _("“%(flow)s” version %(version)s · unchanged", flow=known.flow_name(d.key), version=d.version)
            for d in definitions]


def _text(view: dict) -> str:
    """“审核索赔”（第 12 行）：… — one line of the status: where, then what."""
    place = view["where"] or view["file"]
    if view["line"]:
        place = _("%(place)s (line %(line)s)", place=place, line=view["line"])
    return place + ("：" if _chinese() else ": ") + view["sentence"]


def status(problems: list[Problem] | None, result, files: dict[str, bytes], *, dry_run: bool) -> dict:
    """The modeler's status after *Validate* or *Deploy*, every word in the page's language."""
    labels = {"warnings": _("Warnings"), "details": _("Technical details")}
    if problems is not None:
        views = problem_views(problems, files)
        return {"ok": False, "title": _("Not valid: %(n)s problems found; nothing was stored.", n=len(views)),
                "problems": [v | {"text": _text(v)} for v in views], "definitions": [], "warnings": [],
                "labels": labels}
    return {"ok": True, "title": _("Valid.") if dry_run else _("Deployed."), "problems": [],
            "definitions": definition_lines(result.definitions, files),
            "warnings": [w | {"text": _text(w)} for w in warning_views(result.warnings, files)], "labels": labels}
