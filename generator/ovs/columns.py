"""The columns ovsgen reads of an Open vSwitch database, and their types.

COLUMNS holds the types vswitch.ovsschema declares for the columns a host's dump is read
for (tests compare them with the installed schema; rehearse compares a backup's schema with
them); REQUIRED, those a row means nothing without. VSWITCHD_COLUMNS are the columns
ovs-vswitchd writes to report what it sees, which a whole database's rows leave out
(generator.ovs.dbrows). `column_type` reads a column's type from a schema's JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from generator.ovs.untrusted_text import shown


@dataclass(frozen=True)
class BaseType:
    """An OVSDB atomic type with its constraints (RFC 7047 section 3.2, <base-type>)."""

    kind: str  # "integer", "real", "boolean", "string" or "uuid"
    enum: frozenset[object] | None = None
    min_integer: int | None = None
    max_integer: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    ref_table: str | None = None


@dataclass(frozen=True)
class ColumnType:
    """An OVSDB column type (<type>): a set of `key` atoms, or a map to `value` atoms when given."""

    key: BaseType
    value: BaseType | None = None
    min: int = 1
    max: int | None = 1  # None: unlimited


_ATOMIC = ("integer", "real", "boolean", "string", "uuid")


def column_type(spec: object) -> ColumnType:
    """A column type from its JSON in a schema; ValueError for anything RFC 7047 does not allow."""
    if isinstance(spec, str):
        return ColumnType(base_type(spec))
    if not isinstance(spec, dict):
        raise ValueError(f"not a column type: {shown(spec)}")
    least, most = spec.get("min", 1), spec.get("max", 1)
    if type(least) is not int or not (most == "unlimited" or type(most) is int):
        raise ValueError(f"not a column type: {shown(spec)}")
    value = base_type(spec["value"]) if "value" in spec else None
    return ColumnType(base_type(spec.get("key")), value, least, None if most == "unlimited" else most)


def base_type(spec: object) -> BaseType:
    if isinstance(spec, str) and spec in _ATOMIC:
        return BaseType(spec)
    if not isinstance(spec, dict) or spec.get("type") not in _ATOMIC:
        raise ValueError(f"not an atomic type: {shown(spec)}")
    enum = spec.get("enum")
    if enum is not None:
        members = enum[1] if isinstance(enum, list) and len(enum) == 2 and enum[0] == "set" else [enum]
        if not isinstance(members, list) or not all(isinstance(m, str | int | float) for m in members):
            raise ValueError(f"not an enum: {shown(enum)}")
        enum = frozenset(members)
    numbers = {name: spec.get(name) for name in ("minInteger", "maxInteger", "minLength", "maxLength")}
    if not all(number is None or type(number) is int for number in numbers.values()):
        raise ValueError(f"not an atomic type: {shown(spec)}")
    ref = spec.get("refTable")
    if ref is not None and not isinstance(ref, str):
        raise ValueError(f"not a table name: {shown(ref)}")
    return BaseType(
        kind=spec["type"],
        enum=enum,
        min_integer=numbers["minInteger"],
        max_integer=numbers["maxInteger"],
        min_length=numbers["minLength"],
        max_length=numbers["maxLength"],
        ref_table=ref,
    )


_STRING = BaseType("string")
_VLAN = BaseType("integer", min_integer=0, max_integer=4095)
_TEXT_MAP = ColumnType(_STRING, _STRING, 0, None)
_BOOLEAN = BaseType("boolean")

# What a bridge may point at that a plan cannot put back if it removed the bridge:
# column -> (the table it refers to, how many rows it may hold; None: any number).
BRIDGE_REFERENCES: Mapping[str, tuple[str, int | None]] = MappingProxyType(
    {
        "controller": ("Controller", None),
        "mirrors": ("Mirror", None),
        "netflow": ("NetFlow", 1),
        "sflow": ("sFlow", 1),
        "ipfix": ("IPFIX", 1),
    }
)

# The columns ovsgen reads, with their types as vswitch.ovsschema declares them
# (tests compare these with the installed schema; rehearse compares a backup's). Spelled out,
# not built by helper functions: mutation testing cannot reach code that runs only at import.
COLUMNS: Mapping[str, Mapping[str, ColumnType]] = MappingProxyType(
    {
        "Bridge": MappingProxyType(
            {
                "name": ColumnType(_STRING),
                "ports": ColumnType(BaseType("uuid", ref_table="Port"), min=0, max=None),
                "external_ids": _TEXT_MAP,
                "other_config": _TEXT_MAP,
                "fail_mode": ColumnType(BaseType("string", enum=frozenset({"standalone", "secure"})), min=0),
                "datapath_type": ColumnType(_STRING),
                "protocols": ColumnType(
                    BaseType("string", enum=frozenset(f"OpenFlow1{version}" for version in range(6))), min=0, max=None
                ),
                "stp_enable": ColumnType(_BOOLEAN),
                "rstp_enable": ColumnType(_BOOLEAN),
                "mcast_snooping_enable": ColumnType(_BOOLEAN),
                **{
                    name: ColumnType(BaseType("uuid", ref_table=table), min=0, max=most)
                    for name, (table, most) in BRIDGE_REFERENCES.items()
                },
            }
        ),
        "Port": MappingProxyType(
            {
                "name": ColumnType(_STRING),
                "interfaces": ColumnType(BaseType("uuid", ref_table="Interface"), min=1, max=None),
                "tag": ColumnType(_VLAN, min=0),
                "trunks": ColumnType(_VLAN, min=0, max=4096),
                "vlan_mode": ColumnType(
                    BaseType(
                        "string",
                        enum=frozenset({"trunk", "access", "native-tagged", "native-untagged", "dot1q-tunnel"}),
                    ),
                    min=0,
                ),
                "bond_mode": ColumnType(
                    BaseType("string", enum=frozenset({"balance-tcp", "balance-slb", "active-backup"})), min=0
                ),
                "lacp": ColumnType(BaseType("string", enum=frozenset({"active", "passive", "off"})), min=0),
                "bond_updelay": ColumnType(BaseType("integer")),
                "bond_downdelay": ColumnType(BaseType("integer")),
                "other_config": _TEXT_MAP,
                "external_ids": _TEXT_MAP,
                "qos": ColumnType(BaseType("uuid", ref_table="QoS"), min=0),
            }
        ),
        "Interface": MappingProxyType(
            {
                "name": ColumnType(_STRING),
                "type": ColumnType(_STRING),
                "mtu_request": ColumnType(BaseType("integer", min_integer=1), min=0),
                "options": _TEXT_MAP,
                "external_ids": _TEXT_MAP,
                "other_config": _TEXT_MAP,
                "ingress_policing_rate": ColumnType(BaseType("integer", min_integer=0)),
                "ingress_policing_burst": ColumnType(BaseType("integer", min_integer=0)),
                "ofport_request": ColumnType(BaseType("integer", min_integer=1, max_integer=65279), min=0),
                "mac": ColumnType(_STRING, min=0),
                "bfd": _TEXT_MAP,
                "lldp": _TEXT_MAP,
            }
        ),
        "Open_vSwitch": MappingProxyType({"external_ids": _TEXT_MAP}),
        # A mirror that selects a port, or sends to it, loses it when the port is rebuilt.
        "Mirror": MappingProxyType(
            {
                "name": ColumnType(_STRING),
                "select_src_port": ColumnType(BaseType("uuid", ref_table="Port"), min=0, max=None),
                "select_dst_port": ColumnType(BaseType("uuid", ref_table="Port"), min=0, max=None),
                "output_port": ColumnType(BaseType("uuid", ref_table="Port"), min=0),
            }
        ),
    }
)
# Without these a row means nothing; the other columns are empty when a dump lacks them.
REQUIRED = MappingProxyType(
    {
        "Bridge": ("name", "ports"),
        "Port": ("name", "interfaces"),
        "Interface": ("name",),
        "Open_vSwitch": (),
        "Mirror": ("name",),
    }
)


# Columns ovs-vswitchd (or ovs-ctl at start) writes to report what it sees, which the
# schema does not flag `ephemeral` (those it flags are left out too). A rehearsal has no
# ovs-vswitchd, and a rebuilt row loses them on a host until ovs-vswitchd writes them again:
# they are status, not configuration. next_cfg counts reconfiguration requests (each ovs-vsctl
# that waits for ovs-vswitchd bumps it); it is not a setting either.
VSWITCHD_COLUMNS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "Open_vSwitch": frozenset(
            {"cur_cfg", "next_cfg", "dpdk_initialized", "dpdk_version", "datapath_types", "iface_types", "statistics"}
        ),
        "Bridge": frozenset({"datapath_id", "datapath_version", "status", "rstp_status"}),
        "Port": frozenset(
            {"bond_active_slave", "bond_active_member", "status", "statistics", "rstp_status", "rstp_statistics"}
        ),
        "Interface": frozenset(
            {
                "ofport",
                "ifindex",
                "mac_in_use",
                "admin_state",
                "link_state",
                "link_resets",
                "link_speed",
                "duplex",
                "mtu",
                "error",
                "lacp_current",
                "statistics",
                "status",
                "bfd_status",
                "cfm_fault",
                "cfm_fault_status",
                "cfm_remote_mpids",
                "cfm_remote_opstate",
                "cfm_health",
                "cfm_flap_count",
            }
        ),
        "Mirror": frozenset({"statistics"}),
        "Controller": frozenset({"is_connected", "role", "status"}),
        "Manager": frozenset({"is_connected", "status"}),
    }
)
