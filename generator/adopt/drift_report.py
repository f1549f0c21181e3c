"""A drift report in words (text, for a terminal or cron mail), as JSON (for monitoring) or as
Markdown (for a ticket). Differences are worded host -> design."""

from __future__ import annotations

import json

from generator.adopt.drift import MATCHES, UNKNOWN_HOST, DriftReport, HostDrift
from generator.render.templating import markdown_text

HOW = "Differences are worded as the host has it -> as the design says."


def drift_text(report: DriftReport) -> str:
    lines = [f"Drift of design {report.design}: {_summary(report)}. {HOW}"]
    for host in report.hosts:
        apart = f" ({len(host.apart)} apart)" if host.apart else ""
        lines.append(f"{host.node}: {host.status}{apart}")
        lines += [f"  - {line}" for line in host.differences]
        lines += [f"  apart: {line}" for line in host.apart]
    return "\n".join(lines) + "\n"


def drift_json(report: DriftReport) -> str:
    hosts = [
        {"node": host.node, "status": host.status, "differences": list(host.differences), "apart": list(host.apart)}
        for host in report.hosts
    ]
    return json.dumps({"design": report.design, "hosts": hosts}, indent=2) + "\n"


def drift_markdown(report: DriftReport) -> str:
    lines = [f"# Drift of design {markdown_text(report.design)}", "", f"{_summary(report)}. {HOW}", ""]
    lines += ["| Host | Status | Differences | Not in the design |", "| --- | --- | --- | --- |"]
    lines += [_row(host) for host in report.hosts]
    return "\n".join(lines) + "\n"


def _row(host: HostDrift) -> str:
    def cell(items: tuple[str, ...]) -> str:
        return "<br>".join(markdown_text(item) for item in items) or "none"

    return f"| {markdown_text(host.node)} | {host.status} | {cell(host.differences)} | {cell(host.apart)} |"


def _summary(report: DriftReport) -> str:
    nodes = [host for host in report.hosts if host.status != UNKNOWN_HOST]  # those the design has
    matching = sum(host.status == MATCHES for host in nodes)
    return f"{matching} of {len(nodes)} node(s) match"


REPORTS = {"text": drift_text, "json": drift_json, "markdown": drift_markdown}
