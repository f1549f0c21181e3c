"""Editors and shells: the schema modeline of docs/editors.md, a design's `$schema` key, and
shell completion of `--node` through click's completion protocol and through bash itself."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, require_tool, run

OVSGEN = Path(sys.executable).parent / "ovsgen"  # the installed command, as a shell finds it
EDITORS = REPO / "docs/editors.md"
MODELINE = "# yaml-language-server: $schema=../schemas/design.schema.json"

TWO_NODES = """\
version: 1
name: {name}
host: {{bridge: br0, gateway: 10.0.0.1}}
bridges:
  br0: {{uplinks: 2x10G active-backup}}
nodes:
  - {{name: {first}, nics: {{eth0: 10G, eth1: 10G}}, address: 10.0.0.11/24}}
  - {{name: {second}, nics: {{eth0: 10G, eth1: 10G}}, address: 10.0.0.12/24}}
"""


def ovsgen_command() -> str:
    if not OVSGEN.is_file():
        pytest.fail(f"{OVSGEN} is missing: install the package into this interpreter's venv (pip install -e .)")
    return str(OVSGEN)


def quiet_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "OVSGEN_CACHE_DIR": "", **extra}


def complete(words: list[str], cwd: Path) -> tuple[list[str], str, int]:
    """What `ovsgen` offers for the last word, asked as bash asks (click's bash_complete protocol)."""
    result = run(
        [ovsgen_command()],
        cwd=cwd,
        env=quiet_env(COMP_WORDS=" ".join(words), COMP_CWORD=str(len(words) - 1), _OVSGEN_COMPLETE="bash_complete"),
    )
    offered = [line.split(",", 1)[1] for line in result.stdout.splitlines() if line.startswith("plain,")]
    return offered, result.stderr, result.returncode


@pytest.fixture
def designs(tmp_path: Path) -> Path:
    (tmp_path / "a.yaml").write_text(TWO_NODES.format(name="a", first="rack1-n1", second="rack1-n2"))
    (tmp_path / "b.yaml").write_text(TWO_NODES.format(name="b", first="Rack2-n1", second="rack2-n2"))
    return tmp_path


# --- shell completion ------------------------------------------------------------------------


def test_node_completes_with_the_node_names_of_the_designs_given(designs: Path) -> None:
    offered, errors, code = complete(["ovsgen", "render", "a.yaml", "b.yaml", "--node", ""], designs)
    assert (offered, errors, code) == (["rack1-n1", "rack1-n2", "Rack2-n1", "rack2-n2"], "", 0)


def test_node_completion_matches_a_prefix_without_regard_to_case(designs: Path) -> None:
    offered, _, _ = complete(["ovsgen", "render", "a.yaml", "b.yaml", "--node", "RACK2"], designs)
    assert offered == ["Rack2-n1", "rack2-n2"]


def test_node_completion_reads_the_designs_after_an_earlier_node(designs: Path) -> None:
    offered, _, _ = complete(["ovsgen", "render", "--node", "rack1-n1", "a.yaml", "--node", ""], designs)
    assert offered == ["rack1-n1", "rack1-n2"]


@pytest.mark.parametrize(
    "words",
    [
        ["ovsgen", "rehearse", "a.yaml", "b.yaml", "--node", ""],
        ["ovsgen", "plan", "a.yaml", "b.yaml", "--node", ""],
        ["ovsgen", "plan", "--from-host", "host.json", "b.yaml", "--node", ""],
    ],
)
def test_node_completes_for_plan_and_rehearse(designs: Path, words: list[str]) -> None:
    offered, errors, code = complete(words, designs)
    assert (errors, code) == ("", 0)
    assert {"Rack2-n1", "rack2-n2"} <= set(offered)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("missing.yaml", None),
        ("broken.yaml", "nodes: [\n"),
        ("scalar.yaml", "just text\n"),
        ("odd.yaml", "nodes: {name: x}\n"),
        ("binary.yaml", "\udcff"),
        ("folder.yaml", ""),
    ],
)
def test_node_completion_offers_nothing_for_a_bad_design(tmp_path: Path, name: str, content: str | None) -> None:
    if name == "folder.yaml":
        (tmp_path / name).mkdir()
    elif content is not None:
        (tmp_path / name).write_bytes(content.encode("utf-8", "surrogateescape"))
    offered, errors, code = complete(["ovsgen", "render", name, "--node", ""], tmp_path)
    assert (offered, errors, code) == ([], "", 0)


def test_node_completion_skips_names_a_shell_would_split(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text('nodes: [{name: "a b"}, {name: "$(x)"}, {name: ok-1}, 5]\n')
    offered, errors, _ = complete(["ovsgen", "render", "d.yaml", "--node", ""], tmp_path)
    assert (offered, errors) == (["ok-1"], "")


@pytest.mark.parametrize(
    ("shell", "cword", "offered"),
    [
        # zsh: COMP_CWORD is the index of the word; items are "type, value, help" lines.
        ("zsh", "5", ["plain", "Rack2-n1", "_", "plain", "rack2-n2", "_"]),
        # fish: COMP_CWORD is the word being completed itself.
        ("fish", "rack2", ["plain,Rack2-n1", "plain,rack2-n2"]),
    ],
)
def test_node_completes_in_zsh_and_fish_too(designs: Path, shell: str, cword: str, offered: list[str]) -> None:
    words = "ovsgen render a.yaml b.yaml --node rack2"
    result = run(
        [ovsgen_command()],
        cwd=designs,
        env=quiet_env(COMP_WORDS=words, COMP_CWORD=cword, _OVSGEN_COMPLETE=f"{shell}_complete"),
    )
    assert (result.stdout.split(), result.stderr, result.returncode) == (offered, "", 0)


NODE_NAMES = st.lists(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,8}", fullmatch=True), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=NODE_NAMES, prefix=st.text(alphabet="aAbB0-", max_size=3))
def test_completion_offers_exactly_the_names_with_the_prefix(tmp_path: Path, names: list[str], prefix: str) -> None:
    """In process, as click calls it: every name of the design that starts with the prefix
    (case folded), each once, in design order."""
    import click

    from generator.cli.completion import complete_node_names
    from generator.cli.main import main

    design = tmp_path / "d.yaml"
    design.write_text("nodes:\n" + "".join(f"  - name: '{name}'\n" for name in names))
    ctx = click.Context(main.commands["render"], info_name="render")
    ctx.params["designs"] = (design,)
    offered = complete_node_names(ctx, main.commands["render"].params[0], prefix)
    expected = list(dict.fromkeys(name for name in names if name.lower().startswith(prefix.lower())))
    assert offered == expected


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_are_printed_for_each_shell(shell: str) -> None:
    result = run([ovsgen_command()], env=quiet_env(_OVSGEN_COMPLETE=f"{shell}_source"))
    assert result.returncode == 0, result.stderr
    assert "_OVSGEN_COMPLETE" in result.stdout


@pytest.mark.consumer
def test_bash_completes_node_names_with_the_documented_script(designs: Path) -> None:
    """The script docs/editors.md tells bash users to load, run by bash as it would on Tab."""
    bash = require_tool("bash")
    assert 'eval "$(_OVSGEN_COMPLETE=bash_source ovsgen)"' in EDITORS.read_text()
    script = """
        eval "$(_OVSGEN_COMPLETE=bash_source ovsgen)"
        COMP_WORDS=(ovsgen render a.yaml b.yaml --node rack1)
        COMP_CWORD=5
        _ovsgen_completion ovsgen
        printf '%s\\n' "${COMPREPLY[@]}"
    """
    path = f"{OVSGEN.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    result = run([bash, "--norc", "--noprofile", "-c", script], cwd=designs, env=quiet_env(PATH=path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["rack1-n1", "rack1-n2"]
    assert result.stderr == ""


# --- the schema for editors ------------------------------------------------------------------


def test_documented_modeline_finds_the_schema_from_designs() -> None:
    text = EDITORS.read_text()
    assert MODELINE in text
    relative = MODELINE.split("$schema=", 1)[1]
    assert (REPO / "designs" / relative).resolve() == (REPO / "schemas/design.schema.json").resolve()


def test_printed_schema_is_the_schema_file(tmp_path: Path) -> None:
    """What docs/editors.md says to save from an installed package: `ovsgen schema > design.schema.json`."""
    assert "ovsgen schema > design.schema.json" in EDITORS.read_text()
    result = run([ovsgen_command(), "schema"], cwd=tmp_path, env=quiet_env())
    assert result.returncode == 0
    assert json.loads(result.stdout) == json.loads((REPO / "schemas/design.schema.json").read_text())


def rendered_tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_design_with_a_schema_key_validates_and_renders_identically(tmp_path: Path) -> None:
    design = (REPO / "designs/ahv-host.yaml").read_text()
    plain, pointed = tmp_path / "plain", tmp_path / "pointed"
    plain.mkdir()
    pointed.mkdir()
    (plain / "ahv-host.yaml").write_text(design)
    (pointed / "ahv-host.yaml").write_text(f"{MODELINE}\n$schema: ../schemas/design.schema.json\n{design}")
    for folder in (plain, pointed):
        result = run([ovsgen_command(), "render", "ahv-host.yaml", "-o", "out"], cwd=folder, env=quiet_env())
        assert result.returncode == 0, result.stderr
    assert rendered_tree(plain / "out") == rendered_tree(pointed / "out")
    assert rendered_tree(plain / "out") != {}


def test_schema_key_must_be_text(tmp_path: Path) -> None:
    design = (REPO / "designs/ahv-host.yaml").read_text()
    (tmp_path / "d.yaml").write_text(f"$schema: 5\n{design}")
    result = run([ovsgen_command(), "validate", "d.yaml"], cwd=tmp_path, env=quiet_env())
    assert result.returncode == 1
    assert "d.yaml:1:10: error: $schema: expected a string, got an integer 5" in result.stderr


def test_schema_works_for_draft_07_tools() -> None:
    """editors.md: yaml-language-server and other draft-07 tools read the schema as ovsgen does."""
    from jsonschema import Draft7Validator

    from generator.design.loader import load_design

    assert "draft-07" in EDITORS.read_text()
    validator = Draft7Validator(json.loads((REPO / "schemas/design.schema.json").read_text()))
    for design in sorted((REPO / "designs").glob("*.yaml")):
        assert list(validator.iter_errors(load_design(design).data)) == [], design
    broken = load_design(REPO / "designs/ahv-host.yaml").data
    broken["host"]["gatway"] = "10.0.0.1"
    broken["nodes"][0]["nics"]["eth0"] = "11G"
    assert len(list(validator.iter_errors(broken))) == 2


def test_editors_page_documents_completion_for_each_shell() -> None:
    text = EDITORS.read_text()
    for shell in ("bash", "zsh", "fish"):
        assert re.search(rf"_OVSGEN_COMPLETE={shell}_source ovsgen", text), shell
