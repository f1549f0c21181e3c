"""Check the plain data against the JSON Schema (schemas/design.schema.json).

A valid design, the common case, is confirmed by the validator fastjsonschema generates
from the schema (compiled once and cached, see generator.speed.validator): it is twenty
times faster than jsonschema on large fleets and keeps jsonschema out of the start-up.
Anything it does not accept goes to generator.design.schema_messages, which runs
jsonschema for the located, readable messages. The fast validator only ever says "valid"
for what jsonschema accepts too (tests/test_validator_agreement.py): it is stricter about
patterns (`$` does not match before a final newline, which the loader refuses anyway),
and the one place it is looser (10.0 passing as an integer) is closed by refusing any
float here.
"""

from __future__ import annotations

import functools
from typing import Any

from generator.design.loader import SourceDocument
from generator.design.schema_file import FORMAT_CHECKS, schema_text
from generator.diagnostics import Diagnostic
from generator.speed.validator import CachedValidator, load_validator


def check_schema(document: SourceDocument) -> list[Diagnostic]:
    """Every schema problem in the document, one located diagnostic each (none when valid)."""
    if fast_accepts(document.data):
        return []
    from generator.design.schema_messages import explain_schema_errors  # only invalid designs pay for jsonschema

    return explain_schema_errors(document)


def fast_accepts(data: Any) -> bool:
    """Whether the fast validator accepts the design's data: then jsonschema does too."""
    return _fast_validator().accepts(data) and not _has_float(data)


# Loaded once per process: reading the cached code and running it to define its functions
# costs a few milliseconds, and `ovsgen check` validates many designs in one process.
@functools.cache
def _fast_validator() -> CachedValidator:
    return load_validator(schema_text(), FORMAT_CHECKS)


def _has_float(data: Any) -> bool:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
