"""What `ovsgen rehearse` reports: each step of a rehearsal on one node, and whether it held."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Step:
    """One step of a rehearsal and how it went."""

    name: str
    passed: bool
    details: str = ""

    def titled(self, name: str) -> Step:
        """The same outcome under another name: what a script run means in the rehearsal."""
        return replace(self, name=name)


@dataclass
class Report:
    """The outcome of a rehearsal on one node: its steps; it passed if every step did."""

    node: str
    steps: list[Step] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(step.passed for step in self.steps)

    def text(self) -> str:
        lines = [f"Rehearsal of node {self.node}:"]
        for step in self.steps:
            lines.append(f"  {'PASS' if step.passed else 'FAIL'}  {step.name}")
            lines += [f"        {line}" for line in step.details.splitlines()]
        lines.append("Result: " + ("every step held." if self.passed else "FAILED."))
        return "\n".join(lines) + "\n"
