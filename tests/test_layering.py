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


def _engine_imports() -> dict[str, set[str]]:
    """engine module -> the engine modules it imports: at the top, inside functions or for types only."""
    graph: dict[str, set[str]] = {}
    for path in (ROOT / "engine").glob("*.py"):
        name = path.stem
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    graph[name].add(node.module.split(".")[0])
                else:
                    graph[name].update(a.name for a in node.names)
    return {m: {d for d in deps if d in graph and d != "__init__"} for m, deps in graph.items()}


def test_engine_modules_import_each_other_without_a_circle():
    graph = _engine_imports()
    graph.pop("__init__", None)  # the package's curated API imports its modules; they never import it
    circles, done, path = [], set(), []

    def visit(module: str) -> None:
        if module in path:
            circles.append(path[path.index(module):] + [module])
            return
        if module in done:
            return
        path.append(module)
        for dep in sorted(graph.get(module, ())):
            visit(dep)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
    assert circles == []
