"""Usage errors: command lines that parse but that a command refuses before it starts, with
click's status 2 and its `Usage:` lines (an output folder that would lose what is not its own,
an output file that is one of the inputs)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from generator.cli.reporting import printable


def require(condition: bool, message: str) -> None:
    """A usage error saying `message` unless `condition` holds."""
    if not condition:
        raise click.UsageError(message)


def resolved(path: Path) -> Path:
    """`path` as the file system resolves it (links, `..`); OSError or RuntimeError when it
    cannot tell (a loop of links: Python before 3.13 raises RuntimeError, 3.13 returns the link
    itself, which stat then refuses with ELOOP)."""
    found = path.resolve()
    if found.is_symlink():
        found.stat()
    return found


def _replaced_whole_problem(out: Path, inputs: tuple[Path, ...]) -> str | None:
    """Why `out` may not be a folder that a command replaces whole, or None: not /, the current
    folder or one of its parents (replacing them loses everything else), nor a folder holding one
    of the command's own input files. Compared as the file system resolves them (links, `..`)."""
    try:
        where, here = resolved(out), resolved(Path.cwd())
        held = [path for path in inputs if resolved(path).is_relative_to(where)]
    except (OSError, RuntimeError) as error:  # a vanished working folder; a loop of links (RuntimeError)
        return f"cannot tell which folder it is: {error}"
    if where == Path(where.anchor):
        return "this is the root folder"
    if where == here or where in here.parents:
        return "this is the current folder or one of its parents"
    if held:
        return f"this folder holds {held[0]}, which the command reads"
    return None


def require_output_folder(out: Path, designs: tuple[Path, ...]) -> None:
    """A usage error when render's `out` is a folder it must not write into: render replaces only
    OUT/<design>/ folders, but a user who names /, the current folder or one of its parents, or the
    folder of the designs, almost surely meant another (and a design's name could be a folder there)."""
    problem = _replaced_whole_problem(out, designs)
    if problem:
        message = f"-o {out}: render writes OUT/<design>/ folders there, but {problem}; give another folder (-o NEW)"
        raise click.UsageError(printable(message))


def require_not_an_input(path: Path, inputs: tuple[Path, ...], option: str, instead: str = "another file") -> None:
    """A usage error when the file `path`, which a command writes (its option `option`, such as
    `--full`), is one of the command's input files: through a link, a hard link or `..` alike.
    Nothing has been written when it is raised."""
    for source in inputs:
        try:
            same = resolved(path) == resolved(source) or (path.exists() and os.path.samefile(path, source))
        except (OSError, RuntimeError) as error:  # a vanished working folder; a loop of links (RuntimeError)
            raise click.UsageError(printable(f"{option} {path}: cannot tell which file it is: {error}")) from None
        if same:
            message = f"{option} {path}: this is {source}, which the command reads; give {instead}"
            raise click.UsageError(printable(message))


def require_replaceable(out: Path, inputs: tuple[Path, ...], what: str) -> None:
    """A usage error when `out`, which the command replaces whole, could hold what is not its own."""
    problem = _replaced_whole_problem(out, inputs)
    if problem:
        message = f"-o {out}: {what} is replaced whole, but {problem}; give another folder (-o NEW)"
        raise click.UsageError(printable(message))
