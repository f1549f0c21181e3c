"""Shared fixtures: the example designs, their rendered files, and real consumers.

Tests that need a real consumer (ovsdb-server, virsh, virt-xml-validate,
shellcheck) skip on a developer machine without it, and fail in CI (CI=true).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import Phase, settings

from generator.changes.rehearse_ovsdb import find_tools, private_ovsdb
from generator.design.validate import validate_file
from generator.errors import ToolUnavailable
from generator.output.writer import write_tree
from generator.render.files import OutputFile
from generator.render.kinds import render_design
from tests.support.ovsdb import Ovsdb

REPO = Path(__file__).resolve().parent.parent
DESIGNS = sorted((REPO / "designs").glob("*.yaml"))
# Test-only designs reach renderer paths the examples do not (DHCP, single uplink, ...).
TEST_DESIGNS = sorted((Path(__file__).resolve().parent / "designs").glob("*.yaml"))
ALL_DESIGNS = DESIGNS + TEST_DESIGNS
SUPPORT = Path(__file__).resolve().parent / "support"
SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")


# Hypothesis's explain phase reruns a failing example under a line tracer, and pytest then formats
# the assertion's diff under that tracer too: for a test comparing rendered trees that took minutes
# (seen: one failing example of test_security_paths ran past 150 s), so a failure looked like a
# hang. Failures still shrink to a minimal example; only the explanation of its lines is left out.
settings.register_profile("ovsgen", phases=[phase for phase in Phase if phase is not Phase.explain])
settings.load_profile("ovsgen")

CACHE_VARIABLE = "OVSGEN_CACHE_DIR"  # where ovsgen keeps its cache (generator/speed/cache.py)
# The run's own cache folder, and the OVSGEN_CACHE_DIR it replaced (None: it was unset).
_RUN_CACHE = pytest.StashKey[tuple[str, str | None]]()


def pytest_configure(config: pytest.Config) -> None:
    """Every test, and every ovsgen process a test starts (they inherit the environment), caches
    in a folder of the run's own, never in the user's ~/.cache/ovsgen. Set here, before collection,
    which already validates designs (and so reads the cache) to list their nodes."""
    folder = tempfile.mkdtemp(prefix="ovsgen-test-cache-")
    config.stash[_RUN_CACHE] = (folder, os.environ.get(CACHE_VARIABLE))
    os.environ[CACHE_VARIABLE] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder, previous = config.stash.get(_RUN_CACHE, ("", None))
    if not folder:
        return
    if previous is None:
        os.environ.pop(CACHE_VARIABLE, None)
    else:
        os.environ[CACHE_VARIABLE] = previous
    shutil.rmtree(folder, ignore_errors=True)


def require_tool(name: str) -> str:
    """The tool's path; skip without it, except in CI, where its absence is a failure."""
    path = shutil.which(name) or shutil.which(name, path=os.pathsep.join(SBIN))
    if path is None:
        message = f"{name} is not installed (Debian packages: openvswitch-switch, libvirt-clients, shellcheck)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must install it (see .ci/run)")
        pytest.skip(message)
    return path


def rendered_files(design: Path) -> list[OutputFile]:
    return render_design(validate_file(design))


@pytest.fixture(scope="session")
def rendered_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every example and test design rendered to disk once, as `ovsgen render` would."""
    out = tmp_path_factory.mktemp("rendered")
    for design in ALL_DESIGNS:
        files = rendered_files(design)
        write_tree(out, files, [PurePosixPath(files[0].path.split("/")[0])])
    return out


def example_nodes(backend: str | None = None) -> list[tuple[str, str]]:
    """(design name, node name) of every node of the example and test designs; with `backend`,
    of those that use it (their design's or their own `backends`)."""
    pairs = []
    for design in ALL_DESIGNS:
        valid = validate_file(design)
        nodes = valid.design.nodes
        chosen = [node for node in nodes if backend is None or backend in valid.design.backends_of(node)]
        pairs += [(valid.design.name, node.name) for node in chosen]
    return pairs


def require_file(path: Path, package: str) -> Path:
    """A file a consumer test needs; like require_tool, a failure in CI and a skip elsewhere."""
    if not path.exists():
        message = f"{path} is missing (Debian package {package})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must install it (see .ci/run)")
        pytest.skip(message)
    return path


@pytest.fixture
def ovsdb() -> Iterator[Ovsdb]:
    """A private ovsdb-server with an empty Open_vSwitch database, stopped by pid afterwards."""
    with ovsdb_server() as database:
        yield database


@contextmanager
def ovsdb_server() -> Iterator[Ovsdb]:
    """A private ovsdb-server with an empty Open_vSwitch database, stopped by pid afterwards.

    The same server ovsgen rehearse starts (generator.changes.rehearse_ovsdb), so the tests exercise it too.
    """
    for tool in ("ovsdb-server", "ovsdb-tool", "ovsdb-client", "ovs-vsctl"):
        require_tool(tool)
    try:
        tools = find_tools()
    except ToolUnavailable as missing:
        pytest.fail(str(missing))
    with private_ovsdb(tools) as server:
        yield Ovsdb(server)


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload,no-any-return]
