"""The words a diagram gives its elements, form fields and enum values, in Chinese and English.

Convention (README, "Labels in two languages"): an element's ``name``, a form field's ``label`` and an
enum value's ``name`` are Chinese; the English is an extension property ``label_en`` — on an element
``<camunda:property name="label_en" value="Check scope"/>`` (Camunda Modeler: "Extension properties"),
on a form field ``<camunda:property id="label_en" value="Customer name"/>`` and, per enum value,
``id="label_en.<value id>"`` (the field's "Properties"). Either language may be missing; readers fall
back to the other. ``tools/one_language.py`` converts a diagram written with "中文 English" labels.

A process explains itself in one sentence on the start page: the Chinese in the process's
``<bpmn:documentation>`` (Camunda Modeler: "Documentation"), the English in its extension property
``description_en``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import diagram_xml

_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_C = f"{{{diagram_xml.CAMUNDA_NS}}}"
_KEYS = {f"{_BPMN}{t}" for t in ("message", "signal", "error", "escalation")}  # names that are keys


@dataclass
class Words:
    """Chinese and English words of every deployed diagram, the newest deployment winning."""

    element_en: dict[tuple[str, str], str] = field(default_factory=dict)  # (element id, zh name) -> en
    name_en: dict[str, str] = field(default_factory=dict)  # zh name -> en, for rows without an element id
    field_zh: dict[str, str] = field(default_factory=dict)  # field id -> zh label
    field_en: dict[str, str] = field(default_factory=dict)  # field id -> en label
    option_zh: dict[tuple[str, str], str] = field(default_factory=dict)  # (field id, value id) -> zh
    option_en: dict[tuple[str, str], str] = field(default_factory=dict)
    process_zh: dict[str, str] = field(default_factory=dict)  # process key -> zh name
    process_en: dict[str, str] = field(default_factory=dict)
    about_zh: dict[str, str] = field(default_factory=dict)  # process key -> zh sentence (documentation)
    about_en: dict[str, str] = field(default_factory=dict)  # process key -> en sentence (description_en)

    def add(self, xml: bytes) -> None:
        try:
            root = diagram_xml.parse_stored(xml)
        except Exception:  # a stored diagram that no longer reads gives no words, never a broken page
            return
        for el in root.iter(f"{_BPMN}*"):
            if el.tag in _KEYS or not isinstance(el.tag, str):
                continue
            en = _element_property(el)
            name = (el.get("name") or "").strip()
            if el.tag == f"{_BPMN}process":
                self.process_zh[el.get("id") or ""] = name
                self.process_en[el.get("id") or ""] = en
                doc = el.find(f"{_BPMN}documentation")
                self.about_zh[el.get("id") or ""] = " ".join((doc.text or "").split()) if doc is not None else ""
                self.about_en[el.get("id") or ""] = _element_property(el, "description_en")
            if en and name:
                self.element_en[(el.get("id") or "", name)] = en
                self.name_en[name] = en
        for f in root.iter(f"{_C}formField"):
            fid = f.get("id") or ""
            props = {p.get("id") or "": p.get("value") or "" for p in f.iterfind(f"{_C}properties/{_C}property")}
            if f.get("label"):
                self.field_zh[fid] = f.get("label") or ""
            if props.get("label_en"):
                self.field_en[fid] = props["label_en"]
            for v in f.iterfind(f"{_C}value"):
                vid = v.get("id") or ""
                if v.get("name"):
                    self.option_zh[(fid, vid)] = v.get("name") or ""
                if props.get(f"label_en.{vid}"):
                    self.option_en[(fid, vid)] = props[f"label_en.{vid}"]


def _element_property(el, name: str = "label_en") -> str:
    for p in el.iterfind(f"{_BPMN}extensionElements/{_C}properties/{_C}property"):
        if p.get("name") == name:
            return (p.get("value") or "").strip()
    return ""


def element_names(xml: bytes) -> dict[str, tuple[str, str, str]]:
    """One diagram's flow elements by id: ``(Chinese name, English label_en, kind)``, the kind being
    the BPMN tag (``userTask``, ``boundaryEvent`` …) for elements without a name. A diagram that no
    longer reads gives no names."""
    try:
        root = diagram_xml.parse_stored(xml)
    except Exception:
        return {}
    out: dict[str, tuple[str, str, str]] = {}
    for el in root.iter(f"{_BPMN}*"):
        if not isinstance(el.tag, str) or el.tag in _KEYS or not el.get("id"):
            continue
        out[el.get("id") or ""] = ((el.get("name") or "").strip(), _element_property(el), el.tag[len(_BPMN):])
    return out
