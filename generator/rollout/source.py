"""What a rollout is made from: a plan folder (`ovsgen plan`: rollout.json beside plan.md, a
folder per node) or a render (`ovsgen render`: OUT/<design>/rollout.json and OUT/<design>/<node>/,
or one design's folder). rollout.json says what the node folders cannot: each node's design,
where its host is reached, the order of its scripts, its bridges and bonds."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from generator.changes.rollout_facts import LAYERS, rollback_layers
from generator.characters import forbidden_character
from generator.diagnostics import Diagnostic
from generator.errors import InputInvalid
from generator.output.nofollow import files_below
from generator.render.files import OutputFile

FACTS = "rollout.json"
PLAN, RENDER = "plan", "render"
# What stays on the controller: the host's originals a plan's scripts saved while it ran in this
# folder, and the render's build sheets (people read them; the host needs none).
HOST_ONLY_SUFFIXES = (".backup", ".restored")
SHEETS = ("build-sheet.md", "build-sheet.html", "wiring.svg")
MAX_FACTS_BYTES = 64 * 1024 * 1024
# A name that may stand in the inventory and the commands as it is: no space, quote, `$`, `/`,
# nor Ansible's `{{`, `{%` (node, design, host, bridge, port, bond, file and network names).
WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@+-]*")
# A host name or address Ansible can hand to ssh: no space, no quote, no leading dash (an option).
HOST = re.compile(r"[A-Za-z0-9_.:\[\]%][A-Za-z0-9_.:\[\]%-]*")
BACKENDS = frozenset({"ifcfg", "networkmanager"})
# The keys of each node that rollout reads, by the kind of folder.
_COMMON = ("name", "design", "address", "bonds")
NEEDED = {
    PLAN: (*_COMMON, "steps", "rollback_order", "backend_change", "risks"),
    RENDER: (*_COMMON, "bridges", "backends"),
}


class RolloutInvalid(InputInvalid):
    """A folder `ovsgen rollout` cannot use: no rollout.json, or one ovsgen did not write."""


@dataclass(frozen=True)
class RolloutNode:
    """One node: its facts (rollout.json, and where it says them) and its files."""

    name: str
    design: str
    address: str
    facts: dict[str, Any]
    files: tuple[OutputFile, ...]  # each path below the node's folder, as it is staged on the host
    where: tuple[str, int, int] = ("", 1, 1)  # rollout.json, line and column of the node's name

    @property
    def hostname(self) -> str:
        """The host name the node's scripts expect (a plan's: the one its host dump recorded)."""
        return str(self.facts.get("hostname", self.name))

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
    made_by: str  # what the nodes come from, in words: "plan", "render of design a, b"


def read_source(folder: Path) -> RolloutSource:
    """The nodes of the plan or render in `folder`; RolloutInvalid when it is neither."""
    found = _facts_files(folder)
    if not found:
        raise RolloutInvalid([at(folder / FACTS, 1, 1, _NO_FACTS)])
    loaded = [(path, *_load(path)) for path in found]
    kinds = {facts["kind"] for _, facts, _ in loaded}
    if len(kinds) > 1:
        raise RolloutInvalid([at(found[0], 1, 1, "the folder holds both a plan and a render: give one of them")])
    kind = kinds.pop()
    nodes: list[RolloutNode] = []
    for path, facts, places in loaded:
        nodes += [_node(path, entry, places) for entry in facts["nodes"] if kind == PLAN or _rendered(path, entry)]
    if not nodes and kind == RENDER:
        raise RolloutInvalid([at(found[0], 1, 1, "no node of this render has its folder: render the design again")])
    problems = [problem for node in nodes for problem in node_problems(kind, node)] + _repeated(nodes)
    if problems:
        raise RolloutInvalid(problems)
    made_by = _plan_words(loaded[0][1]["generated"]) if kind == PLAN else render_words(nodes)
    return RolloutSource(kind, folder, tuple(nodes), made_by)


_NO_FACTS = (
    "no rollout.json here: give a plan folder (ovsgen plan -o DIR) or a render's output folder "
    "(ovsgen render -o DIR, without --only), as written by this version of ovsgen"
)


def render_words(nodes: Sequence[RolloutNode]) -> str:
    """ "render of design a, b": the designs of the nodes, in their order."""
    return f"render of design {', '.join(dict.fromkeys(node.design for node in nodes))}"


def _rendered(path: Path, entry: dict[str, Any]) -> bool:
    """Whether a render wrote the node's folder (`render --node` writes only those nodes'); a name
    that is no plain word is kept, to be refused before it names a folder."""
    name = str(entry["name"])
    return WORD.fullmatch(name) is None or (path.parent / name).is_dir()


def _plan_words(generated: str) -> str:
    """ "plan (old.yaml -> new.yaml)" from the plan's own header."""
    # The last ". Review": a design's file name may hold one too.
    return generated.removeprefix("Generated by ovsgen ").rpartition(". Review")[0]


def _facts_files(folder: Path) -> list[Path]:
    """rollout.json of the folder itself (a plan, or one design's render), else of each design in it."""
    own = folder / FACTS
    if own.is_file():
        return [own]
    return sorted(path / FACTS for path in folder.iterdir() if path.is_dir() and (path / FACTS).is_file())


def _load(path: Path) -> tuple[dict[str, Any], dict[str, tuple[int, int]]]:
    """A rollout.json, checked: what ovsgen wrote, with every key rollout reads; and where each
    node's name is in it (line, column)."""
    data = read_bounded(path, MAX_FACTS_BYTES, "not a rollout.json ovsgen wrote")
    try:
        facts = json.loads(data.decode())
    except UnicodeDecodeError:
        raise RolloutInvalid([at(path, 1, 1, "not UTF-8 text: not a rollout.json ovsgen wrote")]) from None
    except json.JSONDecodeError as error:
        raise RolloutInvalid([at(path, error.lineno, error.colno, f"not JSON: {error.msg}")]) from None
    problem = _shape_problem(facts)
    if problem is not None:
        raise RolloutInvalid([at(path, 1, 1, f"not a rollout.json ovsgen wrote: {problem}")])
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
    if not isinstance(facts, dict) or not str(facts.get("generated")).startswith("Generated by ovsgen"):
        return "its 'generated' line is missing"
    if forbidden_character(str(facts["generated"])) is not None:
        return "its 'generated' line holds a control character"
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


def node_problems(kind: str, node: RolloutNode) -> list[Diagnostic]:
    """What in a node's facts or files a rollout cannot take: names that are not plain words,
    scripts or rollbacks that are missing or out of order, a render's missing files."""
    facts = node.facts
    words = [node.name, node.design, node.hostname]
    words += [str(bond.get("name")) if isinstance(bond, dict) else "?" for bond in _listed(facts["bonds"])]
    words += [PurePosixPath(name).name.removesuffix(".xml") for name in _host_names(node)]
    if kind == RENDER:
        words += [str(item) for bridge in _listed(facts["bridges"]) for item in _bridge_words(bridge)]
    bad = [word for word in words if WORD.fullmatch(word) is None]
    problems = [f"{bad[0]!r} is not a plain name (letters, digits, _ . : @ + -)"] if bad else []
    if facts["address"] and HOST.fullmatch(str(facts["address"])) is None:
        problems.append(f"address {facts['address']!r} is not a host name or address")
    problems += _plan_problems(node) if kind == PLAN else _render_problems(node)
    return [node.problem(problem) for problem in problems]


def _listed(value: object) -> list[Any]:
    return value if isinstance(value, list) else ["?"]


def _bridge_words(bridge: object) -> list[object]:
    if not isinstance(bridge, dict) or not isinstance(bridge.get("ports"), list):
        return ["?"]
    return [bridge.get("name"), *bridge["ports"]]


def _host_names(node: RolloutNode) -> list[str]:
    """The node's ifcfg files and libvirt networks, by the names the project gives them."""
    return [item.path for item in node.files if item.path.startswith(("network-scripts/", "libvirt/"))]


def _plan_problems(node: RolloutNode) -> list[str]:
    """A plan node's steps must be the plan's layers in their order, each with its two scripts."""
    risks = node.facts["risks"]
    if not isinstance(risks, list) or any(not isinstance(r, str) or forbidden_character(r) is not None for r in risks):
        return ["its risk notes are not lines of text"]
    steps = node.facts["steps"]
    known = [{"layer": layer, "change": change, "rollback": rollback} for layer, change, rollback in LAYERS]
    if (
        not isinstance(steps, list)
        or any(step not in known for step in steps)
        or steps != sorted(steps, key=known.index)
    ):
        return ["its steps are not the plan's layers in their order"]
    if node.facts["rollback_order"] != rollback_layers(steps):
        return [f"its rollback order is not {', '.join(rollback_layers(steps))}"]
    scripts = {item.path for item in node.files if item.executable}
    missing = [name for step in steps for name in (step["change"], step["rollback"]) if name not in scripts]
    return [f"{missing[0]} is missing from its folder, or not executable: write the plan again"] if missing else []


def _render_problems(node: RolloutNode) -> list[str]:
    """A render node needs its ovs/apply.sh, and its ifcfg files on the ifcfg backend."""
    backends = node.facts["backends"]
    if not isinstance(backends, list) or not backends or not set(backends) <= BACKENDS:
        return ["its backends are neither ifcfg nor networkmanager"]
    paths = {item.path for item in node.files}
    needed = ["ovs/apply.sh"] + (["network-scripts/"] if "ifcfg" in backends else [])
    needed += ["libvirt/define.sh"] if any(path.startswith("libvirt/") for path in paths) else []
    missing = [name for name in needed if not any(path.startswith(name) for path in paths)]
    return [f"{missing[0]} is missing from its folder: render the design again, without --only"] if missing else []


def _repeated(nodes: list[RolloutNode]) -> list[Diagnostic]:
    seen: set[str] = set()
    problems = []
    for node in nodes:
        if node.name in seen:
            problems.append(node.problem("a second node of this name: roll the designs out apart"))
        seen.add(node.name)
    return problems


def _node(path: Path, facts: dict[str, Any], places: dict[str, tuple[int, int]]) -> RolloutNode:
    name = str(facts["name"])
    line, column = places.get(name, (1, 1))
    if WORD.fullmatch(name) is None:  # before it names a folder to read
        raise RolloutInvalid([Diagnostic(str(path), line, column, (), f"{name!r} is not a plain node name")])
    files = _node_files(path.parent / name)
    return RolloutNode(name, str(facts["design"]), str(facts["address"]), facts, files, (str(path), line, column))


def _node_files(folder: Path) -> tuple[OutputFile, ...]:
    """Every file the node's host needs, as the plan or render wrote it (never through a link)."""
    if not folder.is_dir():
        raise RolloutInvalid([at(folder, 1, 1, "the node's folder is missing: write the plan or render again")])
    files = []
    for path in sorted(files_below(str(folder))):
        relative = os.path.relpath(path, folder)
        if _stays_on_controller(relative):
            continue
        mode = os.lstat(path).st_mode
        if not stat.S_ISREG(mode):  # a FIFO would block the read; a device is no file ovsgen wrote
            raise RolloutInvalid([at(Path(path), 1, 1, "not a regular file: not a file ovsgen wrote")])
        # Bytes, decoded: the file as it was written (text mode would turn CRLF into LF).
        with open(path, "rb") as handle:
            data = handle.read()
        try:
            text = data.decode()
        except UnicodeDecodeError:
            raise RolloutInvalid([at(Path(path), 1, 1, "not UTF-8 text: not a file ovsgen wrote")]) from None
        files.append(OutputFile(relative.replace(os.sep, "/"), text, bool(mode & stat.S_IXUSR)))
    return tuple(files)


def _stays_on_controller(relative: str) -> bool:
    first = relative.partition(os.sep)[0]
    return first.endswith(HOST_ONLY_SUFFIXES) or relative in SHEETS


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """A file rollout reads (rollout.json, a mapping file), refused at its start past `limit`
    bytes; `what` says what such a file is not."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)  # a file that grows meanwhile stays bounded
    if len(data) > limit:
        raise RolloutInvalid([at(path, 1, 1, f"larger than {limit // 2**20} MiB: {what}")])
    return data


def at(path: Path, line: int, column: int, message: str) -> Diagnostic:
    """A problem at a place in a file rollout reads (rollout.json, a node's file, a mapping file)."""
    return Diagnostic(str(path), line, column, (), message)
