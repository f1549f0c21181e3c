"""`.pre-commit-hooks.yaml`, run by pre-commit itself on a temporary design repository.

pre-commit installs the hooks' environment with pip from a git repository of ovsgen. The
hooks are tried from a snapshot of this working tree committed into a repository of its
own (`pre-commit try-repo` would take only committed and staged files of this checkout),
so the tests see the hook file and the package as they are now. `try-repo` builds the
environment anew in a store of its own on every call, so it runs once; the other tests use
the hooks as a design repository does, from its .pre-commit-config.yaml, and share one
environment per session (PRE_COMMIT_HOME).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, require_tool, run

pytestmark = pytest.mark.consumer

# What pip needs to install ovsgen from the snapshot, and the hook file.
SNAPSHOT = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "generator", "templates", "schemas")
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "ovsgen tests",
    "GIT_AUTHOR_EMAIL": "tests@ovsgen.invalid",
    "GIT_COMMITTER_NAME": "ovsgen tests",
    "GIT_COMMITTER_EMAIL": "tests@ovsgen.invalid",
}

DESIGN = """\
version: 1
name: demo
host: {bridge: br0, gateway: 10.0.0.1}
bridges:
  br0: {uplinks: 2x10G active-backup}
nodes:
  - name: node-1
    nics: {eth0: 10G, eth1: 10G}
    address: 10.0.0.11/24
"""


def pre_commit() -> list[str]:
    """pre-commit of the test extra; missing, a failure in CI and a skip elsewhere."""
    if importlib.util.find_spec("pre_commit") is None:
        message = "pre-commit is not installed (pip install -e '.[test]')"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must install it")
        pytest.skip(message)
    return [sys.executable, "-m", "pre_commit"]


def git(args: list[str], cwd: Path) -> None:
    result = run([require_tool("git"), *args], cwd=cwd, env={**os.environ, **GIT_IDENTITY})
    assert result.returncode == 0, result.stderr


def new_repository(folder: Path) -> Path:
    folder.mkdir(parents=True)
    git(["init", "-q", "-b", "main"], folder)
    return folder


@pytest.fixture(scope="session")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree's hook file and package, committed into a repository of their own."""
    snapshot = new_repository(tmp_path_factory.mktemp("hooks") / "ovsgen")
    for name in SNAPSHOT:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, snapshot / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, snapshot / name)
    git(["add", "-A"], snapshot)
    git(["commit", "-q", "-m", "snapshot"], snapshot)
    return snapshot


@pytest.fixture(scope="session")
def hook_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """pre-commit's store (hook environments) for this session, and no cache of the user's."""
    home = tmp_path_factory.mktemp("pre-commit-home")
    return {**os.environ, "PRE_COMMIT_HOME": str(home), "OVSGEN_CACHE_DIR": "", **GIT_IDENTITY}


@pytest.fixture
def designs(tmp_path: Path) -> Path:
    """A design repository: designs/demo.yaml, staged (pre-commit reads the files git knows)."""
    repository = new_repository(tmp_path / "site")
    (repository / "designs").mkdir()
    (repository / "designs/demo.yaml").write_text(DESIGN)
    git(["add", "-A"], repository)
    return repository


def try_hook(hook: str, hook_repository: Path, site: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The hook as its page tells a user to try it: builds the hook's environment from scratch."""
    return run([*pre_commit(), "try-repo", str(hook_repository), hook, "--all-files"], cwd=site, env=env)


def configure(site: Path, hook_repository: Path, hooks: str) -> None:
    """A .pre-commit-config.yaml using `hooks` (YAML list items) of the snapshot, staged."""
    rev = run(["git", "rev-parse", "HEAD"], cwd=hook_repository).stdout.strip()
    (site / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repository}\n    rev: {rev}\n    hooks:\n{hooks}"
    )
    git(["add", "-A"], site)


def run_hooks(site: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([*pre_commit(), "run", "--all-files"], cwd=site, env=env)


def test_try_repo_validate_fails_with_the_located_message(
    hook_repository: Path, designs: Path, hook_env: dict[str, str]
) -> None:
    (designs / "designs/bad.yaml").write_text(DESIGN.replace("active-backup", "active-bakup"))
    git(["add", "-A"], designs)
    result = try_hook("ovsgen-validate", hook_repository, designs, hook_env)
    assert result.returncode == 1
    assert "ovsgen validate" in result.stdout
    assert "Failed" in result.stdout
    assert "designs/bad.yaml:5:18: error: bridges.br0.uplinks: '2x10G active-bakup'" in result.stdout
    assert "demo.yaml" not in result.stdout  # the valid design has nothing to say


def test_validate_hook_passes_valid_designs_and_leaves_other_yaml_alone(
    hook_repository: Path, designs: Path, hook_env: dict[str, str]
) -> None:
    (designs / "ci.yaml").write_text("on: push\n")
    configure(designs, hook_repository, "      - id: ovsgen-validate\n")
    result = run_hooks(designs, hook_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout
    (designs / "designs/demo.yaml").write_text(DESIGN.replace("10.0.0.1}", "10.0.9.1}"))
    git(["add", "-A"], designs)
    failed = run_hooks(designs, hook_env)
    assert failed.returncode == 1
    assert "designs/demo.yaml:3:30: error: host.gateway: node node-1: gateway 10.0.9.1 is outside" in failed.stdout


def render_golden(site: Path, golden: str = "golden", designs: str = "designs") -> None:
    paths = sorted(str(path.relative_to(site)) for path in (site / designs).glob("*.yaml"))
    result = run([sys.executable, "-m", "generator", "render", *paths, "-o", golden], cwd=site, env=quiet())
    assert result.returncode == 0, result.stderr


def quiet() -> dict[str, str]:
    return {**os.environ, "OVSGEN_CACHE_DIR": ""}


def test_check_hook_passes_when_golden_is_current_and_fails_when_stale(
    hook_repository: Path, designs: Path, hook_env: dict[str, str]
) -> None:
    render_golden(designs)
    configure(designs, hook_repository, "      - id: ovsgen-check\n")
    current = run_hooks(designs, hook_env)
    assert current.returncode == 0, current.stdout + current.stderr
    (designs / "designs/demo.yaml").write_text(DESIGN.replace("10.0.0.11/24", "10.0.0.12/24"))
    git(["add", "-A"], designs)
    stale = run_hooks(designs, hook_env)
    assert stale.returncode == 1
    assert "golden/ is stale" in stale.stdout
    assert "-IPADDR=10.0.0.11" in stale.stdout


def test_check_hook_takes_other_folders_as_args(hook_repository: Path, designs: Path, hook_env: dict[str, str]) -> None:
    """A repository with clusters/ and rendered/ configures the hook as docs/ci.md shows."""
    (designs / "designs").rename(designs / "clusters")
    render_golden(designs, golden="rendered", designs="clusters")
    hook = (
        "      - id: ovsgen-check\n"
        '        args: ["clusters/*.yaml", "rendered/"]\n'
        "        files: ^(clusters|rendered)/\n"
    )
    configure(designs, hook_repository, hook)
    current = run_hooks(designs, hook_env)
    assert current.returncode == 0, current.stdout + current.stderr
    shutil.rmtree(designs / "rendered/demo/node-1/ovs")
    git(["add", "-A"], designs)
    stale = run_hooks(designs, hook_env)
    assert stale.returncode == 1
    assert "rendered/ is stale" in stale.stdout
