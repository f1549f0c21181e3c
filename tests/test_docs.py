"""docs/ tells the truth: the reference is what the schema generates, every example message in
docs/errors.md is what ovsgen prints, every message the rules can emit has an example, and the
links hold.

After changing a message or adding a rule, refresh the printed output under each example with

    .venv/bin/python -m tests.test_docs --update

and add an entry (a design and `$ ovsgen validate design.yaml`) for a new message.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.design.reference import REGENERATE, reference_markdown
from tests.conftest import REPO, run

DOCS = REPO / "docs"
ERRORS = DOCS / "errors.md"
# The modules whose messages are design problems a user can meet (the rules of a design).
RULE_MODULES = (
    "generator/design/rules.py",
    "generator/design/rule_context.py",
    "generator/design/rules_bridges.py",
    "generator/design/rules_addresses.py",
    "generator/design/rules_networks.py",
    "generator/design/resolve.py",
    "generator/design/schema_messages.py",
    "generator/design/loader.py",
    "generator/design/scalars.py",
)

# One entry: a design in a ```yaml block, then the command and exactly what it prints.
ENTRY = re.compile(r"```yaml\n(?P<design>.*?)```\n\n```console\n\$ (?P<command>[^\n]*)\n(?P<output>.*?)```", re.S)

# Message templates an example cannot show, each with the reason; every other template of
# RULE_MODULES must match the output of some example in docs/errors.md.
NOT_SHOWN = {
    "cannot read file: {}": "the file vanished or is unreadable between the command line and the read",
    "not a regular file; designs are read from files": "the command line refuses such a path first (exit 2)",
    "file is {} bytes; designs are limited to {} bytes": "an example of over 16 MiB",
    "file is not valid UTF-8 (byte 0x{} at offset {})": "a Markdown page holds UTF-8 text only",
    "the schema check stopped after {} problems; fix these first": "an example with 1,000 problems",
    "{} is beyond the {} of {}": "every bounded number of the schema has both a minimum and a maximum",
}


@dataclass(frozen=True)
class Example:
    design: str
    command: str
    output: str


def examples(text: str) -> list[Example]:
    return [Example(m["design"], m["command"], m["output"]) for m in ENTRY.finditer(text)]


def ovsgen_output(cache: str, example: Example) -> tuple[int, str]:
    """What `ovsgen` prints (stderr, then stdout) for the example, run in a folder holding design.yaml."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "design.yaml").write_text(example.design, encoding="utf-8")
        words = shlex.split(example.command)
        assert words[0] == "ovsgen", example.command
        env = {**os.environ, "OVSGEN_CACHE_DIR": cache, "NO_COLOR": "1"}
        env.pop("FORCE_COLOR", None)
        result = subprocess.run(
            [sys.executable, "-m", "generator", *words[1:]],
            capture_output=True,
            text=True,
            cwd=folder,
            env=env,
            check=False,
        )
    return result.returncode, result.stderr + result.stdout


def printed(example_list: list[Example]) -> list[tuple[int, str]]:
    # Each example is a process of its own; they share a cache of their own (not the user's).
    with tempfile.TemporaryDirectory() as cache, ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(functools.partial(ovsgen_output, cache), example_list))


@pytest.fixture(scope="module")
def catalogue() -> list[tuple[Example, int, str]]:
    found = examples(ERRORS.read_text(encoding="utf-8"))
    return [(example, code, output) for example, (code, output) in zip(found, printed(found), strict=True)]


# --- docs/design-language.md ------------------------------------------------------------------


def test_design_language_reference_is_what_the_schema_generates() -> None:
    page = (DOCS / "design-language.md").read_text(encoding="utf-8")
    assert page == reference_markdown(), f"docs/design-language.md is stale; run: .venv/bin/{REGENERATE}"


def test_reference_check_command_tells_how_to_regenerate(tmp_path: Path) -> None:
    stale = tmp_path / "design-language.md"
    stale.write_text("# old\n")
    result = run([sys.executable, "-m", "generator.design.reference", "--check", str(stale)], cwd=REPO)
    assert result.returncode == 1
    assert REGENERATE in result.stderr
    assert run([sys.executable, "-m", "generator.design.reference", str(stale)], cwd=REPO).returncode == 0
    assert stale.read_text() == reference_markdown()
    assert run([sys.executable, "-m", "generator.design.reference", "--check", str(stale)], cwd=REPO).returncode == 0


def test_reference_lists_every_key_of_the_schema() -> None:
    page = reference_markdown()
    for key in ("$schema", "uplinks", "lacp_fallback", "rebalance_interval", "portgroups", "native", "mac", "ports"):
        assert f"| `{key}` |" in page, key


# --- docs/errors.md ---------------------------------------------------------------------------


def test_every_documented_message_is_what_ovsgen_prints(catalogue: list[tuple[Example, int, str]]) -> None:
    assert len(catalogue) >= 60
    wrong = [
        f"$ {example.command}\n--- documented\n{example.output}--- printed\n{output}"
        for example, _, output in catalogue
        if output != example.output
    ]
    assert wrong == [], "docs/errors.md is stale; run: .venv/bin/python -m tests.test_docs --update\n" + "\n".join(
        wrong
    )


def test_the_message_explained_first_is_one_ovsgen_prints(catalogue: list[tuple[Example, int, str]]) -> None:
    (explained,) = code_blocks(ERRORS, "text")
    assert any(explained in output for _, _, output in catalogue)


def test_errors_exit_1_and_warnings_alone_exit_0(catalogue: list[tuple[Example, int, str]]) -> None:
    for example, code, output in catalogue:
        assert code == (1 if ": error: " in output else 0), example.command + "\n" + output
        assert "Traceback" not in output


def test_every_message_of_the_rules_has_an_example(catalogue: list[tuple[Example, int, str]]) -> None:
    shown = "".join(output for _, _, output in catalogue)
    missing = [
        f"{module}:{line}: {template!r}"
        for module in RULE_MODULES
        for line, template in message_templates(REPO / module)
        if template not in NOT_SHOWN and not template_regex(template).search(shown)
    ]
    assert missing == [], "add an example to docs/errors.md for:\n" + "\n".join(missing)


def test_messages_without_an_example_are_still_templates_of_the_rules() -> None:
    """NOT_SHOWN lists no message that was renamed or removed."""
    templates = {template for module in RULE_MODULES for _, template in message_templates(REPO / module)}
    assert set(NOT_SHOWN) <= templates


def message_templates(path: Path) -> Iterator[tuple[int, str]]:
    """(line, template) of every string in `path` that reads like words of a message: f-strings
    with their values as `{}`; docstrings and the parts of a larger f-string left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(node.body[0].value) for node in ast.walk(tree) if _has_docstring(node)}  # type: ignore[attr-defined]
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skipped.update(id(part) for part in node.values)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if re.search(r"[a-z]{2,} [a-z]{2,}", text):
            yield node.lineno, text


def _has_docstring(node: ast.AST) -> bool:
    body = getattr(node, "body", None)
    return (
        isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and isinstance(body, list)
        and bool(body)
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )


def template_regex(template: str) -> re.Pattern[str]:
    """`node {}: NIC '{}' ...` as a pattern: each `{}` stands for any text on the line."""
    return re.compile(".*?".join(re.escape(part) for part in template.split("{}")))


def test_template_regex_matches_the_message_it_was_made_from() -> None:
    pattern = template_regex("bridge {}: NIC '{}' is already an uplink of bridge {}")
    assert pattern.search("x.yaml:3:5: error: bridge br1: NIC 'eth1' is already an uplink of bridge br0")
    assert not pattern.search("bridge br1: NIC 'eth1' is an uplink")


# --- the pages and their links ---------------------------------------------------------------

PAGES = (
    "design-language.md",
    "designs.md",
    "errors.md",
    "outputs.md",
    "runbook.md",
    "ci.md",
    "editors.md",
    "development.md",
)


def markdown_files() -> list[Path]:
    return [REPO / "README.md", REPO / "SECURITY.md", *sorted(DOCS.glob("*.md")), REPO / "benchmarks/README.md"]


def test_docs_hold_every_page() -> None:
    assert sorted(page for page in PAGES if not (DOCS / page).is_file()) == []


def test_readme_points_to_every_page() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert [page for page in PAGES if f"(docs/{page})" not in readme] == []


def test_every_relative_link_and_anchor_resolves() -> None:
    broken = []
    for page in markdown_files():
        for target in re.findall(r"\]\(([^)\s]+)\)", without_code(page.read_text(encoding="utf-8"))):
            if re.match(r"[a-z]+:", target):
                continue  # an absolute URL
            file, _, anchor = target.partition("#")
            linked = (page.parent / file).resolve() if file else page
            if not linked.exists():
                broken.append(f"{page.relative_to(REPO)}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked):
                broken.append(f"{page.relative_to(REPO)}: {target} (no such heading)")
    assert broken == []


def without_code(text: str) -> str:
    """Markdown without its code blocks and spans (a pattern such as `[a-z](x)` is no link)."""
    return re.sub(r"``.*?``|`[^`\n]*`", "", re.sub(r"^```.*?^```", "", text, flags=re.S | re.M))


def heading_anchors(page: Path) -> set[str]:
    """The ids GitHub gives the page's headings: lower case, punctuation but '-' and '_' dropped."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_nothing_refers_to_the_shared_folder_outside_the_repository() -> None:
    tracked = run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO).stdout.split()
    outside = "../" + "shared"  # spelled in two parts so that this file does not match itself
    offenders = [name for name in tracked if (REPO / name).is_file() and outside.encode() in (REPO / name).read_bytes()]
    assert offenders == []


def test_example_design_of_the_designs_page_is_valid(tmp_path: Path) -> None:
    (example,) = [block for block in code_blocks(DOCS / "designs.md", "yaml") if "version: 1" in block]
    (tmp_path / "cluster-a.yaml").write_text(example)
    result = run([sys.executable, "-m", "generator", "validate", "cluster-a.yaml"], cwd=tmp_path, env=quiet_env())
    assert result.returncode == 0, result.stderr
    assert ": warning: " not in result.stderr  # the example shows no mistakes either


def quiet_env() -> dict[str, str]:
    return {**os.environ, "OVSGEN_CACHE_DIR": ""}


def code_blocks(page: Path, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", page.read_text(encoding="utf-8"), flags=re.S | re.M)


def documented_commands() -> Iterator[tuple[str, str]]:
    """(page, command line) of every `ovsgen COMMAND ...` in a code block or code span of the docs."""
    for page in markdown_files():
        text = page.read_text(encoding="utf-8")
        code = re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M) + re.findall(r"`([^`\n]+)`", text)
        for snippet in code:
            for found in re.finditer(r"\bovsgen ([a-z][a-z-]*)([^\n`|>;&)]*)", snippet):
                yield page.name, found.group(0)


def test_documented_commands_and_options_exist() -> None:
    """Every command and --option the docs show is one ovsgen has."""
    import click

    from generator.cli.main import main

    unknown = []
    commands = documented_commands()
    for page, line in commands:
        name = line.split()[1]
        command = main.commands.get(name)
        if command is None:
            if name not in ("render", "validate") and not name.endswith(("yaml", "json")):
                unknown.append(f"{page}: {line}")
            continue
        known = {opt for param in command.params if isinstance(param, click.Option) for opt in param.opts}
        unknown += [
            f"{page}: {line}: {option}"
            for option in re.findall(r"(?<!\S)(--[a-z-]+)", line)
            if option not in known | {"--help"}
        ]
    assert unknown == []


def test_docs_show_the_main_commands() -> None:
    shown = {line.split()[1] for _, line in documented_commands()}
    assert {"validate", "render", "check", "schema", "plan", "diff", "rehearse"} <= shown


def update_errors_page() -> int:
    """Rewrite the printed output under every example of docs/errors.md with what ovsgen prints now."""
    text = ERRORS.read_text(encoding="utf-8")
    found = examples(text)
    outputs = iter(printed(found))

    def refreshed(match: re.Match[str]) -> str:
        _, output = next(outputs)
        return f"```yaml\n{match['design']}```\n\n```console\n$ {match['command']}\n{output}```"

    ERRORS.write_text(ENTRY.sub(refreshed, text), encoding="utf-8")
    print(f"{ERRORS}: {len(found)} examples refreshed")  # a developer's command
    return 0


if __name__ == "__main__":
    sys.exit(update_errors_page() if sys.argv[1:] == ["--update"] else 2)
