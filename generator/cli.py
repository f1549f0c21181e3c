"""The command line: parse options into Settings and hand over to generator.app."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from generator import __version__, app
from generator.render import KINDS
from generator.reporting import REPORTER_NAMES

DESIGNS = click.argument(
    "designs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
STRICT = click.option("--strict", is_flag=True, help="Treat warnings as errors.")
FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(REPORTER_NAMES),
    default="text",
    show_default=True,
    help="How problems are reported on stderr.",
)
NODES = click.option("--node", "nodes", multiple=True, metavar="NAME", help="Only this node (repeatable).")
ONLY = click.option(
    "--only",
    "kinds",
    multiple=True,
    type=click.Choice(KINDS),
    help="Only this kind of output (repeatable): ifcfg files, ovs apply.sh, libvirt XML and define.sh, build sheets.",
)


def _settings(**options: object) -> app.Settings:
    # Streams are looked up per call, not at import: tests and wrappers swap them.
    return app.Settings(
        color=app.use_color(sys.stderr),
        stdout=sys.stdout,
        stderr=sys.stderr,
        **options,  # type: ignore[arg-type]
    )


def _run(command: Callable[[app.Settings], int], **options: object) -> None:
    """Options arrive under the names of Settings fields; the command does the rest."""
    try:
        code = command(_settings(**options))
    except OSError as error:
        # Unwritable output, unreadable golden: the user's environment, not a bug.
        click.echo(f"ovsgen: {error.strerror or error}: {error.filename or ''}".rstrip(": "), err=True)
        code = app.EXIT_INVALID
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ovsgen")
def main() -> None:
    """Turn host-network designs for KVM + Open vSwitch hosts into ifcfg files,
    ovs-vsctl change scripts and libvirt networks.

    \b
    Example:
      ovsgen validate designs/*.yaml
      ovsgen render designs/*.yaml -o out/
    """


@main.command()
@DESIGNS
@STRICT
@FORMAT
def validate(**options: object) -> None:
    """Check designs and report every problem with file:line:column.

    \b
    Example:
      ovsgen validate designs/ahv-host.yaml --strict
    """
    _run(app.run_validate, **options)


@main.command()
@DESIGNS
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Output folder; each design renders into OUT/<design name>/.",
)
@NODES
@ONLY
@STRICT
@FORMAT
def render(**options: object) -> None:
    """Validate designs and write their files (nothing is written if any is invalid).

    \b
    Example:
      ovsgen render designs/*.yaml -o out/
      ovsgen render designs/lacp-storage.yaml -o out/ --node kvm-s-1
      ovsgen render designs/*.yaml -o out/ --only sheet
    """
    _run(app.run_render, **options)


@main.command()
@DESIGNS
@click.option(
    "--golden",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder of checked-in output to compare with.",
)
@STRICT
@FORMAT
def check(**options: object) -> None:
    """Exit 1 with a unified diff when GOLDEN does not hold what the designs render to.

    \b
    Example (in CI):
      ovsgen check designs/*.yaml --golden golden/
    """
    _run(app.run_check, **options)


@main.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of the design language.

    \b
    Example:
      ovsgen schema > design.schema.json
    """
    _run(app.run_schema)
