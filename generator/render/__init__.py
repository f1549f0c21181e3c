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


def render_design(valid: ValidDesign, nodes: Collection[str] = (), kinds: Collection[str] = ()) -> list[OutputFile]:
    """The design's files (only `nodes` and `kinds` when given), sorted by path.

    Paths are relative to the output folder and start with the design name.
    Design-level files (CSV, index) always cover every node.
    """
    design = valid.design
    root = PurePosixPath(design.name)
    files: list[OutputFile] = []
    for kind in _selected(kinds):
        for layout in valid.layouts:
            if not nodes or layout.node.name in nodes:
                files += kind.render_node(design, layout, root / layout.node.name)
        if kind.render_design is not None:
            files += kind.render_design(design, valid.layouts, root)
    return sorted(files)


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
