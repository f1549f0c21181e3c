"""Shell completion of `--node`: the node names of the designs already on the command line.

click calls `complete_node_names` while the user presses Tab (`_OVSGEN_COMPLETE=bash_complete`);
whatever goes wrong there (a design that is missing, unreadable, not YAML) must not print a
traceback into the user's prompt, so it offers no names instead.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable
from pathlib import Path

import click

# Only names a shell takes as one plain word are offered; the schema's node-name rule is stricter still.
_NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}")


def complete_node_names(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
    """Node names of the designs given so far that start with `incomplete`, compared as node
    names are (without regard to case), each once, in the order of the designs."""
    paths = _given_designs(ctx, incomplete)
    prefix = incomplete.lower()
    names = dict.fromkeys(name for path in paths for name in _node_names(path) if name.lower().startswith(prefix))
    return list(names)  # click makes them completion items


def _given_designs(ctx: click.Context, incomplete: str) -> list[Path]:
    """The design arguments on the command line so far (none that did not convert: a missing file)."""
    given = ctx.params.get("designs") or _reparsed(ctx, incomplete).get("designs") or ()
    designs: Iterable[object] = given if isinstance(given, (tuple, list)) else ()
    return [Path(os.fsdecode(path)) for path in designs if isinstance(path, (str, bytes, os.PathLike))]


def _reparsed(ctx: click.Context, incomplete: str) -> dict[str, object]:
    """The command's parameters parsed again from the shell's words, without the `--node` that
    waits for its value: click stops parsing at that option, before the designs after the command.
    Every shell click completes for passes the words in COMP_WORDS."""
    from click.shell_completion import split_arg_string

    words = split_arg_string(os.environ.get("COMP_WORDS", ""))
    if ctx.info_name not in words[1:]:
        return {}
    args = words[words.index(ctx.info_name, 1) + 1 :]
    if args and args[-1] == incomplete:
        args.pop()
    if args and args[-1] == "--node":
        args.pop()
    # While the user presses Tab, the shell has not expanded `designs/*.yaml` yet: expand it here.
    args = [name for word in args for name in (sorted(glob.glob(word)) or [word])]
    try:
        return dict(ctx.command.make_context(ctx.info_name, args, resilient_parsing=True).params)
    except Exception:  # the words as the user typed them so far: anything may be wrong with them
        return {}


def _node_names(path: Path) -> list[str]:
    """The `nodes[].name` values of a design, read without the schema or the rules: a design
    with a mistake elsewhere still names its nodes. None of a file that cannot be read."""
    from generator.design.loader import load_design  # only when completing: the command's start stays quick

    try:
        data = load_design(path).data
    except Exception:  # a missing, unreadable or broken design: no names, and nothing printed
        return []
    nodes = data.get("nodes")  # load_design refuses a design that is not a mapping
    if not isinstance(nodes, list):
        return []
    names = [node.get("name") for node in nodes if isinstance(node, dict)]
    return [name for name in names if isinstance(name, str) and _NODE_NAME.fullmatch(name)]
