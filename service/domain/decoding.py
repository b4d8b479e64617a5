"""Decoding JSON input, and turning decode errors into field problems: `Expected int - at $.age.min` -> `age.min`.

Every JSON body the service accepts goes through `decode`: msgspec straight into the target type, strictly (no
`"18"` -> 18, no `0` -> 1970), and every way a body can be bad (wrong types, malformed JSON, invalid UTF-8,
nesting deeper than the decoder's stack) becomes a 400 problem naming the field, never a 500.
"""

from __future__ import annotations

import codecs
import re
from typing import Any, TypeVar

import msgspec

from service.domain.errors import FieldProblem, MalformedInput
from service.domain.types import PATTERN_WORDS

T = TypeVar("T")

_AT = re.compile(r"^(?P<reason>.*) - at `\$(?P<path>[^`]*)`$", re.S)
_NAMED = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]+)`")
_REGEX = re.compile(r"^Expected `str` matching regex '(?P<pattern>.*)'$", re.S)
_PATTERN_WORDS = {repr(pattern)[1:-1]: words for pattern, words in PATTERN_WORDS.items()}  # msgspec prints the repr


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


def _words(reason: str) -> str:
    """A regex in a reason becomes words: a person reads the problem, and a pattern with control characters in it
    is no help to anyone."""
    found = _REGEX.match(reason)
    if found is None:
        return reason
    return _PATTERN_WORDS.get(found.group("pattern"), "does not have the expected format")


def field_problem(message: str, prefix: str = "") -> FieldProblem:
    """The field a decode error names, under `prefix`; missing and unknown fields name the field itself."""
    match = _AT.match(message)
    reason, path = (match.group("reason"), match.group("path")) if match else (message, "")
    reason = _words(reason)
    named = _NAMED.search(reason)
    field = join_path(prefix, path.lstrip("."), named.group("name") if named else "")
    return FieldProblem(field=field or prefix or "body", reason=reason)


# Invalid UTF-8 is replaced by this noncharacter to find which string held it.
_MARK = "\U0010fffe"
codecs.register_error("ldp-mark", lambda e: (_MARK, e.end) if isinstance(e, UnicodeDecodeError) else ("", 0))


def _marked_path(value: Any, path: str) -> str | None:
    """The path of the first string (or key) holding the mark, breadth-first so deep input stays cheap."""
    queue: list[tuple[Any, str]] = [(value, path)]
    for node, where in queue:
        if isinstance(node, str) and _MARK in node:
            return where
        if isinstance(node, dict):
            for key, item in node.items():
                if _MARK in key:
                    return where or "body"
                queue.append((item, join_path(where, key)))
        elif isinstance(node, list):
            queue.extend((item, f"{where}[{i}]") for i, item in enumerate(node))
    return None


def _utf8_problem(data: bytes | None, prefix: str) -> FieldProblem:
    field = None
    if data is not None:
        marked = decode_loose(data.decode("utf-8", errors="ldp-mark").encode("utf-8", errors="surrogatepass"))
        field = _marked_path(marked, prefix)
    return FieldProblem(field=field or prefix or "body", reason="not valid UTF-8")


_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},:]')


def _deep_path(data: bytes | None, prefix: str, limit: int = 500) -> str:
    """Where JSON nests deeper than `limit`: a scan of brackets and strings (the regex engine skips the rest), so the
    problem can name the field even when the decoder's own stack ran out."""
    if data is None:
        return prefix or "body"
    path: list[str | int] = []  # the key or index at each level
    kinds: list[bytes] = []
    expecting_key = False
    for match in _TOKEN.finditer(data):
        token = match.group()
        if token in (b"{", b"["):
            if len(kinds) >= limit:
                break
            kinds.append(token)
            path.append(0 if token == b"[" else "")
            expecting_key = token == b"{"
        elif token in (b"}", b"]"):
            if kinds:
                kinds.pop()
                path.pop()
            expecting_key = False
        elif token == b",":
            if kinds and kinds[-1] == b"[":
                path[-1] = int(path[-1]) + 1
            expecting_key = bool(kinds) and kinds[-1] == b"{"
        elif token != b":" and expecting_key:
            path[-1] = decode_loose(token) or ""
            expecting_key = False
    else:
        return prefix or "body"
    parts = [f"[{p}]" if isinstance(p, int) else p for p in path[: len(kinds)] if p != ""]
    # Name the field where the runaway nesting starts: drop the tail of one repeated step ("[0][0][0]…").
    while len(parts) > 1 and parts[-1] == parts[-2]:
        parts.pop()
    if parts:
        parts.pop()
    return join_path(prefix, *parts) or prefix or "body"


def problem_from(error: Exception, prefix: str = "", data: bytes | None = None) -> FieldProblem:
    """The field problem for any error `decode` or `convert` can meet (`data`: the input, to place bad UTF-8)."""
    match error:
        case msgspec.ValidationError():
            return field_problem(str(error), prefix)
        case UnicodeDecodeError():
            return _utf8_problem(data, prefix)
        case RecursionError():
            return FieldProblem(field=_deep_path(data, prefix), reason="nested too deeply")
        case _:
            return FieldProblem(field=prefix or "body", reason=f"malformed JSON: {error}")


DECODE_ERRORS = (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError)
"""Everything msgspec raises for bad input: invalid UTF-8 inside a string surfaces as UnicodeDecodeError, and
nesting deeper than the interpreter's recursion limit as RecursionError."""


_INTEGRAL_FLOAT = re.compile(r"^Expected `int[^`]*`, got `float`")


def _whole_numbers(value: Any) -> Any:
    """JSON has one number type: 18.0 *is* the integer 18 (JSON Schema agrees), so a float with no fraction may stand
    where an int is expected. Strings are never numbers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    return value


def decode(data: bytes, kind: type[T], prefix: str = "") -> T:
    """Strictly decode JSON into `kind`; any bad input raises MalformedInput (400) naming the field."""
    try:
        return msgspec.json.decode(data, type=kind, strict=True)
    except msgspec.ValidationError as e:
        if _INTEGRAL_FLOAT.match(str(e)):  # rare: only then take the slower path that reads 18.0 as 18
            return convert(_whole_numbers(decode_loose(data)), kind, prefix)
        raise MalformedInput((problem_from(e, prefix, data),)) from None
    except DECODE_ERRORS as e:
        raise MalformedInput((problem_from(e, prefix, data),)) from None


def convert(value: Any, kind: type[T], prefix: str = "") -> T:
    """Strictly convert already-decoded builtins into `kind`; problems as for `decode`."""
    try:
        return msgspec.convert(_whole_numbers(value), type=kind, strict=True)
    except DECODE_ERRORS as e:
        raise MalformedInput((problem_from(e, prefix),)) from None


def decode_loose(data: bytes) -> Any:
    """Untyped JSON, or None when it cannot be decoded at all (used only to name a bad record's key)."""
    try:
        return msgspec.json.decode(data)
    except DECODE_ERRORS:
        return None
