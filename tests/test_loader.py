"""Reading design files: YAML errors, duplicate keys, encodings and hostile documents."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from generator.diagnostics import DesignInvalid
from generator.loader import MAX_FILE_BYTES, load_design
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
