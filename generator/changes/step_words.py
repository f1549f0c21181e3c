"""How a plan words its steps and risks: ports and bonds as people call them, the VLAN, MTU and
bond settings a step changes, and what can drop links or management (plan.md and the scripts
show these words as they are)."""

from __future__ import annotations

from generator.ovs.commands import cell_arguments
from generator.ovs.state import MANAGED_BOND_KEYS, InterfaceState, OvsState, PortState

# --- risks -----------------------------------------------------------------------------------


def host_bridge_risk(bridge: str) -> str:
    return (
        f"this change touches the host bridge {bridge} (its uplinks, host port or VLAN) and can cut the "
        "management connection: run it from a console (IPMI/iLO/iDRAC), one node at a time, "
        "and keep rollback.sh at hand."
    )


def host_vlan_risk(bridge: str, old: int | None, new: int | None) -> str:
    return (
        f"the host VLAN of {bridge} moves ({vlan(old)} -> {vlan(new)}): the host address is unreachable "
        f"on the old VLAN the moment this applies. The switch ports must carry VLAN {vlan(new)} first "
        "(see Switch ports); if they do not, only a console gets the host back."
    )


def host_uplink_risk(port: PortState, what: str) -> str:
    return (
        f"the host bridge's uplink {port.name} {what}: management drops while the links come up again "
        "(for LACP, until the switch's port-channel forms). Follow the switch-port order in plan.md "
        "and run it from a console."
    )


def bond_mtu_risk(port: PortState) -> str:
    return (
        f"the MTU of every member of {port.name} ({', '.join(port.members)}) changes in one transaction: "
        "many NIC drivers reset a link when its MTU changes, so all links of the bond can go down at once. "
        f"If {port.name} carries management, run it from a console; ovsgen does not stage the members one at a time."
    )


def unrestorable_text(port: PortState, why: str) -> str:
    """Why a step that deletes `port` blocks the plan: the port has what no rollback puts back."""
    return (
        f"{port.name} {why}, but it has {', '.join(port.unrestorable)}, which a rollback could not put "
        "back: remove them on the host first (and add them again after the window), or leave this change out"
    )


# --- what a port is, and what a step changes on it -------------------------------------------


def carried(state: OvsState, port: PortState) -> list[str]:
    """The settings no design manages that a rebuilt port keeps (carry_over put them in `state`)."""
    managed = set(MANAGED_BOND_KEYS) if port.kind == "bond" else set()
    words = [argument for name, value in port.columns for argument in cell_arguments(name, value)]
    words += [f"other_config:{key}={value}" for key, value in port.other_config if key not in managed]
    for interface in state.interfaces_of(port):
        words += [
            f"{interface.name} {argument}"
            for name, value in interface.columns
            for argument in cell_arguments(name, value)
        ]
    return words


def describe(port: PortState, *, managed: bool = True) -> str:
    # A host's tap ports look like NICs; only the design's own single uplinks are called uplinks.
    kinds = {"bond": "bond", "nic": "uplink" if managed else "port", "internal": "internal port"}
    return f"{kinds.get(port.kind, 'port')} {port.name}"


def members(port: PortState) -> str:
    """What follows an added port's name: its VLAN, or a bond's members and mode."""
    if port.kind != "bond":
        return f" (VLAN {port.tag})" if port.tag is not None else ""
    return f": {', '.join(port.members)} ({_bond_summary(port)})"


def _bond_summary(port: PortState) -> str:
    options = dict(port.other_config)
    if port.lacp is None:
        return str(port.bond_mode)
    fallback = " with fallback" if options.get("lacp-fallback-ab") == "true" else ""
    return f"{port.bond_mode}, LACP {port.lacp} {options.get('lacp-time', 'slow')}{fallback}"


def vlan(tag: int | None) -> str:
    return str(tag) if tag is not None else "untagged"


def tag_change(old: PortState, new: PortState) -> list[str]:
    return [f"VLAN {vlan(old.tag)} -> {vlan(new.tag)}"] if old.tag != new.tag else []


def mtu_change(old: InterfaceState, new: InterfaceState) -> list[str]:
    if old.mtu_request == new.mtu_request:
        return []
    return [f"MTU {old.mtu_request or 'default'} -> {new.mtu_request or 'default'}"]


def bond_change(old: PortState, new: PortState) -> list[str]:
    """A bond's mode, LACP and bond options that change, in words; nothing for another kind of port."""
    if new.kind != "bond":
        return []
    words = [f"bond_mode {old.bond_mode} -> {new.bond_mode}"] if old.bond_mode != new.bond_mode else []
    words += _lacp_change(old, new)
    before, after = dict(old.other_config), dict(new.other_config)
    for key, label in (("bond-rebalance-interval", "rebalance interval"), ("bond-primary", "primary")):
        if before.get(key) != after.get(key):
            words.append(f"{label} {before.get(key, 'default')} -> {after.get(key, 'default')}")
    return words


def _lacp_change(old: PortState, new: PortState) -> list[str]:
    before, after = dict(old.other_config), dict(new.other_config)
    if old.lacp is None and new.lacp is not None:
        fallback = " with fallback" if after.get("lacp-fallback-ab") == "true" else ""
        return [f"LACP {new.lacp} {after.get('lacp-time', 'slow')}{fallback}"]
    if old.lacp is not None and new.lacp is None:
        return ["LACP off"]
    words = [f"LACP {old.lacp} -> {new.lacp}"] if old.lacp != new.lacp else []
    for key, label in (("lacp-time", "LACP rate"), ("lacp-fallback-ab", "LACP fallback")):
        if before.get(key) != after.get(key):
            words.append(f"{label} {before.get(key, 'default')} -> {after.get(key, 'default')}")
    return words
