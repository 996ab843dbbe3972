"""Reading diagrams as Camunda Modeler and bpmn.io write them.

``DiagramParser`` extends SpiffWorkflow's Camunda parser with what stock SpiffWorkflow drops:
``candidateGroups``, ``candidateUsers``, ``assignee``, ``dueDate``, lanes as groups, external
service-task topics (run by our handlers, or by external workers when no handler is registered), plain ISO timers and JUEL conditions.
:func:`parse_files` validates a whole set of files and reports every problem with file,
element id and line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import ERROR_EVENT_XPATH
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, StartEvent
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import CamundaStartEventParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, UserTaskParser
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import camunda_extras, decisions, expressions, sandbox
from .camunda_tasks import ErrorAwareBoundaryParser, HandlerTask, HandlerTaskParser, error_variables
from .decisions import DecisionGraphParser
from .diagram_prepare import BPMN_NS, prepare
from .errors import DiagramInvalid, Problem
from .forms import FormField, constraint_issues, form_properties
from .groups import group_for_lane

DMN_NS_PREFIX = "https://www.omg.org/spec/DMN/"
# Three of the corpus diagrams bind the camunda: prefix to the old Activiti namespace.
_C = f"{{{CAMUNDA_MODEL_NS}}}"


@dataclass
class Assignment:
    """Who may work a user task and by when, as the diagram says."""

    candidate_groups: list[str] = field(default_factory=list)
    candidate_users: list[str] = field(default_factory=list)
    assignee: str | None = None
    due_date: str | None = None


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


class HumanTaskParser(UserTaskParser):
    def create_task(self):
        task = super().create_task()
        node = self.node
        groups = _split(node.get(_C + "candidateGroups"))
        if not groups and self.lane:
            groups = [group_for_lane(self.lane)]
        task.assignment = Assignment(
            candidate_groups=groups,
            candidate_users=_split(node.get(_C + "candidateUsers")),
            assignee=(node.get(_C + "assignee") or None),
            due_date=(node.get(_C + "dueDate") or None),
        )
        task.form_fields = [_form_field(f) for f in task.form.fields] or _form_properties(node)
        return task


def _form_properties(node) -> list[FormField]:
    """A Flowable/Activiti ``formProperty`` form (``as_camunda`` read its namespace as Camunda's)."""
    return form_properties(node.find(f"{{{BPMN_NS}}}extensionElements"), CAMUNDA_MODEL_NS)


def _form_field(f) -> FormField:
    constraints = {v.name: v.config for v in f.validation}
    return FormField(
        id=f.id,
        label=f.label or f.id,
        type=f.type or "string",
        default=f.default_value,
        required="required" in constraints,
        readonly="readonly" in constraints,
        options=[{"id": o.id, "name": o.name or o.id} for o in getattr(f, "options", [])],
        constraints={k: v for k, v in constraints.items() if k not in ("required", "readonly")}
        | ({"required": True} if "required" in constraints else {})
        | ({"readonly": True} if "readonly" in constraints else {}),
    )


class StartEventParser(CamundaStartEventParser):
    """Start events keep their ``camunda:formData``: the form that registers a new case. The error start
    event of an error event subprocess is read as one (SpiffWorkflow reads it as a plain start, so the
    subprocess would run when its scope starts), with ``camunda:errorCodeVariable`` /
    ``errorMessageVariable`` (``engine/bpmn_errors.py`` starts it)."""

    get_form = UserTaskParser.get_form
    get_enum_field = UserTaskParser.get_enum_field

    def create_task(self):
        errors = self.xpath(ERROR_EVENT_XPATH)
        if errors:
            task = self._create_task(self.get_event_definition([ERROR_EVENT_XPATH]))
            self.spec.start.connect(task)
            task.error_variables = error_variables(errors[0])
        else:
            task = super().create_task()
        task.form_fields = [_form_field(f) for f in self.get_form().fields] or _form_properties(self.node)
        return task


class DiagramParser(DecisionGraphParser, CamundaParser):
    OVERRIDE_PARSER_CLASSES = dict(CamundaParser.OVERRIDE_PARSER_CLASSES)
    OVERRIDE_PARSER_CLASSES[full_tag("startEvent")] = (StartEventParser, StartEvent)
    OVERRIDE_PARSER_CLASSES[full_tag("userTask")] = (HumanTaskParser, UserTask)
    OVERRIDE_PARSER_CLASSES[full_tag("serviceTask")] = (HandlerTaskParser, HandlerTask)
    OVERRIDE_PARSER_CLASSES[full_tag("sendTask")] = (HandlerTaskParser, HandlerTask)
    OVERRIDE_PARSER_CLASSES[full_tag("boundaryEvent")] = (ErrorAwareBoundaryParser, BoundaryEvent)

    def get_spec(self, process_id, required=True):
        spec = super().get_spec(process_id, required)
        if spec is not None:  # mappings and listeners, read from the process's own XML
            camunda_extras.decorate(spec, self.get_process_parser(process_id).node)
        return spec


_FLOW_NODE_SKIP = {"laneSet", "lane", "sequenceFlow", "textAnnotation", "association", "dataObject",
                   "dataObjectReference", "dataStoreReference", "extensionElements", "documentation", "ioSpecification",
                   "property", "group", "category"}


def structure_problems(root, filename: str) -> list[Problem]:
    """Elements nothing leads to. (Groups and users are data: a diagram naming one that does not exist
    deploys with a warning, see ``people_named``; so does a gateway branch without a condition, see
    ``unconditioned_branches``.)"""
    problems = []
    for process in root.findall(f"{{{BPMN_NS}}}process"):
        nodes = {n.get("id"): n for n in process if isinstance(n.tag, str) and n.get("id")
                 and etree.QName(n).localname not in _FLOW_NODE_SKIP}
        flows = [f for f in process.findall(f"{{{BPMN_NS}}}sequenceFlow")]
        outgoing: dict[str, list] = {}
        for f in flows:
            outgoing.setdefault(f.get("sourceRef"), []).append(f)
        # reachability from the start events (boundary events are reached through their task)
        starts = [nid for nid, n in nodes.items() if etree.QName(n).localname == "startEvent"]
        attached: dict[str, list[str]] = {}
        for nid, n in nodes.items():
            if etree.QName(n).localname == "boundaryEvent":
                attached.setdefault(n.get("attachedToRef"), []).append(nid)
        seen, todo = set(starts), list(starts)
        while todo:
            current = todo.pop()
            for nxt in [f.get("targetRef") for f in outgoing.get(current, [])] + attached.get(current, []):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        for nid, n in nodes.items():
            local = etree.QName(n).localname
            if nid in seen or local in ("subProcess", "transaction") and n.get("triggeredByEvent") == "true":
                continue
            if local == "boundaryEvent" or (starts and nid not in seen):
                problems.append(Problem(filename, nid, n.sourceline, "unreachable: no sequence flow leads here",
                                        "unreachable"))
    return problems


@dataclass(frozen=True)
class Named:
    """A group or user a user task names literally (not through an expression)."""

    element_id: str
    line: int | None
    kind: str  # "group" (candidateGroups, or the lane) | "user" (candidateUsers, assignee)
    name: str


def people_named(root) -> list[Named]:
    """Every literal candidate group (from ``candidateGroups`` or, without one, the lane), candidate
    user and assignee of the user tasks, in document order."""
    found: list[Named] = []
    for node, lane in _user_tasks(root):
        nid = node.get("id") or ""
        groups = _split(node.get(_C + "candidateGroups"))
        if not groups and lane:
            groups = [g for g in [group_for_lane(lane)] if g]
        users = _split(node.get(_C + "candidateUsers")) + _split(node.get(_C + "assignee"))
        found += [Named(nid, node.sourceline, "group", g) for g in groups if not expressions.is_juel(g)]
        found += [Named(nid, node.sourceline, "user", u) for u in users if not expressions.is_juel(u)]
    return found


def _user_tasks(root):
    """(user task, the name of the lane it stands in or None), process by process."""
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        lanes = {}
        for lane in process.iter(f"{{{BPMN_NS}}}lane"):
            for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef"):
                lanes[(ref.text or "").strip()] = lane.get("name")
        for node in process.iter(f"{{{BPMN_NS}}}userTask"):
            yield node, lanes.get(node.get("id") or "")


def nobody_named(root) -> list[tuple[str, int | None, str]]:
    """The user tasks that name no one at all — no candidate group (nor a lane standing for one),
    candidate user or assignee, literal or ``${…}`` — as (element id, line, name): they open unassigned,
    as in Camunda, and wait in the "nobody named" list of admins and process owners (``access``)."""
    found = []
    for node, lane in _user_tasks(root):
        if (_split(node.get(_C + "candidateGroups")) or group_for_lane(lane)
                or _split(node.get(_C + "candidateUsers")) or (node.get(_C + "assignee") or "").strip()):
            continue
        found.append((node.get("id") or "", node.sourceline, node.get("name") or ""))
    return found


# --- parsing a set of files ------------------------------------------------------------


@dataclass
class ParsedFile:
    filename: str
    content: bytes
    kind: str  # "bpmn" | "dmn"
    keys: list[str]  # executable process ids, or decision ids
    names: dict[str, str]
    content_hash: str
    # (process id, line) of each process marked isExecutable="false" beside an executable one: skipped, as
    # Camunda skips them (no definition); a deploy warning names each
    skipped: list[tuple[str, int | None]] = field(default_factory=list)


def is_executable(process) -> bool:
    """SpiffWorkflow's and Camunda's reading of ``isExecutable`` (absent means executable)."""
    return process.get("isExecutable", "true").lower() == "true"


def drop_skipped(root) -> list[tuple[str, int | None]]:
    """Remove from ``root`` the processes not executable when the file has an executable one (they are
    drawn for people, as in the MIWG reference models, and never run): nothing checks or warns about
    them. Returns (id, line) of each removed. A file none of whose processes is executable keeps them all."""
    procs = root.findall(f"{{{BPMN_NS}}}process")
    if not any(is_executable(p) for p in procs):
        return []
    skipped = []
    for p in procs:
        if not is_executable(p):
            skipped.append((p.get("id"), p.sourceline))
            root.remove(p)
    return skipped


def _line_of(root, element_id: str | None) -> int | None:
    if not element_id:
        return None
    found = root.xpath("//*[@id=$i]", i=element_id)
    return found[0].sourceline if found else None


# SpiffWorkflow's own validation messages, and the code each is reported with
_LIBRARY_PROBLEMS = [
    (re.compile(r"^There is no support implemented for this task type"), "unsupported_element", None),
    (re.compile(r"^The process '(?P<process>[^']+)' was not found"), "called_process_missing", "calledElement"),
    (re.compile(r'^No DMN Diagram available with id "(?P<decision>[^"]+)"'), "decision_missing", "decisionRef"),
]


def _problem_from(exc: Exception, filename: str, root=None) -> Problem:
    element = getattr(exc, "id", None) or getattr(getattr(exc, "task_spec", None), "bpmn_id", None) or None
    line = getattr(exc, "line_number", None) or None
    message = str(exc.args[0]) if exc.args else str(exc)
    code: str = getattr(exc, "problem_code", "")
    params: dict = dict(getattr(exc, "problem_params", {}))
    if not code:
        for pattern, known, ref in _LIBRARY_PROBLEMS:
            match = pattern.match(message)
            if match:
                code, params = known, match.groupdict()
                if ref and not element and root is not None:  # the call activity / rule task that names it
                    value = next(iter(params.values()))
                    found = root.xpath(f"//*[@*[local-name()='{ref}']=$v]", v=value)
                    element = found[0].get("id") if found else None
                break
    if code == "unsupported_element" and root is not None and element:
        found = root.xpath("//*[@id=$i]", i=element)
        params = {"kind": etree.QName(found[0]).localname if found else ""}
    if not isinstance(line, int):
        line = _line_of(root, element) if root is not None else None
    return Problem(getattr(exc, "file_name", None) or filename, element, line, message, code, params)


def due_date_problem(text: str) -> str | None:
    """Why a user task's ``camunda:dueDate`` can never be counted (an expression that does not compile,
    a literal that is neither an ISO date nor a duration), or None. Whether an expression's value
    will be a date is only known when the task opens."""
    text = text.strip()
    if expressions.is_juel(text):
        return sandbox.check_expression(expressions.juel_to_python(text))
    if expressions.ISO_DURATION.match(text):
        return None
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return "neither a date nor a duration (ISO 8601) nor an expression ${…}"
    return None


def read_files(files: dict[str, bytes]) -> tuple[list[ParsedFile], dict[str, etree._Element], list[Problem]]:
    parsed, roots, problems = [], {}, []
    for filename, data in files.items():
        try:
            root, found = prepare(data, filename)
        except DiagramInvalid as exc:
            problems.extend(exc.problems)
            continue
        skipped = drop_skipped(root) if root.tag == f"{{{BPMN_NS}}}definitions" else []
        # what prepare found inside a skipped process does not count
        found = [p for p in found if not skipped or p.element_id is None or root.xpath("//*[@id=$i]", i=p.element_id)]
        roots[filename] = root
        if root.tag.startswith("{" + DMN_NS_PREFIX) or root.tag.endswith("}definitions") and "DMN" in root.tag:
            decisions = root.xpath("//*[local-name()='decision']")
            keys = [d.get("id") for d in decisions]
            names = {d.get("id"): d.get("name") or d.get("id") for d in decisions}
            kind = "dmn"
        elif root.tag == f"{{{BPMN_NS}}}definitions":
            procs = root.findall(f"{{{BPMN_NS}}}process")
            if procs and not any(is_executable(p) for p in procs):
                ids = ", ".join(p.get("id") or "?" for p in procs)
                problems.append(Problem(filename, procs[0].get("id"), procs[0].sourceline,
                                        f"no process in this file is executable (isExecutable=\"false\" on {ids}): "
                                        "there is nothing to run; mark the process to run as executable "
                                        "(Camunda Modeler: the process's \"Executable\" checkbox)",
                                        "not_executable", {"processes": ids}))
                continue  # the one problem worth saying about a file drawn for people, not for an engine
            keys = [p.get("id") for p in procs]
            names = {p.get("id"): p.get("name") or p.get("id") for p in procs}
            kind = "bpmn"
        else:
            problems.extend(found)
            problems.append(Problem(filename, None, root.sourceline,
                                    f"not a BPMN or DMN document (root <{etree.QName(root).localname}>)",
                                    "not_a_diagram", {"root": etree.QName(root).localname}))
            continue
        problems.extend(found)
        if not keys:
            problems.append(Problem(filename, None, None, "contains no process or decision", "no_process"))
        if kind == "bpmn":
            problems.extend(structure_problems(root, filename))
        digest = hashlib.sha256(data).hexdigest()
        parsed.append(ParsedFile(filename, data, kind, keys, names, digest, skipped))
    return parsed, roots, problems


def build_parser(roots: dict[str, etree._Element], kinds: dict[str, str]) -> DiagramParser:
    parser = DiagramParser()
    for filename, root in roots.items():
        try:
            if kinds.get(filename) == "dmn":
                parser.add_dmn_xml(root, filename=filename)
            else:
                parser.add_bpmn_xml(root, filename=filename)
        except (ValidationException, SpiffWorkflowException) as exc:
            if not getattr(exc, "file_name", None):
                exc.file_name = filename
            raise
    return parser


def check_specs(parser: DiagramParser, parsed: list[ParsedFile], roots, topics: set[str],
                extra_checks=(), java_as_external: bool = False) -> list[Problem]:
    """Build every process spec and check what SpiffWorkflow itself does not. ``java_as_external``: the
    deployer chose to run a service task naming Java code with no Python handler as an external task of
    that name (``engine/deployments.py`` warns per element); listeners stay refused."""
    problems: list[Problem] = []
    for pf in parsed:
        if pf.kind == "dmn":
            problems.extend(decisions.problems(roots[pf.filename], pf.filename, set(getattr(parser, "decision_nodes", {}))))
        if pf.kind != "bpmn":
            continue
        root = roots[pf.filename]
        problems.extend(camunda_extras.problems(root, pf.filename, topics, java_as_external))
        for key in pf.keys:
            try:
                spec = parser.get_spec(key)
            except (ValidationException, SpiffWorkflowException) as exc:
                problems.append(_problem_from(exc, pf.filename, root))
                continue
            except Exception as exc:  # the library raises bare errors for some broken input
                problems.append(Problem(pf.filename, key, _line_of(root, key), f"process '{key}': {exc}",
                                        "process_unreadable", {"process": key}))
                continue
            try:  # the called processes' steps are checked too; one not deployed yet is a deploy warning
                parser.get_subprocess_specs(key, require_call_activity_specs=False)
            except (ValidationException, SpiffWorkflowException) as exc:
                problems.append(_problem_from(exc, pf.filename, root))
            except Exception as exc:
                problems.append(Problem(pf.filename, key, _line_of(root, key), f"process '{key}': {exc}",
                                        "process_unreadable", {"process": key}))
            for ts in spec.task_specs.values():
                bpmn_id = getattr(ts, "bpmn_id", None)
                if isinstance(ts, HandlerTask):
                    if ts.delegate == "camunda:connector" and ts.topic not in topics:
                        problems.append(Problem(pf.filename, bpmn_id, _line_of(root, bpmn_id),
                                                f"camunda:connector '{ts.topic}' is not supported (http-connector and "
                                                "mail-connector are)", "connector", {"name": ts.topic}))
                    elif ts.delegate and ts.topic not in topics and not java_as_external:
                        problems.append(Problem(pf.filename, bpmn_id, _line_of(root, bpmn_id),
                                                f"{ts.delegate} '{ts.topic}' is Java code and no Python handler is "
                                                "registered under that name (register one, or deploy with "
                                                "java_as_external to run it as an external task of that topic)",
                                                "java_code", {"attribute": ts.delegate, "name": ts.topic}))
                    elif not ts.topic:
                        problems.append(Problem(pf.filename, bpmn_id, _line_of(root, bpmn_id),
                                                "service task has no camunda:topic naming a handler", "no_topic"))
                    # a topic without a Python handler waits for external workers: a deploy warning
                    # (engine/deployments.py external_topic_warnings), not a problem
                due = getattr(getattr(ts, "assignment", None), "due_date", None)
                reason = due_date_problem(due) if due else None
                if reason:
                    problems.append(Problem(pf.filename, bpmn_id, _line_of(root, bpmn_id),
                                            f"due date '{due}': {reason}", "due_date_invalid", {"text": due}))
                for f in getattr(ts, "form_fields", []):
                    for code, params, message in constraint_issues(f):
                        problems.append(Problem(pf.filename, bpmn_id, _line_of(root, bpmn_id), message, code, params))
                for check in extra_checks:
                    for message in check(ts):
                        problems.append(Problem(pf.filename, bpmn_id, _line_of(root, bpmn_id), message))
    return problems


def parse_files(files: dict[str, bytes], topics: set[str], context: dict[str, bytes] | None = None,
                java_as_external: bool = False):
    """Validate ``files`` (with ``context`` files available for call activities and DMN); ``java_as_external``
    as :func:`check_specs` reads it.

    Returns ``(parsed_files, parser)``; raises :class:`DiagramInvalid` listing every problem.
    """
    parsed, roots, problems = read_files(files)
    if len(parsed) < len(files):  # a file that does not read: the parser cannot be built
        raise DiagramInvalid(problems)
    all_roots = dict(roots)
    kinds = {p.filename: p.kind for p in parsed}
    if context:
        ctx_parsed, ctx_roots, _ = read_files({k: v for k, v in context.items() if k not in files})
        all_roots.update(ctx_roots)
        kinds.update({p.filename: p.kind for p in ctx_parsed})
    try:
        parser = build_parser(all_roots, kinds)
    except (ValidationException, SpiffWorkflowException) as exc:
        filename = getattr(exc, "file_name", "") or "?"
        raise DiagramInvalid(problems + [_problem_from(exc, filename, all_roots.get(filename))]) from exc
    # every problem at once: what reading found (unreachable steps …) and what building the specs finds
    problems = problems + check_specs(parser, parsed, roots, topics, java_as_external=java_as_external)
    if problems:
        raise DiagramInvalid(problems)
    return parsed, parser
