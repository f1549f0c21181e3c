"""Stage 5: every output file of a design, rendered in memory (SPEC section 4).

Output kinds, each with the paths it owns (what `render --only KIND` replaces):
  ifcfg    <node>/network-scripts/
  ovs      <node>/ovs/
  libvirt  <node>/libvirt/
  sheet    <node>/build-sheet.md, build-sheet.html, wiring.svg; build-sheet.csv, index.md
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, TypeVar

from generator.model import Design
from generator.pipeline import ValidDesign
from generator.render import ifcfg, libvirt, ovs_script, sheets
from generator.render.files import OutputFile
from generator.resolve import NodeLayout

__all__ = ["KINDS", "OutputFile", "map_design", "owned_paths", "render_design"]

T = TypeVar("T")

# Renderers get the folder their files go to, relative to the output folder ("design/node", "design").
NodeRenderer = Callable[[Design, NodeLayout, str], list[OutputFile]]
DesignRenderer = Callable[[Design, tuple[NodeLayout, ...], str], list[OutputFile]]


@dataclass(frozen=True)
class Kind:
    """An output kind: how to render it per node (and per design), and the paths it owns."""

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


def render_design(
    valid: ValidDesign, nodes: Collection[str] = (), kinds: Collection[str] = (), jobs: int = 1
) -> list[OutputFile]:
    """The design's files (only `nodes` and `kinds` when given), sorted by path.

    Paths are relative to the output folder and start with the design name.
    Design-level files (CSV, index) always cover every node.
    """
    files = (file for files in map_design(valid, _as_rendered, nodes, kinds, jobs) for file in files)
    return sorted(files, key=lambda file: file.path)


def _as_rendered(files: list[OutputFile]) -> list[OutputFile]:
    return files


def map_design(
    valid: ValidDesign,
    consume: Callable[[list[OutputFile]], T],
    nodes: Collection[str] = (),
    kinds: Collection[str] = (),
    jobs: int = 1,
) -> Iterator[T]:
    """`consume` of each node's files, in node order, then of the design-level files (if any).

    With `jobs` > 1, large designs render and consume their nodes in that many
    forked processes (consume must then only touch the file system and return
    something small); the results arrive in the same order as with one job.
    """
    selected = _selected(kinds)
    layouts = [layout for layout in valid.layouts if not nodes or layout.node.name in nodes]
    workers = min(jobs, len(layouts) // NODES_PER_JOB)
    if workers >= 2:
        yield from _in_workers(workers, (valid, layouts, selected, consume))
        return
    for layout in layouts:
        yield consume(_render_node(valid, layout, selected))
    design_files = _render_design_files(valid, selected)
    if design_files:
        yield consume(design_files)


def _render_design_files(valid: ValidDesign, kinds: tuple[Kind, ...]) -> list[OutputFile]:
    """The files about the whole design (CSV, index); they always cover every node."""
    return [
        file
        for kind in kinds
        if kind.render_design is not None
        for file in kind.render_design(valid.design, valid.layouts, valid.design.name)
    ]


# Below this many nodes per worker, starting processes costs more than it saves (benchmarks/).
NODES_PER_JOB = 100
BATCH = 20  # nodes per task for the workers

_SHARED: tuple[ValidDesign, list[NodeLayout], tuple[Kind, ...], Callable[[list[OutputFile]], Any]] | None = None


def _in_workers(
    workers: int, shared: tuple[ValidDesign, list[NodeLayout], tuple[Kind, ...], Callable[[list[OutputFile]], T]]
) -> Iterator[T]:
    import multiprocessing

    global _SHARED  # noqa: PLW0603  # handed to forked workers by inheritance, not by pickling
    _SHARED = shared
    count = len(shared[1])
    spans = [(start, min(start + BATCH, count)) for start in range(0, count, BATCH)]
    # Objects made so far are shared with the workers: kept out of collections there, so
    # that the collector neither walks them nor makes each worker copy their pages.
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            # The design-level files read every node: one more task, run beside the nodes'.
            design = pool.apply_async(_consume_design)
            for results in pool.imap(_consume_span, spans):
                yield from results
            yield from design.get()
    finally:
        _SHARED = None
        gc.unfreeze()


def _consume_span(span: tuple[int, int]) -> list[Any]:
    """In a worker: render and consume the nodes `start:end` of the shared design."""
    assert _SHARED is not None, "set by the parent before forking"
    valid, layouts, kinds, consume = _SHARED
    start, end = span
    return [consume(_render_node(valid, layout, kinds)) for layout in layouts[start:end]]


def _consume_design() -> list[Any]:
    """In a worker: render and consume the design-level files of the shared design (if any)."""
    assert _SHARED is not None, "set by the parent before forking"
    valid, _, kinds, consume = _SHARED
    files = _render_design_files(valid, kinds)
    return [consume(files)] if files else []


def _render_node(valid: ValidDesign, layout: NodeLayout, kinds: tuple[Kind, ...]) -> list[OutputFile]:
    """All files of one node."""
    folder = f"{valid.design.name}/{layout.node.name}"
    return [file for kind in kinds for file in kind.render_node(valid.design, layout, folder)]


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
