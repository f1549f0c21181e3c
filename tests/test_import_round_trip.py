"""`ovsgen import`, round trip through the real consumers: every node of a design built by its own
apply.sh in a private ovsdb-server, captured by the real capture script (dash, a fake sysfs, the
node's network files, libvirt's test driver holding its networks), imported, and the imported
design's apply.sh run on an emptied database: the rows are the same (uuids and external_ids
aside), `plan --from-host` from the original dump changes nothing in Open vSwitch (a dump does
not show the host's files, so the plan writes them anyway), and drift, which reads the captured
files and networks too, finds nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.design.validate import validate_file
from tests.conftest import DESIGNS
from tests.support.cli import invoke
from tests.support.fleet import apply_node, capture_design, rows_without_ids
from tests.support.ovsdb import Ovsdb

pytestmark = pytest.mark.consumer

HELD_IN = Path(__file__).parent / "designs"
# designs/rollout/ holds five-node copies of designs/changes/base.yaml and lacp-on.yaml (with
# networks-changed.yaml's networks), which are taken here already.
ROUND_TRIP = sorted([*DESIGNS, *(path for path in HELD_IN.rglob("*.yaml") if path.parent.name != "rollout")])


def _name(path: Path) -> str:
    return str(path.relative_to(path.parents[1] if path.parent.name != "changes" else path.parents[2]))


@pytest.mark.parametrize("design", ROUND_TRIP, ids=_name)
def test_a_design_survives_capture_and_import(design: Path, tmp_path: Path, ovsdb: Ovsdb) -> None:
    valid = validate_file(design)
    capture, rows = capture_design(valid, ovsdb, tmp_path)
    out = tmp_path / "imported.yaml"
    result = invoke("import", str(capture), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "differs from the imported design" not in result.stderr
    assert ": warning: not imported" not in result.stderr
    imported = validate_file(out)
    assert imported.design.name == valid.design.name  # from the header of the hosts' files
    for node in valid.design.nodes:
        apply_node(imported, node.name, ovsdb, tmp_path)
        assert rows_without_ids(ovsdb) == rows[node.name], node.name
        plan = invoke(
            "plan", "--from-host", str(capture / node.name / "ovsdb.json"), str(out),
            "--node", node.name, "-o", str(tmp_path / "plan"),
        )  # fmt: skip
        assert plan.exit_code == 0, plan.stderr
        summary = (tmp_path / "plan" / "plan.md").read_text()
        assert "Open vSwitch (one transaction in change.sh; rollback.sh undoes it):\n- no change\n" in summary
    drift = invoke("drift", str(out), str(capture))
    assert drift.exit_code == 0, drift.stdout
