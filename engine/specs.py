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




def references(xml: bytes) -> set[str]:
    """Keys a file depends on: called processes and decision tables."""
    root = diagram_xml.parse_stored(xml)
    called = root.xpath("//bpmn:callActivity/@calledElement", namespaces={"bpmn": BPMN_NS})
    decisions = root.xpath("//bpmn:businessRuleTask/@camunda:decisionRef",
                           namespaces={"bpmn": BPMN_NS, "camunda": _CAMUNDA})
    own = set(root.xpath("//bpmn:process/@id", namespaces={"bpmn": BPMN_NS}))
    return {str(k) for k in (*called, *decisions)} - own


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
        self._references: dict[int, set[str]] = {}
        self._lock = threading.Lock()

    def references_of(self, definition: Definition) -> set[str]:
        found = self._references.get(definition.id)
        if found is None:
            found = self._references[definition.id] = references(definition.xml)
        return found

    def bind(self, session: Session, definition: Definition) -> dict[str, int]:
        """The versions of everything ``definition`` needs, as deployed now."""
        bindings: dict[str, int] = {}
        pending = list(self.references_of(definition))
        while pending:
            key = pending.pop()
            if key in bindings or key == definition.key:
                continue
            found = current(session, key)
            if found is None:
                raise DiagramInvalid([Problem(definition.filename, None, None,
                                              f"'{definition.key}' calls '{key}', which is not deployed",
                                              "called_process_missing", {"process": key})])
            bindings[key] = found.version
            if found.kind == "bpmn":
                pending.extend(self.references_of(found))
        return bindings

    def cached(self, definition_id: int, bindings: dict[str, int]) -> ProcessSpecs | None:
        return self._cache.get((definition_id, tuple(sorted(bindings.items()))))

    def get(self, session: Session, definition: Definition, bindings: dict[str, int]) -> ProcessSpecs:
        cache_key = (definition.id, tuple(sorted(bindings.items())))
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        files = {definition.filename: definition.xml}
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
