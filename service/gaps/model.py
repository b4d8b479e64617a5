"""Gap maps: where the pathway breaks, for every site of an area, every need, age band, gender and time band.

A cell is one site, one step of the pathway, one need, one age band, one gender and one time band. Its status is
the worst met at the band's sample moments and the age band's sample ages:
- `no_option`: the step has no option at all (a search there and then would show the step's gap);
- `beyond_travel`: it has options, but every one is further than the travel limit;
- `phone_only`: it has options within the limit, but only phone lines;
- `covered`: it has an option within the limit that is not only a phone line.

A step with no option says why: the first rule, in FUNNEL order (service/domain/gap_words.py), after which no service
of the step is left (the same reason a search gives its gap, Gap.reason). Searches count the gaps they meet by the
same reasons.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from msgspec import Struct

from service.domain.bands import AgeBand
from service.domain.gap_words import GapReason
from service.domain.request import PersonGender
from service.domain.schedule import LONDON
from service.domain.types import Context, PathwayRole

TimeBand = Literal["weekday_day", "weekday_evening", "night", "weekend_day"]
TIME_BANDS: tuple[TimeBand, ...] = ("weekday_day", "weekday_evening", "night", "weekend_day")
TIME_BAND_WORDS: dict[str, str] = {
    "weekday_day": "Weekdays 08:00 to 18:00",
    "weekday_evening": "Weekdays 18:00 to 22:00",
    "night": "Every night 22:00 to 08:00",
    "weekend_day": "Weekends 08:00 to 22:00",
}
SAMPLE_AGES: dict[AgeBand, tuple[float, ...]] = {
    "under_18": (10.0, 14.0, 17.0),
    "18_20": (18.0, 20.0),
    "21_24": (21.0, 24.0),
    "25_34": (25.0, 34.0),
    "35_54": (35.0, 54.0),
    "55_plus": (55.0, 75.0),
}
"""The ages at which each band is judged: its ends (10, the age of criminal responsibility, for children), and 14
and 75 besides. Services' age limits mostly fall on these edges."""
GENDERS: tuple[PersonGender, ...] = ("female", "male", "non_binary", "other", "not_stated")
Status = Literal["covered", "phone_only", "beyond_travel", "no_option"]
STATUSES: tuple[Status, ...] = ("covered", "phone_only", "beyond_travel", "no_option")
"""Best to worst."""
REASON_WORDS: dict[str, str] = {
    "NO_SERVICE": "No service for this need",
    "OUTSIDE_CATCHMENT": "Services nearby, but this place is outside their catchment",
    "NOT_ACTIVE": "Services here are closed or suspended",
    "WRONG_CONTEXT": "Services here do not take referrals in this context",
    "CIRCUMSTANCE_REQUIRED": "Services here are only for people in particular circumstances",
    "AGE_NOT_ACCEPTED": "Age not accepted",
    "POLICE_STATION_ONLY": "Only a police station, which s136 does not allow here",
    "GENDER_NOT_ACCEPTED": "Gender not accepted",
    "CLOSED": "Closed at that time",
    "FULL": "Full",
    "TOO_FAR": "Beyond the travel limit",
}
DEFAULT_TRAVEL_MINUTES = 60


def time_band(moment: dt.datetime) -> TimeBand:
    """The band a moment falls in, by Europe/London's clock."""
    local = moment.astimezone(LONDON)
    hour, weekend = local.hour, local.weekday() >= 5
    if hour >= 22 or hour < 8:
        return "night"
    if weekend:
        return "weekend_day"
    return "weekday_day" if hour < 18 else "weekday_evening"


def week_moments(start: dt.datetime) -> tuple[dt.datetime, ...]:
    """The sample moments of a week: every hour on the hour for 7 days from the first whole hour at or after `start`
    (168 moments: 50 weekday days, 20 weekday evenings, 70 nights, 28 weekend days)."""
    first = start.astimezone(dt.UTC)
    if first.minute or first.second or first.microsecond:
        first = first.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    return tuple(first + dt.timedelta(hours=h) for h in range(7 * 24))


class GapCell(Struct, frozen=True, kw_only=True):
    site: str
    """The site's slug."""
    step: PathwayRole
    need: str
    age_band: AgeBand
    gender: PersonGender
    time_band: TimeBand
    status: Status
    """The worst status met at the band's sample moments and ages."""
    no_option_share: float
    """The share of the samples (moments x ages) at which the step had no option at all."""
    reason: GapReason | None
    """The commonest reason among the samples with no option (ties: the earlier in FUNNEL)."""


class SiteRef(Struct, frozen=True, kw_only=True):
    id: str
    slug: str
    name: str
    kind: str
    district: str | None
    lon: float
    lat: float


class GapMap(Struct, frozen=True, kw_only=True):
    area: str
    area_name: str
    context: Context
    directory_version: int
    week_from: dt.datetime
    travel_minutes: int
    sites: tuple[SiteRef, ...]
    steps: tuple[PathwayRole, ...]
    needs: tuple[str, ...]
    age_bands: tuple[AgeBand, ...]
    genders: tuple[PersonGender, ...]
    time_bands: tuple[TimeBand, ...]
    cells: tuple[GapCell, ...]
    """Only the cells that are not `covered` (every other combination of the lists above is covered, where the
    step is part of the pathway for that need and age)."""
    cells_total: int
    """How many cells there are in all (covered included)."""
    by_status: dict[str, int]
    by_reason: dict[str, int]


def gap_csv(gap_map: GapMap) -> str:
    """The cells that are not covered, one a line (every other cell of the lists is covered)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["site", "step", "need", "age_band", "gender", "time_band", "status", "no_option_share", "reason"])
    for c in gap_map.cells:
        row = [c.site, c.step, c.need, c.age_band, c.gender, c.time_band, c.status, f"{c.no_option_share:.3f}"]
        writer.writerow([*row, c.reason or ""])
    return out.getvalue()
