"""Reusable constrained types. The constraints live here so they reach both validation and the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

Slug = Annotated[
    str,
    Meta(
        pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
        min_length=1,
        max_length=80,
        description="Stable lower-case identifier: letters, digits and single hyphens.",
        examples=["hull-womens-custody-triage"],
    ),
]
Code = Annotated[
    str,
    Meta(pattern=r"^[a-z][a-z0-9_]*$", max_length=64, description="A code from a versioned list."),
]
AreaCode = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,31}$",
        description="Area code, e.g. an ONS GSS code such as E23000011.",
        examples=["E23000011"],
    ),
]
Lon = Annotated[float, Meta(ge=-180.0, le=180.0, description="Longitude, WGS84 degrees.")]
Lat = Annotated[float, Meta(ge=-90.0, le=90.0, description="Latitude, WGS84 degrees.")]
AgeYears = Annotated[float, Meta(ge=0.0, le=130.0, description="Age in years; decimals allowed.")]
ClockTime = Annotated[
    str, Meta(pattern=r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$", description="Local time HH:MM, Europe/London.")
]
CloseTime = Annotated[
    str,
    Meta(
        pattern=r"^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
        description="Local closing time HH:MM (24:00 allowed). At or before the opening time means the next day.",
    ),
]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, Meta(max_length=200)]
LongText = Annotated[str, Meta(max_length=4000)]
Priority = Annotated[int, Meta(ge=1, le=10, description="Commissioner-set pathway priority: 1 is the highest.")]
Minutes = Annotated[int, Meta(ge=0, le=1440)]
PhoneNumber = Annotated[str, Meta(pattern=r"^\+?[0-9][0-9 ()-]{1,22}[0-9]$", examples=["0300 123 4567"])]
Email = Annotated[str, Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Url = Annotated[str, Meta(pattern=r"^https?://[^\s]+$", max_length=2000)]
Postcode = Annotated[
    str, Meta(pattern=r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?(?:[0-9][A-Za-z]{2})?$", examples=["HU1 2AA"])
]

ServiceKind = Literal[
    "place_of_safety",
    "street_triage",
    "triage_line",
    "liaison_diversion",
    "diversion_scheme",
    "womens_centre",
    "young_adult_transition",
    "youth_justice",
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
