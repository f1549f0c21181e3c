"""Stage 5: every output file of a design, rendered in memory (SPEC section 4).

Output kinds, each with the paths it owns (what `render --only KIND` replaces):
  ifcfg    <node>/network-scripts/
  ovs      <node>/ovs/
  libvirt  <node>/libvirt/
  sheet    <node>/build-sheet.md, build-sheet.html, wiring.svg; build-sheet.csv, index.md
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import PurePosixPath

from generator.model import Design
from generator.pipeline import ValidDesign
from generator.render import ifcfg, libvirt, ovs_script, sheets
from generator.render.files import OutputFile
from generator.resolve import NodeLayout

__all__ = ["KINDS", "OutputFile", "owned_paths", "render_design"]

NodeRenderer = Callable[[Design, NodeLayout, PurePosixPath], list[OutputFile]]
DesignRenderer = Callable[[Design, tuple[NodeLayout, ...], PurePosixPath], list[OutputFile]]


@dataclass(frozen=True)
class Kind:
    name: str
    render_node: NodeRenderer
    node_paths: tuple[str, ...]  # relative to the node folder
    render_design: DesignRenderer | None = None
    design_paths: tuple[str, ...] = ()  # relative to the design folder


_KINDS = (
    Kind("ifcfg", ifcfg.render_ifcfg, (ifcfg.FOLDER,)),
    Kind("ovs", ovs_script.render_apply_script, (ovs_script.FOLDER,)),
    Kind("libvirt", libvirt.render_libvirt, (libvirt.FOLDER,)),
    Kind("sheet", sheets.render_node_sheets, sheets.NODE_FILES, sheets.render_design_sheets, sheets.DESIGN_FILES),
)
KINDS = tuple(kind.name for kind in _KINDS)


def _selected(kinds: Collection[str]) -> tuple[Kind, ...]:
    return tuple(kind for kind in _KINDS if not kinds or kind.name in kinds)


# Below this many nodes per worker, starting processes costs more than it saves (benchmarks/).
NODES_PER_JOB = 100


def render_design(
    valid: ValidDesign, nodes: Collection[str] = (), kinds: Collection[str] = (), jobs: int = 1
) -> list[OutputFile]:
    """The design's files (only `nodes` and `kinds` when given), sorted by path.

    Paths are relative to the output folder and start with the design name.
    Design-level files (CSV, index) always cover every node. With `jobs` > 1,
    large designs render their nodes in that many processes; the bytes are the same.
    """
    selected = _selected(kinds)
    layouts = [layout for layout in valid.layouts if not nodes or layout.node.name in nodes]
    files = _render_nodes(valid, layouts, selected, jobs)
    root = PurePosixPath(valid.design.name)
    for kind in selected:
        if kind.render_design is not None:
            files += kind.render_design(valid.design, valid.layouts, root)
    return sorted(files, key=lambda file: str(file.path))  # strings sort far faster than paths


def _render_nodes(
    valid: ValidDesign, layouts: list[NodeLayout], kinds: tuple[Kind, ...], jobs: int
) -> list[OutputFile]:
    workers = min(jobs, len(layouts) // NODES_PER_JOB)
    if workers < 2:
        return _render_chunk(valid, layouts, kinds)
    import multiprocessing

    global _SHARED  # noqa: PLW0603  # handed to forked workers by inheritance, not by pickling
    _SHARED = (valid, layouts, kinds)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_render_share, [(index, workers) for index in range(workers)])
    finally:
        _SHARED = None
    return [file for result in results for file in result]


_SHARED: tuple[ValidDesign, list[NodeLayout], tuple[Kind, ...]] | None = None


def _render_share(share: tuple[int, int]) -> list[OutputFile]:
    """In a worker: render every `count`-th node starting at `index` of the shared design."""
    assert _SHARED is not None, "set by the parent before forking"
    valid, layouts, kinds = _SHARED
    index, count = share
    return _render_chunk(valid, layouts[index::count], kinds)


def _render_chunk(valid: ValidDesign, layouts: list[NodeLayout], kinds: tuple[Kind, ...]) -> list[OutputFile]:
    root = PurePosixPath(valid.design.name)
    return [
        file
        for kind in kinds
        for layout in layouts
        for file in kind.render_node(valid.design, layout, root / layout.node.name)
    ]


def owned_paths(valid: ValidDesign, nodes: Collection[str] = (), kinds: Collection[str] = ()) -> list[PurePosixPath]:
    """What a render with these filters replaces as a whole: its files and folders, and nothing else."""
    root = PurePosixPath(valid.design.name)
    selected = _selected(kinds)
    if not nodes and len(selected) == len(_KINDS):
        return [root]  # the whole design folder: nodes no longer in the design disappear
    names = [layout.node.name for layout in valid.layouts if not nodes or layout.node.name in nodes]
    if len(selected) == len(_KINDS):
        paths = [root / name for name in names]
    else:
        paths = [root / name / sub for name in names for kind in selected for sub in kind.node_paths]
    return paths + [root / sub for kind in selected for sub in kind.design_paths]
