"""NetworkManager/apply.sh: installs, loads, reads back and activates a node's keyfiles.

The same conventions as ovs/apply.sh (--dry-run, --check, --apply, the NIC check); what it
expects NetworkManager to read back comes from the profiles themselves (Profile.read_back).
"""

from __future__ import annotations

from generator.design.model import Design
from generator.design.resolve import NodeLayout, natural_key
from generator.render.context import NodeContext
from generator.render.files import OutputFile
from generator.render.networkmanager import FOLDER, Profile, node_profiles, render_keyfiles, uses_networkmanager
from generator.render.templating import template


def render_networkmanager(context: NodeContext) -> list[OutputFile]:
    """The node's keyfiles and NetworkManager/apply.sh, if the node uses NetworkManager."""
    if not uses_networkmanager(context.design, context.layout):
        return []
    return [*render_keyfiles(context), render_nm_script(context)]


def render_nm_script(context: NodeContext) -> OutputFile:
    profiles = node_profiles(context)
    nics = _uplink_nics(context.layout, profiles)
    text = template("nm-apply.sh.j2").render(
        header=context.header,
        node=context.name,
        files=[profile.file_name for profile in profiles],
        uuids=[profile.uuid for profile in profiles],
        names=[profile.id for profile in profiles],
        activation=[profile.uuid for profile in activation_order(context.design, profiles)],
        nics=[name for name, _ in nics],
        macs=[mac for _, mac in nics],
        interfaces=list(dict.fromkeys(profile.interface for profile in profiles)),
        expected=[f"{profile.uuid} {field} {value}" for profile in profiles for field, value in profile.read_back()],
    )
    return OutputFile(f"{context.folder}/{FOLDER}/apply.sh", text, executable=True)


def activation_order(design: Design, profiles: list[Profile]) -> list[Profile]:
    """The profiles `nmcli connection up` activates (their controllers come up with them): the
    bridges other than the host's first, then the host's; on each bridge its NICs, then its
    internal ports, then its own interface, so that the host address moves last, onto a bridge
    whose uplinks are already up."""

    def bridge_of(profile: Profile) -> str:
        while profile.master is not None:
            profile = profile.master
        return profile.interface

    def rank(profile: Profile) -> tuple[bool, str, bool]:
        # A stable sort: on a bridge, node_profiles lists its NICs before its internal ports.
        bridge = bridge_of(profile)
        return (bridge == design.host.bridge, bridge, profile.interface == bridge)

    leaves = [profile for profile in profiles if profile.type in ("ethernet", "ovs-interface")]
    return sorted(leaves, key=rank)


def _uplink_nics(layout: NodeLayout, profiles: list[Profile]) -> list[tuple[str, str]]:
    """(name, MAC or "-") of every NIC a profile of the node uses, in natural order."""
    used = {profile.interface for profile in profiles if profile.type == "ethernet"}
    nics = sorted((nic for nic in layout.node.nics if nic.name in used), key=lambda nic: natural_key(nic.name))
    return [(nic.name, nic.mac or "-") for nic in nics]
