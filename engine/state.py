"""A live workflow to bytes and back, kept small and fast however long a case runs.

Two things keep a step's cost flat:

* the spec is not in the blob: specs are parsed once per definition version and passed in
  when a workflow is restored;
* :func:`compact` cuts finished tasks out of the task tree. Every unfinished task descends from
  their lowest common ancestor; everything above it is finished, already recorded in our own
  history table, and only makes the tree deeper. SpiffWorkflow stops iterating at depth 1000, so
  without this a QC loop run ~250 times would silently look "completed".
"""

from __future__ import annotations

import json
import zlib
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG
from SpiffWorkflow.util.task import TaskState

FORMAT = "aftersales-1"


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow without its specs and restores it with specs handed in."""

    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(DEFAULT_CONFIG)
_config[BpmnWorkflow] = SpeclessWorkflowConverter
_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))


def dump(workflow: BpmnWorkflow) -> bytes:
    """JSON, deflated: a waiting case's tree is mostly repeated keys and ids (~4-5x smaller)."""
    registry = _serializer.registry
    registry._encoder_mode = True
    try:
        dct = registry.convert(workflow)
        dct["format"] = FORMAT
        text = json.dumps(dct, cls=_serializer._encoder_cls, separators=(",", ":")).encode()
    finally:
        registry._encoder_mode = False
    return zlib.compress(text, 1)


def load(blob: bytes, spec, subprocess_specs, script_engine) -> BpmnWorkflow:
    dct = json.loads(zlib.decompress(blob) if blob[:1] != b"{" else blob)
    fmt = dct.pop("format", None)
    if fmt != FORMAT:
        raise ValueError(f"stored workflow has format {fmt!r}, this engine reads {FORMAT!r}")
    dct["typename"] = "BpmnWorkflow"
    workflow = _serializer.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = script_engine
    return workflow


def _path(task) -> list:
    path = []
    while task is not None:
        path.append(task)
        task = task.parent
    path.reverse()
    return path


def _compact_tree(top: BpmnWorkflow, wf) -> None:
    root = wf.task_tree
    unfinished = [t for t in wf.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if not unfinished:
        return
    common = _path(unfinished[0])
    for task in unfinished[1:]:
        path = _path(task)
        n = 0
        while n < len(common) and n < len(path) and common[n] is path[n]:
            n += 1
        common = common[:n]
    if len(common) < 3:  # anchor is the root or a child of it: nothing to cut
        return
    anchor = common[-1]
    keep = {t.id for t in anchor}  # iterating a task walks its subtree
    keep.add(root.id)
    dropped = [t for tid, t in wf.tasks.items() if tid not in keep]
    for task in dropped:
        if task.id in top.subprocesses:
            top.delete_subprocess(task)
    for task in dropped:
        del wf.tasks[task.id]
    root._children = [anchor.id]
    anchor._parent = root.id
    if wf.last_task is not None and wf.last_task.id not in keep:
        wf.last_task = None


def compact(workflow: BpmnWorkflow) -> None:
    _compact_tree(workflow, workflow)
    for sub in list(workflow.subprocesses.values()):
        _compact_tree(workflow, sub)


def live_variables(wf) -> dict:
    """The case's variables now: the data of its unfinished tasks, newest change last."""
    live = [t for t in wf.get_tasks(state=TaskState.NOT_FINISHED_MASK & ~TaskState.PREDICTED_MASK)]
    live.sort(key=lambda t: t.last_state_change)
    merged: dict = {}
    for task in live:
        merged.update(task.data)
    return clean_data(merged)


def key_value(value) -> str | None:
    """How a correlation value is indexed (``message_keys.value``); None when it is not indexable."""
    if not isinstance(value, str | int | bool):
        return None
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else None


def message_keys(variables: dict) -> frozenset[tuple[str, str]]:
    keys = set()
    for name, value in variables.items():
        text = key_value(value)
        if text is not None and len(name) <= 100:
            keys.add((name, text))
    return frozenset(keys)


def clean_data(data: dict) -> dict:
    """Process variables as plain JSON (what the API shows and what is kept once a case ends)."""
    return json.loads(json.dumps(data, default=str))
