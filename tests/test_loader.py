"""Reading design files: YAML errors, duplicate keys, encodings and hostile documents."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from generator.design.loader import MAX_ALIAS_EXPANSION, MAX_FILE_BYTES, load_design
from generator.design.scalars import MAX_NUMBER_LENGTH
from generator.diagnostics import Diagnostic, Severity
from generator.errors import DesignInvalid
from tests.validation_helpers import Problem, as_tuple

VALID = (
    "version: 1\n"
    "name: t\n"
    "host: {bridge: br0}\n"
    "bridges:\n"
    "  br0: {uplinks: 1x10G}\n"
    "nodes:\n"
    "  - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}\n"
)


def load_problems(tmp_path: Path, content: bytes) -> list[Problem]:
    path = tmp_path / "design.yaml"
    path.write_bytes(content)
    with pytest.raises(DesignInvalid) as caught:
        load_design(path)
    return [as_tuple(d) for d in caught.value.diagnostics]


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    content = b"version: 1\nname: t\nbridges: {br0: [1, 2}\n"
    assert load_problems(tmp_path, content) == [
        (3, 21, "error", "(document)", "YAML syntax error: did not find expected ',' or ']'"),
    ]


def test_bad_indentation_is_located(tmp_path: Path) -> None:
    content = b"version: 1\nhost:\n  bridge: br0\n vlan: 10\n"
    assert load_problems(tmp_path, content) == [
        (4, 2, "error", "(document)", "YAML syntax error: did not find expected key"),
    ]


def test_duplicate_key_points_at_the_second_one(tmp_path: Path) -> None:
    content = b"version: 1\nname: a\nhost: {bridge: br0}\nname: b\n"
    assert load_problems(tmp_path, content) == [
        (4, 1, "error", "name", "duplicate key 'name' (first defined at line 2)"),
    ]


def test_duplicate_keys_in_nested_mappings_are_all_reported(tmp_path: Path) -> None:
    content = b"bridges:\n  br0: {uplinks: 1x10G}\n  br0: {uplinks: 1x1G}\nnodes:\n  - {name: a, name: b}\n"
    assert load_problems(tmp_path, content) == [
        (3, 3, "error", "bridges.br0", "duplicate key 'br0' (first defined at line 2)"),
        (5, 15, "error", "nodes[0].name", "duplicate key 'name' (first defined at line 5)"),
    ]


@pytest.mark.parametrize("content", [b"", b"\n\n", b"# only a comment\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    assert load_problems(tmp_path, content) == [
        (
            1,
            1,
            "error",
            "(document)",
            "file is empty: a design is a mapping with 'version', 'name', 'bridges' and 'nodes'",
        ),
    ]


@pytest.mark.parametrize(("content", "kind"), [(b"- version: 1\n", "sequence"), (b"just text\n", "scalar value")])
def test_document_that_is_not_a_mapping(tmp_path: Path, content: bytes, kind: str) -> None:
    assert load_problems(tmp_path, content) == [
        (1, 1, "error", "(document)", f"a design must be a mapping (key: value), not a {kind}"),
    ]


def test_two_documents_in_one_file(tmp_path: Path) -> None:
    content = b"version: 1\n---\nversion: 1\n"
    assert load_problems(tmp_path, content) == [
        (2, 1, "error", "(document)", "a design file holds one YAML document, not several"),
    ]


def test_non_utf8_bytes_are_located(tmp_path: Path) -> None:
    content = b"version: 1\nname: caf\xe9\n"
    assert load_problems(tmp_path, content) == [
        (2, 10, "error", "(document)", "file is not valid UTF-8 (byte 0xe9 at offset 20)"),
    ]


def test_alias_bomb_fails_fast(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    started = time.monotonic()
    problems = load_problems(tmp_path, ("\n".join(lines) + "\n").encode())
    assert time.monotonic() - started < 5
    assert problems == [
        # Located at the alias that crosses the bound.
        (6, 45, "error", "(document)", "aliases expand the document by more than 1000000 nodes (an alias bomb?)"),
    ]


def test_modest_aliases_and_merge_keys_are_accepted(tmp_path: Path) -> None:
    content = (
        b"version: 1\n"
        b"name: t\n"
        b"host: {bridge: br0}\n"
        b"bridges:\n"
        b"  br0: {uplinks: 1x10G}\n"
        b"x-inventory: &inventory {eth0: 10G}\n"
        b"nodes:\n"
        b"  - &node {name: n1, nics: *inventory, address: 10.0.0.11/24}\n"
        b"  - {<<: *node, name: n2, address: 10.0.0.12/24}\n"
    )
    path = tmp_path / "design.yaml"
    path.write_bytes(content)
    document = load_design(path)
    assert document.data["nodes"][1] == {"name": "n2", "nics": {"eth0": "10G"}, "address": "10.0.0.12/24"}
    # A merged value is located where the mapping it came from has it: node 1's alias.
    assert document.locate(("nodes", 1, "nics")) == (8, 28)


def test_python_tags_are_refused(tmp_path: Path) -> None:
    content = b"version: 1\nname: !!python/object:os.system echo\n"
    assert load_problems(tmp_path, content) == [
        (
            2,
            7,
            "error",
            "name",
            "unsupported YAML tag 'tag:yaml.org,2002:python/object:os.system' for the value 'echo'",
        ),
    ]


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    content = ("x: " + "[" * 100 + "]" * 100 + "\n").encode()
    problems = load_problems(tmp_path, content)
    assert problems[0][2:] == ("error", "(document)", "YAML nesting is deeper than 64 levels")


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(DesignInvalid) as caught:
        load_design(path)
    assert [as_tuple(d) for d in caught.value.diagnostics] == [
        (
            1,
            1,
            "error",
            "(document)",
            f"file is {MAX_FILE_BYTES + 1} bytes; designs are limited to {MAX_FILE_BYTES} bytes",
        ),
    ]


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.replace("\n", "\r\n").encode())
    document = load_design(path)
    assert document.data["name"] == "t"
    assert document.locate(("host", "bridge")) == (3, 16)


def test_yaml_1_2_core_schema_scalars(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_bytes(
        b"lacp: off\nmac: 0c:c4:7a:58:91:50\nanswer: yes\nsexagesimal: 1:20\nunderscored: 1_000\n"
        b"octal: 0o17\nhex: 0x1F\nfloat: 1.5\nint: -42\nyes_bool: true\nnothing: ~\nquoted: '10'\n"
        b"tagged: !!str 10\n"
    )
    assert load_design(path).data == {
        "lacp": "off",
        "mac": "0c:c4:7a:58:91:50",
        "answer": "yes",
        "sexagesimal": "1:20",
        "underscored": "1_000",
        "octal": 15,
        "hex": 31,
        "float": 1.5,
        "int": -42,
        "yes_bool": True,
        "nothing": None,
        "quoted": "10",
        "tagged": "10",
    }


@pytest.mark.parametrize(
    ("value", "character"),
    [('"br0\\n"', "U+000A"), ('"a\\tb"', "U+0009"), ('"x\\u2028"', "U+2028"), ("|\n      two\n      lines", "U+000A")],
)
def test_control_characters_are_refused_anywhere(tmp_path: Path, value: str, character: str) -> None:
    content = f"version: 1\nbridges:\n  br0:\n    bond: {value}\n".encode()
    assert load_problems(tmp_path, content)[0][2:] == (
        "error",
        "bridges.br0.bond",
        f"the control character {character} is not allowed; values are single-line text",
    )


def test_missing_file_is_reported_not_raised(tmp_path: Path) -> None:
    with pytest.raises(DesignInvalid) as caught:
        load_design(tmp_path / "absent.yaml")
    (problem,) = [as_tuple(d) for d in caught.value.diagnostics]
    assert problem[:4] == (1, 1, "error", "(document)")
    assert problem[4] == "cannot read file: No such file or directory"


# --- where problems are reported: the file name as given, and positions ------------------------


def diagnostics_of(path: Path, display_name: str | None = None) -> list[Diagnostic]:
    with pytest.raises(DesignInvalid) as caught:
        load_design(path, display_name)
    return list(caught.value.diagnostics)


BROKEN = {
    "not UTF-8": b"name: caf\xe9\n",
    "YAML syntax": b"bridges: {br0: [1, 2}\n",
    "forbidden character": b"name: a\x01\n",
    "empty": b"",
    "not a mapping": b"- 1\n",
    "duplicate key": b"name: a\nname: b\n",
    "alias without anchor": b"name: *nowhere\n",
}


@pytest.mark.parametrize("content", BROKEN.values(), ids=BROKEN.keys())
def test_every_problem_names_the_file_as_the_user_gave_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "design.yaml"
    path.write_bytes(content)
    assert {d.file for d in diagnostics_of(path, "designs/shown.yaml")} == {"designs/shown.yaml"}
    assert {d.file for d in diagnostics_of(path)} == {str(path)}


def test_unreadable_and_oversized_files_name_the_file_as_given(tmp_path: Path) -> None:
    assert [d.file for d in diagnostics_of(tmp_path / "absent.yaml", "absent.yaml")] == ["absent.yaml"]
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    assert [d.file for d in diagnostics_of(path, "huge.yaml")] == ["huge.yaml"]


def test_a_file_of_exactly_the_size_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    head = VALID.encode() + b"# padding "
    path.write_bytes(head + b"x" * (MAX_FILE_BYTES - len(head) - 1) + b"\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert load_design(path).data["name"] == "t"


def test_a_loaded_design_locates_its_diagnostics_in_the_file_as_given(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_text(VALID)
    document = load_design(path, "designs/t.yaml")
    assert document.file == "designs/t.yaml"
    assert document.diagnostic(("host", "bridge"), "not a bridge", Severity.WARNING) == Diagnostic(
        "designs/t.yaml", 3, 16, ("host", "bridge"), "not a bridge", Severity.WARNING
    )
    assert document.diagnostic(("host", "bridge"), "here", key=True).column == 8
    assert load_design(path).diagnostic(("name",), "x").file == str(path)


@pytest.mark.parametrize(
    ("path", "key", "mark"),
    [
        (("host", "bridge"), False, (3, 16)),
        (("host", "bridge"), True, (3, 8)),
        (("host", "vlan"), False, (3, 7)),  # a missing key: where it has to be added
        (("host", 0), False, (3, 7)),  # an index into a mapping
        (("nodes", 1), False, (7, 3)),  # an index one past the end
        (("nodes", -1), False, (7, 3)),
        (("nodes", "name"), False, (7, 3)),  # a key into a sequence
        (("name", "first"), False, (2, 7)),  # past a scalar
        (("nodes", 0), True, (7, 5)),  # a sequence item has no key: the item itself
        (("nodes", 0, "nics", "eth0"), False, (7, 29)),
        ((), True, (1, 1)),
    ],
)
def test_locate_finds_the_deepest_value_that_exists(
    tmp_path: Path, path: tuple[str | int, ...], key: bool, mark: tuple[int, int]
) -> None:
    design = tmp_path / "design.yaml"
    design.write_text(VALID)
    assert load_design(design).locate(path, key=key) == mark


def test_the_document_is_located_where_its_mapping_starts(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_text("# a comment\n---\n" + VALID)
    document = load_design(path)
    assert document.locate(()) == (3, 1)
    assert document.diagnostic((), "missing keys").line == 3


def test_bytes_that_are_not_utf8_are_located_on_their_own_line(tmp_path: Path) -> None:
    assert load_problems(tmp_path, b"version: 1\nname: t\nhost: caf\xe9\n") == [
        (3, 10, "error", "(document)", "file is not valid UTF-8 (byte 0xe9 at offset 28)"),
    ]


def test_columns_past_65535_are_reported_as_65535(tmp_path: Path) -> None:
    content = f'x: ["{"a" * 70_000}", "tab\\there"]\n'.encode()
    assert load_problems(tmp_path, content) == [
        (1, 65535, "error", "x[1]", "the control character U+0009 is not allowed; values are single-line text"),
    ]


# --- characters that YAML itself refuses (libyaml's reader) -----------------------------------


@pytest.mark.parametrize(
    ("content", "line", "column", "message"),
    [
        # libyaml counts bytes: the é and the comment's non-ASCII letters before must not shift it.
        (
            'version: 1\n# réseau ünd ñ\nname: "é\x01 and \x01"\n',
            3,
            9,
            "the control character U+0001 is not allowed; values are single-line text",
        ),
        ("\x7f", 1, 1, "the control character U+007F is not allowed; values are single-line text"),
        ("name: ☃\ufffe\n", 1, 8, "the noncharacter U+FFFE is not allowed; values are text"),
        (
            "name: x\r\nhost: \x1b[31m\r\n",
            2,
            7,
            "the control character U+001B is not allowed; values are single-line text",
        ),
    ],
)
def test_characters_yaml_refuses_are_located_by_character(
    tmp_path: Path, content: str, line: int, column: int, message: str
) -> None:
    assert load_problems(tmp_path, content.encode()) == [(line, column, "error", "(document)", message)]


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        (yaml.MarkedYAMLError(), (1, 1, "YAML syntax error: invalid YAML")),
        (
            yaml.MarkedYAMLError("while parsing a block mapping", yaml.Mark("d", 9, 2, 4, None, None)),
            (3, 5, "YAML syntax error: while parsing a block mapping"),
        ),
        (yaml.YAMLError("the stream ended"), (1, 1, "YAML error: the stream ended")),
        (
            yaml.reader.ReaderError("d", 3, 0x85, "utf-8", "odd"),
            (1, 1, 'YAML error: unacceptable character #x0085: odd\n  in "d", position 3'),
        ),
    ],
)
def test_any_yaml_error_is_a_located_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: yaml.YAMLError, problem: tuple[int, int, str]
) -> None:
    """Whatever the parser raises (PyYAML's own parser, when libyaml is missing, gives errors
    without a position): a problem at a position, never a traceback."""

    def failing_parse(*_: object, **__: object) -> Iterator[object]:
        raise error
        yield  # a generator, like yaml.parse

    monkeypatch.setattr(yaml, "parse", failing_parse)
    path = tmp_path / "design.yaml"
    path.write_text(VALID)
    assert [(d.file, d.line, d.column, d.message) for d in diagnostics_of(path, "shown.yaml")] == [
        ("shown.yaml", *problem)
    ]


# --- limits: exactly at the bound is accepted ---------------------------------------------------


def test_nesting_of_exactly_64_levels_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_text("x: " + "[" * 63 + "]" * 63 + "\n")  # the document's mapping, then 63 sequences
    innermost, depth = load_design(path).data["x"], 1
    while innermost:
        innermost, depth = innermost[0], depth + 1
    assert depth == 63
    assert load_problems(tmp_path, ("x: " + "[" * 64 + "]" * 64 + "\n").encode()) == [
        (1, 67, "error", "(document)", "YAML nesting is deeper than 64 levels"),
    ]


def aliased(times: int) -> bytes:
    """Anchors on a 999-item sequence (1,000 nodes) and a scalar (1 node), then aliases of
    both: 999 of the sequence and `times` of the scalar."""
    return (
        "list: &list [" + ", ".join(["x"] * 999) + "]\n"
        "scalar: &scalar x\n"
        "lists: [" + ", ".join(["*list"] * 999) + "]\n"
        "scalars: [" + ", ".join(["*scalar"] * times) + "]\n"
    ).encode()


def test_aliases_may_expand_the_document_by_exactly_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_bytes(aliased(1000))  # 999 * 1,000 + 1,000 = 1,000,000 nodes
    data = load_design(path).data
    assert len(data["lists"]) == 999
    assert data["lists"][0] == ["x"] * 999
    assert data["scalars"] == ["x"] * 1000
    (problem,) = load_problems(tmp_path, aliased(1001))
    assert problem[4] == f"aliases expand the document by more than {MAX_ALIAS_EXPANSION} nodes (an alias bomb?)"
    assert problem[:2] == (4, 11 + 1000 * 9)


def test_an_alias_needs_an_anchor_before_it(tmp_path: Path) -> None:
    assert load_problems(tmp_path, b"version: 1\nname: *later\nlater: &later x\n") == [
        (2, 7, "error", "(document)", "alias '*later' names no anchor defined before it"),
    ]


def test_numbers_of_up_to_40_characters_are_numbers(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_text(f"mtu: {'9' * 40}\n")
    assert load_design(path).data == {"mtu": int("9" * 40)}
    assert load_problems(tmp_path, f"nodes:\n  - mtu: {'9' * 41}\n".encode()) == [
        (2, 10, "error", "nodes[0].mtu", f"a number of 41 characters is out of range (at most {MAX_NUMBER_LENGTH})"),
    ]


# --- tags, merge keys and keys -----------------------------------------------------------------


def test_explicit_core_tags_give_their_types(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_text(
        "int: !!int 12\nfloat: !!float 1\nfraction: !!float 1.5\nbool: !!bool true\nnull: !!null ~\n"
        "str: !!str 10\nmap: !!map {a: 1}\nseq: !!seq [1]\ninf: .inf\nminus: -.Inf\nnan: .NAN\n"
    )
    data = load_design(path).data
    assert {key: (value, type(value)) for key, value in data.items() if key not in ("nan", "inf", "minus")} == {
        "int": (12, int),
        "float": (1.0, float),
        "fraction": (1.5, float),
        "bool": (True, bool),
        "null": (None, type(None)),
        "str": ("10", str),
        "map": ({"a": 1}, dict),
        "seq": ([1], list),
    }
    assert (data["inf"], data["minus"]) == (float("inf"), float("-inf"))
    assert data["nan"] != data["nan"]


def test_the_non_specific_tag_keeps_a_scalar_text(tmp_path: Path) -> None:
    """YAML 1.2: `!` resolves a scalar to a string, a mapping or sequence to its kind; `! <<` is
    the key "<<", not a merge."""
    path = tmp_path / "design.yaml"
    path.write_text("a: ! 12\nb: ! true\nc: ! {k: 1}\nd: ! [1]\ne: {! <<: {k: 1}}\n")
    assert load_design(path).data == {"a": "12", "b": "true", "c": {"k": 1}, "d": [1], "e": {"<<": {"k": 1}}}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!int 1.5", "unsupported YAML tag 'tag:yaml.org,2002:int' for the value '1.5'"),
        ("!!bool 1", "unsupported YAML tag 'tag:yaml.org,2002:bool' for the value '1'"),
        ("!!float abc", "unsupported YAML tag 'tag:yaml.org,2002:float' for the value 'abc'"),
        ("!!null x", "unsupported YAML tag 'tag:yaml.org,2002:null' for the value 'x'"),
        ("!!int true", "unsupported YAML tag 'tag:yaml.org,2002:int' for the value 'true'"),
        ("!!seq {a: 1}", "unsupported YAML tag 'tag:yaml.org,2002:seq'"),
        ("!!map [1]", "unsupported YAML tag 'tag:yaml.org,2002:map'"),
        ("!!set {a: 1}", "unsupported YAML tag 'tag:yaml.org,2002:set'"),
    ],
)
def test_a_tag_that_does_not_fit_its_value_is_located(tmp_path: Path, value: str, message: str) -> None:
    assert load_problems(tmp_path, f"version: 1\nhost:\n  vlan: {value}\n".encode()) == [
        (3, 9, "error", "host.vlan", message),
    ]


def test_merge_keys_take_a_list_of_mappings_earlier_ones_first(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_text("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc: {<<: [*a, *b], x: 3}\nd: {<<: {w: 0}, '<<': literal}\n")
    document = load_design(path)
    assert document.data["c"] == {"x": 3, "y": 1, "z": 2}
    assert document.data["d"] == {"w": 0, "<<": "literal"}
    assert document.locate(("c", "y")) == (1, 17)  # where mapping a has it
    assert document.locate(("c", "z")) == (2, 17)
    assert document.locate(("c", "x")) == (3, 22)


def test_a_merge_key_that_is_not_a_mapping_is_located_for_each_item(tmp_path: Path) -> None:
    message = "a merge key (<<) takes a mapping or a list of mappings"
    assert load_problems(tmp_path, b"a: &a {x: 1}\nb:\n  <<: [1, *a, two]\n") == [
        (3, 7, "error", "(document)", message),
        (3, 7, "error", "(document)", message),
    ]


def test_a_collection_as_a_key_is_located_and_the_mapping_goes_on(tmp_path: Path) -> None:
    assert load_problems(tmp_path, b"m: {[a]: x, x: 1, y: 2, y: 3}\n") == [
        (1, 5, "error", "(document)", "mapping keys must be plain values, not a mapping or sequence"),
        (1, 25, "error", "m.y", "duplicate key 'y' (first defined at line 1)"),
    ]


def test_a_duplicate_key_names_the_line_of_the_first_key(tmp_path: Path) -> None:
    assert load_problems(tmp_path, b"name:\n  a\nname: b\n") == [
        (3, 1, "error", "name", "duplicate key 'name' (first defined at line 1)"),
    ]


def test_problems_in_keys_and_merged_mappings_name_the_mapping(tmp_path: Path) -> None:
    message = "the control character U+0009 is not allowed; values are single-line text"
    assert load_problems(tmp_path, b'm:\n  "a\\tb": 1\nn: {<<: {k: "a\\tb"}}\n') == [
        (2, 3, "error", "m", message),
        (3, 13, "error", "n.k", message),
    ]
