"""Turning msgspec decode errors into field problems: `Expected int - at $.age.min` -> field `age.min`."""

from __future__ import annotations

import re

import msgspec

from service.domain.errors import FieldProblem

_AT = re.compile(r"^(?P<reason>.*) - at `\$(?P<path>[^`]*)`$", re.S)
_NAMED = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]+)`")


def join_path(*parts: str) -> str:
    out = ""
    for part in parts:
        if not part:
            continue
        if part.startswith("["):
            out += part
        else:
            out = f"{out}.{part}" if out else part
    return out


def field_problem(message: str, prefix: str = "") -> FieldProblem:
    """The field a decode error names, under `prefix`; missing and unknown fields name the field itself."""
    match = _AT.match(message)
    reason, path = (match.group("reason"), match.group("path")) if match else (message, "")
    named = _NAMED.search(reason)
    field = join_path(prefix, path.lstrip("."), named.group("name") if named else "")
    return FieldProblem(field=field or prefix or "body", reason=reason)


def problem_from(error: msgspec.ValidationError | msgspec.DecodeError, prefix: str = "") -> FieldProblem:
    if isinstance(error, msgspec.ValidationError):
        return field_problem(str(error), prefix)
    return FieldProblem(field=prefix or "body", reason=f"malformed JSON: {error}")
