"""What a rollout is made from: a plan folder (`ovsgen plan`: rollout.json beside plan.md, a
folder per node) or a render (`ovsgen render`: OUT/<design>/rollout.json and OUT/<design>/<node>/,
or one design's folder). rollout.json says what the node folders cannot: each node's design,
where its host is reached, the order of its scripts, its bridges and bonds."""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.diagnostics import Diagnostic
from generator.errors import InputInvalid
from generator.output.nofollow import files_below

FACTS = "rollout.json"
PLAN, RENDER = "plan", "render"
# What stays on the controller: the host's originals a plan's scripts saved while it ran in this
# folder, and the render's build sheets (people read them; the host needs none).
HOST_ONLY_SUFFIXES = (".backup", ".restored")
SHEETS = ("build-sheet.md", "build-sheet.html", "wiring.svg")
MAX_FACTS_BYTES = 64 * 1024 * 1024
# The keys of each node that rollout reads, by the kind of folder.
_COMMON = ("name", "design", "address", "bonds")
NEEDED = {PLAN: (*_COMMON, "steps", "rollback_order", "backend_change"), RENDER: (*_COMMON, "bridges", "backends")}


class RolloutInvalid(InputInvalid):
    """A folder `ovsgen rollout` cannot use: no rollout.json, or one ovsgen did not write."""


@dataclass(frozen=True)
class NodeFile:
    """One file of a node, to be staged on its host: its path below the node's folder."""

    path: str
    text: str
    executable: bool


@dataclass(frozen=True)
class RolloutNode:
    """One node: its facts (rollout.json, and where it says them) and its files."""

    name: str
    design: str
    address: str
    facts: dict[str, Any]
    files: tuple[NodeFile, ...]
    where: tuple[str, int, int] = ("", 1, 1)  # rollout.json, line and column of the node's name

    def problem(self, message: str) -> Diagnostic:
        """`message` about this node, at its entry in rollout.json."""
        file, line, column = self.where
        return Diagnostic(file, line, column, (), f"{self.name}: {message}")


@dataclass(frozen=True)
class RolloutSource:
    """Every node of the plan or render, in its order, and what kind of folder it came from."""

    kind: str  # PLAN or RENDER
    folder: Path
    nodes: tuple[RolloutNode, ...]
    header: str  # the `generated` line of the (first) rollout.json: what made it


def read_source(folder: Path) -> RolloutSource:
    """The nodes of the plan or render in `folder`; RolloutInvalid when it is neither."""
    found = _facts_files(folder)
    if not found:
        raise RolloutInvalid([_at(folder / FACTS, 1, 1, _NO_FACTS)])
    loaded = [(path, *_load(path)) for path in found]
    kinds = {facts["kind"] for _, facts, _ in loaded}
    if len(kinds) > 1:
        raise RolloutInvalid([_at(found[0], 1, 1, "the folder holds both a plan and a render: give one of them")])
    nodes: list[RolloutNode] = []
    for path, facts, places in loaded:
        nodes += [_node(path, entry, places) for entry in facts["nodes"]]
    return RolloutSource(kinds.pop(), folder, tuple(nodes), loaded[0][1]["generated"])


_NO_FACTS = (
    "no rollout.json here: give a plan folder (ovsgen plan -o DIR) or a render's output folder "
    "(ovsgen render -o DIR, without --only), as written by this version of ovsgen"
)


def _facts_files(folder: Path) -> list[Path]:
    """rollout.json of the folder itself (a plan, or one design's render), else of each design in it."""
    own = folder / FACTS
    if own.is_file():
        return [own]
    return sorted(path / FACTS for path in folder.iterdir() if path.is_dir() and (path / FACTS).is_file())


def _load(path: Path) -> tuple[dict[str, Any], dict[str, tuple[int, int]]]:
    """A rollout.json, checked: what ovsgen wrote, with every key rollout reads; and where each
    node's name is in it (line, column)."""
    with path.open("rb") as handle:
        data = handle.read(MAX_FACTS_BYTES + 1)
    try:
        facts = json.loads(data.decode())
    except UnicodeDecodeError:
        raise RolloutInvalid([_at(path, 1, 1, "not UTF-8 text: not a rollout.json ovsgen wrote")]) from None
    except json.JSONDecodeError as error:
        raise RolloutInvalid([_at(path, error.lineno, error.colno, f"not JSON: {error.msg}")]) from None
    problem = _shape_problem(facts)
    if problem is not None:
        raise RolloutInvalid([_at(path, 1, 1, f"not a rollout.json ovsgen wrote: {problem}")])
    return facts, _name_places(data.decode())


_NAME_LINE = re.compile(r'( *)"name": ("(?:[^"\\]|\\.)*"),?')


def _name_places(text: str) -> dict[str, tuple[int, int]]:
    """Where each node's `"name": ...` is (ovsgen writes one key per line; the first wins)."""
    places: dict[str, tuple[int, int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        found = _NAME_LINE.fullmatch(line)
        if found is not None:
            places.setdefault(json.loads(found.group(2)), (number, len(found.group(1)) + 1))
    return places


def _shape_problem(facts: object) -> str | None:
    if not isinstance(facts, dict) or not str(facts.get("generated", "")).startswith("Generated by ovsgen"):
        return "its 'generated' line is missing"
    if facts.get("kind") not in (PLAN, RENDER):
        return "'kind' is neither plan nor render"
    nodes = facts.get("nodes")
    if not isinstance(nodes, list):
        return "'nodes' is not a list"
    needed = NEEDED[facts["kind"]]
    for entry in nodes:
        missing = [key for key in needed if not isinstance(entry, dict) or key not in entry]
        if missing:
            return f"a node lacks {', '.join(missing)}"
    return None


def _node(path: Path, facts: dict[str, Any], places: dict[str, tuple[int, int]]) -> RolloutNode:
    name = str(facts["name"])
    line, column = places.get(name, (1, 1))
    files = _node_files(path.parent / name)
    return RolloutNode(name, str(facts["design"]), str(facts["address"]), facts, files, (str(path), line, column))


def _node_files(folder: Path) -> tuple[NodeFile, ...]:
    """Every file the node's host needs, as the plan or render wrote it (never through a link)."""
    if not folder.is_dir():
        raise RolloutInvalid([_at(folder, 1, 1, "the node's folder is missing: write the plan or render again")])
    files = []
    for path in sorted(files_below(str(folder))):
        relative = os.path.relpath(path, folder)
        if _stays_on_controller(relative):
            continue
        mode = os.lstat(path).st_mode
        with open(path, encoding="utf-8") as handle:
            files.append(NodeFile(relative.replace(os.sep, "/"), handle.read(), bool(mode & stat.S_IXUSR)))
    return tuple(files)


def _stays_on_controller(relative: str) -> bool:
    first = relative.split(os.sep, maxsplit=1)[0]
    return first.endswith(HOST_ONLY_SUFFIXES) or relative in SHEETS


def _at(path: Path, line: int, column: int, message: str) -> Diagnostic:
    return Diagnostic(str(path), line, column, (), message)
