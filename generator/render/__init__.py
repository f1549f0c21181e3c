"""Stage 5: every output file of a design, rendered in memory (SPEC section 4)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import PurePosixPath

from generator.pipeline import ValidDesign
from generator.render.files import OutputFile
from generator.render.ifcfg import render_ifcfg
from generator.render.libvirt import render_libvirt
from generator.render.ovs_script import render_apply_script

__all__ = ["OutputFile", "render_design"]


def render_design(valid: ValidDesign, nodes: Collection[str] = ()) -> list[OutputFile]:
    """All files of the design (only `nodes` when given), sorted by path.

    Paths are relative to the output folder and start with the design name.
    """
    design = valid.design
    root = PurePosixPath(design.name)
    files: list[OutputFile] = []
    for layout in valid.layouts:
        if nodes and layout.node.name not in nodes:
            continue
        folder = root / layout.node.name
        files += render_ifcfg(design, layout, folder / "network-scripts")
        files.append(render_apply_script(design, layout, folder / "ovs"))
        files += render_libvirt(design, layout, folder / "libvirt")
    return sorted(files)
