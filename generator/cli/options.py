"""What the command line accepts: its parameter types (no control characters, no links as
input files) and the options several commands share, each with its help text."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from generator.characters import forbidden_character, not_text_message
from generator.cli.completion import complete_node_names
from generator.cli.reporting import REPORTER_NAMES, printable
from generator.render.kinds import KINDS


def _unsafe(text: str) -> str | None:
    """What is wrong with a file name or value from the command line, or None.

    Such text reaches headers, plans and messages like a design value does, so it obeys
    the same rule: no control, line-separator or format character."""
    index = forbidden_character(text)
    if index is None:
        return None
    return f"{printable(text, 200)}: {not_text_message(text[index])}"


class PlainPath(click.Path):
    """A click.Path that refuses names holding control, line-separator or format characters."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        problem = _unsafe(os.fsdecode(value))
        if problem:
            # click names the parameter and the command in the message itself.
            self.fail(problem)
        return super().convert(value, param, ctx)


class PlainText(click.ParamType[str, Any]):
    """A word: no control, line-separator or format character, and no leading '-' (a tool
    would read it as an option)."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        # Bytes not in UTF-8 become lone surrogates, which _unsafe refuses.
        text = os.fsdecode(value)
        problem = _unsafe(text)
        if problem:
            self.fail(problem)
        if text.startswith("-"):
            self.fail(f"{printable(text, 200)} starts with '-'")
        return text


class InputFile(PlainPath):
    """A design, dump or backup: a regular file, not a link. In CI the command names `designs/*.yaml`
    but the repository decides what they are; a link could point at any file the job can read, and
    messages quote the lines they are about."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = super().convert(value, param, ctx)
        if os.path.islink(path):
            self.fail(f"{printable(os.fsdecode(path), 200)} is a symbolic link; ovsgen reads only regular files")
        if os.path.lexists(path) and not os.path.isfile(path):
            self.fail(f"{printable(os.fsdecode(path), 200)} is not a regular file")
        return path


DESIGN_FILE = InputFile(exists=True, dir_okay=False, path_type=Path)
DESIGNS = click.argument("designs", nargs=-1, required=True, type=DESIGN_FILE)
STRICT = click.option("--strict", is_flag=True, help="Treat warnings as errors.")
FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(REPORTER_NAMES),
    default="text",
    show_default=True,
    help="How problems are reported on stderr.",
)
NODES = click.option(
    "--node",
    "nodes",
    multiple=True,
    metavar="NAME",
    type=PlainText(),
    help="Only this node (repeatable).",
    shell_complete=complete_node_names,
)


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _jobs_option(help_text: str) -> Decorator:
    """-j/--jobs: how many processes (0, the default: one per core; see `processes`)."""
    return click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, help=help_text)


JOBS = _jobs_option(
    "Processes that render nodes (default: one per core); designs under 200 nodes always render in one."
)
HOST_JOBS = _jobs_option("Processes that read and compare hosts (default: one per core); under 200 hosts, always one.")


def processes(jobs: int) -> int:
    """--jobs 0 (the default): one process per core."""
    return jobs or os.cpu_count() or 1


QUIET = click.option(
    "-q", "--quiet", is_flag=True, help="No progress line on a terminal (it never shows in a pipe or file)."
)


# -o/--out of render and plan, each with its own default and help.
OUT = functools.partial(click.option, "-o", "--out", type=PlainPath(file_okay=False, path_type=Path), show_default=True)


ONLY = click.option(
    "--only",
    "kinds",
    multiple=True,
    type=click.Choice(KINDS),
    help=(
        "Only this kind of output (repeatable): ifcfg files, NetworkManager keyfiles and their apply.sh, "
        "ovs apply.sh, libvirt XML and define.sh, build sheets, rollout.json (for ovsgen rollout)."
    ),
)
