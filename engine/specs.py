"""Parsed process specs, built once per definition version and kept in memory.

A case is bound, when it starts, to the versions of the processes it calls and the decision
tables it uses (``Instance.bindings``), so a later deployment of ``dispatch`` never changes
a repair case already under way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import diagram_xml
from .diagram import BPMN_NS, build_parser, prepare
from .errors import DiagramInvalid, NotFound, Problem
from .models import CurrentVersion, Definition

_CAMUNDA = "http://camunda.org/schema/1.0/bpmn"


@dataclass
class ProcessSpecs:
    spec: Any
    subprocess_specs: dict[str, Any]
    task_specs_by_element: dict[str, Any]  # bpmn id -> task spec, over the process and what it calls


def latest(session: Session, key: str) -> Definition | None:
    return session.scalars(
        select(Definition).where(Definition.key == key).order_by(Definition.version.desc()).limit(1)
    ).first()


def current(session: Session, key: str) -> Definition | None:
    """The version new cases of ``key`` start on: the newest unless rolled back."""
    pointer = session.get(CurrentVersion, key)
    if pointer is None:
        return latest(session, key)
    return session.scalars(select(Definition).where(Definition.key == key, Definition.version == pointer.version)).first()


@dataclass(frozen=True)
class DefinitionRef:
    """What a start needs of a deployed definition, without the ORM: its row's columns but the file."""
    id: int
    key: str
    version: int
    kind: str
    filename: str


# Every key's current version in one statement (a start used to ask twice per process it calls).
# Read afresh each time, never cached: a deployment or rollback by another process counts at once.
_CURRENT_ALL = select(Definition.id, Definition.key, Definition.version, Definition.kind, Definition.filename).join(
    CurrentVersion, (CurrentVersion.key == Definition.key) & (CurrentVersion.version == Definition.version))


def current_all(session: Session) -> dict[str, DefinitionRef]:
    return {row.key: DefinitionRef(*row) for row in session.execute(_CURRENT_ALL)}


def _xml(session: Session, definition: Definition | DefinitionRef) -> bytes:
    if isinstance(definition, Definition):
        return definition.xml
    return session.execute(select(Definition.xml).where(Definition.id == definition.id)).scalar_one()



def references(xml: bytes) -> set[str]:
    """Keys a file depends on: called processes and decision tables."""
    called, decisions = _references(xml)
    return called | decisions


def _references(xml: bytes) -> tuple[set[str], set[str]]:
    """(called processes, decision tables) a file names, its own processes left out."""
    root = diagram_xml.parse_stored(xml)
    called = root.xpath("//bpmn:callActivity/@calledElement", namespaces={"bpmn": BPMN_NS})
    decisions = root.xpath("//bpmn:businessRuleTask/@camunda:decisionRef",
                           namespaces={"bpmn": BPMN_NS, "camunda": _CAMUNDA})
    own = set(root.xpath("//bpmn:process/@id", namespaces={"bpmn": BPMN_NS}))
    return {str(k) for k in called} - own, {str(k) for k in decisions} - own


def dependencies(session: Session, xmls: list[bytes], own: set[str]) -> dict[str, Definition]:
    """Latest deployed definitions that ``xmls`` call or use, transitively (not those in ``own``)."""
    found: dict[str, Definition] = {}
    pending = [k for xml in xmls for k in references(xml)]
    while pending:
        key = pending.pop()
        if key in found or key in own:
            continue
        definition = current(session, key)
        if definition is None:
            continue  # reported by the parser, naming the element that needs it
        found[key] = definition
        if definition.kind == "bpmn":
            pending.extend(references(definition.xml))
    return found


class SpecCache:
    def __init__(self) -> None:
        self._cache: dict[tuple, ProcessSpecs] = {}
        self._references: dict[int, tuple[set[str], set[str]]] = {}
        self._lock = threading.Lock()

    def references_of(self, session: Session, definition: Definition | DefinitionRef) -> tuple[set[str], set[str]]:
        """(called processes, decision tables) ``definition`` names."""
        found = self._references.get(definition.id)
        if found is None:
            found = self._references[definition.id] = _references(_xml(session, definition))
        return found

    def bind(self, session: Session, definition: Definition | DefinitionRef,
             current_now: dict[str, DefinitionRef] | None = None) -> dict[str, int]:
        """The versions of everything ``definition`` needs, as deployed now (``current_now``: what
        ``current_all`` answered in this transaction)."""
        bindings: dict[str, int] = {}
        called, decided = self.references_of(session, definition)
        pending, optional = [*called, *decided], set(decided)
        while pending:
            key = pending.pop()
            if key in bindings or key == definition.key:
                continue
            found: Definition | DefinitionRef | None = current_now.get(key) if current_now is not None else None
            if found is None:
                found = current(session, key)
            if found is None and key in optional:
                continue  # a decision table not deployed yet: the task stops the case until it is (decisions.py)
            if found is None:
                raise DiagramInvalid([Problem(definition.filename, None, None,
                                              f"'{definition.key}' calls '{key}', which is not deployed",
                                              "called_process_missing", {"process": key})])
            bindings[key] = found.version
            if found.kind == "bpmn":
                called, decided = self.references_of(session, found)
                pending.extend([*called, *decided])
                optional |= decided
        return bindings

    def late_bindings(self, session: Session, definition: Definition, bindings: dict[str, int]) -> dict[str, int]:
        """Decision tables a case could not bind when it started (not deployed then) that are deployed now."""
        return {k: v for k, v in self.bind(session, definition).items() if k not in bindings}

    def cached(self, definition_id: int, bindings: dict[str, int]) -> ProcessSpecs | None:
        return self._cache.get((definition_id, tuple(sorted(bindings.items()))))

    def get(self, session: Session, definition: Definition | DefinitionRef, bindings: dict[str, int]) -> ProcessSpecs:
        cache_key = (definition.id, tuple(sorted(bindings.items())))
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        files = {definition.filename: _xml(session, definition)}
        kinds = {definition.filename: definition.kind}
        for key, version in bindings.items():
            dep = session.scalars(select(Definition).where(Definition.key == key, Definition.version == version)).first()
            if dep is None:
                raise NotFound(f"definition {key} version {version} is gone")
            name = f"{key}@{version}/{dep.filename}"
            files[name], kinds[name] = dep.xml, dep.kind
        roots = {}
        for name, data in files.items():
            root, _problems = prepare(data, name)
            roots[name] = root
        parser = build_parser(roots, kinds)
        spec = parser.get_spec(definition.key)
        subprocess_specs = parser.get_subprocess_specs(definition.key)
        by_element: dict[str, Any] = {}
        for s in [spec, *subprocess_specs.values()]:
            for ts in s.task_specs.values():
                if getattr(ts, "bpmn_id", None):
                    by_element.setdefault(ts.bpmn_id, ts)
        result = ProcessSpecs(spec, subprocess_specs, by_element)
        with self._lock:
            self._cache[cache_key] = result
        return result
