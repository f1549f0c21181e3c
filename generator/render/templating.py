"""The one Jinja environment of ovsgen, built once per process."""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Callable, Iterable
from typing import Protocol

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup, escape

from generator.characters import forbidden_character
from generator.resources import templates_dir
from generator.speed import cache


@functools.cache
def environment() -> Environment:
    folder = cache.cache_dir()
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        # Compiled templates are kept between runs, keyed by their source's checksum.
        bytecode_cache=FileSystemBytecodeCache(str(folder), "jinja-%s.cache") if folder else None,
        undefined=StrictUndefined,  # a missing variable is a bug, never an empty string
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship with the package: no stat per lookup to see if they changed
        trim_blocks=True,
        lstrip_blocks=True,
        # HTML templates escape; shell and ifcfg templates quote explicitly (shquote).
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        # bash's ${#array[@]} would open a Jinja comment; templates use {## ... ##}.
        comment_start_string="{##",
        comment_end_string="##}",
    )
    env.filters["shquote"] = shlex.quote
    env.filters["shwords"] = shell_words
    env.filters["md_table"] = markdown_table
    env.filters["md"] = markdown_text
    env.filters["md_code"] = markdown_code
    env.filters["md_fence"] = markdown_fence
    env.filters["html"] = escape  # for values inside the HTML blocks of Markdown files
    env.filters["html_table"] = html_table
    return env


def shell_words(words: Iterable[str]) -> str:
    """Words as one shell command line (or array body), each quoted: one filter call, not a loop."""
    return " ".join(map(shlex.quote, words))


class TableLike(Protocol):
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def markdown_table(table: TableLike) -> str:
    """A GitHub Markdown table (`headers`, `rows`); every cell is escaped (markdown_text) unless
    it is MarkdownText, which is Markdown already."""
    lines = ["| " + " | ".join(map(markdown_text, table.headers)) + " |", "|" + "---|" * len(table.headers)]
    lines += ["| " + " | ".join(map(markdown_text, row)) + " |" for row in table.rows]
    return "\n".join(lines)


class MarkdownText(str):
    """Text that is Markdown already (a link ovsgen built from escaped parts): not escaped again."""

    __slots__ = ()


# What can turn a value into Markdown syntax on GitHub, anywhere in it: raw HTML and angle
# autolinks (<), character references (&), links and images ([ ]), emphasis (*, ~, and _ unless
# inside a word), code spans (`), table cells (|), math ($), headings' closing #s, escapes (\\),
# and the bare links cmark-gfm makes of `scheme://...` and `www.` (not of e-mail addresses,
# which it finds after escapes are undone). Where a value starts a line (a list item, a
# paragraph) also list markers, blockquotes, setext underlines and ordered-list numbers; and
# spaces at either end, which GitHub would trim or read as an indented code block or a hard
# line break.
_MD_SPECIAL = re.compile(r"[\\`*\[\]<&|~$#_]|^[-+=> ]|^[0-9]{1,9}[.)](?: |$)| $|://|(?i:www)\.")
_MD_ESCAPE = re.compile(r"[\\`*\[\]<&|~$#]|(?<![^\W_])_|_(?![^\W_])|:(?=//)|(?<=(?<!\w)(?i:www))\.")
_MD_LINE_START = re.compile(r"^[-+=>]|^[0-9]{1,9}(?=[.)](?: |$))")
_MD_EDGE_SPACES = re.compile(r"^ +| +$")


def markdown_text(value: object) -> str:
    """`value` as GitHub Markdown that shows exactly its characters: never raw HTML, a link, an
    emphasis, a code span, a list or a table cell boundary. Backslash escapes, which every
    CommonMark reader undoes, keep the file readable; ordinary names come out unchanged."""
    text = str(value)
    if isinstance(value, MarkdownText) or not _MD_SPECIAL.search(text):
        return text  # the common case: a name or number with nothing to escape
    escaped = _MD_ESCAPE.sub(r"\\\g<0>", text)
    escaped = _MD_LINE_START.sub(_escape_line_start, escaped)  # anchored: one match at most
    return _MD_EDGE_SPACES.sub(lambda spaces: "&#32;" * len(spaces.group()), escaped)


def _escape_line_start(found: re.Match[str]) -> str:
    """`-` becomes `\\-`; an ordered-list number `12.` becomes `12\\.` (its digits are no syntax)."""
    mark = found.group()
    return mark + "\\" if mark[0].isdigit() else "\\" + mark


def markdown_code(value: object) -> str:
    """`value` as a Markdown code span: shown literally, whatever backticks it holds."""
    text = str(value)
    fence = "`" * (_longest_run(text, "`") + 1)
    # CommonMark drops one space at each end when both ends have one (and the rest is not all
    # spaces), and a span may not start or end with its own fence: pad then, with one space.
    spaced = text.startswith(" ") and text.endswith(" ") and text.strip(" ") != ""
    padding = " " if spaced or text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def markdown_fence(text: str) -> str:
    """A fence for a fenced code block holding `text`: longer than any run of backticks in it,
    so no line of the text can close the block early."""
    return "`" * max(3, _longest_run(text, "`") + 1)


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(f"{re.escape(char)}+", text)
    return max(map(len, runs), default=0)


def html_table(table: TableLike) -> Markup:
    """An HTML table (`headers`, `rows`), every cell escaped; built here because a template
    loop over each cell costs more than the rest of the page."""
    head = _cells("th", table.headers)
    body = "".join(f"<tr>{_cells('td', row)}</tr>\n" for row in table.rows)
    return Markup(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>")


def _cells(tag: str, cells: Iterable[object]) -> str:
    """The cells of a row, each in `tag`; escaped as one text (half the cost of escaping each),
    which only works when no cell holds the separator (design values never hold NUL)."""
    texts = [str(cell) for cell in cells]
    joined = "\0".join(texts)
    if joined.count("\0") != len(texts) - 1:
        return "".join(f"<{tag}>{_escape(text)}</{tag}>" for text in texts)
    return f"<{tag}>" + _escape(joined).replace("\0", f"</{tag}><{tag}>") + f"</{tag}>"


def _escape(cell: object) -> str:
    """What autoescape (markupsafe.escape) makes of a value; chained replaces beat str.translate."""
    return (
        str(cell)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


# Kept per name (a handful of templates): every node asks for the same ones, and even a cached
# Environment.get_template costs a loader lookup and a lock each time.
@functools.cache
def template(name: str) -> Template:
    return environment().get_template(name)


@functools.cache
def macro(template_name: str, name: str) -> Callable[..., str]:
    """A macro of a template, called like a function: for files made by the dozen, where a
    full render's fresh context costs five times the macro call (benchmarks/README.md)."""
    found: Callable[..., str] = getattr(template(template_name).module, name)
    return found


def header_comment(design_name: str, node: str | None) -> str:
    """The first-line comment every generated file carries: the design by its `name` (which also
    names OUT/<name>/), never by its file, so that renaming or moving the file changes no output
    file; no absolute paths, no dates."""
    where = f" for node {node}" if node else ""
    source = comment_safe(design_name)
    return f"Generated by ovsgen from design {source}{where}. Edit the design and re-render; do not edit this file."


# Letters and digits of any script stay as they are, and so do these; everything else in a file
# name is shown %-encoded, so that no name can end a comment or a line in any output format.
_PLAIN_PUNCTUATION = frozenset("._+@=,~ -")


def comment_safe(text: str) -> str:
    """`text` (a file name) as it may stand in a shell, ifcfg, XML, SVG, HTML or Markdown comment.

    A character that is not a letter, a digit or plain punctuation becomes `%XX` (its UTF-8
    bytes), `%` included, so the name can still be read back; `--`, which XML and HTML comments
    forbid, becomes `-%2D`. Control, format (bidirectional) and line-separator characters are
    never letters, so none survives.
    """
    shown = "".join(char if _plain(char) else _percent(char) for char in text)
    while "--" in shown:
        shown = shown.replace("--", "-%2D")
    return shown


def _plain(char: str) -> bool:
    # Python counts the Hangul fillers as letters; they show as nothing (characters.NOT_TEXT).
    return (char.isalnum() and forbidden_character(char) is None) or char in _PLAIN_PUNCTUATION


def _percent(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode(errors="surrogatepass"))  # UTF-8
