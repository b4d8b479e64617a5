"""What FHIR searches take, in one table, and how a search's query is read against it. Pure.

`SEARCH` is the one list of each resource type's search parameters and `RESULT` of those every search takes: the
searches apply exactly these (service/fhir/search.py, service/fhir/routes.py) and the CapabilityStatement lists
exactly these. A search's query is read with `read` (FHIR R4 search, "Handling errors"): a parameter that is not in
the table (a name we do not know, a modifier such as `name:exact`, a chain such as `location.near`, a result
parameter such as `_sort` or `_include`), or one that may be given once and is given again, is

- under `Prefer: handling=strict`, refused: `Unsupported`, a 400 OperationOutcome naming it;
- under `Prefer: handling=lenient`, the default, ignored: left out of the Bundle's links, which show only what was
  applied, and named in an OperationOutcome entry of the Bundle (search mode `outcome`).

A parameter with an empty value (`name=`) is not an error: it is ignored, and left out of the links.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal
from urllib.parse import quote

from msgspec import Struct

from service.domain.errors import FieldProblem, InvalidInput

Handling = Literal["strict", "lenient"]
ParamType = Literal["number", "date", "string", "token", "reference", "uri"]
REPEATS = 10
"""A repeatable parameter is taken at most this many times: with values of ASCII characters only, a search's whole
request line stays well inside what a server reads."""
PAGING = ("_count", "_offset")
"""The paging parameters: the Bundle's links carry their own values of these."""
FORMATS = ("json", "application/json", "application/fhir+json")
"""The values of `_format` we honour: JSON is the only format served."""
SHOWN = 20
"""Ignored parameters named one by one; past this many, the rest are counted."""


class Param(Struct, frozen=True, kw_only=True):
    """A search parameter as the CapabilityStatement lists it. `repeats`: it may be given more than once (its
    documentation says how the values combine); otherwise a second one is not supported."""

    name: str
    type: ParamType
    documentation: str
    repeats: bool = False


_ID = Param(
    name="_id",
    type="token",
    repeats=True,
    documentation="Any of these ids: comma-separated, or repeated (a repeat adds ids, as a comma does).",
)
_LAST_UPDATED = Param(
    name="_lastUpdated",
    type="date",
    repeats=True,
    documentation="Changed then: [ge|gt|le|lt|eq]YYYY-MM-DD[Thh:mm[:ss][zone]] (UTC when no zone is given); "
    "repeat for a range (every one must hold).",
)
_NAME = Param(
    name="name",
    type="string",
    documentation="Text anywhere in the name, ignoring case (as FHIR's :contains, which is not itself taken; not "
    "FHIR's default of the start of the name).",
)

SEARCH: dict[str, tuple[Param, ...]] = {
    "HealthcareService": (
        _ID,
        Param(name="active", type="token", documentation="true or false: whether the service is active."),
        Param(
            name="service-category",
            type="token",
            repeats=True,
            documentation="A pathway role (code of CodeSystem pathway-roles, or system|code); comma-separated or "
            "repeated: any of them.",
        ),
        Param(
            name="service-type",
            type="token",
            repeats=True,
            documentation="A kind of service (code of CodeSystem service-kinds, or system|code); comma-separated "
            "or repeated: any of them.",
        ),
        Param(
            name="location",
            type="reference",
            documentation="The Location the service is at: Location/{id}, or {id}.",
        ),
        Param(
            name="organization",
            type="reference",
            documentation="The Organization that provides it: Organization/{id}, or {id}.",
        ),
        Param(
            name="coverage-area",
            type="reference",
            documentation="A Location it covers: Location/area-{GSS code} (area-K04000001 is England and Wales), "
            "or Location/catchment-{service id} for a drawn catchment.",
        ),
        _LAST_UPDATED,
    ),
    "Location": (
        _ID,
        _NAME,
        Param(
            name="organization",
            type="reference",
            documentation="The Organization managing the Location: Organization/{id}, or {id}.",
        ),
    ),
    "Organization": (_ID, _NAME),
    "CodeSystem": (
        _ID,
        Param(name="url", type="uri", documentation="The CodeSystem's canonical URL, exactly."),
    ),
}
"""Each resource type's search parameters: what its search applies, and what the CapabilityStatement lists."""

RESULT: tuple[Param, ...] = (
    Param(name="_count", type="number", documentation="Results a page: 1 to 1000 (50 when not given)."),
    Param(
        name="_offset",
        type="number",
        documentation="Results to skip, 0 to 10000000: paging, as the Bundle's next and previous links carry it.",
    ),
    Param(
        name="_format",
        type="token",
        documentation=f"{', '.join(FORMATS)}: JSON is the only format served (another value is a 400).",
    ),
)
"""The parameters every search takes besides its own: paging, and the format."""

HANDLING = (
    "Searches take exactly the search parameters listed for each resource (and no modifiers, chains, `_include`, "
    "`_sort`, `_summary` or `_elements`). With `Prefer: handling=strict`, any other parameter, or a second value of "
    "one that does not repeat, is a 400 OperationOutcome (code not-supported) naming it. Without it, or with "
    "`Prefer: handling=lenient`, such a parameter is ignored: it is left out of the Bundle's self, first, previous "
    "and next links, which show only the parameters applied, and an OperationOutcome entry (search mode outcome) "
    "names it. A parameter with an empty value is ignored, and left out of the links."
)
"""What the CapabilityStatement says about handling."""

_BY_KIND: dict[str, dict[str, Param]] = {
    kind: {p.name: p for p in (*params, *RESULT)} for kind, params in SEARCH.items()
}


def taken(kind: str) -> tuple[Param, ...]:
    """Every parameter a search of this resource type takes: its own, then the result parameters."""
    return tuple(_BY_KIND[kind].values())


class Unsupported(InvalidInput):
    """Parameters a search does not support, under `Prefer: handling=strict`: a 400 OperationOutcome whose issues
    have the code not-supported."""


class Reading(Struct, frozen=True, kw_only=True):
    """A search's query read against what the search takes."""

    handling: Handling
    asked: bool
    """Whether the client asked for a handling (`Prefer: handling=...`)."""
    applied: tuple[tuple[str, str], ...]
    """The parameters applied, as given, without the paging parameters (the links add their own): what the Bundle's
    links carry."""
    ignored: tuple[FieldProblem, ...] = ()
    """What the search does not take, and why (at most SHOWN, then a count of the rest): ignored under lenient
    handling, refused by `check` under strict."""

    def values(self, name: str) -> list[str]:
        """The values applied of a parameter (several only for one that repeats)."""
        return [value for given, value in self.applied if given == name]

    def value(self, name: str) -> str | None:
        """The value applied of a parameter given once, or None."""
        return next((value for given, value in self.applied if given == name), None)

    def check(self) -> Reading:
        """Under strict handling, refuse what the search does not take (`Unsupported`). A search checks this after
        the values it takes, so that a bad value keeps its own error (a 400, or 422 for a day that never was)."""
        if self.ignored and self.handling == "strict":
            raise Unsupported(self.ignored)
        return self


def handling_of(prefer: Iterable[str]) -> Handling | None:
    """The handling a request's Prefer headers ask for (RFC 7240: the first `handling` preference counts; any other
    value, or none, is None)."""
    for header in prefer:
        for preference in header.split(","):
            token, _, value = preference.split(";", 1)[0].partition("=")
            if token.strip().lower() == "handling":
                match value.strip().strip('"').lower():
                    case "strict":
                        return "strict"
                    case "lenient":
                        return "lenient"
                    case _:
                        return None
    return None


def read(kind: str, query: Sequence[tuple[str, str]], handling: Handling | None) -> Reading:
    """The parameters of a search of `kind` applied, and those it does not take (see the module's docstring; under
    strict handling, `Reading.check` refuses them). A repeatable parameter given more than REPEATS times is invalid
    (400), whatever the handling. Where a parameter that does not repeat is given again, the last value is the one
    applied (the one the route's declaration checked)."""
    takes = _BY_KIND[kind]
    last: dict[str, int] = {name: at for at, (name, _) in enumerate(query)}
    applied: list[tuple[str, str]] = []
    problems: dict[str, FieldProblem] = {}
    counted: dict[str, int] = {}
    for at, (name, value) in enumerate(query):
        param = takes.get(name)
        if param is None:
            shown = shown_name(name)
            reason = _unsupported(kind, name) + ("" if handling == "strict" else "; ignored")
            problems.setdefault(shown, FieldProblem(field=shown, reason=reason))
            continue
        counted[name] = counted.get(name, 0) + 1
        if param.repeats and counted[name] > REPEATS:
            raise InvalidInput((FieldProblem(field=name, reason=f"at most {REPEATS} times"),))
        if not param.repeats and at != last[name]:
            reason = "may be given only once" if handling == "strict" else "given more than once: the last was applied"
            problems.setdefault(name, FieldProblem(field=name, reason=reason))
            continue
        if value == "" or name in PAGING:
            continue
        applied.append((name, value))
    found = tuple(problems.values())
    if len(found) > SHOWN:
        more = FieldProblem(field="…", reason=f"and {len(found) - SHOWN} more parameters not supported")
        found = (*found[:SHOWN], more)
    return Reading(handling=handling or "lenient", asked=handling is not None, applied=tuple(applied), ignored=found)


def shown_name(name: str) -> str:
    """A parameter's name as a problem names it: percent-encoded past letters, digits and FHIR's punctuation, so
    that no control character or markup is ever echoed, and at most 100 characters."""
    safe = quote(name, safe="_.:-~!$'()*+,;@[]/|") or "(no name)"
    return safe if len(safe) <= 100 else f"{safe[:99]}…"


def _unsupported(kind: str, name: str) -> str:
    takes = _BY_KIND[kind]
    base, modifier = name.split(":", 1) if ":" in name else (name, None)
    chained = base.split(".", 1)[0] if "." in base else None
    if modifier is not None and base in takes:
        return "modifiers are not supported"
    if chained is not None and chained in takes:
        return "chained parameters are not supported"
    return f"not a parameter of this search (see the CapabilityStatement, /fhir/metadata, for those of {kind})"
