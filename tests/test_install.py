"""The package works from an installed wheel, run from another folder (templates and schema inside)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run


@pytest.fixture(scope="module")
def installed_ovsgen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build a wheel from a copy of the sources and install it into a fresh venv."""
    work = tmp_path_factory.mktemp("install")
    source = work / "src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "out", "*.egg-info", "__pycache__"))
    wheels = work / "wheels"
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)]
    )
    assert built.returncode == 0, built.stderr
    venv = work / "venv"
    # A venv of its own, as a user's: the wheel and its dependencies, nothing from this interpreter.
    assert run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    (wheel,) = wheels.glob("ovsgen-*.whl")
    installed = run([str(venv / "bin/pip"), "install", "-q", str(wheel)])
    assert installed.returncode == 0, installed.stderr
    shutil.rmtree(source)  # prove nothing is read from the checkout copy
    return venv / "bin" / "ovsgen"


def test_wheel_carries_templates_and_schema(installed_ovsgen: Path, tmp_path: Path) -> None:
    designs = tmp_path / "designs"
    shutil.copytree(REPO / "designs", designs)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = run(
        [str(installed_ovsgen), "render", *sorted(map(str, designs.glob("*.yaml"))), "-o", "out"], cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    check = run(
        [str(installed_ovsgen), "check", *sorted(map(str, designs.glob("*.yaml"))), "--golden", str(REPO / "golden")],
        cwd=tmp_path,
        env=env,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    schema = run([str(installed_ovsgen), "schema"], cwd=tmp_path, env=env)
    assert schema.returncode == 0
    assert '"$schema"' in schema.stdout
    located = run(
        [
            str(installed_ovsgen.parent / "python"),
            "-c",
            "import generator.resources as r; print(r.templates_dir()); print(r.schema_path())",
        ],
        cwd=tmp_path,
        env=env,
    )
    assert "site-packages/generator/templates" in located.stdout
    assert "site-packages/generator/schemas/design.schema.json" in located.stdout
