"""Schema messages at their limits: the thousandth problem, the 80th character, and hints that
belong to the uplink shorthand only (tests/test_schema_messages.py has one case of each kind)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.design.validate import validate_file
from generator.errors import DesignInvalid
from tests.test_schema_messages import SHORTHAND, messages_after

IFNAME = "a Linux interface name: 1-15 characters of A-Z a-z 0-9 '_' '.' '-', not starting with '-' or '.'"


def test_the_schema_check_stops_at_the_thousandth_problem_and_says_so_at_the_top(tmp_path: Path) -> None:
    design = tmp_path / "flood.yaml"
    design.write_text("\n\nversion: 1\nname: x\nhost: {bridge: br0}\nbridges: {}\nnodes:\n" + "- [1]\n" * 1500)
    with pytest.raises(DesignInvalid) as raised:
        validate_file(design, display_name="flood.yaml")
    found = raised.value.diagnostics  # in the order of the file: the note on the whole design first
    assert len(found) == 1001
    assert [d.message for d in found[1:]].count("expected a mapping, got a list") == 999
    stopped = found[0]
    assert (stopped.file, stopped.line, stopped.column, stopped.path, stopped.message) == (
        "flood.yaml",
        3,
        1,
        (),
        "the schema check stopped after 1000 problems; fix these first",
    )


def test_a_design_with_999_problems_is_checked_whole(tmp_path: Path) -> None:
    design = tmp_path / "flood.yaml"
    design.write_text("version: 1\nname: x\nhost: {bridge: br0}\nbridges: {br0: {}}\nnodes:\n" + "- [1]\n" * 998)
    with pytest.raises(DesignInvalid) as raised:
        validate_file(design)
    messages = [d.message for d in raised.value.diagnostics]
    assert len(messages) == 999
    assert "the schema check stopped after 1000 problems; fix these first" not in messages


# A shorthand with room to spare: "2", spaces, "x10G"; 80 characters in all is still one to explain.
SPACED_80 = "2" + " " * 75 + "x10G"


def test_a_spaced_shorthand_of_80_characters_gets_its_hint(tmp_path: Path) -> None:
    assert len(SPACED_80) == 80
    messages = messages_after(tmp_path, "two-tier-cluster.yaml", "uplinks: 2x1G balance-slb", f"uplinks: '{SPACED_80}'")
    assert messages == [f"two-tier-cluster.yaml:15:14: '{SPACED_80}' is not {SHORTHAND} (did you mean '2x10G'?)"]


def test_a_value_of_81_characters_gets_no_hint(tmp_path: Path) -> None:
    value = "2" + " " * 76 + "x10G"
    messages = messages_after(tmp_path, "two-tier-cluster.yaml", "uplinks: 2x1G balance-slb", f"uplinks: '{value}'")
    assert messages == [f"two-tier-cluster.yaml:15:14: {value[:60]!r}... (81 characters) is not {SHORTHAND}"]


def test_an_interface_name_that_looks_like_a_shorthand_gets_no_shorthand_hint(tmp_path: Path) -> None:
    messages = messages_after(tmp_path, "ahv-host.yaml", "bond: bond0", "bond: 2 x 10G")
    assert messages == [f"ahv-host.yaml:18:11: '2 x 10G' is not {IFNAME}"]
