"""Where each node's host is reached (Ansible's `ansible_host`): its host address from the design,
or what a mapping file (--inventory-map, YAML `NODE: HOST`) or --inventory-var NODE=HOST says
(the latter wins)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from generator.diagnostics import Diagnostic
from generator.errors import SelectionInvalid
from generator.rollout.source import HOST, RolloutInvalid, RolloutNode, at, read_bounded

MAX_MAP_BYTES = 16 * 1024 * 1024
_TEXT = "tag:yaml.org,2002:str"  # what YAML reads a host name as (not null, true or 12)


def is_host(text: str) -> bool:
    """Whether `text` can stand as an `ansible_host`."""
    return HOST.fullmatch(text) is not None


@dataclass(frozen=True)
class MappedHost:
    """A host a mapping file gives a node, and where the file names the node."""

    host: str
    file: str
    line: int
    column: int


def read_map(path: Path) -> dict[str, MappedHost]:
    """NODE: HOST pairs of a mapping file; RolloutInvalid (located) for anything else."""
    data = read_bounded(path, MAX_MAP_BYTES, "not a mapping of NODE: HOST")
    try:
        root = yaml.compose(data.decode(), Loader=yaml.SafeLoader)
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        mark = getattr(error, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = getattr(error, "problem", None) or "not UTF-8 text"
        raise RolloutInvalid([at(path, line, column, f"not a YAML mapping of NODE: HOST: {problem}")]) from None
    if not isinstance(root, yaml.MappingNode):
        raise RolloutInvalid([at(path, 1, 1, "not a YAML mapping of NODE: HOST")])
    found: dict[str, MappedHost] = {}
    for key, value in root.value:
        mark = key.start_mark
        if key.value in found:
            raise RolloutInvalid([at(path, mark.line + 1, mark.column + 1, f"{key.value}: given twice")])
        if not (isinstance(value, yaml.ScalarNode) and value.tag == _TEXT and is_host(value.value)):
            where = value.start_mark
            message = f"{key.value}: not a host name or address"
            raise RolloutInvalid([at(path, where.line + 1, where.column + 1, message)])
        found[key.value] = MappedHost(value.value, str(path), mark.line + 1, mark.column + 1)
    return found


def hosts_of(
    nodes: Sequence[RolloutNode],
    given: Mapping[str, str],
    mapped: Mapping[str, MappedHost],
    source: str,
    known: Collection[str],
) -> dict[str, str]:
    """Each node's `ansible_host`: given (--inventory-var), else mapped, else its host address.

    `known`: every node of the plan or render (`nodes` may be some of them: a fleet's mapping
    file serves a rollout of a few). A node given that is not known is an error
    (SelectionInvalid), a node mapped that is not is one at its place in the file, and so is a
    node with no address (DHCP) and no host given, at its place in rollout.json (RolloutInvalid)."""
    names = set(known)
    unknown = sorted(set(given) - names)
    if unknown:
        raise SelectionInvalid(f"--inventory-var {unknown[0]}=...: not a node of {source}")
    problems = [
        Diagnostic(item.file, item.line, item.column, (), f"{name}: not a node of {source}")
        for name, item in mapped.items()
        if name not in names
    ]
    hosts = {}
    for node in nodes:
        host = given.get(node.name) or (mapped[node.name].host if node.name in mapped else node.address)
        if not host:
            problems.append(node.problem(f"has no host address (DHCP): give --inventory-var {node.name}=HOST"))
        hosts[node.name] = host
    if problems:
        raise RolloutInvalid(problems)
    return hosts
