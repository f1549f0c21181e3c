"""The shape of generator/, read with `ast`: stages import one way, no cycles, no hidden
module state, and modules and functions small enough to read (docs/architecture.md)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "generator"

# Each stage may import its own modules and those of the stages before it. output and changes
# both come after render and know nothing of each other; cli comes after all of them.
FOUNDATION = ("generator", "generator.diagnostics", "generator.errors", "generator.characters", "generator.resources")
STAGES = {"design": 1, "ovs": 2, "render": 3, "output": 4, "changes": 4, "adopt": 5, "rollout": 5, "cli": 6}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def stage_of(module: str) -> tuple[str, int]:
    """The stage a module belongs to and its rank (foundation and speed/ come first)."""
    if module in FOUNDATION or module.startswith("generator.speed"):
        return "foundation", 0
    if module == "generator.__main__":
        return "entry", 7
    stage = module.split(".")[1]
    return stage, STAGES[stage]


def imported_modules(module: str) -> Iterator[tuple[str, int]]:
    """Every generator module `module` imports (at the top or inside a function), with the line."""
    path = MODULES[module]
    yield from imports_in(path.read_text(), module, is_package=path.name == "__init__.py")


def imports_in(source: str, module: str, *, is_package: bool) -> Iterator[tuple[str, int]]:
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from generator.x import y` imports the module generator.x.y when there is one.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for name in names:
            if name in MODULES and name != module:
                yield name, node.lineno


def test_every_module_is_placed_in_a_stage() -> None:
    assert {stage_of(module)[0] for module in MODULES} == {"foundation", "entry", *STAGES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_one_way(module: str) -> None:
    stage, rank = stage_of(module)
    upward = [
        f"{MODULES[module].relative_to(REPO)}:{line}: {stage} imports {target} ({stage_of(target)[0]})"
        for target, line in imported_modules(module)
        if stage_of(target)[1] > rank or (stage_of(target)[1] == rank and stage_of(target)[0] != stage)
    ]
    assert upward == []


def test_no_import_cycle() -> None:
    graph = {module: sorted({target for target, _ in imported_modules(module)}) for module in MODULES}
    cycles = [cycle for cycle in (find_cycle(graph, start) for start in graph) if cycle]
    assert cycles == []


def find_cycle(graph: dict[str, list[str]], start: str) -> list[str]:
    """A path of imports from `start` back to itself, or [] (depth first, each module once)."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        module, path = stack.pop()
        for target in graph[module]:
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return []


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}
    assert find_cycle(graph, "a") == ["a", "b", "c", "a"]
    assert find_cycle(graph, "d") == []
    assert find_cycle({"a": ["b"], "b": []}, "a") == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_global_statement(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text())
    assert [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Global | ast.Nonlocal)] == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_and_function_sizes(module: str) -> None:
    text = MODULES[module].read_text()
    too_long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert (len(text.splitlines()) <= MAX_MODULE_LINES, too_long) == (True, [])


def test_the_import_reader_sees_relative_lazy_and_submodule_imports() -> None:
    """The rules above are only as good as the reader: it must see every kind of import."""
    source = (
        "from generator.render import kinds\n"
        "from . import progress\n"
        "from ..design.model import Design\n"
        "import os\n"
        "def f():\n"
        "    import generator.errors\n"
    )
    found = sorted(imports_in(source, "generator.cli.main", is_package=False))
    assert found == [
        ("generator.cli.progress", 2),
        ("generator.design.model", 3),
        ("generator.errors", 6),
        ("generator.render.kinds", 1),
    ]
