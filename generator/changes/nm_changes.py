"""The NetworkManager layer of a node's change (docs/runbook.md, "NetworkManager keyfiles").

Which keyfiles a plan adds, changes (each changed key in words) or deletes; the profiles on
either side with the order NetworkManager brings them up in
(generator.render.nm_script.activation_order); and the backend change: a node going from ifcfg
files to NetworkManager, or back, is a cut-over, in which the two layers' scripts interleave.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from generator.changes.file_change import FileChange, settings_in_words
from generator.design.model import Design
from generator.design.resolve import NodeLayout
from generator.ovs.state import OvsState, map_value
from generator.render.context import node_context
from generator.render.networkmanager import BACKEND as NM
from generator.render.networkmanager import Profile, node_profiles, uses_networkmanager
from generator.render.nm_script import activation_order

IFCFG = "ifcfg"
TO_NM = "ifcfg -> networkmanager"
TO_IFCFG = "networkmanager -> ifcfg"
NM_MARK = "NM.connection.uuid"
# The reason of a keyfile whose settings stay and whose comment changes (a bond's member list):
# it is written, so that the host holds the plan's bytes, but no profile is re-activated for it.
COMMENT_ONLY = "comment only, no setting changes"


@dataclass(frozen=True)
class NmSide:
    """A node's profiles on one side of a change (none when that side does not use NetworkManager)."""

    profiles: tuple[Profile, ...] = ()
    order: tuple[Profile, ...] = ()  # the leaves, in the order `nmcli connection up` takes them

    def by_file(self, name: str) -> Profile | None:
        return next((profile for profile in self.profiles if profile.file_name == name), None)


@dataclass(frozen=True)
class NmLayer:
    """The keyfiles of a node's change, the profiles around it and its backend change."""

    keyfiles: tuple[FileChange, ...] = ()
    before: NmSide = field(default_factory=NmSide)
    after: NmSide = field(default_factory=NmSide)
    backends: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # old, new; old is () from a dump
    cutover: str = ""  # TO_NM, TO_IFCFG or ""
    host_known: bool = True  # False in a plan from a host dump: the host's keyfiles are unknown

    @property
    def uses_networkmanager(self) -> bool:
        return NM in self.backends[0] or NM in self.backends[1]

    @property
    def up_after_change(self) -> list[str]:
        """The names of the profiles nm-change.sh brings up, in order (plan.md)."""
        found = brought_up(self.after, self.keyfiles, rollback=False, known=self.host_known)
        return [item.profile.id for item in found]

    @property
    def up_after_rollback(self) -> list[str]:
        found = brought_up(self.before, self.keyfiles, rollback=True, known=self.host_known)
        return [item.profile.id for item in found]

    @property
    def bridges(self) -> list[str]:
        """The bridges of the NetworkManager side of a cut-over, the host's last (its `ifup` and
        `del-br` order)."""
        side = self.after if self.cutover == TO_NM else self.before
        found = [_chain(leaf)[-1].interface for leaf in side.order]
        return list(dict.fromkeys(found))


def nm_side(design: Design, layout: NodeLayout | None) -> NmSide:
    """The node's profiles and their activation order, from the design alone: keyfiles carry no
    column a host has that no design manages (docs/networkmanager.md)."""
    if layout is None or not uses_networkmanager(design, layout):
        return NmSide()
    profiles = node_profiles(node_context(design, layout, layout.node.name))
    return NmSide(tuple(profiles), tuple(activation_order(design, profiles)))


def built_by_networkmanager(host: OvsState) -> bool:
    """Whether NetworkManager built the host's bridges: it marks every row it makes with the
    profile's UUID (external_ids:NM.connection.uuid); ifup-ovs and ovs-vsctl leave no such key."""
    return any(map_value(row.columns, "external_ids", NM_MARK) is not None for row in host.bridge_rows)


def cutover_of(old: tuple[str, ...], new: tuple[str, ...]) -> str:
    """The backend change between two designs' backends of a node: only a whole move counts."""
    if IFCFG in old and NM not in old and NM in new and IFCFG not in new:
        return TO_NM
    if NM in old and IFCFG not in old and IFCFG in new and NM not in new:
        return TO_IFCFG
    return ""


def with_reasons(found: list[FileChange]) -> tuple[FileChange, ...]:
    """Keyfile changes, each changed one with its changed keys in words."""
    return tuple(replace(item, reason=keyfile_reason(item)) if item.action == "change" else item for item in found)


def keyfile_reason(change: FileChange) -> str:
    """A changed keyfile's settings in words (`ipv4.address1 10.0.0.7/24 -> 10.0.0.8/24,
    ethernet.mtu=9000 added`), as a changed ifcfg file's are."""
    assert change.old is not None
    assert change.file is not None
    words = settings_in_words(keyfile_settings(change.old.text), keyfile_settings(change.file.text))
    return words or COMMENT_ONLY


def keyfile_settings(text: str) -> dict[str, str]:
    """A keyfile's keys as `section.key` -> value; comments, blank lines and anything before the
    first section left out."""
    found: dict[str, str] = {}
    section: str | None = None
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section is not None and not line.startswith("#"):
            key, sign, value = line.partition("=")
            if sign:
                found[f"{section}.{key}"] = value
    return found


@dataclass(frozen=True)
class Activation:
    """A profile a script brings up, and the keyfiles whose writing calls for it: a leaf's own and
    its controllers', a controller's own. The script brings it up only when this run wrote one of
    them (or, when it wrote nothing, because an earlier run left activation pending)."""

    profile: Profile
    triggers: tuple[str, ...]


def activation(side: NmSide, touched: frozenset[str], changed: frozenset[str]) -> list[Activation]:
    """What a script brings up after it wrote the files `touched` (new profiles, and `changed`
    ones, whose settings change): in the side's activation order, every leaf whose own profile
    or one of whose controllers was touched, and each changed controller just before its first
    leaf (`nmcli connection up` of a port brings up its controllers only if they are down, so a
    changed one that is up must be re-activated itself: NetworkManager otherwise writes the
    port's row again with the settings it activated it with)."""
    result: list[Activation] = []
    for leaf in side.order:
        chain = _chain(leaf)
        files = tuple(profile.file_name for profile in chain if profile.file_name in touched)
        if not files:
            continue
        for controller in reversed(chain[1:]):  # the bridge first, then the port
            if controller.file_name in changed and all(item.profile != controller for item in result):
                result.append(Activation(controller, (controller.file_name,)))
        result.append(Activation(leaf, files))
    return result


def deactivation(side: NmSide, names: frozenset[str]) -> list[Profile]:
    """The profiles of the files `names` that a script deletes, in the order to take them down:
    the leaves in activation order (the host's address last), then their ports, then bridges."""
    leaves = [profile for profile in side.order if profile.file_name in names]
    ports = [profile for profile in side.profiles if profile.file_name in names and profile.type == "ovs-port"]
    bridges = [profile for profile in side.profiles if profile.file_name in names and profile.type == "ovs-bridge"]
    return leaves + ports + bridges


def _chain(profile: Profile) -> list[Profile]:
    """The profile, its port, that port's bridge."""
    chain = [profile]
    while chain[-1].master is not None:
        master = chain[-1].master
        assert master is not None
        chain.append(master)
    return chain


def brought_up(side: NmSide, items: tuple[FileChange, ...], *, rollback: bool, known: bool) -> list[Activation]:
    """The profiles a script brings up, in order: for the keyfiles it adds (for the rollback: those
    the change deleted) and those whose settings change (a changed comment changes nothing). From
    a host dump (`known` False) the host's keyfiles are unknown: any keyfile may change settings,
    and the script brings up only what it finds it had to write (Activation.triggers)."""
    add = "delete" if rollback else "add"
    settings = frozenset(
        item.name for item in items if item.action == add or (item.action == "change" and item.reason != COMMENT_ONLY)
    )
    changed = settings if not known else frozenset(item.name for item in items if item.action == "change") & settings
    return activation(side, settings, changed)
