"""The Open Referral UK profile's query parameters, and its filters over services (service/openreferral/listings.py
works each one out once per directory version)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from service.domain.errors import FieldProblem, InvalidInput
from service.domain.model import Service
from service.domain.request import POSTCODE_SEARCH
from service.domain.types import IDENTIFIER, SINGLE_LINE
from service.openreferral.listing import Filter
from service.openreferral.mapping import Publishing, last_modified
from service.openreferral.published import Published, holds
from service.openreferral.terms import stable_id

MAX_PER_PAGE = 1000
DAYS = {"mo": "mon", "tu": "tue", "we": "wed", "th": "thu", "fr": "fri", "sa": "sat", "su": "sun"}

Page = Annotated[int, QueryParameter(ge=1, le=1_000_000, description="Page number, from 1.")]
PerPage = Annotated[int, QueryParameter(ge=1, le=MAX_PER_PAGE, description="Results per page (at most 1,000).")]
Text = Annotated[
    str | None, QueryParameter(max_length=200, pattern=SINGLE_LINE, description="Words in the name or description.")
]
TermId = Annotated[
    str | None, QueryParameter(max_length=100, pattern=IDENTIFIER, description="Services with this taxonomy term.")
]
TaxonomyId = Annotated[
    str | None,
    QueryParameter(max_length=100, pattern=IDENTIFIER, description="Services with a term of this taxonomy."),
]
OrganizationId = Annotated[
    str | None, QueryParameter(max_length=100, pattern=IDENTIFIER, description="Services of this organization.")
]
ModifiedAfter = Annotated[
    str | None,
    QueryParameter(
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
        r"([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?)?$",
        description="Services modified on or after this time (RFC 3339; a date alone is its midnight, UTC).",
    ),
]
MinAge = Annotated[float | None, QueryParameter(description="Minimum age at least this.")]
MaxAge = Annotated[float | None, QueryParameter(description="Maximum age at most this.")]
Clock = Annotated[str | None, QueryParameter(max_length=8, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")]
Day = Annotated[
    str | None,
    QueryParameter(
        pattern="^(MO|TU|WE|TH|FR|SA|SU|mo|tu|we|th|fr|sa|su|[Mm]onday|[Tt]uesday|[Ww]ednesday|[Tt]hursday|[Ff]riday"
        "|[Ss]aturday|[Ss]unday)$",
        description="A day: MO to SU, or its name (Monday).",
    ),
]
Full = Annotated[bool, QueryParameter(description="Fully nested services.")]
Postcode = Annotated[
    str | None, QueryParameter(max_length=10, pattern=POSTCODE_SEARCH, description="Covering this postcode.")
]
Id = Annotated[str, PathParameter(max_length=100, pattern=IDENTIFIER, description="The record's id (a UUID).")]
Proximity = Annotated[float | None, QueryParameter(description="With postcode: within this many metres.")]


def day_of(day: str | None) -> str | None:
    """MO to SU, or a day's name (the parameter's pattern admits nothing else)."""
    return None if day is None else DAYS[day.lower()[:2]]


def _moment(text: str | None) -> dt.datetime | None:
    """modified_after as an aware time (the pattern has checked its shape; a date alone is its midnight, UTC)."""
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput((FieldProblem(field="modified_after", reason=f"{text!r} is not a date-time"),)) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def filters(
    published: Published,
    publishing: Publishing,
    text: str | None,
    term: str | None,
    taxonomy: str | None,
    organization: str | None,
    modified_after: str | None,
    minimum_age: float | None,
    maximum_age: float | None,
    start_time: str | None,
    end_time: str | None,
    day: str | None,
) -> list[Filter]:
    """The profile's filters over services, one for each asked for; a service passes when it passes them all. Each
    is keyed by what it is and its value, so that its result is worked out once per directory version."""
    chosen: list[Filter] = []
    words = tuple(text.lower().split()) if text else ()
    if words:
        chosen.append(Filter(("text", frozenset(words)), _Words(words)))
    terms = frozenset(x.lower() for x in (term, taxonomy) if x)
    if terms:
        chosen.append(Filter(("terms", terms), _Terms(published, publishing, terms)))
    if organization:
        chosen.append(Filter(("organization", organization.lower()), OfOrganization(organization.lower())))
    moment = _moment(modified_after)
    if moment:
        chosen.append(Filter(("modified_after", moment), _ModifiedAfter(publishing, moment)))
    if minimum_age is not None:
        chosen.append(Filter(("minimum_age", minimum_age), _MinimumAge(minimum_age)))
    if maximum_age is not None:
        chosen.append(Filter(("maximum_age", maximum_age), _MaximumAge(maximum_age)))
    if start_time or end_time or day:
        start, end = (start_time or "")[:5], (end_time or "")[:5]
        chosen.append(Filter(("sessions", start, end, day), _Sessions(start, end, day)))
    return chosen


class _Words:
    """Every word in the name, the description or the organisation."""

    def __init__(self, words: tuple[str, ...]) -> None:
        self.words = words

    def __call__(self, s: Service) -> bool:
        haystack = f"{s.name} {s.description} {s.organisation}".lower()
        return all(w in haystack for w in self.words)


class _Terms:
    """Every term (or taxonomy) among the service's coded terms."""

    def __init__(self, published: Published, publishing: Publishing, terms: frozenset[str]) -> None:
        self.published, self.publishing, self.terms = published, publishing, tuple(terms)
        self.numbers = published.term_numbers(self.terms)

    def __call__(self, s: Service) -> bool:
        held = self.published.terms_of(s, self.publishing)
        if None in self.numbers:  # a term first numbered as this service was read (before the warm-up ends)
            self.numbers = self.published.term_numbers(self.terms)
        return holds(held, self.numbers)


class OfOrganization:
    """Of this organization, Open Referral's and FHIR's id alike (each organisation's id worked out once, not once per
    service)."""

    def __init__(self, organization: str) -> None:
        self.organization = organization
        self.seen: dict[str, bool] = {}

    def __call__(self, s: Service) -> bool:
        found = self.seen.get(s.organisation)
        if found is None:
            found = self.seen[s.organisation] = stable_id("organization", s.organisation) == self.organization
        return found


class _ModifiedAfter:
    def __init__(self, publishing: Publishing, moment: dt.datetime) -> None:
        self.publishing, self.moment = publishing, moment

    def __call__(self, s: Service) -> bool:
        return last_modified(s, self.publishing) >= self.moment


class _MinimumAge:
    def __init__(self, age: float) -> None:
        self.age = age

    def __call__(self, s: Service) -> bool:
        return not (s.eligibility.age.min or 0) < self.age


class _MaximumAge:
    def __init__(self, age: float) -> None:
        self.age = age

    def __call__(self, s: Service) -> bool:
        top = s.eligibility.age.max
        return not (top is None or top - 1 > self.age)


class _Sessions:
    """Open in the asked-for hours (on the asked-for day)."""

    def __init__(self, start: str, end: str, day: str | None) -> None:
        self.start, self.end, self.day = start, end, day

    def __call__(self, s: Service) -> bool:
        if s.schedule.open_24_7:
            return (not self.start or self.start == "00:00") and not self.end
        return any(
            (self.day is None or x.day == self.day)
            and (not self.start or x.opens >= self.start)
            and (not self.end or x.closes <= self.end or (x.closes == "24:00" and self.end == "24:00"))
            for x in s.schedule.weekly
        )
