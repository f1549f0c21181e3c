"""A file of a node that a plan adds, changes or deletes: an ifcfg file, a NetworkManager keyfile
or a libvirt network's XML. Its own module so that each layer's module (node_changes,
nm_changes) can use it without importing the other."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from generator.render.files import OutputFile


@dataclass(frozen=True)
class FileChange:
    """A file of a node to add, change or delete, and why."""

    name: str  # file name, e.g. ifcfg-br0, br0-if.nmconnection or vlan32.xml
    action: str  # "add", "change" or "delete"
    file: OutputFile | None  # the new file (None for delete)
    reason: str = ""
    old: OutputFile | None = None  # the old design's file (None for add, and in plans from a dump)


def settings_in_words(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    """What changed between two files' settings, in file order, old keys first (`IPADDR
    172.16.0.7 -> 172.17.0.7, MTU=9000 added`): a reviewer sees the values without opening the
    diff, and nodes whose values differ are never one section. "" when nothing changed."""
    return ", ".join(setting_changes(old, new))


def setting_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Each changed setting in words, as settings_in_words joins them."""
    words = []
    for key in dict.fromkeys([*old, *new]):
        if key not in new:
            words.append(f"{key}={old[key]} removed")
        elif key not in old:
            words.append(f"{key}={new[key]} added")
        elif old[key] != new[key]:
            words.append(f"{key} {old[key]} -> {new[key]}")
    return words
