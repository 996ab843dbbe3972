"""One condition language per diagram: which diagrams' gateway conditions mix ``${…}`` (JUEL, as
Camunda writes them) and plain Python. Both run (``expressions.juel_to_python``), but a process owner
reading the diagram should see one way of writing; the shipped diagrams write plain Python
(``approved and amount > 1000``). ``deployments`` turns a mix into a deploy warning."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from . import expressions
from .diagram import BPMN_NS

_CONDITIONS = f"{{{BPMN_NS}}}conditionExpression"


@dataclass(frozen=True)
class Mix:
    flow_id: str | None  # the first sequence flow written as ${…}
    line: int | None
    text: str  # its condition as drawn
    juel: int  # how many conditions are ${…}
    plain: int  # and how many plain Python

    @property
    def message(self) -> str:
        return (f"conditions mix ${{…}} ({self.juel}) and plain Python ({self.plain}): write them one way, "
                f"e.g. '{self.text}' as '{expressions.juel_to_python(self.text)}'")


def mixed(root: etree._Element) -> Mix | None:
    """How a diagram's sequence-flow conditions are written both ways, or None when one way."""
    juel: list[etree._Element] = []
    plain: list[etree._Element] = []
    for node in root.iter(_CONDITIONS):
        text = (node.text or "").strip()
        if text:
            (juel if expressions.is_juel(text) else plain).append(node)
    if not juel or not plain:
        return None
    first = juel[0]
    return Mix(first.getparent().get("id"), first.sourceline, (first.text or "").strip(), len(juel), len(plain))
