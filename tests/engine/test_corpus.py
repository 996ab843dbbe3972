"""The yardstick for "diagrams from the modeler run": the 30 real Camunda 7 diagrams in
shared/corpus. Each either deploys, or is refused with a problem that names file and element
— never a crash, never a silent acceptance of something that cannot run."""

from __future__ import annotations

import os
import pathlib

import pytest

from engine.errors import DiagramInvalid
from engine.users import Actor

# AFTERSALES_CORPUS points elsewhere (a worktree not beside shared/)
CORPUS = pathlib.Path(os.environ.get("AFTERSALES_CORPUS")
                      or pathlib.Path(__file__).resolve().parents[3] / "shared" / "corpus" / "camunda7")
FILES = sorted((CORPUS / "files").glob("*.bpmn")) if CORPUS.is_dir() else []
DMN = {p.name: p.read_bytes() for p in sorted((CORPUS / "dmn").glob("*.dmn"))} if CORPUS.is_dir() else {}
OWNER = Actor("owner", frozenset({"process_owner"}))


@pytest.mark.skipif(not FILES, reason="shared/corpus is not beside this checkout")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_corpus_diagram_deploys_or_is_refused_clearly(core, path):
    engine, sessions = core
    with sessions() as s:
        if DMN:
            try:
                engine.deploy(s, dict(DMN), OWNER)
            except DiagramInvalid:
                pass
        try:
            result = engine.deploy(s, {path.name: path.read_bytes()}, OWNER)
        except DiagramInvalid as exc:
            assert exc.problems
            for p in exc.problems:
                assert p.file and p.message, p
                assert "Traceback" not in p.message
            return
        assert result.definitions
