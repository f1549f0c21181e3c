"""Writing output: unchanged files untouched, atomic replacement, parallel rendering."""

from __future__ import annotations

import errno
import functools
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
from click.testing import CliRunner, Result

from generator.cli.main import main
from generator.design.validate import validate_file
from generator.errors import OutputRefused
from generator.output import staging, writer
from generator.output.golden import compare_files, stale_files
from generator.output.whole_folder import replace_folder
from generator.output.writer import writing
from generator.render.files import OutputFile
from generator.render.kinds import REGISTRY, owned_paths, render_design
from tests.conftest import REPO

CLUSTER = REPO / "designs" / "two-tier-cluster.yaml"


def render(out: Path, design: Path = CLUSTER) -> int:
    valid = validate_file(design)
    return writer.write_tree(out, render_design(valid), owned_paths(valid))


def anything(path: str) -> bool:
    """Toy files carry no ovsgen header: the tests of the writer's mechanics let it replace them."""
    return True


write_tree = functools.partial(writer.write_tree, owns=anything)


def stats(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below `folder`, hidden ones too, with its inode and mtime."""
    return {
        str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    }


def contents(folder: Path) -> dict[str, tuple[bytes, int] | None]:
    """Every entry below `folder`: files with bytes and permission bits, folders as None."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mode & 0o777) if p.is_file() else None
        for p in folder.rglob("*")
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
    assert after.keys() == before.keys()  # nothing lost, no backup left behind
    moved = {name for name in after if after[name] != before[name]}
    assert "two-tier-cluster/kvm-a-3/network-scripts/ifcfg-br0" in moved
    for kept in ("network-scripts/ifcfg-eno1", "network-scripts/ifcfg-ens1f0", "ovs/apply.sh", "libvirt/define.sh"):
        assert f"two-tier-cluster/kvm-a-3/{kept}" in after  # linked from the old tree: same inode and mtime
        assert f"two-tier-cluster/kvm-a-3/{kept}" not in moved
    assert all(name.startswith("two-tier-cluster/kvm-a-3/") or name.count("/") == 1 for name in moved)
    assert "10.20.0.23" in (out / "two-tier-cluster/kvm-a-3/network-scripts/ifcfg-br0").read_text()


def test_a_failed_swap_puts_everything_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    render(out)
    for node in ("kvm-a-1", "kvm-a-2"):  # edited by hand, header kept: still ovsgen's to replace
        with (out / f"two-tier-cluster/{node}/ovs/apply.sh").open("a") as script:
            script.write("edited\n")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real_replace, calls = os.replace, []

    def failing_replace(source: object, destination: object) -> None:
        calls.append(source)
        if len(calls) == 3:  # after the first node was swapped in
            raise OSError(28, "No space left on device")
        real_replace(source, destination)  # type: ignore[arg-type]

    monkeypatch.setattr(staging.os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        render(out)
    monkeypatch.undo()
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.ovsgen-")]


def test_parallel_rendering_gives_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("generator.speed.pool.ITEMS_PER_WORKER", 1)
    valid = validate_file(CLUSTER)
    serial = render_design(valid, jobs=1)
    parallel = render_design(valid, jobs=3)
    assert parallel == serial
    assert len({file.path.split("/")[1] for file in serial if file.path.count("/") >= 2}) == 3


def test_a_render_takes_the_registry_of_kinds_it_is_given() -> None:
    """A registry of one kind renders that kind's files alone, and replaces the design's folder
    whole: it is every kind there is to render."""
    valid = validate_file(CLUSTER)
    (ovs,) = [kind for kind in REGISTRY if kind.name == "ovs"]
    files = render_design(valid, registry=(ovs,))
    assert files == render_design(valid, kinds=["ovs"])
    assert {file.name for file in files} == {"apply.sh"}
    assert owned_paths(valid, registry=(ovs,)) == [PurePosixPath(valid.design.name)]
    assert owned_paths(valid, kinds=["ovs"]) != [PurePosixPath(valid.design.name)]


def test_a_render_into_a_new_folder_is_one_rename(tmp_path: Path) -> None:
    files = [OutputFile("d/n/f.txt", "x\n"), OutputFile("d/g.sh", "#!/bin/sh\n", True)]
    assert write_tree(tmp_path / "out", files, [PurePosixPath("d")]) == 1
    assert (tmp_path / "out/d/n/f.txt").read_text() == "x\n"
    assert os.access(tmp_path / "out/d/g.sh", os.X_OK)


# --- what lands on disk ---------------------------------------------------------------

D = [PurePosixPath("d")]
LINK_REFUSED = "is a symbolic link; ovsgen does not follow links inside an output folder"
SMALL = [OutputFile("d/n/a.txt", "a\n"), OutputFile("d/n/b.sh", "#!/bin/sh\n", True), OutputFile("d/top.md", "t\n")]


def test_files_get_their_modes_whatever_the_umask_and_a_rerender_keeps_them(tmp_path: Path) -> None:
    files = render_design(validate_file(CLUSTER))
    out = tmp_path / "a" / "b" / "out"  # the folders above OUT are made too
    old_mask = os.umask(0o077)
    try:
        write_tree(out, files, [PurePosixPath("two-tier-cluster")])
    finally:
        os.umask(old_mask)
    for file in files:
        assert stat.S_IMODE((out / file.path).stat().st_mode) == (0o755 if file.executable else 0o644), file.path
    before = stats(out)
    assert write_tree(out, files, [PurePosixPath("two-tier-cluster")]) == 0
    assert stats(out) == before


def test_short_writes_still_give_whole_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    monkeypatch.setattr(staging.os, "write", lambda descriptor, data: real_write(descriptor, data[:7]))
    files = render_design(validate_file(CLUSTER))
    write_tree(tmp_path / "out", files, [PurePosixPath("two-tier-cluster")])
    for file in files:
        assert (tmp_path / "out" / file.path).read_text() == file.text


def test_without_hard_links_unchanged_files_are_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another file system or a file system without hard links: os.link fails, the file is copied instead."""
    out = tmp_path / "out"
    write_tree(out, SMALL, D)

    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(staging.os, "link", no_links)
    changed = [OutputFile("d/n/a.txt", "A\n"), *SMALL[1:]]
    assert write_tree(out, changed, D) == 1
    assert contents(out) == {
        "d": None,
        "d/n": None,
        "d/n/a.txt": (b"A\n", 0o644),
        "d/n/b.sh": (b"#!/bin/sh\n", 0o755),
        "d/top.md": (b"t\n", 0o644),
    }


def test_an_unchanged_file_swapped_for_a_link_meanwhile_is_never_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A race: the old file checked as unchanged becomes a link to a secret before it is hard-linked.
    The secret's file is never linked; the commit, which looks at what it replaces, refuses the link."""
    out, secret = tmp_path / "out", tmp_path / "secret"
    secret.write_text("AWS_SECRET_ACCESS_KEY=x\n")
    write_tree(out, SMALL, D)
    real_same_file, raced = staging.same_file, out / "d/n/b.sh"

    def racing_same_file(path: str, data: bytes, mode: int) -> bool:
        same = real_same_file(path, data, mode)
        if path == str(raced) and same:
            raced.unlink()
            raced.symlink_to(secret)
        return same

    monkeypatch.setattr(staging, "same_file", racing_same_file)
    with pytest.raises(OutputRefused, match=LINK_REFUSED):
        write_tree(out, [OutputFile("d/n/a.txt", "A\n"), *SMALL[1:]], D)
    assert secret.stat().st_nlink == 1  # no hard link to the secret anywhere
    assert not any(path.samefile(secret) for path in out.rglob("*") if not path.is_symlink())


def test_a_folder_where_a_file_now_belongs_is_replaced(tmp_path: Path) -> None:
    """OUT holds a folder at a path this render makes a file (an --only root): the file replaces it whole."""
    out = tmp_path / "out"
    (out / "d" / "x.csv").mkdir(parents=True)
    (out / "d" / "x.csv" / "inner").write_text("old\n")
    assert write_tree(out, [OutputFile("d/x.csv", "new\n")], [PurePosixPath("d/x.csv")]) == 1
    assert contents(out) == {"d": None, "d/x.csv": (b"new\n", 0o644)}


def test_what_a_render_no_longer_makes_is_removed_file_or_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "d").mkdir(parents=True)
    (out / "gone.csv").write_text("old\n")
    (out / "d" / "stale").write_text("old\n")
    (out / "d" / ".hidden-1").write_text("kept\n")  # hidden names are not the render's: they stay
    (out / "d" / "n").mkdir()
    (out / "d" / "n" / "old.txt").write_text("old\n")
    (out / "d" / ".hidden-2").write_text("kept\n")
    (out / "d" / "zstale").write_text("old\n")
    roots = [PurePosixPath("gone.csv"), PurePosixPath("d"), PurePosixPath("new.csv")]
    assert write_tree(out, SMALL, roots) == 5  # gone.csv, d/stale, d/zstale, d/n (changed), d/top.md (new)
    assert contents(out) == {
        "d": None,
        "d/.hidden-1": (b"kept\n", 0o644),
        "d/.hidden-2": (b"kept\n", 0o644),
        "d/n": None,
        "d/n/a.txt": (b"a\n", 0o644),
        "d/n/b.sh": (b"#!/bin/sh\n", 0o755),
        "d/top.md": (b"t\n", 0o644),
    }


def test_a_node_folder_with_a_file_too_many_or_too_few_is_rendered_again(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(out, SMALL, D)
    expected = contents(out)
    (out / "d/n/extra.txt").write_text("planted\n")
    assert write_tree(out, SMALL, D) == 1
    assert contents(out) == expected
    (out / "d/n/a.txt").unlink()
    assert write_tree(out, SMALL, D) == 1
    assert contents(out) == expected


def test_a_file_outside_every_folder_the_render_replaces_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^e/x\.txt is outside every folder this render replaces$"):
        write_tree(tmp_path / "out", [OutputFile("e/x.txt", "x\n")], D)


@pytest.mark.parametrize(
    ("first", "second"), [(SMALL[:1], SMALL[:2]), (SMALL[:2], SMALL[:1])], ids=["then all", "then one"]
)
def test_a_unit_out_holds_must_arrive_in_one_stage_call(
    tmp_path: Path, first: list[OutputFile], second: list[OutputFile]
) -> None:
    """A node folder OUT holds is compared whole: its files split over two calls would compare wrongly."""
    out = tmp_path / "out"
    write_tree(out, SMALL, D)
    with writing(out, D) as tree:
        tree.record(tree.stage(first))
        with pytest.raises(AssertionError, match="the files of d/n must arrive together"):
            tree.record(tree.stage(second))


def test_a_linked_node_folder_is_refused_before_anything_is_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_tree(out, SMALL, D)
    shutil.rmtree(out / "d/n")
    (out / "d/n").symlink_to(tmp_path)
    monkeypatch.chdir(tmp_path)  # a folder without links of its own
    with pytest.raises(OutputRefused, match=LINK_REFUSED) as refused, writing(out, D):
        pytest.fail("the writer must refuse the link before a file is rendered")
    assert str(refused.value) == f"{out}/d/n {LINK_REFUSED}"


def test_staged_files_wait_hidden_beside_out(tmp_path: Path) -> None:
    """While a render runs, OUT's parent shows only hidden entries beside OUT: no half-written folder."""
    out = tmp_path / "out"
    with writing(out, D) as tree:
        tree.record(tree.stage(SMALL))
        beside = sorted(name for name in os.listdir(tmp_path) if name != "out")
        assert [name.startswith(".out.ovsgen-") for name in beside] == [True]  # the staging; the lock is in OUT
        assert os.listdir(out) == [".ovsgen.lock"]
        assert (tmp_path / beside[0] / "new/d/n/b.sh").read_text() == "#!/bin/sh\n"
        assert tree.commit() == 1
    assert sorted(os.listdir(tmp_path)) == ["out"]  # nothing left beside OUT
    assert sorted(os.listdir(out)) == ["d"]  # nor the lock in it


def test_a_render_that_changed_nothing_survives_its_staging_folder_being_cleaned_away(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(out, SMALL, D)
    with writing(out, D) as tree:
        tree.record(tree.stage(SMALL))
        shutil.rmtree(tree.staging)  # a temp cleaner, say
        assert tree.commit() == 0
    assert contents(out)["d/n/a.txt"] == (b"a\n", 0o644)


# --- plan folders ------------------------------------------------------------------


def test_a_plan_folder_is_replaced_whole_keeping_unchanged_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = tmp_path / "plan"
    replace_folder(plan, [OutputFile("plan.md", "p\n"), OutputFile("change.sh", "#!/bin/sh\n", True)])
    kept = stats(plan)["change.sh"]
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    (elsewhere / "link").symlink_to(tmp_path)  # a link where ovsgen runs is none of its business
    monkeypatch.chdir(elsewhere)
    replace_folder(plan, [OutputFile("change.sh", "#!/bin/sh\n", True), OutputFile("rollback.sh", "r\n")])
    assert contents(plan) == {"change.sh": (b"#!/bin/sh\n", 0o755), "rollback.sh": (b"r\n", 0o644)}
    assert stats(plan)["change.sh"] == kept  # linked from the old plan: same inode and mtime
    assert stat.S_IMODE(plan.stat().st_mode) == 0o755
    assert sorted(os.listdir(tmp_path)) == ["cwd", "plan"]


def test_a_plan_is_staged_hidden_beside_its_folder_and_a_failure_leaves_the_old_one(tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    replace_folder(plan, [OutputFile("plan.md", "old\n")])

    def failing() -> Iterator[OutputFile]:
        yield OutputFile("plan.md", "new\n")
        beside = sorted(name for name in os.listdir(tmp_path) if name != "plan")
        assert [name.startswith(".plan.ovsgen-") for name in beside] == [True]  # the staging; the lock is in OUT
        assert (tmp_path / beside[0] / "new/plan.md").read_text() == "new\n"
        raise RuntimeError("the renderer failed")

    with pytest.raises(RuntimeError, match="the renderer failed"):
        replace_folder(plan, failing())
    assert contents(plan) == {"plan.md": (b"old\n", 0o644)}
    assert sorted(os.listdir(tmp_path)) == ["plan"]


# --- check --golden ------------------------------------------------------------------

NAME = "two-tier-cluster"


def check(golden: Path) -> Result:
    return CliRunner().invoke(main, ["check", str(CLUSTER), "--golden", str(golden)])


@pytest.fixture
def golden(tmp_path: Path) -> Path:
    folder = tmp_path / "golden"
    render(folder)
    assert check(folder).exit_code == 0
    return folder


@pytest.mark.parametrize("script", [True, False], ids=["script made plain", "file made executable"])
def test_check_reports_a_mode_change_with_the_same_bytes(golden: Path, script: bool) -> None:
    path = golden / NAME / "kvm-a-1" / ("ovs/apply.sh" if script else "network-scripts/ifcfg-br0")
    path.chmod(0o644 if script else 0o755)
    result = check(golden)
    assert result.exit_code == 1
    golden_mode, rendered_mode = ("not executable", "executable") if script else ("executable", "not executable")
    assert result.stdout == f"mode of {path}: {golden_mode} in golden, {rendered_mode} rendered\n"


def test_check_reports_a_changed_file_with_its_old_name_and_a_missing_one_as_new(golden: Path) -> None:
    ifcfg = golden / NAME / "kvm-a-3" / "network-scripts" / "ifcfg-br0"
    ifcfg.write_text(ifcfg.read_text().replace("10.20.0.13", "10.20.0.23"))  # the same length
    (golden / NAME / "kvm-a-1" / "ovs" / "apply.sh").unlink()
    lines = check(golden).stdout.splitlines()
    assert f"--- a/{NAME}/kvm-a-3/network-scripts/ifcfg-br0" in lines
    assert "-IPADDR=10.20.0.23" in lines
    assert "+IPADDR=10.20.0.13" in lines
    assert lines[lines.index(f"+++ b/{NAME}/kvm-a-1/ovs/apply.sh") - 1] == "--- /dev/null"
    assert not [line for line in lines if line.startswith("mode of")]


def test_check_shows_bytes_that_are_not_utf8_and_a_stale_fifo_without_hanging(golden: Path) -> None:
    (golden / NAME / "kvm-a-1" / "ovs" / "apply.sh").write_bytes(b"#!/bin/sh\n\xff\xfe\n")
    os.mkfifo(golden / NAME / "kvm-a-1" / "queue")  # opened for reading, it would wait for a writer
    result = check(golden)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "-\ufffd\ufffd" in lines
    assert lines[-2:] == [f"--- a/{NAME}/kvm-a-1/queue", "+++ /dev/null"]  # no lines to show, but it goes


@pytest.mark.parametrize("stale", ["empty", "one line"])
def test_check_reports_a_stale_file_even_an_empty_one(golden: Path, stale: str) -> None:
    """render would remove it, so check may not call golden/ up to date (an empty file has no lines to diff)."""
    (golden / NAME / "kvm-a-2" / "notes.txt").write_text("" if stale == "empty" else "x\n")
    result = check(golden)
    assert result.exit_code == 1
    body = ["@@ -1 +0,0 @@", "-x"] if stale == "one line" else []
    assert result.stdout.splitlines() == [f"--- a/{NAME}/kvm-a-2/notes.txt", "+++ /dev/null", *body]


def test_comparing_shows_an_empty_file_golden_lacks(golden: Path) -> None:
    files = [OutputFile(f"{NAME}/kvm-a-1/empty.txt", ""), OutputFile(f"{NAME}/kvm-a-1/one.txt", "1\n")]
    assert compare_files(golden, files).lines == (
        "--- /dev/null\n",
        f"+++ b/{NAME}/kvm-a-1/empty.txt\n",
        "--- /dev/null\n",
        f"+++ b/{NAME}/kvm-a-1/one.txt\n",
        "@@ -0,0 +1 @@\n",
        "+1\n",
    )


def test_comparing_refuses_a_linked_folder_even_after_others_were_fine(golden: Path, tmp_path: Path) -> None:
    """compare_files runs in workers on a node's files: each folder on the way is checked, not just the first."""
    files = render_design(validate_file(CLUSTER))
    assert compare_files(golden, files).lines == ()
    linked = golden / NAME / "kvm-a-2" / "libvirt"
    shutil.copytree(linked, tmp_path / "copy")
    (tmp_path / "copy" / "define.sh").write_text("AWS_SECRET_ACCESS_KEY=x\n")
    shutil.rmtree(linked)
    linked.symlink_to(tmp_path / "copy")
    with pytest.raises(OutputRefused, match=LINK_REFUSED) as refused:
        compare_files(golden, files)
    assert str(refused.value) == f"{linked} {LINK_REFUSED}"


def test_check_ignores_permission_bits_git_does_not_keep(golden: Path) -> None:
    """A checkout under umask 000 gives 0666 and 0777: git keeps only the executable bit, so does check."""
    for path in (golden / NAME).rglob("*"):
        if path.is_file():
            path.chmod(0o777 if os.access(path, os.X_OK) else 0o666)
    result = check(golden)
    assert result.exit_code == 0, result.stdout


def test_comparing_keeps_every_difference_of_a_node(tmp_path: Path) -> None:
    golden = tmp_path / "golden"
    write_tree(golden, SMALL, D)
    (golden / "d/n/a.txt").write_text("A\n")
    (golden / "d/n/b.sh").chmod(0o644)
    assert compare_files(golden, SMALL).lines == (
        "--- a/d/n/a.txt\n",
        "+++ b/d/n/a.txt\n",
        "@@ -1 +1 @@\n",
        "-A\n",
        "+a\n",
        f"mode of {golden}/d/n/b.sh: not executable in golden, executable rendered\n",
    )


def test_refusals_are_output_refused_each_in_its_own_words(tmp_path: Path) -> None:
    """A linked OUT and a name ovsgen never writes are refusals (OutputRefused, which the command
    line reports by its message), not failures of the system (OSError): callers may tell them apart."""
    (tmp_path / "real").mkdir()
    (tmp_path / "out").symlink_to(tmp_path / "real")
    with (
        pytest.raises(OutputRefused, match="is a symbolic link; ovsgen writes to and compares") as linked,
        writing(tmp_path / "out", D),
    ):
        pytest.fail("a linked OUT must be refused")
    linked_message = "is a symbolic link; ovsgen writes to and compares with real folders only"
    assert str(linked.value) == f"{tmp_path / 'out'} {linked_message}"
    golden = tmp_path / "golden"
    write_tree(golden, SMALL, D)
    (golden / "d/n/x\nnot ours").write_text("x\n")
    with pytest.raises(OutputRefused, match="is not a name ovsgen writes; remove it") as named:
        stale_files(golden, D, set())
    assert str(named.value) == f"{golden}/d/n/x\nnot ours is not a name ovsgen writes; remove it"
    assert not isinstance(named.value, OSError)


def test_the_writer_names_out_by_its_own_name_and_refuses_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line refuses `-o .` and `-o /`; the writer itself stages beside `.` under the
    folder's own name, and refuses / before it makes or locks anything."""
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    assert write_tree(Path("."), SMALL, D) == 1
    assert sorted(os.listdir(tmp_path)) == ["out"]
    assert contents(out)["d/top.md"] == (b"t\n", 0o644)
    with pytest.raises(OutputRefused, match="is the root folder") as root:
        write_tree(Path("/"), SMALL, D)
    assert str(root.value) == "/ is the root folder; ovsgen writes only into folders below it"
