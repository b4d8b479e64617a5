"""The Open Referral UK profile's query parameters, and its filters over services as one predicate."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from service.domain.errors import FieldProblem, InvalidInput
from service.domain.model import Service
from service.domain.oruk_export import last_modified
from service.domain.oruk_terms import stable_id
from service.domain.routing import POSTCODE_SEARCH
from service.domain.types import IDENTIFIER, SINGLE_LINE
from service.index.published import Listing, Published, holds

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


class Filters:
    """The profile's filters over services, as one predicate (each one left out when not asked for)."""

    def __init__(
        self,
        published: Published,
        listing: Listing,
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
    ) -> None:
        self.published, self.listing = published, listing
        self.words = text.lower().split() if text else []
        self.terms = {x.lower() for x in (term, taxonomy) if x}
        self.numbers = published.term_numbers(self.terms)
        self.organization = organization.lower() if organization else None
        self.modified_after, self.minimum_age, self.maximum_age = _moment(modified_after), minimum_age, maximum_age
        self.start, self.end, self.day = (start_time or "")[:5], (end_time or "")[:5], day
        self.sessions = bool(start_time or end_time or day)

    def __call__(self, s: Service) -> bool:
        if self.words:
            haystack = f"{s.name} {s.description} {s.organisation}".lower()
            if not all(w in haystack for w in self.words):
                return False
        if self.terms:
            held = self.published.terms_of(s, self.listing)
            if None in self.numbers:  # a term first numbered as this service was read (before the warm-up ends)
                self.numbers = self.published.term_numbers(self.terms)
            if not holds(held, self.numbers):
                return False
        if self.organization and stable_id("organization", s.organisation) != self.organization:
            return False
        if self.modified_after and last_modified(s, self.listing.publishing) < self.modified_after:
            return False
        age = s.eligibility.age
        if self.minimum_age is not None and (age.min or 0) < self.minimum_age:
            return False
        if self.maximum_age is not None and (age.max is None or age.max - 1 > self.maximum_age):
            return False
        return not self.sessions or self._open(s)

    def _open(self, s: Service) -> bool:
        if s.schedule.open_24_7:
            return (not self.start or self.start == "00:00") and not self.end
        return any(
            (self.day is None or x.day == self.day)
            and (not self.start or x.opens >= self.start)
            and (not self.end or x.closes <= self.end or (x.closes == "24:00" and self.end == "24:00"))
            for x in s.schedule.weekly
        )
