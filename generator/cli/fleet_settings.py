"""What drift and import are asked to do (see generator.cli.settings): built by generator.cli.fleet,
read by generator.cli.fleet_commands."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.cli.settings import CommonSettings


@dataclass(frozen=True, kw_only=True)
class DriftSettings(CommonSettings):
    """drift: one design and a capture folder (CAPTURE/<host>/ovsdb.json, ...)."""

    capture: Path
    nodes: tuple[str, ...] = ()  # empty: every node
    report: str = "text"  # a name of generator.adopt.drift_report.REPORTS
    apart_counts: bool = False  # --strict: what the design does not mention counts as drift too
    jobs: int = 1  # processes that read and compare the hosts of large captures


@dataclass(frozen=True, kw_only=True)
class ImportSettings(CommonSettings):
    """import: a capture folder, and the design file to write (None: stdout)."""

    capture: Path
    out: Path | None
    name: str | None = None  # the design's name; None: from the hosts' files, or the folder's
    jobs: int = 1  # processes that read and compare the hosts of large captures


@dataclass(frozen=True, kw_only=True)
class RolloutSettings(CommonSettings):
    """rollout: a plan or render folder, the project folder to write, and how the rollout runs."""

    source: Path
    out: Path
    nodes: tuple[str, ...] = ()  # empty: every node of the plan or render
    batches: tuple[str, ...] = ("1", "10%", "100%")  # Ansible's serial: a count or a percentage each
    pause: int = 0  # seconds between batches
    hosts: tuple[tuple[str, str], ...] = ()  # --inventory-var NODE=HOST
    host_map: Path | None = None  # --inventory-map FILE
    accept_risks: bool = False  # nodes whose plan has risk notes are rolled out too
