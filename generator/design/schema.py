"""Stage 2: check the plain data against the JSON Schema (schemas/design.schema.json).

A valid design, the common case, is confirmed by a validator that fastjsonschema
generates from the schema (compiled once and cached, see generator.cache): it
is twenty times faster than jsonschema on large fleets and keeps jsonschema out
of the start-up. Anything it does not accept goes to generator.design.schema_messages,
which runs jsonschema for the located, readable messages. The fast validator
only ever says "valid" for what jsonschema accepts too: it is stricter about
patterns, and the one place it is looser (10.0 passing as an integer) is
closed by refusing any float here.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import marshal
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from generator import __version__, cache
from generator.design.loader import SourceDocument
from generator.diagnostics import Diagnostic
from generator.resources import schema_path

# What ipaddress accepts as an IPv4 address (ASCII digits, no leading zeros, octets up to
# 255) and, after a slash, a prefix of one or two digits up to 32, as patterns: a match is
# ten times cheaper than parsing, and a 10,000-node design holds 20,000 addresses. A test
# holds them equal to ipaddress.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")
_IPV4_CIDR = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}/(?:3[0-2]|[0-2]?[0-9])")


def _is_ipv4(value: object) -> bool:
    return not isinstance(value, str) or _IPV4.fullmatch(value) is not None


def _is_ipv4_cidr(value: object) -> bool:
    return not isinstance(value, str) or _IPV4_CIDR.fullmatch(value) is not None


# The schema's custom formats, shared by both validators.
FORMAT_CHECKS: dict[str, Callable[[object], bool]] = {"ipv4": _is_ipv4, "ipv4-cidr": _is_ipv4_cidr}


@functools.cache
def schema_text() -> str:
    return schema_path().read_text(encoding="utf-8")


@functools.cache
def schema_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(schema_text())
    return document


def check_schema(document: SourceDocument) -> list[Diagnostic]:
    """Every schema problem in the document, one located diagnostic each (none when valid)."""
    if _fast_accepts(document.data):
        return []
    from generator.design.schema_messages import explain_schema_errors  # only invalid designs pay for jsonschema

    return explain_schema_errors(document)


def _fast_accepts(data: Any) -> bool:
    try:
        _fast_validator()(data, custom_formats=FORMAT_CHECKS)
    except Exception:  # any doubt goes to jsonschema, which explains it
        return False
    return not _has_float(data)


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


class _Rejected(Exception):  # stands in for fastjsonschema's exceptions
    """Raised by the generated validator for the first problem it finds."""

    def __init__(self, message: str = "", *_: Any, **__: Any) -> None:
        super().__init__(message)  # the details fastjsonschema passes are not needed: jsonschema explains


# use_default off: fastjsonschema would write the schema's documented defaults into the design,
# and the model and the checks tell a key left out from one written (lacp_time needs LACP only
# when written).
_USE_DEFAULT = False

_IMPORT_LINE = re.compile(r"^from fastjsonschema import .*$", re.MULTILINE)


def _generator_stamp() -> str:
    """Identifies the installed fastjsonschema without importing it (a warm start never does)."""
    spec = importlib.util.find_spec("fastjsonschema")
    if spec is None or spec.origin is None:
        return "absent"
    status = os.stat(spec.origin)
    return f"{status.st_size}-{status.st_mtime_ns}"


@functools.cache
def _fast_validator() -> Callable[..., Any]:
    # Everything the generated code depends on: the schema, the generator, how it is called.
    stamp = f"{schema_text()}|{_generator_stamp()}|use_default={_USE_DEFAULT}|{__version__}|{sys.version}"
    name = f"schema-validator-{hashlib.sha256(stamp.encode()).hexdigest()[:20]}.marshal"
    stored = cache.read(name)
    if stored is None:
        import fastjsonschema  # only when the cache is cold: generating costs ~60 ms

        # A fresh copy: fastjsonschema rewrites the $refs of the schema it is given.
        source = fastjsonschema.compile_to_code(
            json.loads(schema_text()), formats=FORMAT_CHECKS, use_default=_USE_DEFAULT
        )
        entry = re.search(r"^def (\w+)", source, re.MULTILINE)
        assert entry is not None, "fastjsonschema generates functions"
        # The generated code imports fastjsonschema for two exception classes; _Rejected stands in.
        source = _IMPORT_LINE.sub("", source)
        stored = marshal.dumps((entry.group(1), compile(source, "<ovsgen schema validator>", "exec")))
        cache.write(name, stored)
    entry_name, code = marshal.loads(stored)  # our own cache of our own schema
    namespace: dict[str, Any] = {"JsonSchemaValueException": _Rejected, "JsonSchemaValuesException": _Rejected}
    exec(code, namespace)  # code generated from schemas/design.schema.json
    validate: Callable[..., Any] = namespace[entry_name]
    return validate
