"""loader -> schema -> model -> resolve (each node's NIC layout) -> rules, for one design file:
a ValidDesign, or DesignInvalid with every problem found."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from generator.design.loader import SourceDocument, load_design, parse_design
from generator.design.model import Design, build_design
from generator.design.resolve import NodeLayout, layout_node
from generator.design.rules import run_checks
from generator.design.schema import check_schema
from generator.diagnostics import Diagnostic, sort_key
from generator.errors import DesignInvalid
from generator.speed.collector import collector_paused


@dataclass(frozen=True)
class ValidDesign:
    """A design that passed every error check (warnings may remain)."""

    source: SourceDocument
    design: Design
    layouts: tuple[NodeLayout, ...]
    warnings: tuple[Diagnostic, ...]

    def layout(self, node: str) -> NodeLayout | None:
        """The layout of the node of that name, if the design has one."""
        found = self.positions.get(node)
        return None if found is None else self.layouts[found]

    @cached_property
    def positions(self) -> dict[str, int]:
        """Each node's place in `layouts`: a fleet's commands look nodes up one host at a time."""
        return {layout.node.name: index for index, layout in enumerate(self.layouts)}


def validate_file(path: Path, *, strict: bool = False, display_name: str | None = None) -> ValidDesign:
    """Validate one design; raise DesignInvalid with every problem, in line order."""
    with collector_paused():
        return _validate(path, strict=strict, display_name=display_name)


def validate_text(text: str, name: str) -> ValidDesign:
    """Validate a design held in memory (one ovsgen drafted); `name` locates problems."""
    with collector_paused():
        return _checked(parse_design(text, name))  # never strict: warnings are the reader's to weigh


def _validate(path: Path, *, strict: bool, display_name: str | None) -> ValidDesign:
    return _checked(load_design(path, display_name=display_name or str(path)), strict=strict)


def _checked(source: SourceDocument, *, strict: bool = False) -> ValidDesign:
    problems = check_schema(source)
    if problems:
        raise DesignInvalid(sorted(problems, key=sort_key))
    design = build_design(source.data)
    layouts = tuple(layout_node(design, node) for node in design.nodes)
    findings = sorted(run_checks(source, design, layouts), key=sort_key)
    if strict:
        findings = [finding.escalated() for finding in findings]
    if any(finding.is_error for finding in findings):
        raise DesignInvalid(findings)
    return ValidDesign(source, design, layouts, tuple(findings))
