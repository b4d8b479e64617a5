"""A search's request: where from (a point, a site, a postcode), the person (nothing identifying: an age, a gender,
needs and circumstances), the context, and when; and the moment it is for."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta

from service.domain.errors import FieldProblem, InvalidInput
from service.domain.model import (
    Model,
)
from service.domain.schedule import LONDON, london_instant
from service.domain.types import (
    AgeYears,
    Code,
    Context,
    Lat,
    Lon,
    whole,
)
from service.domain.validation import EARLIEST, LATEST_DATE


class PointOrigin(Model, tag="point", tag_field="type", frozen=True, kw_only=True):
    lat: Lat
    lon: Lon


class SiteOrigin(Model, tag="site", tag_field="type", frozen=True, kw_only=True):
    site: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=80,
            pattern=whole(r"[A-Za-z0-9-]+"),
            description="Site id or slug, e.g. a custody suite.",
        ),
    ]


POSTCODE_SEARCH = whole(r" *[A-Za-z]{1,2}[0-9][A-Za-z0-9]? *(?:[0-9][A-Za-z]{0,2})? *")
"""A full postcode, a sector or just a district (outcode), spaces optional."""


class PostcodeOrigin(Model, tag="postcode", tag_field="type", frozen=True, kw_only=True):
    postcode: Annotated[
        str,
        Meta(
            pattern=POSTCODE_SEARCH,
            description="A full postcode or just its district (outcode), e.g. HU1 2AA or HU1.",
        ),
    ]


GRID_REFERENCE_SEARCH = whole(r" *[A-HJ-Za-hj-z] *[A-HJ-Za-hj-z](?: *[0-9] *[0-9]){1,5} *")
"""An OS National Grid reference as people write it: two letters and 2 to 10 digits, spaces anywhere between."""


class GridReferenceOrigin(Model, tag="grid_reference", tag_field="type", frozen=True, kw_only=True):
    """A place as control rooms give it: an OS National Grid reference, read offline (service/domain/gridref.py);
    the search starts from the middle of the square it names."""

    grid_reference: Annotated[
        str,
        Meta(
            max_length=40,
            pattern=GRID_REFERENCE_SEARCH,
            description="An OS National Grid reference: two letters and 2 to 10 digits, e.g. TA 09 29 or TA0929.",
            examples=["TA 09 29"],
        ),
    ]


Origin = PointOrigin | SiteOrigin | PostcodeOrigin | GridReferenceOrigin
PersonGender = Literal["female", "male", "non_binary", "other", "not_stated"]


class Person(Model, frozen=True, kw_only=True):
    """Nothing identifying: no name, no date of birth."""

    age: AgeYears
    gender: PersonGender = "not_stated"
    needs: Annotated[tuple[Code, ...], Meta(max_length=30)] = ()
    circumstances: Annotated[tuple[Code, ...], Meta(max_length=30)] = ()


WhenNeeded = Annotated[
    dt.datetime,
    Meta(
        description="When the options are needed (default now); a time without an offset is Europe/London.",
        extra_json_schema={"format": "date-time"},
    ),
]


StepLimit = Annotated[int, Meta(ge=1, le=50)]
"""How many options each step of the pathway lists (the flat list has its own `limit`)."""
PublicOnly = Annotated[
    bool,
    Meta(
        description="Only services a member of the public can reach themselves (they take self-referral, and have a "
        "public phone, an email address, a website or a place to walk in to): the rest are left out of the whole "
        "answer, as if they were not in the directory. For a partner's public site."
    ),
]


class ReferralRequest(Model, frozen=True, kw_only=True):
    origin: Origin
    context: Context
    person: Person
    at: WhenNeeded | None = None
    limit: Annotated[int, Meta(ge=1, le=50)] = 10
    step_limit: StepLimit = 5
    """How many options each step lists: a short list per step, the flat `options` keeping `limit`."""
    max_travel_minutes: Annotated[int, Meta(ge=1, le=1440)] | None = None
    at_release: bool = False
    """Custody and court: `at` is the moment the person is released, and the answer is what is open then or opens
    soon after, rather than what can reach them while they are held."""
    explain: bool = False
    explain_limit: Annotated[int, Meta(ge=1, le=200)] = 10
    """With explain: how many excluded services and near misses to list (each); all are counted."""
    public_only: PublicOnly = False
    """Only services a member of the public can reach themselves (service/domain/reach.py), for a partner's public
    site: the rest are left out of everything the answer says (options, steps, catch-alls, gaps and explanations), as
    if they were not in the directory."""


def when_needed(at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """The moment a search is for: default now; a time without a zone is Europe/London (the README says so).
    It must fall in 2000-2100, like every date the directory holds."""
    if at is None:
        return now
    # The year is checked before any arithmetic: dates at the ends of the calendar overflow it.
    if not EARLIEST.year <= at.year <= LATEST_DATE.year:
        raise InvalidInput((FieldProblem(field="at", reason="must be between 2000 and 2100"),))
    return at if at.tzinfo is not None else london_instant(at).astimezone(LONDON)
