"""engine/ and handlers/ never import Flask or web/, and never commit (commits happen at the edges)."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _modules(package: str):
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["engine", "handlers"])
def test_core_does_not_import_the_web_layer(package):
    offenders = []
    for path in _modules(package):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in ("flask", "web", "werkzeug")]
    assert offenders == []


@pytest.mark.parametrize("package", ["engine", "handlers"])
def test_core_never_commits(package):
    offenders = [str(p.relative_to(ROOT)) for p in _modules(package)
                 if any(isinstance(n, ast.Attribute) and n.attr == "commit" and not (
                     isinstance(n.value, ast.Name) and n.value.id == "savepoint")
                        for n in ast.walk(ast.parse(p.read_text())))]
    assert offenders == []
