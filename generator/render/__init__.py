"""Stage 5: every output file of a design, rendered in memory (SPEC section 4).

Output kinds, each with the paths it owns (what `render --only KIND` replaces):
  ifcfg    <node>/network-scripts/
  ovs      <node>/ovs/
  libvirt  <node>/libvirt/
  sheet    <node>/build-sheet.md, build-sheet.html, wiring.svg; build-sheet.csv, index.md
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from generator.model import Design
from generator.pipeline import ValidDesign
from generator.render import ifcfg, libvirt, ovs_script, sheets
from generator.render.files import OutputFile
from generator.resolve import NodeLayout

__all__ = ["KINDS", "OutputFile", "iter_design_files", "owned_paths", "render_design"]

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
    Design-level files (CSV, index) always cover every node.
    """
    files = iter_design_files(valid, nodes, kinds, jobs)
    return sorted(files, key=lambda file: str(file.path))  # strings sort far faster than paths


def iter_design_files(
    valid: ValidDesign, nodes: Collection[str] = (), kinds: Collection[str] = (), jobs: int = 1
) -> Iterator[OutputFile]:
    """The design's files node by node (all of a node's files together), then the design-level ones.

    Only a few nodes' files are in memory at a time, whatever the size of the fleet. With
    `jobs` > 1, large designs render their nodes in that many processes; the bytes are the same.
    """
    selected = _selected(kinds)
    layouts = [layout for layout in valid.layouts if not nodes or layout.node.name in nodes]
    for batch in _render_batches(valid, layouts, selected, jobs):
        yield from batch
    root = PurePosixPath(valid.design.name)
    for kind in selected:
        if kind.render_design is not None:
            yield from kind.render_design(valid.design, valid.layouts, root)


def _render_batches(
    valid: ValidDesign, layouts: list[NodeLayout], kinds: tuple[Kind, ...], jobs: int
) -> Iterator[list[OutputFile]]:
    workers = min(jobs, len(layouts) // NODES_PER_JOB)
    if workers < 2:
        for layout in layouts:
            yield _render_chunk(valid, [layout], kinds)
        return
    import multiprocessing

    global _SHARED  # noqa: PLW0603  # handed to forked workers by inheritance, not by pickling
    _SHARED = (valid, layouts, kinds)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            # A few batches per worker in flight: enough to keep the cores busy, little memory.
            spans = [(start, min(start + BATCH, len(layouts))) for start in range(0, len(layouts), BATCH)]
            for window in range(0, len(spans), 2 * workers):
                yield from pool.map(_render_span, spans[window : window + 2 * workers])
    finally:
        _SHARED = None


BATCH = 25  # nodes per task for the workers

_SHARED: tuple[ValidDesign, list[NodeLayout], tuple[Kind, ...]] | None = None


def _render_span(span: tuple[int, int]) -> list[OutputFile]:
    """In a worker: render the nodes `start:end` of the shared design."""
    assert _SHARED is not None, "set by the parent before forking"
    valid, layouts, kinds = _SHARED
    start, end = span
    return _render_chunk(valid, layouts[start:end], kinds)


def _render_chunk(valid: ValidDesign, layouts: list[NodeLayout], kinds: tuple[Kind, ...]) -> list[OutputFile]:
    """All files of these nodes, node by node."""
    root = PurePosixPath(valid.design.name)
    return [
        file
        for layout in layouts
        for kind in kinds
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
