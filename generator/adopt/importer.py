"""`ovsgen import`: one design for every host of a capture folder, checked against them.

The draft (generator.adopt.draft) is written as text and validated like any design. Each bridge's
uplinks are first written as a speed selector; a bridge whose selector picks other NICs than a
host has on it is written again with its NICs by name. The valid design is then compared with
every host as drift compares them (the plan from the host's dump, its files, its networks): what
would change on a host is its disagreement with the rest, reported host by host and written in a
comment above its node.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from generator import __version__
from generator.adopt.capture_folder import DUMP, CapturedHost, captured_hosts, load_host
from generator.adopt.design_text import design_text
from generator.adopt.draft import draft_design
from generator.adopt.drafting import Draft
from generator.adopt.drift import HostDrift, host_drift
from generator.adopt.host_view import HostView, view_host
from generator.design.validate import ValidDesign, validate_text
from generator.diagnostics import Diagnostic, Severity
from generator.errors import CaptureInvalid, DesignInvalid
from generator.speed.collector import collector_paused
from generator.speed.pool import fork_map

_MAX_COMMENTS = 8  # differences written above a node; the report has them all
_ROLE = "import"  # names the workers in an error (generator.speed.pool)


@dataclass(frozen=True)
class ImportResult:
    text: str  # the design
    count: int  # hosts imported
    notes: tuple[Diagnostic, ...]  # what is not imported, located in the capture
    hosts: tuple[HostDrift, ...]  # each host against the design: what it would change there
    problems: tuple[Diagnostic, ...]  # why the design is not valid yet (values to fill in), located in it
    everywhere: tuple[str, ...] = ()  # what the design would change on every host alike
    unknowns: int = 0  # values written as "unknown", for a person to fill in


def import_capture(
    capture: Path, shown: str, output_name: str, name: str | None = None, *, jobs: int = 1
) -> ImportResult:
    """The design of every host under `capture` (messages name it `shown`); `output_name` names
    the design file in messages about it. A large fleet's hosts are read and compared in `jobs`
    processes."""
    # A fleet's hosts are many small objects with no cycles: a collection would walk them all,
    # again and again, as each host arrives from a worker (ten times the cost of unpickling them).
    with collector_paused():
        return _imported(capture, shown, output_name, name, jobs)


def _imported(capture: Path, shown: str, output_name: str, name: str | None, jobs: int) -> ImportResult:
    folders = captured_hosts(capture) if capture.is_dir() else {}
    if not folders:
        raise CaptureInvalid(f"{shown}: no host folder with an ovsdb.json (make them with `ovsgen capture-script`)")
    read = functools.partial(_viewed_hosts, shown)
    views: list[HostView] = list(fork_map(list(folders.items()), read, tuple, jobs=jobs, role=_ROLE))
    hosts = [view.host for view in views]
    design_name = name or _design_name(hosts, capture)
    named: frozenset[str] = frozenset()
    while True:
        draft = draft_design(views, design_name, named)
        text = design_text(draft.document, draft.comments, _header(len(hosts)))
        try:
            valid = validate_text(text, output_name)
        except DesignInvalid as error:
            # A selector that picks other NICs can also make a design invalid (a primary it lacks).
            misplaced = _refused_bridges(error.diagnostics) - named
            if misplaced:
                named |= misplaced
                continue
            notes = _notes(views, draft)
            return ImportResult(sealed(text), len(views), notes, (), tuple(error.diagnostics), (), draft.unknowns)
        misplaced = _misplaced(valid, views) - named
        if not misplaced:
            break
        named |= misplaced
    compare = functools.partial(_drifts, valid)
    drifts: list[HostDrift] = list(fork_map(views, compare, tuple, jobs=jobs, role=_ROLE))
    return _checked(views, draft, drifts, len(hosts), _Drafted(text, tuple(valid.warnings)))


def _viewed_hosts(shown: str, folders: Sequence[tuple[str, Path]]) -> Iterator[HostView]:
    for host, path in folders:
        yield view_host(load_host(path, f"{shown}/{host}"))


def _drifts(valid: ValidDesign, views: Sequence[HostView]) -> Iterator[HostDrift]:
    for view in views:
        yield host_drift(valid, view)  # the view import already has: not worked out again


@dataclass(frozen=True)
class _Drafted:
    """The design as validated before the comments went in, and its warnings."""

    text: str
    warnings: tuple[Diagnostic, ...]


def _checked(
    views: Sequence[HostView], draft: Draft, drifts: Sequence[HostDrift], count: int, drafted: _Drafted
) -> ImportResult:
    """The design compared with every host (`drifts`): what it would change on all of them alike
    (what ovsgen always sets, such as its mark on the bridges) is said once, in the header; what it
    would change on some hosts only is their disagreement, said above each one's node."""
    everywhere = [line for line in drifts[0].differences if all(line in drift.differences for drift in drifts)]
    own = tuple(
        replace(drift, differences=tuple(line for line in drift.differences if line not in everywhere))
        for drift in drifts
    )
    for index, drift in enumerate(own):
        if drift.differences:
            _comment_differences(draft, ("nodes", index), drift.differences)
    header = _header(count, everywhere)
    text = design_text(draft.document, draft.comments, header)
    warnings = _moved(drafted.warnings, drafted.text, text)
    notes = _notes(views, draft)
    return ImportResult(sealed(text), count, notes, own, tuple(warnings), tuple(everywhere), draft.unknowns)


def _moved(warnings: Sequence[Diagnostic], before: str, after: str) -> tuple[Diagnostic, ...]:
    """The warnings of `before` at their lines in `after`, the same design with comment lines put
    in: its other lines are before's, in the same order (validating `after` again says the same,
    in 0.35 s at 1,000 hosts)."""
    lines = dict(zip(_content_lines(before), _content_lines(after), strict=True))
    return tuple(replace(warning, line=lines.get(warning.line, warning.line)) for warning in warnings)


def _content_lines(text: str) -> list[int]:
    """The numbers of the lines that are not comments."""
    return [number for number, line in enumerate(text.splitlines(), start=1) if not line.lstrip().startswith("#")]


def _comment_differences(draft: Draft, path: tuple[str, int], differences: Sequence[str]) -> None:
    draft.comment(path, "this host differs from the rest; the plan from its capture would:")
    shown = differences[:_MAX_COMMENTS]
    for line in shown:
        draft.comment(path, f"  {line}")
    if len(differences) > len(shown):
        draft.comment(path, f"  ... and {len(differences) - len(shown)} more (see the import report)")


def _notes(views: Sequence[HostView], draft: Draft) -> tuple[Diagnostic, ...]:
    """What is not imported, host by host, then what the draft left out; and each folder of the
    capture that is not a host's (no dump in it), never skipped in silence."""
    capture = views[0].host.path.parent
    strays = [
        Diagnostic(f"{views[0].host.folder.rpartition('/')[0]}/{path.name}", 1, 1, (), _STRAY, Severity.WARNING)
        for path in sorted(capture.iterdir())
        if path.is_dir() and not (path / DUMP).is_file()
    ]
    return (*(note for view in views for note in view.notes), *draft.notes, *strays)


_STRAY = f"not imported: a folder without {DUMP} (not a host's capture, or one that failed)"


def _misplaced(valid: ValidDesign, views: Sequence[HostView]) -> frozenset[str]:
    """The bridges whose NIC selector picks, on some host, other NICs (or another order) than it has."""
    found = set()
    by_name = {view.host.name: view for view in views}
    for layout in valid.layouts:
        view = by_name[layout.node.name]
        for uplinks in layout.uplinks:
            bridge = view.bridges.get(uplinks.bridge.name)
            have = bridge.uplink.members if bridge is not None and bridge.uplink is not None else ()
            if uplinks.bridge.uplinks.speed is not None and tuple(nic.name for nic in uplinks.nics) != have:
                found.add(uplinks.bridge.name)
    return frozenset(found)


def _refused_bridges(problems: Sequence[Diagnostic]) -> frozenset[str]:
    """The bridges whose uplinks a problem is about."""
    return frozenset(
        str(problem.path[1]) for problem in problems if problem.path[:1] == ("bridges",) and len(problem.path) > 1
    )


def _design_name(hosts: Sequence[CapturedHost], capture: Path) -> str:
    """The design the hosts' files were rendered from (their ovsgen header), else the capture
    folder's name made a design name."""
    named = Counter(found.file.design for host in hosts for found in host.files if found.file.design)
    if named:
        return max(named, key=named.__getitem__)  # the first of the most common
    cleaned = re.sub(r"[^a-z0-9-]+", "-", capture.resolve().name.lower()).strip("-")[:63]
    return cleaned or "imported"


def _header(count: int, everywhere: Sequence[str] = ()) -> list[str]:
    plural = "s" if count != 1 else ""
    also = [
        "",
        "Rendered and applied, this design would also change on every host:",
        *(f"  {line}" for line in everywhere),
    ]
    return [
        f"Imported by ovsgen {__version__} from the capture of {count} host{plural} (`ovsgen import`).",
        "Review every line before rendering: `ovsgen import` lists what it did not import, and",
        "comments name each host that differs from what the rest share.",
        *(also if everywhere else ()),
    ]


_SEAL = re.compile(r"# Written by `ovsgen import` \(sha256 of the lines above: (?P<digest>[0-9a-f]{64})\)\n")


def sealed(text: str) -> str:
    """The design with a last line that says import wrote it, and holds a digest of it: import
    replaces a file only while both hold, never a design someone has edited since (a review's)."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"{text}# Written by `ovsgen import` (sha256 of the lines above: {digest})\n"


def unedited(text: str) -> bool:
    """Whether `text` is a design as import wrote it (`sealed`), not changed since."""
    body, _, last = text.rstrip("\n").rpartition("\n")
    found = _SEAL.fullmatch(last + "\n")
    return found is not None and hashlib.sha256(f"{body}\n".encode()).hexdigest() == found.group("digest")
