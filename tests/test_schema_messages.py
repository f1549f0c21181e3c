"""Schema messages (generator.design.schema_messages) as people read them, one per kind of message.

Each case edits one line of an example design and pins every message validation
gives for it: file:line:column and the whole text. tests/test_validation.py has the
rule-by-rule cases; these are about how values are shown and explained.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from generator.design import schema_messages as schema_errors
from generator.design.loader import load_design
from generator.design.validate import validate_file
from generator.errors import DesignInvalid
from tests.conftest import REPO

SHORTHAND = (
    "'<count>x<speed> [mode]' such as '2x10G active-backup' "
    "(speeds 1G 10G 25G 40G 50G 100G; modes active-backup balance-slb balance-tcp)"
)
SPEEDS = "one of '1G', '10G', '25G', '40G', '50G', '100G'"
IFNAME = "a Linux interface name: 1-15 characters of A-Z a-z 0-9 '_' '.' '-', not starting with '-' or '.'"
VERSION = "1, the only version of the design language"
CIDR = "an IPv4 address with prefix length such as 10.59.31.77/23"
MODES = "one of 'active-backup', 'balance-slb', 'balance-tcp'"


def messages_after(tmp_path: Path, design: str, old: str, new: str) -> list[str]:
    """Every message for the example design with `old` (found once) replaced by `new`."""
    text = (REPO / "designs" / design).read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / design
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(DesignInvalid) as invalid:
        validate_file(path, display_name=design)
    return [f"{d.file}:{d.line}:{d.column}: {d.message}" for d in invalid.value.diagnostics]


CASES = {
    # --- wrong type: the kind, and a scalar's value -------------------------
    "type-boolean": (
        "lacp-storage.yaml",
        "vlan: 10\n",
        "vlan: true\n",
        ["lacp-storage.yaml:12:9: expected an integer, got a boolean true"],
    ),
    "type-false": (
        "lacp-storage.yaml",
        "vlan: 10\n",
        "vlan: false\n",
        ["lacp-storage.yaml:12:9: expected an integer, got a boolean false"],
    ),
    "type-expects-boolean": (
        "lacp-storage.yaml",
        "default: true",
        "default: 1",
        ["lacp-storage.yaml:32:41: expected true or false, got an integer 1"],
    ),
    "type-expects-mapping": (
        "ahv-host.yaml",
        "host:\n  bridge: br0\n  gateway: 10.59.30.1\n  dns: [10.59.30.10, 10.59.30.11]\n  search: [lab.example.com]\n",
        "host: br0\n",
        ["ahv-host.yaml:7:7: expected a mapping, got a string 'br0'"],
    ),
    "type-expects-list": (
        "ahv-host.yaml",
        "search: [lab.example.com]",
        "search: lab.example.com",
        ["ahv-host.yaml:11:11: expected a list, got a string 'lab.example.com'"],
    ),
    "type-null": (
        "ahv-host.yaml",
        "version: 1",
        "version: null",
        [
            "ahv-host.yaml:4:10: expected an integer, got nothing",
            f"ahv-host.yaml:4:10: null is not {VERSION}",
        ],
    ),
    "type-mapping": (
        "ahv-host.yaml",
        "version: 1",
        "version: {v: 1}",
        [
            f"ahv-host.yaml:4:10: a mapping is not {VERSION}",
            "ahv-host.yaml:4:10: expected an integer, got a mapping",
        ],
    ),
    "type-list": (
        "ahv-host.yaml",
        "version: 1",
        "version: [1]",
        [
            f"ahv-host.yaml:4:10: a list is not {VERSION}",
            "ahv-host.yaml:4:10: expected an integer, got a list",
        ],
    ),
    "type-string-and-const": (
        "ahv-host.yaml",
        "version: 1",
        "version: '1'",
        [
            f"ahv-host.yaml:4:10: '1' is not {VERSION}",
            "ahv-host.yaml:4:10: expected an integer, got a string '1'",
        ],
    ),
    # --- oneOf/anyOf that no alternative fits: every alternative is named ---
    "alternatives-number": (
        "two-tier-cluster.yaml",
        "uplinks: 2x1G balance-slb",
        "uplinks: 5",
        [f"two-tier-cluster.yaml:15:14: 5 is not {SHORTHAND} or a mapping"],
    ),
    "alternatives-list": (
        "two-tier-cluster.yaml",
        "uplinks: 2x1G balance-slb",
        "uplinks: [eth0, eth1]",
        [f"two-tier-cluster.yaml:15:14: a list is not {SHORTHAND} or a mapping"],
    ),
    "alternatives-enum-or-list": (
        "ahv-host.yaml",
        "nics: [eth2, eth3]",
        "nics: 10",
        [f"ahv-host.yaml:16:13: 10 is not {SPEEDS} or a list"],
    ),
    "alternatives-mapping": (
        "ahv-host.yaml",
        "eth0: 1G",
        "eth0: [1G]",
        [f"ahv-host.yaml:35:13: a list is not {SPEEDS} or a mapping"],
    ),
    "alternatives-const-or-cidr": (
        "ahv-host.yaml",
        "address: 10.59.31.77/23",
        "address: 10.59.31.777/23",
        [f"ahv-host.yaml:39:14: '10.59.31.777/23' is not 'dhcp' or {CIDR}"],
    ),
    # --- the uplink shorthand, mistyped: what was probably meant (issue 13, point 16)
    "shorthand-mode-typo": (
        "two-tier-cluster.yaml",
        "uplinks: 2x1G balance-slb",
        "uplinks: 2x1G balance-sbl",
        [f"two-tier-cluster.yaml:15:14: '2x1G balance-sbl' is not {SHORTHAND} (did you mean '2x1G balance-slb'?)"],
    ),
    "shorthand-speed-case": (
        "two-tier-cluster.yaml",
        "uplinks: 2x1G balance-slb",
        "uplinks: 2x1g",
        [f"two-tier-cluster.yaml:15:14: '2x1g' is not {SHORTHAND} (did you mean '2x1G'?)"],
    ),
    "shorthand-spaced-units": (
        "two-tier-cluster.yaml",
        "uplinks: 2x1G balance-slb",
        "uplinks: 02 X 25GbE Active-Backup",
        [
            f"two-tier-cluster.yaml:15:14: '02 X 25GbE Active-Backup' is not {SHORTHAND} "
            "(did you mean '2x25G active-backup'?)"
        ],
    ),
    "shorthand-lacp": (
        "two-tier-cluster.yaml",
        "uplinks: 2x1G balance-slb",
        "uplinks: 2x1G LACP",
        [
            f"two-tier-cluster.yaml:15:14: '2x1G LACP' is not {SHORTHAND} (did you mean '2x1G balance-tcp'? "
            "the shorthand balance-tcp is LACP active, fast, with fallback)"
        ],
    ),
    "shorthand-unknown-speed": (
        "two-tier-cluster.yaml",
        "uplinks: 2x1G balance-slb",
        "uplinks: 2x3G balance-slb",
        [f"two-tier-cluster.yaml:15:14: '2x3G balance-slb' is not {SHORTHAND}"],
    ),
    "shorthand-no-bond-mode-close": (
        "two-tier-cluster.yaml",
        "uplinks: 2x1G balance-slb",
        "uplinks: 2x1G round-robin",
        [f"two-tier-cluster.yaml:15:14: '2x1G round-robin' is not {SHORTHAND}"],
    ),
    "shorthand-not-like-one": (
        "two-tier-cluster.yaml",
        "uplinks: 2x1G balance-slb",
        "uplinks: two 1G NICs",
        [f"two-tier-cluster.yaml:15:14: 'two 1G NICs' is not {SHORTHAND}"],
    ),
    "long-form-mode-lacp": (
        "ahv-host.yaml",
        "mode: active-backup",
        "mode: lacp",
        [f"ahv-host.yaml:17:13: 'lacp' is not {MODES} (use mode: balance-tcp with lacp: active)"],
    ),
    "long-form-mode-802.3ad": (
        "ahv-host.yaml",
        "mode: active-backup",
        "mode: 802.3ad",
        [f"ahv-host.yaml:17:13: '802.3ad' is not {MODES} (use mode: balance-tcp with lacp: active)"],
    ),
    "lacp-elsewhere-gets-no-mode-hint": (
        "ahv-host.yaml",
        "mode: active-backup",
        "mode: active-backup\n      lacp_time: lacp",
        ["ahv-host.yaml:18:18: 'lacp' is not one of 'slow', 'fast'"],
    ),
    # --- the one alternative whose type fits explains itself ---------------
    "fitting-alternative": (
        "ahv-host.yaml",
        "eth0: 1G",
        "eth0: {speed: 1G, colour: red}",
        ["ahv-host.yaml:35:25: unknown key 'colour'; known keys: mac, speed, switch"],
    ),
    # --- enum -----------------------------------------------------------
    "enum-did-you-mean": (
        "ahv-host.yaml",
        "mode: active-backup",
        "mode: activebackup",
        [f"ahv-host.yaml:17:13: 'activebackup' is not {MODES} (did you mean 'active-backup'?)"],
    ),
    "enum-no-close-match": (
        "ahv-host.yaml",
        "mode: active-backup",
        "mode: round-robin",
        [f"ahv-host.yaml:17:13: 'round-robin' is not {MODES}"],
    ),
    "enum-not-a-string": (
        "ahv-host.yaml",
        "mode: active-backup",
        "mode: 7",
        [
            f"ahv-host.yaml:17:13: 7 is not {MODES}",
            "ahv-host.yaml:17:13: expected a string, got an integer 7",
        ],
    ),
    # --- pattern, format, minLength: what is expected ----------------------
    "pattern-key": (
        "ahv-host.yaml",
        "eth0: 1G",
        "eth 0: 1G",
        [f"ahv-host.yaml:35:7: key 'eth 0' is not {IFNAME}"],
    ),
    "empty-name": (
        "ahv-host.yaml",
        "bond: bond0",
        "bond: ''",
        [f"ahv-host.yaml:18:11: '' is not {IFNAME}"],
    ),
    "format": (
        "ahv-host.yaml",
        "gateway: 10.59.30.1",
        "gateway: 10.59.30.256",
        ["ahv-host.yaml:9:12: '10.59.30.256' is not an IPv4 address such as 10.59.30.1"],
    ),
    # --- numbers and lengths ---------------------------------------------
    "range": (
        "lacp-storage.yaml",
        "native: 100",
        "native: 0",
        ["lacp-storage.yaml:34:55: 0 is outside 1-4094"],
    ),
    "too-long": (
        "ahv-host.yaml",
        "bond: bond0",
        "bond: bond0-of-br0-uplinks",
        ["ahv-host.yaml:18:11: 'bond0-of-br0-uplinks' is too long: 20 characters, at most 15"],
    ),
    "key-too-long": (
        "two-tier-cluster.yaml",
        "  br1:\n",
        "  br-storage-fabric:\n",
        ["two-tier-cluster.yaml:14:3: key 'br-storage-fabric' is too long: 17 characters, at most 15"],
    ),
    # --- required keys -----------------------------------------------------
    "required-one": (
        "ahv-host.yaml",
        "  - name: ahv-a-1\n",
        "  - nme: ahv-a-1\n",
        [
            "ahv-host.yaml:33:5: missing required key 'name'",
            "ahv-host.yaml:33:5: unknown key 'nme' (did you mean 'name'?)",
        ],
    ),
    "required-several": (
        "ahv-host.yaml",
        "    bridge: virbr0\n    address: 192.168.5.1/24",
        "    brdge: virbr0\n    adress: 192.168.5.1/24",
        [
            "ahv-host.yaml:28:5: missing required keys 'bridge', 'address'",
            "ahv-host.yaml:29:5: unknown key 'brdge' (did you mean 'bridge'?)",
            "ahv-host.yaml:30:5: unknown key 'adress' (did you mean 'address'?)",
        ],
    ),
    # --- unknown keys ------------------------------------------------------
    "unknown-key-top-level": (
        "ahv-host.yaml",
        "version: 1\n",
        "version: 1\ncolour: red\n",
        [
            "ahv-host.yaml:5:1: unknown key 'colour'; known keys: "
            "$schema, backends, bridges, host, internal_networks, internal_ports, name, networks, nodes, version"
        ],
    ),
    "unknown-key-did-you-mean": (
        "ahv-host.yaml",
        "bond: bond0",
        "bnd: bond0",
        ["ahv-host.yaml:18:5: unknown key 'bnd' (did you mean 'bond'?)"],
    ),
    # --- lists and mappings ------------------------------------------------
    "empty-list": (
        "ahv-host.yaml",
        "nics: [eth2, eth3]",
        "nics: []",
        ["ahv-host.yaml:16:13: needs at least 1 entry"],
    ),
    "empty-mapping": (
        "two-tier-cluster.yaml",
        "nics: {eth0: 1G, eth1: 1G, eth2: 10G, eth3: 10G}\n    address: 10.20.0.11/24",
        "nics: {}\n    address: 10.20.0.11/24",
        ["two-tier-cluster.yaml:27:11: needs at least 1 entry"],
    ),
    "too-many": (
        "ahv-host.yaml",
        "dns: [10.59.30.10, 10.59.30.11]",
        "dns: [10.59.30.10, 10.59.30.11, 10.59.30.12, 10.59.30.13]",
        ["ahv-host.yaml:10:8: has 4 entries, at most 3 allowed"],
    ),
    "duplicate": (
        "lacp-storage.yaml",
        "search: [storage.example.com, example.com]",
        "search: [example.com, storage.example.com, lab.example.com, storage.example.com, example.com]",
        ["lacp-storage.yaml:15:11: 'storage.example.com' is listed more than once"],
    ),
}


@pytest.mark.parametrize(("design", "old", "new", "expected"), list(CASES.values()), ids=list(CASES))
def test_each_kind_of_schema_message(tmp_path: Path, design: str, old: str, new: str, expected: list[str]) -> None:
    assert messages_after(tmp_path, design, old, new) == expected


# --- values longer than 80 characters are shown by their first 60 and their length ---

A80 = "a" * 80


def test_a_value_of_80_characters_is_shown_whole(tmp_path: Path) -> None:
    assert messages_after(tmp_path, "ahv-host.yaml", "address: 10.59.31.77/23", f"address: {A80}") == [
        f"ahv-host.yaml:39:14: '{A80}' is not 'dhcp' or {CIDR}",
    ]


def test_a_value_of_81_characters_is_shortened(tmp_path: Path) -> None:
    assert messages_after(tmp_path, "ahv-host.yaml", "bond: bond0", f"bond: b{A80}") == [
        f"ahv-host.yaml:18:11: 'b{'a' * 59}'... (81 characters) is too long: 81 characters, at most 15",
    ]


def test_a_long_enum_value_is_shortened_without_a_suggestion(tmp_path: Path) -> None:
    value = "active-backup" * 7
    assert messages_after(tmp_path, "ahv-host.yaml", "mode: active-backup", f"mode: {value}") == [
        f"ahv-host.yaml:17:13: '{value[:60]}'... (91 characters) is not {MODES}",
    ]


def test_an_unknown_key_of_80_characters_is_shown_whole(tmp_path: Path) -> None:
    assert messages_after(tmp_path, "ahv-host.yaml", "bond: bond0", f"{A80}: bond0") == [
        f"ahv-host.yaml:18:5: unknown key '{A80}'; known keys: bond, mtu, uplinks",
    ]


def test_a_long_unknown_key_is_shortened_and_gets_the_known_keys(tmp_path: Path) -> None:
    key = "bond" * 25
    assert messages_after(tmp_path, "ahv-host.yaml", "bond: bond0", f"{key}: bond0") == [
        f"ahv-host.yaml:18:5: unknown key '{key[:60]}... (100 characters)'; known keys: bond, mtu, uplinks",
    ]


# --- the validator behind the messages ------------------------------------------


def test_the_message_validator_checks_the_address_formats(tmp_path: Path) -> None:
    assert messages_after(tmp_path, "ahv-host.yaml", "gateway: 10.59.30.1", "gateway: 10.59.30.1/24") == [
        "ahv-host.yaml:9:12: '10.59.30.1/24' is not an IPv4 address such as 10.59.30.1",
    ]
    assert messages_after(tmp_path, "ahv-host.yaml", "address: 192.168.5.1/24", "address: 192.168.5.1") == [
        "ahv-host.yaml:30:14: '192.168.5.1' is not an IPv4 address with prefix length such as 10.59.31.77/23",
    ]


# --- schema shapes the design schema does not use (yet) still read as sentences ---

SHAPES = {
    "minimum-only": ({"type": "integer", "minimum": 2}, "1", "1 is beyond the minimum of 2"),
    "maximum-only": ({"type": "integer", "maximum": 2}, "3", "3 is beyond the maximum of 2"),
    "at-least-two": ({"type": "array", "minItems": 2}, "[1]", "needs at least 2 entries"),
    "type-list": ({"type": ["string", "null"]}, "1", "expected a string or nothing, got an integer 1"),
    "number": ({"type": "number"}, "x", "expected a number, got a string 'x'"),
    "described": ({"description": "A port name.", "pattern": "^p"}, "x", "'x' is not a port name"),
    "undescribed": ({"pattern": "^p"}, "x", "'x' is not valid"),
    "alternatives-described": (
        {"oneOf": [{"description": "A port name.", "type": "string"}, {"type": "integer"}]},
        "[p]",
        "a list is not a port name or valid",
    ),
    "other-keyword": ({"multipleOf": 2}, "3", "3 is not a multiple of 2"),
    "closed-without-properties": ({"type": "object", "additionalProperties": False}, "{a: 1}", "unknown key 'a'"),
}


@pytest.mark.parametrize(("schema", "value", "expected"), list(SHAPES.values()), ids=list(SHAPES))
def test_other_schema_shapes_read_as_sentences(
    tmp_path: Path, schema: dict[str, Any], value: str, expected: str
) -> None:
    path = tmp_path / "shape.yaml"
    path.write_text(f"value: {value}\n", encoding="utf-8")
    document = load_design(path)
    errors = Draft202012Validator({"properties": {"value": schema}}).iter_errors(document.data)
    assert [d.message for error in errors for d in schema_errors._explain(document, error)] == [expected]
