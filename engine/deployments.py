"""Deploying diagrams: validate everything first, then store a new version per changed key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import camunda_extras, condition_language, diagram_xml, retention, schedules
from .diagram import ParsedFile, drop_skipped, nobody_named, parse_files, people_named, read_files
from .diagram_prepare import timer_starts, unconditioned_branches
from .errors import DiagramInvalid, NotFound, Problem
from .models import CurrentVersion, Definition, Deployment, Group, Membership, User, VersionEvent
from .specs import current, dependencies, latest


@dataclass
class DeployedDefinition:
    key: str
    version: int
    kind: str
    changed: bool

    def to_dict(self) -> dict:
        return {"key": self.key, "version": self.version, "kind": self.kind, "changed": self.changed}


@dataclass(frozen=True)
class DeployWarning:
    """Something the diagram names that does not exist (yet): it deploys, the admin is told.
    ``group`` / ``user`` is the missing name, for a "create it" link."""

    file: str
    element_id: str | None
    line: int | None
    message: str
    group: str | None = None
    user: str | None = None
    # group_missing | group_disabled | group_unstaffed | user_missing | user_disabled | java_bridged | java_external
    # | branch_true | conditions_mixed | external_topic | decision_missing | called_process_missing | process_skipped
    # | nobody_named
    code: str = ""
    # the group's id or the user's name the diagram gives; the topic (external_topic, java_external); the decision;
    # the process (process_skipped)
    name: str = ""

    def to_dict(self) -> dict:
        return {"file": self.file, "element_id": self.element_id, "line": self.line, "message": self.message,
                "group": self.group, "user": self.user, "code": self.code, "name": self.name}


def _root(pf: ParsedFile):
    """The file's XML as the checks read it: in Camunda's namespace whatever the dialect (``operaton:``,
    ``flowable:`` …), without the processes skipped as not executable."""
    root = diagram_xml.parse(diagram_xml.as_camunda(pf.content), pf.filename)
    drop_skipped(root)
    return root


def skipped_warnings(parsed: list[ParsedFile]) -> list[DeployWarning]:
    """A warning per process marked not executable beside an executable one: skipped, as Camunda does."""
    return [DeployWarning(pf.filename, key, line, f"process '{key}' is not executable (isExecutable=\"false\"): "
                          "it is skipped, as Camunda skips it — no definition is created for it",
                          code="process_skipped", name=key)
            for pf in parsed for key, line in pf.skipped]


def _condition_warnings(parsed: list[ParsedFile]) -> list[DeployWarning]:
    """A warning per diagram whose conditions mix ``${…}`` and plain Python (``condition_language``)."""
    found = []
    for pf in parsed:
        mix = condition_language.mixed(_root(pf)) if pf.kind == "bpmn" else None
        if mix is not None:
            found.append(DeployWarning(pf.filename, mix.flow_id, mix.line, mix.message, code="conditions_mixed",
                                       name=mix.text))
    return found


def people_warnings(session: Session, parsed: list[ParsedFile]) -> list[DeployWarning]:
    """A warning per user task naming a group that does not exist, is disabled or has no active
    member, or a user (candidate, assignee) that does not exist or is disabled; and per user task naming
    nobody at all (``nobody_named``: it opens unassigned, for admins and process owners to hand out).
    Read as Camunda's whatever the dialect (``operaton:``, ``flowable:``, ``activiti:``)."""
    groups = {g.id: g for g in session.scalars(select(Group))}
    staffed = set(session.scalars(select(Membership.group_id).join(User, User.id == Membership.user_id)
                                  .where(User.active.is_(True))))
    users = {name: active for name, active in session.execute(select(User.username, User.active))}
    warnings: list[DeployWarning] = []
    seen = set()
    for pf in parsed:
        if pf.kind != "bpmn":
            continue
        root = _root(pf)
        for element_id, line, name in nobody_named(root):
            warnings.append(DeployWarning(
                pf.filename, element_id, line,
                f"user task '{name or element_id}' names no assignee, candidate group or user: it opens unassigned, "
                "listed for admins and process owners to claim or assign (GET /api/tasks?nobody=1)",
                code="nobody_named", name=name))
        for n in people_named(root):
            if (pf.filename, n.element_id, n.kind, n.name) in seen:
                continue
            seen.add((pf.filename, n.element_id, n.kind, n.name))
            if n.kind == "group":
                group = groups.get(n.name)
                if group is None:
                    code, message = "group_missing", f"candidate group '{n.name}' does not exist: nobody can take this task until an admin creates it"
                elif not group.active:
                    code, message = "group_disabled", f"candidate group '{n.name}' is disabled: nobody can take this task"
                elif n.name not in staffed:
                    code, message = "group_unstaffed", f"candidate group '{n.name}' has no active member: nobody can take this task"
                else:
                    continue
                warnings.append(DeployWarning(pf.filename, n.element_id, n.line, message,
                                              group=n.name if group is None else None, code=code, name=n.name))
            else:
                active = users.get(n.name)
                if active is None:
                    code, message = "user_missing", f"user '{n.name}' does not exist: nobody can take this task until an admin creates it"
                elif not active:
                    code, message = "user_disabled", f"user '{n.name}' is disabled: nobody can take this task"
                else:
                    continue
                warnings.append(DeployWarning(pf.filename, n.element_id, n.line, message,
                                              user=n.name if active is None else None, code=code, name=n.name))
    return warnings


def missing_reference_warnings(session: Session, parsed: list[ParsedFile]) -> list[DeployWarning]:
    """A warning per call activity or business rule task naming a process or decision table that is neither in
    the upload nor deployed: it deploys (Camunda resolves ``calledElement`` and ``decisionRef`` when the task
    runs, and Camunda Modeler deploys one file at a time); a case reaching the task stops there until what it
    names is deployed and the case retried (``SpecCache.late_bindings``)."""
    from .diagram import CAMUNDA_MODEL_NS

    kinds = {"callActivity": ("calledElement", "bpmn", "called_process_missing", "process"),
             "businessRuleTask": (f"{{{CAMUNDA_MODEL_NS}}}decisionRef", "dmn", "decision_missing", "decision table")}
    uploaded = {(pf.kind, k) for pf in parsed for k in pf.keys}
    warnings = []
    for pf, node in _bpmn_nodes(parsed, "//bpmn:callActivity[@calledElement] | "
                                        "//bpmn:businessRuleTask[@camunda:decisionRef]"):
        attribute, kind, code, noun = kinds[etree.QName(node).localname]
        ref = node.get(attribute)
        if (kind, ref) in uploaded or "${" in ref or "#{" in ref:
            continue
        deployed = current(session, ref)
        if deployed is None or deployed.kind != kind:
            warnings.append(DeployWarning(
                pf.filename, node.get("id"), node.sourceline,
                f"{noun} '{ref}' is not deployed: a case stops at this step until it is deployed "
                "and the case retried", code=code, name=ref))
    return warnings


def _bpmn_nodes(parsed: list[ParsedFile], xpath: str):
    """(file, element) for each element ``xpath`` finds in the BPMN files, read as :func:`_root` reads them
    (any dialect as Camunda's, processes not executable left out)."""
    from .diagram import BPMN_NS, CAMUNDA_MODEL_NS

    for pf in parsed:
        if pf.kind == "bpmn":
            for node in _root(pf).xpath(xpath, namespaces={"bpmn": BPMN_NS, "camunda": CAMUNDA_MODEL_NS}):
                yield pf, node


def all_warnings(session: Session, parsed: list[ParsedFile], topics: set[str],
                 java_as_external: bool = False) -> list[DeployWarning]:
    return (skipped_warnings(parsed) + people_warnings(session, parsed) + _condition_warnings(parsed)
            + diagram_warnings(parsed, topics, java_as_external) + external_topic_warnings(parsed, topics)
            + missing_reference_warnings(session, parsed))


_TOPICS_XPATH = ("//bpmn:serviceTask[@camunda:topic] | //bpmn:sendTask[@camunda:topic]")


def external_topic_warnings(parsed: list[ParsedFile], registered: set[str]) -> list[DeployWarning]:
    """A warning per service task whose topic has no Python handler: it waits for an external worker
    (``/engine-rest/external-task``, engine/external_tasks.py) — deployed, not refused."""
    from .diagram import CAMUNDA_MODEL_NS

    warnings = []
    for pf, node in _bpmn_nodes(parsed, _TOPICS_XPATH):
        topic = node.get(f"{{{CAMUNDA_MODEL_NS}}}topic")
        if topic and topic not in registered:
            warnings.append(DeployWarning(
                pf.filename, node.get("id"), node.sourceline,
                f"topic '{topic}' has no Python handler: this step waits for an external worker "
                "(POST /engine-rest/external-task/fetchAndLock)", code="external_topic", name=topic))
    return warnings


@dataclass
class DeployResult:
    deployment_id: int | None
    definitions: list[DeployedDefinition] = field(default_factory=list)
    warnings: list[DeployWarning] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(d.changed for d in self.definitions)


def diagram_warnings(parsed: list[ParsedFile], topics: set[str], java_as_external: bool = False) -> list[DeployWarning]:
    """What runs differently from how it reads: Java code bridged to a Python handler of that name — or, when
    the deployer chose ``java_as_external``, a service task naming Java with no handler run as an external
    task of that name —, a gateway branch without a condition (taken as true, as Camunda does)."""
    warnings: list[DeployWarning] = []
    for pf in parsed:
        if pf.kind != "bpmn":
            continue
        root = _root(pf)
        for element, line, attribute, name, _listener in camunda_extras.bridged(root):
            if name in topics:
                warnings.append(DeployWarning(pf.filename, element, line,
                                              f"{attribute} '{name}' is Java code: it runs the Python handler "
                                              "registered under that name", code="java_bridged", name=name))
            elif java_as_external and not _listener:  # a listener without handler was refused
                warnings.append(DeployWarning(pf.filename, element, line,
                                              f"{attribute} '{name}' is Java code: it runs as external task topic "
                                              f"'{name}' until a Python handler is registered under that name "
                                              "(POST /engine-rest/external-task/fetchAndLock)",
                                              code="java_external", name=name))
        for gateway, line, flows in unconditioned_branches(root):
            ids = ", ".join(f.get("id") for f in flows)
            warnings.append(DeployWarning(pf.filename, gateway, line,
                                          f"gateway branch {ids} has no condition and is not the default: it is "
                                          "taken as true, as Camunda does", code="branch_true",
                                          name=",".join(f.get("targetRef") or "" for f in flows)))
    return warnings


def _context(session: Session, files: dict[str, bytes], own_keys: set[str]) -> dict[str, bytes]:
    """Deployed files the upload needs (called processes, decision tables), latest versions."""
    needed = dependencies(session, list(files.values()), own_keys)
    return {f"{d.key}@{d.version}/{d.filename}": d.xml for d in needed.values()}


def validate(session: Session, files: dict[str, bytes], topics: set[str],
             java_as_external: bool = False) -> list[ParsedFile]:
    if not files:
        raise DiagramInvalid([Problem("", None, None, "no files given", "no_files")])
    for name in files:
        if not name.lower().endswith((".bpmn", ".dmn", ".xml", ".bpmn20.xml")):
            raise DiagramInvalid([Problem(name, None, None, "only .bpmn and .dmn files can be deployed", "file_type")])
    first, _roots, problems = read_files(files)
    if len(first) < len(files):  # a file that does not read: nothing further can be checked
        raise DiagramInvalid(problems)
    # every problem is reported at once: the checks below run even when an earlier one found something
    own = {k for pf in first for k in pf.keys} | {str(i) for root in _roots.values() for i in root.xpath(
        "//*[local-name()='process' or local-name()='decision']/@id")}
    seen: dict[str, str] = {}
    more: list[Problem] = []
    for pf in first:
        for k in pf.keys:
            if k in seen:
                more.append(Problem(pf.filename, k, None, f"'{k}' is also defined in {seen[k]}", "duplicate_key",
                                    {"key": k, "other_file": seen[k]}))
            seen[k] = pf.filename
    more += [p for pf in first if pf.kind == "bpmn" for p in _timer_start_problems(pf) + _ttl_problems(pf)]
    if any(p.code == "duplicate_key" for p in more):  # the parser cannot hold two processes of one id
        raise DiagramInvalid(problems + more)
    context = _context(session, files, own)
    try:
        parsed, _parser = parse_files(files, topics, context, java_as_external=java_as_external)
    except DiagramInvalid as exc:
        raise DiagramInvalid(exc.problems + more) from exc
    if more:
        raise DiagramInvalid(more)
    return parsed


def _timer_starts(pf: ParsedFile) -> list[tuple[str, str, str, str, int | None]]:
    return timer_starts(diagram_xml.parse(pf.content, pf.filename))


def _timer_start_problems(pf: ParsedFile) -> list[Problem]:
    problems = []
    for _key, element, kind, text, line in _timer_starts(pf):
        try:
            schedules.parse(kind, text)
        except ValueError as exc:
            problems.append(Problem(pf.filename, element, line, str(exc), "timer_start_invalid", {"text": text}))
    return problems


def _ttl_days(pf: ParsedFile, key: str) -> int | None:
    """The process's ``camunda:historyTimeToLive`` in days (checked by :func:`_ttl_problems`)."""
    text, _line = retention.ttl_of(diagram_xml.parse(pf.content, pf.filename), key)
    return retention.parse_ttl(text)


def _ttl_problems(pf: ParsedFile) -> list[Problem]:
    problems = []
    root = diagram_xml.parse(pf.content, pf.filename)
    for key in pf.keys:
        text, line = retention.ttl_of(root, key)
        try:
            retention.parse_ttl(text)
        except ValueError as exc:
            problems.append(Problem(pf.filename, key, line, str(exc), "ttl_invalid", {"text": text}))
    return problems


def preview(session: Session, files: dict[str, bytes], *, topics: set[str],
            java_as_external: bool = False) -> DeployResult:
    """What a deployment would do, after the full validation; nothing is stored."""
    parsed = validate(session, files, topics, java_as_external)
    result = DeployResult(deployment_id=None, warnings=all_warnings(session, parsed, topics, java_as_external))
    for pf in parsed:
        for key in pf.keys:
            current = latest(session, key)
            unchanged = current is not None and current.content_hash == pf.content_hash
            version = current.version if unchanged and current else (current.version if current else 0) + 1
            result.definitions.append(DeployedDefinition(key, version, pf.kind, not unchanged))
    return result


def deploy(session: Session, files: dict[str, bytes], *, user: str, now: datetime, topics: set[str],
           comment: str = "", source: str = "api", git_commit: str | None = None,
           java_as_external: bool = False) -> DeployResult:
    """Validate, then store a version of each changed key. ``java_as_external`` (the deployer's choice) lets a
    service task naming Java with no Python handler deploy, run as an external task of that name; it is not
    part of what makes a version distinct — the same file deploys or is refused by the option given now,
    and an unchanged file stays the version it is — and is recorded in the version's deploy event."""
    parsed = validate(session, files, topics, java_as_external)
    result = DeployResult(deployment_id=None, warnings=all_warnings(session, parsed, topics, java_as_external))
    detail_extra = {"java_as_external": True} if java_as_external else {}
    deployment: Deployment | None = None
    for pf in parsed:
        for key in pf.keys:
            current = latest(session, key)
            if current is not None and current.content_hash == pf.content_hash:
                result.definitions.append(DeployedDefinition(key, current.version, pf.kind, False))
                continue
            if deployment is None:
                deployment = Deployment(deployed_at=now, deployed_by=user, comment=comment, source=source,
                                        git_commit=git_commit)
                session.add(deployment)
                session.flush()
            version = (current.version if current else 0) + 1
            session.add(Definition(
                key=key, version=version, kind=pf.kind, name=pf.names.get(key, key), filename=pf.filename,
                xml=pf.content, content_hash=pf.content_hash, deployment_id=deployment.id,
                history_ttl_days=_ttl_days(pf, key) if pf.kind == "bpmn" else None,
                deployed_at=now, deployed_by=user, comment=comment,
            ))
            result.definitions.append(DeployedDefinition(key, version, pf.kind, True))
            pointer = session.get(CurrentVersion, key)
            session.add(VersionEvent(key=key, kind="deploy", from_version=pointer.version if pointer else None,
                                     to_version=version, by=user, at=now, detail={"comment": comment,
                                                                                  "git_commit": git_commit,
                                                                                  **detail_extra}))
            if pointer is None:
                session.add(CurrentVersion(key=key, version=version))
            else:
                pointer.version = version
            if pf.kind == "bpmn":
                starts = [t for t in _timer_starts(pf) if t[0] == key]
                if starts:
                    _key, element, kind, text, _line = starts[0]
                    schedules.register(session, key, element, kind, text, now)
                else:
                    schedules.unregister(session, key)
    session.flush()
    result.deployment_id = deployment.id if deployment else None
    return result


def get_definition(session: Session, key: str, version: int | None = None) -> Definition:
    """A given version, or the one new cases start on."""
    if version is None:
        found = current(session, key)
    else:
        found = session.scalars(select(Definition).where(Definition.key == key, Definition.version == version)).first()
    if found is None:
        raise NotFound(f"no process definition '{key}'" + (f" version {version}" if version else ""))
    return found


def versions(session: Session, key: str) -> list[Definition]:
    return list(session.scalars(select(Definition).where(Definition.key == key).order_by(Definition.version)))
