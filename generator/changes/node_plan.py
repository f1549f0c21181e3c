"""A node's OVS plan as data: its steps in plain words with their ovs-vsctl commands, what it
may remove, and what the scripts read back before and after (generator.changes.read_back).

generator.changes.steps builds it; the plan's change.sh and rollback.sh are rendered from it.
All commands go into one transaction, ordered so that what must go is gone before what
replaces it arrives: port deletions, bridge deletions, bridge additions, port additions, then
column settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.changes.read_back import read_back
from generator.design.resolve import natural_key
from generator.ovs.commands import Command, Expectation
from generator.ovs.state import OvsState

_PHASES = {"del-port": 0, "del-br": 1, "add-br": 2, "add-port": 3, "add-bond": 3}
SET_PHASE = 4


def phase(command: Command) -> int:
    """Where a command goes in the transaction (see the module docstring)."""
    verb = next(word for word in command if not word.startswith("--"))
    return _PHASES.get(verb, SET_PHASE)


@dataclass(frozen=True)
class Change:
    """One change in plain words and the commands that make it."""

    text: str
    commands: tuple[Command, ...]
    risky: bool


@dataclass(frozen=True)
class Scope:
    """What a plan may remove, and which bridge carries the host's own address."""

    removable_ports: frozenset[str]
    removable_bridges: frozenset[str]
    host_bridges: frozenset[str]  # the host bridge before and after: changes there can cut management
    managed_ports: frozenset[str] = frozenset()  # ports a design names (others were found on a host)
    prune_bridges: bool = False  # also remove bridges ovsgen built that the target no longer has


@dataclass(frozen=True)
class NodePlan:
    """The changes that take one node from one OVSDB state to another, and what they leave alone."""

    node: str
    before: OvsState
    after: OvsState
    changes: tuple[Change, ...]
    left_alone: tuple[str, ...]
    touched_ports: tuple[str, ...]
    touched_bridges: tuple[str, ...]
    replaced_ports: tuple[str, ...] = ()  # ports the plan deletes: removed, or rebuilt
    built_ports: tuple[str, ...] = ()  # ports the plan creates: added, restored, or rebuilt
    removed_bridges: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()  # what can drop links or management, and what to do about it
    # Why the plan must not be carried out: it would delete what no rollback puts back.
    blocked: tuple[str, ...] = ()

    @property
    def commands(self) -> list[Command]:
        ordered = [command for change in self.changes for command in change.commands]
        return sorted(ordered, key=phase)  # stable: the order within a phase is kept

    @property
    def risky(self) -> bool:
        return any(change.risky for change in self.changes)

    def nics(self) -> list[str]:
        """NICs of the uplink ports the plan touches: they must exist on the host."""
        touched = set(self.touched_ports)
        return sorted(
            {
                name
                for port in self.after.ports
                if port.name in touched and port.kind in ("bond", "nic")
                for name in port.members
            },
            key=natural_key,
        )

    def expectations_after(self) -> list[Expectation]:
        """What the scripts read back after the change; a port the plan builds is read whole."""
        return self._read_back(self.after, self.built_ports)

    def expectations_before(self) -> list[Expectation]:
        """What must be there before; a port the plan deletes is read whole: it is what rollback puts back."""
        return self._read_back(self.before, self.replaced_ports)

    def _read_back(self, state: OvsState, whole_ports: tuple[str, ...]) -> list[Expectation]:
        return read_back(
            state,
            bridges=self.touched_bridges,
            removed_bridges=self.removed_bridges,
            ports=self.touched_ports,
            whole_ports=whole_ports,
        )
