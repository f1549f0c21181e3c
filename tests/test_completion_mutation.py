"""`--node` completion in-process, asked as a shell asks (click's bash_complete protocol), so that
mutation testing sees generator.cli.completion; tests/test_editors.py asks the installed command."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.shell_completion import BashComplete

from generator.cli.completion import complete_node_names
from generator.cli.main import main

NODE_LIST = """\
version: 1
name: {name}
nodes:
{nodes}"""


def design(folder: Path, file: str, *names: object) -> Path:
    path = folder / file
    path.write_text(NODE_LIST.format(name=path.stem, nodes="".join(f"  - {{name: {name}}}\n" for name in names)))
    return path


def complete(words: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What `ovsgen` offers for the last word of `words` (the word being typed), as bash gets it."""
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("COMP_WORDS", " ".join(words))
    monkeypatch.setenv("COMP_CWORD", str(len(words) - 1))
    reply = BashComplete(main, {}, "ovsgen", "_OVSGEN_COMPLETE").complete()
    return [line.split(",", 1)[1] for line in reply.splitlines() if line.startswith("plain,")]


@pytest.fixture
def designs(tmp_path: Path) -> Path:
    design(tmp_path, "a.yaml", "rack1-n1", "rack1-n2")
    design(tmp_path, "b.yaml", "Rack2-n1", "rack2-n2", "RACK1-N1")
    return tmp_path


def test_every_node_of_every_design_given(designs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offered = complete(["ovsgen", "render", "a.yaml", "b.yaml", "--node", ""], designs, monkeypatch)
    assert offered == ["rack1-n1", "rack1-n2", "Rack2-n1", "rack2-n2", "RACK1-N1"]


def test_the_prefix_matches_without_regard_to_case(designs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert complete(["ovsgen", "render", "a.yaml", "b.yaml", "--node", "RACK2"], designs, monkeypatch) == [
        "Rack2-n1",
        "rack2-n2",
    ]
    assert complete(["ovsgen", "render", "a.yaml", "b.yaml", "--node", "rack1"], designs, monkeypatch) == [
        "rack1-n1",
        "rack1-n2",
        "RACK1-N1",
    ]


def test_designs_after_an_earlier_node(designs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    words = ["ovsgen", "render", "--node", "rack1-n1", "a.yaml", "b.yaml", "--node", "rack2"]
    assert complete(words, designs, monkeypatch) == ["Rack2-n1", "rack2-n2"]
    words = ["ovsgen", "render", "--node", "rack1-n1", "b.yaml", "--node", ""]
    assert complete(words, designs, monkeypatch) == ["Rack2-n1", "rack2-n2", "RACK1-N1"]


def test_a_design_named_like_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The design arguments start after the command's own name, not at a design spelt like it."""
    design(tmp_path, "render", "n1")
    design(tmp_path, "plan", "p1")
    words = ["ovsgen", "render", "--node", "n1", "render", "--node", ""]
    assert complete(words, tmp_path, monkeypatch) == ["n1"]
    words = ["ovsgen", "plan", "--node", "p1", "plan", "render", "--node", ""]
    assert complete(words, tmp_path, monkeypatch) == ["p1", "n1"]


@pytest.mark.parametrize(
    "words",
    [
        ["ovsgen", "rehearse", "--node", "x", "a.yaml", "b.yaml", "--node", ""],
        ["ovsgen", "plan", "--node", "x", "a.yaml", "b.yaml", "--node", ""],
        ["ovsgen", "plan", "a.yaml", "b.yaml", "--node", ""],
        ["ovsgen", "plan", "--from-host", "host.json", "b.yaml", "--node", ""],
    ],
)
def test_plan_and_rehearse(designs: Path, monkeypatch: pytest.MonkeyPatch, words: list[str]) -> None:
    assert {"Rack2-n1", "rack2-n2"} <= set(complete(words, designs, monkeypatch))


def test_a_missing_design_among_the_words_offers_the_others(designs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    words = ["ovsgen", "render", "--node", "x", "missing.yaml", "b.yaml", "--node", "Rack2"]
    assert complete(words, designs, monkeypatch) == []  # click refuses the missing path: nothing to go on
    words = ["ovsgen", "render", "--node", "x", "a.yaml", "--node", "rack1-n"]
    assert complete(words, designs, monkeypatch) == ["rack1-n1", "rack1-n2"]


def test_an_option_value_of_the_command_is_no_design(designs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    words = ["ovsgen", "render", "--node", "x", "-o", "out", "a.yaml", "--node", ""]
    assert complete(words, designs, monkeypatch) == ["rack1-n1", "rack1-n2"]


def test_words_that_do_not_parse_offer_nothing(designs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    words = ["ovsgen", "render", "--node", "x", "--no-such-option", "a.yaml", "--node", ""]
    assert complete(words, designs, monkeypatch) == []


def test_without_shell_words_the_parsed_designs_are_used(designs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """click calls the function with the context it parsed; COMP_WORDS only helps when that has no designs."""
    monkeypatch.chdir(designs)
    monkeypatch.delenv("COMP_WORDS", raising=False)
    command = main.commands["render"]
    ctx = click.Context(command, info_name="render")
    assert complete_node_names(ctx, command.params[0], "") == []
    ctx.params["designs"] = [Path("b.yaml"), "a.yaml", b"b.yaml", 5]
    assert complete_node_names(ctx, command.params[0], "r") == [
        "Rack2-n1",
        "rack2-n2",
        "RACK1-N1",
        "rack1-n1",
        "rack1-n2",
    ]
    design(designs, "a", "one-letter")
    ctx.params["designs"] = "ab"  # not a list of designs (nor the designs a and b)
    assert complete_node_names(ctx, command.params[0], "") == []


def test_shell_words_for_another_command_are_ignored(designs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(designs)
    monkeypatch.setenv("COMP_WORDS", "ovsgen plan a.yaml b.yaml --node ")
    command = main.commands["render"]
    ctx = click.Context(command, info_name="render", parent=click.Context(main, info_name="ovsgen"))
    assert complete_node_names(ctx, command.params[0], "") == []
    monkeypatch.setenv("COMP_WORDS", "render a.yaml --node ")  # the command's name as the program's
    assert complete_node_names(ctx, command.params[0], "") == []
    monkeypatch.setenv("COMP_WORDS", "ovsgen render --node x a.yaml --node rack1-n")
    assert complete_node_names(ctx, command.params[0], "rack1-n") == ["rack1-n1", "rack1-n2"]
    monkeypatch.setenv("COMP_WORDS", "ovsgen render --node x a.yaml --node")  # nothing typed yet
    assert complete_node_names(ctx, command.params[0], "") == ["rack1-n1", "rack1-n2"]
    monkeypatch.setenv("COMP_WORDS", "ovsgen render --node x a.yaml rack1")  # the word typed is not a design
    assert complete_node_names(ctx, command.params[0], "rack1") == ["rack1-n1", "rack1-n2"]
    monkeypatch.setenv("COMP_WORDS", "ovsgen render --node x a.yaml b.yaml")  # a new word begun after b.yaml
    assert complete_node_names(ctx, command.params[0], "rack2") == ["Rack2-n1", "rack2-n2"]
    monkeypatch.setenv("COMP_WORDS", "ovsgen render")
    assert complete_node_names(ctx, command.params[0], "") == []


def test_the_designs_follow_the_command_even_in_a_program_named_like_it(
    designs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    design(designs, "render", "program-node")
    monkeypatch.chdir(designs)
    monkeypatch.setenv("COMP_WORDS", "render render --node x a.yaml --node")
    command = main.commands["render"]
    ctx = click.Context(command, info_name="render", parent=click.Context(main, info_name="render"))
    assert complete_node_names(ctx, command.params[0], "") == ["rack1-n1", "rack1-n2"]


@pytest.mark.parametrize(
    ("content", "offered"),
    [
        (None, []),
        ("nodes: [\n", []),
        ("just text\n", []),
        ("nodes: {name: x}\n", []),
        ("nodes: [x, {name: 5}, {name: [a]}, {label: b}, {name: ok}]\n", ["ok"]),
        ("- {name: x}\n", []),
    ],
)
def test_a_design_that_names_no_nodes_offers_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, offered: list[str]
) -> None:
    if content is not None:
        (tmp_path / "d.yaml").write_text(content)
    assert complete(["ovsgen", "render", "--node", "x", "d.yaml", "--node", ""], tmp_path, monkeypatch) == offered


def test_only_names_a_shell_takes_as_one_word(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    longest = "n" + "1" * 62
    names = ['"a b"', '"$(x)"', '"-lead"', "ok-1", '"9"', "Z", '"x y-1"', '"ok-2 "', longest, longest + "2", '"é1"']
    design(tmp_path, "d.yaml", *names)
    offered = complete(["ovsgen", "render", "d.yaml", "--node", ""], tmp_path, monkeypatch)
    assert offered == ["ok-1", "9", "Z", longest]


def test_a_pattern_the_shell_has_not_expanded_yet_names_its_designs(
    designs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ovsgen render *.yaml --node <Tab>`: bash hands the word over as typed; its designs in name order."""
    for name in ("c", "e", "d", "f"):
        design(designs, f"{name}.yaml", f"{name}-1")
    words = ["ovsgen", "render", "*.yaml", "--node", ""]
    assert complete(words, designs, monkeypatch) == [
        *("rack1-n1", "rack1-n2", "Rack2-n1", "rack2-n2", "RACK1-N1"),
        *("c-1", "d-1", "e-1", "f-1"),
    ]
    assert complete(["ovsgen", "render", "[ab].yaml", "--node", "rack1"], designs, monkeypatch) == [
        "rack1-n1",
        "rack1-n2",
        "RACK1-N1",
    ]
    assert complete(["ovsgen", "render", "*.yml", "--node", ""], designs, monkeypatch) == []  # matches nothing
