"""Service tasks as Camunda 7 draws them: a handler topic, a Java delegate name, a BPMN error.

* ``camunda:type="external" camunda:topic="parts.reserve"`` runs the handler registered under the topic.
* ``camunda:class="com.acme.CheckSerial"``, ``camunda:delegateExpression="${checkSerial}"`` and
  ``camunda:expression="${mailer.send(execution)}"`` — Java in Camunda — run the Python handler
  registered under that name (the text inside ``${…}``): a migrating company registers a handler per
  delegate and deploys its diagrams unchanged. The deploy report warns that the element is bridged;
  a name with no handler is refused with element and line.
* A handler raising :class:`~engine.errors.BpmnError` is thrown at the task by
  :func:`engine.bpmn_errors.throw`, as an external worker's ``bpmnError`` is; boundary events keep
  ``camunda:errorCodeVariable`` / ``errorMessageVariable`` for it (:class:`ErrorAwareBoundaryParser`).
"""

from __future__ import annotations

import re

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.camunda.parser.event_parsers import CamundaBoundaryEventParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, CamundaTaskParser

from .errors import BpmnError
from .retries import retry_policy

_C = f"{{{CAMUNDA_MODEL_NS}}}"
DELEGATE_ATTRIBUTES = ("class", "delegateExpression", "expression")
_EXPRESSION = re.compile(r"^\s*[$#]\{\s*(.*?)\s*\}\s*$", re.S)


def delegate_name(text: str) -> str:
    """The handler name a Java delegate reference is bridged to: ``${checkSerial}`` -> ``checkSerial``,
    ``com.acme.CheckSerial`` as it is."""
    match = _EXPRESSION.match(text)
    return match.group(1) if match else text.strip()


def delegate_of(node) -> tuple[str, str] | None:
    """(``camunda:class`` | ``camunda:delegateExpression`` | ``camunda:expression``, handler name) of a
    service task or listener that names Java code, else None. (Listeners write the attributes bare.)"""
    listener = node.tag in (f"{_C}executionListener", f"{_C}taskListener")
    for attr in DELEGATE_ATTRIBUTES:
        value = node.get(attr if listener else _C + attr)
        if value:
            return f"camunda:{attr}", delegate_name(value)
    return None


class HandlerTask(ServiceTask):
    """A service task whose work is done by the handler registered under its topic (or under the
    name of the Java delegate it names: ``delegate`` is then the attribute, e.g. ``camunda:class``).

    With ``camunda:asyncBefore="true"`` the step stops in front of it (the task waits STARTED, the step
    commits) and a worker runs the handler later (``engine/async_tasks.py``), retried per
    ``camunda:failedJobRetryTimeCycle``."""

    def __init__(self, wf_spec, bpmn_id, topic=None, async_before=False, retry_cycle=None, delegate=None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic
        self.async_before = async_before
        self.retry_cycle = retry_cycle
        self.delegate = delegate

    def _run_hook(self, my_task):
        if my_task.internal_data.pop("external_done", False):
            return True  # an external worker completed it (engine/external_runs.py)
        if self.async_before and not my_task.internal_data.pop("async_run", False):
            return None  # STARTED: left to a worker once this step has committed
        try:
            # None for a topic without a Python handler: STARTED, waiting for an external worker
            return my_task.workflow.script_engine.run_handler(my_task, self.topic)
        except BpmnError as err:
            # thrown once the task is STARTED, as a worker's is (engine/bpmn_errors.py via Step.advance)
            my_task.workflow.script_engine.bpmn_error(my_task, err)
            return None


class ErrorAwareBoundaryParser(CamundaBoundaryEventParser):
    """Boundary events keep ``camunda:errorCodeVariable`` / ``errorMessageVariable``."""

    def create_task(self):
        task = super().create_task()
        found = self.xpath(".//bpmn:errorEventDefinition")
        if found:
            task.error_variables = error_variables(found[0])
        return task


def error_variables(definition) -> tuple[str | None, str | None]:
    """The variables an ``errorEventDefinition`` puts the caught error's code and message into."""
    return definition.get(_C + "errorCodeVariable"), definition.get(_C + "errorMessageVariable")


class HandlerTaskParser(CamundaTaskParser):
    def _refuse(self, message: str, code: str, **params):
        """SpiffWorkflow's validation error, carrying the problem's code for ``_problem_from``."""
        exc = ValidationException(message, node=self.node, file_name=self.filename)
        exc.problem_code, exc.problem_params = code, params  # type: ignore[attr-defined]
        raise exc

    def create_task(self):
        node = self.node
        topic = node.get(_C + "topic")
        kind = node.get(_C + "type")
        delegate = None
        if topic is None and kind is None:
            found = delegate_of(node)
            connector = self.xpath("./bpmn:extensionElements/camunda:connector/camunda:connectorId")
            if found:
                delegate, topic = found
            elif connector:  # http-connector, mail-connector: handlers registered under the connector id
                delegate, topic = "camunda:connector", (connector[0].text or "").strip()
        async_before = "true" in (node.get(_C + "asyncBefore"), node.get(_C + "async"))
        cycles = self.xpath(".//camunda:failedJobRetryTimeCycle")
        retry_cycle = (cycles[0].text or "").strip() or None if cycles else None
        if retry_cycle is not None:
            try:
                retry_policy(retry_cycle)
            except ValueError as exc:
                self._refuse(str(exc), "retry_cycle_invalid", text=retry_cycle)
        return HandlerTask(self.spec, self.bpmn_id, topic=topic, async_before=async_before, retry_cycle=retry_cycle,
                           delegate=delegate, **self.bpmn_attributes)
