"""The design schema as shipped (schemas/design.schema.json) and the custom formats it names.

Both validators read it from here: the fast one (generator.design.schema) and jsonschema,
which explains a refusal (generator.design.schema_messages).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from generator.resources import schema_path

# What ipaddress accepts as an IPv4 address (ASCII digits, no leading zeros, octets up to
# 255) and, after a slash, a prefix of one or two digits up to 32, as patterns: a match is
# ten times cheaper than parsing, and a 10,000-node design holds 20,000 addresses. A test
# holds them equal to ipaddress.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")
_IPV4_CIDR = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}/(?:3[0-2]|[0-2]?[0-9])")


def is_ipv4(value: object) -> bool:
    return not isinstance(value, str) or _IPV4.fullmatch(value) is not None


def is_ipv4_cidr(value: object) -> bool:
    return not isinstance(value, str) or _IPV4_CIDR.fullmatch(value) is not None


# The schema's custom formats, shared by both validators.
FORMAT_CHECKS: Mapping[str, Callable[[object], bool]] = {"ipv4": is_ipv4, "ipv4-cidr": is_ipv4_cidr}


# Read once per process: the file ships with ovsgen and does not change while it runs, and the
# messages look definitions up in the parsed schema once per problem.
@functools.cache
def schema_text() -> str:
    return schema_path().read_text(encoding="utf-8")


@functools.cache
def schema_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(schema_text())
    return document
