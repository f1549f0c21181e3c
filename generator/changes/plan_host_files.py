"""The ifcfg layer of a plan: the new files, the old ones, ifcfg-change.sh and ifcfg-rollback.sh.

ifcfg-change.sh installs network-scripts/ into the host's folder and keeps the host's copies
(network-scripts.backup/); ifcfg-rollback.sh puts back exactly what was there: from that
backup, else (plans between two designs) from the old design's files in network-scripts.old/.
A rollback that restored the backup moves it to network-scripts.restored/: the next change
saves a fresh one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from generator.changes.file_change import FileChange
from generator.changes.node_changes import NodeChange
from generator.render.files import OutputFile
from generator.render.libvirt import restored_folder, start_state
from generator.render.templating import template

NEW = "network-scripts"
OLD = "network-scripts.old"
BACKUP = "network-scripts.backup"


# What a file of a step is, besides a path relative to the plan's node folder (paths hold a
# "/", these words do not): nothing there, or (from a dump) not known before the change.
ABSENT = "absent"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class FileStep:
    """One host file a script sets: what it must hold before, and what it holds after."""

    name: str
    start: str  # a file of the plan, ABSENT or UNKNOWN
    target: str  # a file of the plan, ABSENT or (rollback from a dump: only the backup knows) UNKNOWN


def ifcfg_plan_files(change: NodeChange, header: str) -> list[OutputFile]:
    """The ifcfg files of one node's plan and the two scripts; nothing when no file changes."""
    if not change.ifcfg:
        return []
    folder = change.node
    files = layer_files(change.ifcfg, folder, NEW, OLD)
    forward = layer_steps(change.ifcfg, change.host_known, NEW, OLD)
    files.append(_script(change, header, "ifcfg-change.sh", forward))
    files.append(_script(change, header, "ifcfg-rollback.sh", reverse(forward)))
    return files


def layer_files(items: Sequence[FileChange], folder: str, new: str, old: str) -> list[OutputFile]:
    """The new files (in `new`) and the old design's files (in `old`) of a layer's changes."""
    files = [OutputFile(f"{folder}/{new}/{item.name}", item.file.text) for item in items if item.file]
    return files + [OutputFile(f"{folder}/{old}/{item.name}", item.old.text) for item in items if item.old]


def layer_steps(items: Sequence[FileChange], host_known: bool, new: str, old: str, suffix: str = "") -> list[FileStep]:
    """The steps of a change script: each item from its old file (or nothing, or unknown from
    a dump) to its new file (or nothing). Step names are the file names less `suffix`."""
    return [
        FileStep(
            item.name.removesuffix(suffix),
            (f"{old}/{item.name}" if item.old is not None else ABSENT) if host_known else UNKNOWN,
            f"{new}/{item.name}" if item.file is not None else ABSENT,
        )
        for item in items
    ]


def file_steps(steps: Sequence[FileStep], new: str, old: str, backup: str) -> dict[str, object]:
    """What a layer's change or rollback script says of its files: each step's name, start and
    target, how many it writes and deletes, and the folders it reads and keeps them in."""
    return {
        "names": [step.name for step in steps],
        "starts": [step.start for step in steps],
        "targets": [step.target for step in steps],
        "writes": sum(step.target not in (ABSENT, UNKNOWN) for step in steps),
        "deletes": sum(step.target == ABSENT for step in steps),
        "new": new,
        "old": old,
        "backup": backup,
        "restored": restored_folder(backup),
        "absent": ABSENT,
        "unknown": UNKNOWN,
    }


def reverse(steps: Sequence[FileStep]) -> list[FileStep]:
    """The steps of the rollback script: every target becomes the start and back."""
    return [FileStep(step.name, step.target, step.start) for step in steps]


def _script(change: NodeChange, header: str, name: str, steps: list[FileStep]) -> OutputFile:
    rollback = name == "ifcfg-rollback.sh"
    text = template("ifcfg-plan.sh.j2").render(
        header=header,
        script=name,
        node=change.node,
        hostname=change.expected_hostname,
        rollback=rollback,
        start_state=start_state(rollback, "ifcfg-change.sh"),
        host_known=change.host_known,
        **file_steps(steps, NEW, OLD, BACKUP),
    )
    return OutputFile(f"{change.node}/{name}", text, executable=True)
