"""Every output file of a design, rendered in memory (docs/outputs.md).

Output kinds, each with the paths it owns (what `render --only KIND` replaces):
  ifcfg           <node>/network-scripts/            (nodes with the ifcfg backend)
  networkmanager  <node>/NetworkManager/             (nodes with the networkmanager backend)
  ovs      <node>/ovs/
  libvirt  <node>/libvirt/
  sheet    <node>/build-sheet.md, build-sheet.html, wiring.svg; build-sheet.csv, index.md
  rollout  rollout.json (what `ovsgen rollout` reads: addresses, backends, bridges, bonds)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TypeVar

from generator.design.resolve import NodeLayout
from generator.design.validate import ValidDesign
from generator.render import ifcfg, libvirt, networkmanager, nm_script, ovs_script, rollout_facts, sheets
from generator.render.context import DesignContext, NodeContext
from generator.render.files import OutputFile
from generator.speed.pool import fork_map

__all__ = [
    "KINDS",
    "REGISTRY",
    "Kind",
    "OutputFile",
    "map_design",
    "owned_paths",
    "render_design",
    "selected_layouts",
]

T = TypeVar("T")

# A node's files come from its context alone; a design's (the CSV and index) from the design's
# context and every node's layout, into the folder given (the design's, "design").
NodeRenderer = Callable[[NodeContext], list[OutputFile]]
DesignRenderer = Callable[[DesignContext, tuple[NodeLayout, ...], str], list[OutputFile]]


@dataclass(frozen=True)
class Kind:
    """An output kind: how to render it per node (and per design), and the paths it owns."""

    name: str
    render_node: NodeRenderer
    node_paths: tuple[str, ...]  # relative to the node folder
    render_design: DesignRenderer | None = None
    design_paths: tuple[str, ...] = ()  # relative to the design folder


def _no_node_files(context: NodeContext) -> list[OutputFile]:
    return []  # rollout.json is the design's: one file for every node


# Every kind, in the order a node's files are rendered. The functions below take another
# registry (`registry=`) where a caller needs one, such as a test with a renderer that fails.
REGISTRY = (
    Kind("ifcfg", ifcfg.render_ifcfg, (ifcfg.FOLDER,)),
    Kind("networkmanager", nm_script.render_networkmanager, (networkmanager.FOLDER,)),
    Kind("ovs", ovs_script.render_apply_script, (ovs_script.FOLDER,)),
    Kind("libvirt", libvirt.render_libvirt, (libvirt.FOLDER,)),
    Kind("sheet", sheets.render_node_sheets, sheets.NODE_FILES, sheets.render_design_sheets, sheets.DESIGN_FILES),
    Kind("rollout", _no_node_files, (), rollout_facts.render_rollout_facts, (rollout_facts.FACTS,)),
)
KINDS = tuple(kind.name for kind in REGISTRY)


def _selected(kinds: Collection[str], registry: Sequence[Kind] | None) -> tuple[Kind, ...]:
    """The kinds of `registry` (REGISTRY when None) named in `kinds`, or all of them."""
    return tuple(kind for kind in (REGISTRY if registry is None else registry) if not kinds or kind.name in kinds)


def render_design(
    valid: ValidDesign,
    nodes: Collection[str] = (),
    kinds: Collection[str] = (),
    jobs: int = 1,
    *,
    registry: Sequence[Kind] | None = None,
) -> list[OutputFile]:
    """The design's files (only `nodes` and `kinds` when given), sorted by path.

    Paths are relative to the output folder and start with the design name.
    Design-level files (CSV, index) always cover every node.
    """
    rendered = map_design(valid, _as_rendered, nodes, kinds, jobs, registry=registry)
    return sorted((file for files in rendered for file in files), key=lambda file: file.path)


def _as_rendered(files: list[OutputFile]) -> list[OutputFile]:
    return files


def map_design(
    valid: ValidDesign,
    consume: Callable[[list[OutputFile]], T],
    nodes: Collection[str] = (),
    kinds: Collection[str] = (),
    jobs: int = 1,
    *,
    registry: Sequence[Kind] | None = None,
) -> Iterator[T]:
    """`consume` of each node's files, in node order, then of the design-level files (if any).

    With `jobs` > 1, large designs render and consume their nodes in that many
    forked processes (consume must then only touch the file system and return
    something small); the results arrive in the same order as with one job.
    """
    selected = _selected(kinds, registry)
    # Made once: forked workers inherit it with the functions below (each works out, at most once,
    # what it asks of it).
    shared = DesignContext.of(valid.design)
    render_nodes = functools.partial(_consume_nodes, shared, selected, consume)
    render_design_files = functools.partial(_consume_design_files, shared, valid.layouts, selected, consume)
    yield from fork_map(selected_layouts(valid, nodes), render_nodes, render_design_files, jobs=jobs, role="render")


def selected_layouts(valid: ValidDesign, nodes: Collection[str] = ()) -> list[NodeLayout]:
    """The layouts of the nodes `map_design` renders: those named in `nodes`, or every one."""
    if not nodes:
        return list(valid.layouts)
    return [
        valid.layouts[index] for index in sorted({valid.positions[name] for name in nodes if name in valid.positions})
    ]


def _consume_nodes(
    shared: DesignContext,
    kinds: tuple[Kind, ...],
    consume: Callable[[list[OutputFile]], T],
    layouts: Sequence[NodeLayout],
) -> Iterator[T]:
    """`consume` of each node's files, one node at a time."""
    for layout in layouts:
        context = shared.node(layout, f"{shared.design.name}/{layout.node.name}")
        yield consume([file for kind in kinds for file in kind.render_node(context)])


def _consume_design_files(
    shared: DesignContext,
    layouts: tuple[NodeLayout, ...],
    kinds: tuple[Kind, ...],
    consume: Callable[[list[OutputFile]], T],
) -> Iterator[T]:
    """`consume` of the files about the whole design (CSV, index), if the kinds have any; they
    always cover every node (`layouts`: all of the design's)."""
    files = [
        file
        for kind in kinds
        if kind.render_design is not None
        for file in kind.render_design(shared, layouts, shared.design.name)
    ]
    if files:
        yield consume(files)


def owned_paths(
    valid: ValidDesign,
    nodes: Collection[str] = (),
    kinds: Collection[str] = (),
    *,
    registry: Sequence[Kind] | None = None,
) -> list[PurePosixPath]:
    """What a render with these filters replaces as a whole: its files and folders, and nothing else."""
    root = PurePosixPath(valid.design.name)
    selected = _selected(kinds, registry)
    every_kind = len(selected) == len(REGISTRY if registry is None else registry)
    if not nodes and every_kind:
        return [root]  # the whole design folder: nodes no longer in the design disappear
    names = [layout.node.name for layout in valid.layouts if not nodes or layout.node.name in nodes]
    if every_kind:
        paths = [root / name for name in names]
    else:
        paths = [root / name / sub for name in names for kind in selected for sub in kind.node_paths]
    return paths + [root / sub for kind in selected for sub in kind.design_paths]
