"""What plan, diff and rehearse are asked to do (see generator.cli.settings, and why these are
apart there): built by generator.cli.main, read by generator.cli.change_commands."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.cli.settings import CommonSettings


@dataclass(frozen=True, kw_only=True)
class PlanSettings(CommonSettings):
    """plan: OLD and NEW designs, or a host's dump (`from_host`) and NEW."""

    out: Path = Path("plan")
    nodes: tuple[str, ...] = ()  # empty: every node (with from_host: exactly one)
    from_host: Path | None = None  # a host's ovsdb-client dump instead of an old design
    prune: bool = False  # with from_host: remove what the design does not mention, on managed bridges


@dataclass(frozen=True, kw_only=True)
class DiffSettings(CommonSettings):
    """diff: OLD and NEW designs, or designs whose old versions git holds at `base_ref`."""

    base_ref: str | None = None
    full: Path | None = None  # also write the unified diff of every rendered file here


@dataclass(frozen=True, kw_only=True)
class RehearseSettings(CommonSettings):
    """rehearse: OLD (a design or a host's database file) and NEW, for one node."""

    node: str
    prune: bool = False  # with a database file: rehearse a pruning plan
