"""The NetworkManager layer of a plan: the new keyfiles, the old ones, nm-change.sh and nm-rollback.sh.

nm-change.sh installs system-connections/ into NM_KEYFILE_DIR (mode 0600) and keeps the host's
copies (system-connections.backup/), has NetworkManager load them, reads every setting back and
brings the profiles up in activation order; nm-rollback.sh puts back exactly what was there and
re-activates the old profiles. The same steps and backups as the ifcfg layer
(generator.changes.plan_host_files); what the scripts read back and activate comes from the
profiles themselves (generator.render.networkmanager.Profile).
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.changes.nm_changes import (
    TO_IFCFG,
    TO_NM,
    NmSide,
    brought_up,
    deactivation,
)
from generator.changes.node_changes import NodeChange
from generator.changes.plan_host_files import ABSENT, FileStep, file_steps, layer_files, layer_steps, reverse
from generator.render.files import OutputFile
from generator.render.libvirt import start_state
from generator.render.networkmanager import Profile
from generator.render.templating import template

NEW = "system-connections"
OLD = "system-connections.old"
BACKUP = "system-connections.backup"
CHANGE, ROLLBACK = "nm-change.sh", "nm-rollback.sh"


@dataclass(frozen=True)
class _Sides:
    """The profiles a script starts from and those it leaves."""

    start: NmSide
    target: NmSide


def nm_plan_files(change: NodeChange, header: str) -> list[OutputFile]:
    """The keyfiles of one node's plan and the two scripts; nothing when no keyfile changes."""
    layer = change.nm
    if not layer.keyfiles:
        return []
    files = layer_files(layer.keyfiles, change.node, NEW, OLD)
    forward = layer_steps(layer.keyfiles, change.host_known, NEW, OLD)
    files.append(_script(change, header, forward, rollback=False))
    files.append(_script(change, header, reverse(forward), rollback=True))
    return files


def _script(change: NodeChange, header: str, steps: list[FileStep], *, rollback: bool) -> OutputFile:
    layer = change.nm
    sides = _Sides(layer.after, layer.before) if rollback else _Sides(layer.before, layer.after)
    up = brought_up(sides.target, layer.keyfiles, rollback=rollback, known=change.host_known)
    down = deactivation(sides.start, frozenset(step.name for step in steps if step.target == ABSENT))
    absent, present = _guards(change, rollback)
    nics = [(item.profile.interface, _mac(item.profile)) for item in up if item.profile.type == "ethernet"]
    index = {step.name: number for number, step in enumerate(steps)}
    script = ROLLBACK if rollback else CHANGE
    text = template("nm-plan.sh.j2").render(
        header=header,
        script=script,
        node=change.node,
        hostname=change.expected_hostname,
        rollback=rollback,
        start_state=start_state(rollback, CHANGE),
        host_known=change.host_known,
        start_uuids=[_uuid(sides.start, step.name) for step in steps],
        target_uuids=[_uuid(sides.target, step.name) for step in steps],
        expected=_expected(sides.target, steps),
        deactivation=[profile.uuid for profile in down],
        deactivation_ids=[profile.id for profile in down],
        activation=[item.profile.uuid for item in up],
        activation_ids=[item.profile.id for item in up],
        activation_triggers=[" ".join(str(index[name]) for name in item.triggers) for item in up],
        own_uuids=list(dict.fromkeys(profile.uuid for profile in (*layer.before.profiles, *layer.after.profiles))),
        interfaces=list(dict.fromkeys(profile.interface for profile in sides.target.profiles)),
        own_macs=[_mac(profile) for profile in sides.target.profiles if profile.type == "ethernet"],
        nics=[name for name, _ in nics],
        macs=[mac for _, mac in nics],
        guard_absent=absent,
        guard_present=present,
        reload_always=bool(layer.cutover),
        cutover=layer.cutover,
        **file_steps(steps, NEW, OLD, BACKUP),
    )
    return OutputFile(f"{change.node}/{script}", text, executable=True)


def _mac(profile: Profile) -> str:
    """The MAC an ethernet profile insists on, lower case as sysfs shows it ("-": none)."""
    mac = dict(dict(profile.sections).get("ethernet", ())).get("mac-address")
    return mac.lower() if mac else "-"


def _uuid(side: NmSide, name: str) -> str:
    profile = side.by_file(name)
    return profile.uuid if profile is not None else "-"


def _expected(side: NmSide, steps: list[FileStep]) -> list[str]:
    """ "INDEX FIELD VALUE" for every setting NetworkManager must read back from a keyfile the
    script writes from the plan (a host's saved copy is checked only by its loading cleanly)."""
    lines = []
    for index, step in enumerate(steps):
        profile = side.by_file(step.name)  # none where the step deletes the file or leaves it alone
        if profile is not None:
            lines += [f"{index} {field} {value}" for field, value in profile.read_back()]
    return lines


def _guards(change: NodeChange, rollback: bool) -> tuple[list[str], list[str]]:
    """The ifcfg files that must be gone before the script activates, and those that must be there
    before it deletes a keyfile: while an ifcfg file with NM_CONTROLLED=no names a device,
    NetworkManager leaves the device alone, so those files hand the devices over."""
    deleted = [item.name for item in change.ifcfg if item.action == "delete"]
    added = [item.name for item in change.ifcfg if item.action == "add"]
    going_to_nm = (change.nm.cutover == TO_NM) != rollback  # the rollback of a cut-over goes back
    if change.nm.cutover not in (TO_NM, TO_IFCFG):
        return [], []
    if going_to_nm:
        return (deleted if change.nm.cutover == TO_NM else added), []
    if not change.host_known:
        return [], []  # from a dump: which ifcfg files the host had, only its backup knows
    return [], (added if change.nm.cutover == TO_IFCFG else deleted)
