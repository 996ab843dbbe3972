"""The one XML parser every diagram read goes through (deploy, spec cache, diff, case page, export).

Diagrams come from process owners' uploads and the in-browser modeler, so the parser trusts nothing:
no DTD (which also rules out every entity trick: external entities, parameter entities, billion
laughs), no network, no XInclude, and caps on size and nesting depth. A refused file raises
:class:`DiagramInvalid` naming the file, the line and what is wrong — an HTTP 400, never a 500.
"""

from __future__ import annotations

import io

from lxml import etree

from .errors import DiagramInvalid, Problem

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
# Camunda 7's successors and forerunners write the same extension attributes under their own
# namespace: Operaton (the community fork of 7.24), Flowable, Activiti (whose URI Camunda Modeler
# also still binds to ``camunda:``). Each is read as the Camunda namespace given here.
DIALECT_NAMESPACES = {
    "http://activiti.org/bpmn": CAMUNDA_NS,
    "http://operaton.org/schema/1.0/bpmn": CAMUNDA_NS,
    "http://flowable.org/bpmn": CAMUNDA_NS,
    "http://operaton.org/schema/1.0/dmn": "http://camunda.org/schema/1.0/dmn",
}
MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64  # Camunda Modeler files nest about 10 deep; embedded subprocesses add a few levels each


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_pis=True, collect_ids=False)


def parse(data: bytes, filename: str = "diagram") -> etree._Element:
    """The root element of ``data``, or :class:`DiagramInvalid` saying why not."""
    def refuse(message: str, line: int | None = None, code: str = "xml_broken", **params) -> DiagramInvalid:
        return DiagramInvalid([Problem(filename, None, line, message, code, params)])

    if len(data) > MAX_BYTES:
        raise refuse(f"file larger than {MAX_BYTES // (1024 * 1024)} MB", None, "file_too_large",
                     mb=MAX_BYTES // (1024 * 1024))
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        line = data[: data.find(b"<!")].count(b"\n") + 1
        raise refuse("DTDs and entity declarations (<!DOCTYPE …>) are not allowed in diagrams", line, "xml_dtd")
    depth = 0
    try:
        for event, element in etree.iterparse(io.BytesIO(data), events=("start", "end"), resolve_entities=False,
                                              no_network=True, load_dtd=False, huge_tree=False, remove_pis=True):
            depth += 1 if event == "start" else -1
            if depth > MAX_DEPTH:
                raise refuse(f"elements nested too deeply (more than {MAX_DEPTH} levels)", element.sourceline,
                             "xml_too_deep")
            if event == "start" and element.getparent() is None:
                root = element
    except etree.XMLSyntaxError as exc:
        message = exc.msg or "syntax error"
        if "DOCTYPE" in message or "DTD" in message or "ntity" in message:
            raise refuse(f"DTDs and entities are not allowed in diagrams ({message})", exc.lineno, "xml_dtd") from exc
        if "depth" in message.lower():
            raise refuse(f"elements nested too deeply ({message})", exc.lineno, "xml_too_deep") from exc
        raise refuse(f"not well-formed XML: {message}", exc.lineno or None) from exc
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:  # e.g. a UTF-16 file the byte check missed
        raise refuse("DTDs and entity declarations (<!DOCTYPE …>) are not allowed in diagrams", 1, "xml_dtd")
    return root


def as_camunda(data: bytes) -> bytes:
    """``data`` with every dialect namespace rebound to Camunda's: what the engine parses. The file
    itself is stored, shown in the modeler and exported as it came."""
    for uri, camunda in DIALECT_NAMESPACES.items():
        data = data.replace(uri.encode(), camunda.encode())
    return data


def parse_stored(data: bytes) -> etree._Element:
    """A diagram that was checked when it was deployed (its XML is read again for views and diffs),
    read as Camunda's whatever dialect it is written in."""
    return parse(as_camunda(data), "stored diagram")
