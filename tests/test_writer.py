"""Writing output: unchanged files untouched, atomic replacement, parallel rendering."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from generator import writer
from generator.pipeline import validate_file
from generator.render import OutputFile, owned_paths, render_design
from generator.writer import write_tree
from tests.conftest import REPO

CLUSTER = REPO / "designs" / "two-tier-cluster.yaml"


def render(out: Path, design: Path = CLUSTER) -> int:
    valid = validate_file(design)
    return write_tree(out, render_design(valid), owned_paths(valid))


def stats(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    }


def test_rendering_again_touches_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert render(out) > 0
    before = stats(out)
    assert render(out) == 0
    assert stats(out) == before


def test_a_change_replaces_only_what_changed_and_keeps_unchanged_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    render(out)
    before = stats(out)
    changed = tmp_path / CLUSTER.name  # the same name: headers stay the same
    changed.write_text(CLUSTER.read_text().replace("address: 10.20.0.13/24", "address: 10.20.0.23/24"))
    render(out, changed)
    after = stats(out)
    moved = {name for name in after if after[name] != before.get(name)}
    assert "two-tier-cluster/kvm-a-3/network-scripts/ifcfg-br0" in moved
    assert "two-tier-cluster/kvm-a-3/network-scripts/ifcfg-eth0" not in moved  # linked, same inode and mtime
    assert not any(name.startswith("two-tier-cluster/kvm-a-1/") for name in moved)
    assert "10.20.0.23" in (out / "two-tier-cluster/kvm-a-3/network-scripts/ifcfg-br0").read_text()


def test_a_failed_swap_puts_everything_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    render(out)
    (out / "two-tier-cluster/kvm-a-1/ovs/apply.sh").write_text("edited\n")
    (out / "two-tier-cluster/kvm-a-2/ovs/apply.sh").write_text("edited\n")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real_replace, calls = os.replace, []

    def failing_replace(source: object, destination: object) -> None:
        calls.append(source)
        if len(calls) == 3:  # after the first node was swapped in
            raise OSError(28, "No space left on device")
        real_replace(source, destination)  # type: ignore[arg-type]

    monkeypatch.setattr(writer.os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        render(out)
    monkeypatch.undo()
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.ovsgen-")]


def test_parallel_rendering_gives_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("generator.render.NODES_PER_JOB", 1)
    valid = validate_file(CLUSTER)
    serial = render_design(valid, jobs=1)
    parallel = render_design(valid, jobs=3)
    assert parallel == serial
    assert len({file.path.split("/")[1] for file in serial if file.path.count("/") >= 2}) == 3


def test_a_render_into_a_new_folder_is_one_rename(tmp_path: Path) -> None:
    files = [OutputFile("d/n/f.txt", "x\n"), OutputFile("d/g.sh", "#!/bin/sh\n", True)]
    assert write_tree(tmp_path / "out", files, [PurePosixPath("d")]) == 1
    assert (tmp_path / "out/d/n/f.txt").read_text() == "x\n"
    assert os.access(tmp_path / "out/d/g.sh", os.X_OK)
