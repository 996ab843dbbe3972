"""Turn a diagram's bilingual labels ("核实身份与保修范围 Check scope") into the convention the pages
read (README, "Labels in two languages"): the element's ``name`` / the field's ``label`` / the enum
value's ``name`` in Chinese, the English in a ``camunda:property`` named ``label_en`` — on an element
``<camunda:property name="label_en" value="…"/>``, on a form field ``<camunda:property id="label_en"
value="…"/>`` and, per enum value, ``id="label_en.<value id>"`` (Camunda Modeler edits both in the
properties panel: "Extension properties" and the form field's "Properties").

    python tools/one_language.py processes/*.bpmn

Rewrites the files in place; a label without a Chinese and an English part is left as it is.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
# Names that are keys, not labels: a message's name is what correlation matches on.
_KEYS = {f"{{{BPMN}}}{t}" for t in ("message", "signal", "error", "escalation")}
# Where the split rule ("the English starts after the last Chinese word") reads a label wrongly.
_BY_HAND = {
    "登记 RMA Register": ("登记 RMA", "Register RMA"),
    "每周五 17:00 Every Friday": ("每周五 17:00", "Every Friday 17:00"),
}


def split(text: str) -> tuple[str, str] | None:
    """(Chinese, English) of a bilingual label, or None."""
    if text in _BY_HAND:
        return _BY_HAND[text]
    for m in re.finditer(r"\s+", text):
        head, rest = text[:m.start()], text[m.end():]
        if _CJK.search(head) and rest and not _CJK.search(rest) and re.match(r"[A-Za-z0-9(]", rest) \
                and re.search(r"[A-Za-z]", rest):
            return head.strip(), rest.strip()
    return None


def _properties(owner: etree._Element, before_bpmn: bool) -> etree._Element:
    """The ``camunda:properties`` of an element (its ``bpmn:extensionElements``) or of a form field."""
    if not before_bpmn:  # a camunda:formField
        found = owner.find(f"{{{CAMUNDA}}}properties")
        if found is None:
            found = etree.Element(f"{{{CAMUNDA}}}properties")
            owner.insert(0, found)
        return found
    ext = owner.find(f"{{{BPMN}}}extensionElements")
    if ext is None:
        ext = etree.Element(f"{{{BPMN}}}extensionElements")
        docs = owner.find(f"{{{BPMN}}}documentation")
        owner.insert(0 if docs is None else owner.index(docs) + 1, ext)
    found = ext.find(f"{{{CAMUNDA}}}properties")
    if found is None:
        found = etree.SubElement(ext, f"{{{CAMUNDA}}}properties")
        ext.insert(0, found)
    return found


def _set(props: etree._Element, key_attr: str, key: str, value: str) -> None:
    for p in props.findall(f"{{{CAMUNDA}}}property"):
        if p.get(key_attr) == key:
            p.set("value", value)
            return
    etree.SubElement(props, f"{{{CAMUNDA}}}property", {key_attr: key, "value": value})


def convert(root: etree._Element) -> int:
    changed = 0
    for el in root.iter(f"{{{BPMN}}}*"):
        parts = split(el.get("name") or "") if el.tag not in _KEYS else None
        if parts:
            el.set("name", parts[0])
            _set(_properties(el, True), "name", "label_en", parts[1])
            changed += 1
    for f in root.iter(f"{{{CAMUNDA}}}formField"):
        parts = split(f.get("label") or "")
        if parts:
            f.set("label", parts[0])
            _set(_properties(f, False), "id", "label_en", parts[1])
            changed += 1
        for v in f.findall(f"{{{CAMUNDA}}}value"):
            parts = split(v.get("name") or "")
            if parts:
                v.set("name", parts[0])
                _set(_properties(f, False), "id", f"label_en.{v.get('id')}", parts[1])
                changed += 1
    return changed


def main(paths: list[str]) -> None:
    for path in map(Path, paths):
        tree = etree.parse(str(path), etree.XMLParser(remove_blank_text=False, resolve_entities=False))
        n = convert(tree.getroot())
        if n:
            etree.indent(tree, space="  ")
            tree.write(str(path), xml_declaration=True, encoding="UTF-8")
        print(f"{path}: {n} labels")


if __name__ == "__main__":
    main(sys.argv[1:])
