"""Reusable constrained types. The constraints live here so they reach both validation and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta


def whole(pattern: str) -> str:
    """`pattern` matching the whole string. Python's `$` also matches before a final newline (so "x\n" would pass
    as a slug); the lookahead makes it mean the end, as it does in the OpenAPI document's (ECMA) regexes."""
    return f"^(?:{pattern})$(?!\\n)"


SINGLE_LINE = whole(r"[^\x00-\x1f\x7f]*")
"""No control characters at all: names and labels are one line, and NUL can never reach PostgreSQL."""
MULTI_LINE = whole(r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*")
"""Tabs and line breaks allowed; other control characters (NUL included) are not."""

REFERENCE = whole(r"[A-Za-z0-9-]{1,80}")
"""An id (UUID) or a slug."""
AREA_CODE = whole(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,31}")
CODE = whole(r"[a-z][a-z0-9_]*")
"""A code from one of the versioned lists (needs, circumstances, ...)."""
IDENTIFIER = whole(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
"""An id as another standard has it (Open Referral, FHIR): a UUID, a slug or a dotted name."""

SLUG = whole(r"[a-z0-9]+(?:-[a-z0-9]+)*")
Slug = Annotated[
    str,
    Meta(
        pattern=SLUG,
        min_length=1,
        max_length=80,
        description="Stable lower-case identifier: letters, digits and single hyphens.",
        examples=["hull-womens-custody-triage"],
    ),
]
Code = Annotated[
    str,
    Meta(pattern=CODE, max_length=64, description="A code from a versioned list."),
]
AreaCode = Annotated[
    str,
    Meta(
        pattern=AREA_CODE,
        description="Area code, e.g. an ONS GSS code such as E23000011.",
        examples=["E23000011"],
    ),
]
Lon = Annotated[float, Meta(ge=-180.0, le=180.0, description="Longitude, WGS84 degrees.")]
Lat = Annotated[float, Meta(ge=-90.0, le=90.0, description="Latitude, WGS84 degrees.")]
AgeYears = Annotated[float, Meta(ge=0.0, le=130.0, description="Age in years; decimals allowed.")]
ClockTime = Annotated[
    str, Meta(pattern=whole(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"), description="Local time HH:MM, Europe/London.")
]
CloseTime = Annotated[
    str,
    Meta(
        pattern=whole(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00"),
        description="Local closing time HH:MM (24:00 allowed). At or before the opening time means the next day.",
    ),
]
AwareDateTime = Annotated[
    dt.datetime, Meta(tz=True, description="An RFC 3339 date-time with its offset (Z or +01:00); required.")
]
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=SINGLE_LINE)]
ShortText = Annotated[str, Meta(max_length=200, pattern=SINGLE_LINE)]
LongText = Annotated[str, Meta(max_length=4000, pattern=MULTI_LINE)]
KeyName = Annotated[str, Meta(min_length=1, max_length=100, pattern=SINGLE_LINE, description="Who holds the key.")]
Priority = Annotated[int, Meta(ge=1, le=10, description="Commissioner-set pathway priority: 1 is the highest.")]
Minutes = Annotated[int, Meta(ge=0, le=1440)]
PHONE = whole(r"\+?[0-9][0-9 ()-]{1,22}[0-9]")
PhoneNumber = Annotated[str, Meta(pattern=PHONE, examples=["0300 123 4567"])]
_EMAIL_PART = r"[^@\s\x00-\x1f\x7f]+"
EMAIL = whole(rf"{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}")
Email = Annotated[str, Meta(pattern=EMAIL, max_length=254)]
URL = whole(r"https?://[^\s\x00-\x1f\x7f]+")
Url = Annotated[str, Meta(pattern=URL, max_length=2000)]
POSTCODE = whole(r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?(?:[0-9][A-Za-z]{2})?")
Postcode = Annotated[str, Meta(pattern=POSTCODE, examples=["HU1 2AA"])]

ServiceKind = Literal[
    "place_of_safety",
    "street_triage",
    "triage_line",
    "liaison_diversion",
    "diversion_scheme",
    "womens_centre",
    "young_adult_transition",
    "youth_justice",
    "appropriate_adult",
    "probation",
    "substance_misuse",
    "housing",
    "learning_disability",
    "domestic_abuse",
    "crisis_house",
    "mental_health",
    "peer_support",
    "victim_support",
    "employment",
    "other",
]
Context = Literal["custody", "street", "court", "community"]
ResolvedFrom = Literal["point", "site", "postcode", "grid_reference"]
"""How a search's origin was given (service/domain/request.py's Origin)."""
PathwayRole = Literal[
    "consult", "assess", "place_of_safety", "divert", "refer_on", "advice", "appropriate_adult", "medical_care"
]
"""The step of a referral pathway a service is for (service/domain/pathway.py)."""
AccessMode = Literal["handover", "walk_in", "phone", "outreach", "appointment"]
Gender = Literal["female", "male", "non_binary", "other"]
Referrer = Literal["police", "liaison_diversion", "self", "professional"]
ReferralMethod = Literal["phone", "email", "form", "walk_in"]
CapacityStatus = Literal["available", "limited", "full", "unknown"]
ServiceStatus = Literal["active", "temporarily_closed", "closed"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
AreaKind = Literal["police_force_area", "local_authority", "custom"]
SiteKind = Literal["custody_suite", "court", "police_station", "hospital", "other"]
BankHolidayMode = Literal["closed", "normal", "special"]

PATTERN_WORDS: dict[str, str] = {
    SINGLE_LINE: "must be one line with no control characters",
    MULTI_LINE: "must not contain control characters other than tabs and line breaks",
    REFERENCE: "must be an id or a slug: letters, digits and hyphens",
    AREA_CODE: "must be an area code: letters, digits and _.:- (at most 32)",
    CODE: "must be a code: lower-case letters, digits and underscores",
    IDENTIFIER: "must be an id: letters, digits and _.:-",
    SLUG: "must be a slug: lower-case letters, digits and single hyphens",
    PHONE: "must be a phone number: digits, spaces, brackets and hyphens, perhaps starting with +",
    EMAIL: "must be an email address, like name@example.org",
    URL: "must be a web address starting with https:// or http://",
    POSTCODE: "must be a UK postcode, like HU1 2AA (or its district, like HU1)",
}
"""Plain words for the commonest patterns, used in problem details instead of the regex."""
