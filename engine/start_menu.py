"""Which flows staff start by hand on the start page, read from the diagram.

The rule (README, "Adding a diagram"): a process is offered on the start page when

- it has a plain start event — one without a timer, message, signal or conditional definition —
  directly in the process (a flow whose only starts are timer or message starts is started by the
  system: ``parts_replenishment`` every Friday), and
- it is not marked ``camunda:isStartableInTasklist="false"`` (Camunda 7's own flag, the *Startable*
  checkbox in Camunda Modeler's properties panel): set on a process that another process calls
  (``dispatch``) or that a handler starts (``follow_up``, started when a repair ends).

A flow that is not offered is refused on the start page for everyone (it would run without the case
that should have started it); integrations may still start any flow through the API, as Camunda's
REST API may start a process its Tasklist does not offer.
"""

from __future__ import annotations

from . import diagram_xml

_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_C = f"{{{diagram_xml.CAMUNDA_NS}}}"


def _process(xml: bytes, key: str):
    try:
        root = diagram_xml.parse_stored(xml)
    except Exception:  # a stored diagram that no longer reads is offered to nobody, never a broken page
        return None
    return next((p for p in root.iterfind(f"{_BPMN}process") if p.get("id") == key), None)


def started_by_hand(xml: bytes, key: str) -> bool:
    """Whether the process ``key`` of this diagram is offered on the start page (module docstring)."""
    process = _process(xml, key)
    if process is None or (process.get(f"{_C}isStartableInTasklist") or "").strip().lower() == "false":
        return False
    for start in process.iterfind(f"{_BPMN}startEvent"):
        if not any(isinstance(c.tag, str) and c.tag.endswith("EventDefinition") for c in start):
            return True
    return False
