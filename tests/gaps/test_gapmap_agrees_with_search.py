"""Gap maps agree with the search: for random directories and random cells (a site, a step, a need, an age, a
gender, a moment), a search with those inputs then gives the step no option exactly when the gap map says
`no_option`, with the same reason; none within the travel limit exactly when it says `beyond_travel` or worse; and
only phone lines exactly when it says `phone_only`."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.bands import age_band
from service.domain.model import Point, Service, Site
from service.domain.pathway import required_steps
from service.domain.request import Person, ReferralRequest, SiteOrigin
from service.gaps.compute import compute, gather
from service.gaps.model import GapMap, time_band, week_moments
from service.index.engine import DirectoryIndex, IndexConfig
from tests.index.test_index_properties import AREAS, AT, NEEDS, VOCAB, directories, lats, lons

CONTEXTS = ("custody", "street", "court", "community")


def build(services: list[Service], lon: float, lat: float) -> DirectoryIndex:
    site = Site(
        id=uuid.uuid4(),
        version=1,
        updated_at=AT,
        slug="the-suite",
        name="The suite",
        kind="custody_suite",
        location=Point(lon=lon, lat=lat),
    )
    return DirectoryIndex.build(
        services=services,
        areas=AREAS,
        sites=[site],
        postcodes={},
        vocab=VOCAB,
        version=1,
        config=IndexConfig(kind_cap=50),  # every option listed, so "only phone lines" can be seen
        now=AT,
    )


def area_of(index: DirectoryIndex) -> str:
    return sorted(index.places.site_resolutions["the-suite"].codes)[0]


def step_options(index: DirectoryIndex, person: Person, context: str, at: dt.datetime, travel: int | None) -> dict:  # type: ignore[type-arg]
    request = ReferralRequest(
        origin=SiteOrigin(site="the-suite"),
        context=context,  # type: ignore[arg-type]
        person=person,
        step_limit=50,
        limit=50,
        max_travel_minutes=travel,
    )
    where = index.places.site_resolutions["the-suite"]
    answer = index.search(request, at=at, where=where, origin_label="x", resolved_from="site")
    return {s.role: s for s in answer.steps}


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    services=directories(),
    lon=lons,
    lat=lats,
    context=st.sampled_from(CONTEXTS),
    need=st.sampled_from(NEEDS),
    age=st.sampled_from([10.0, 16.0, 17.0, 18.0, 22.0, 30.0, 60.0]),
    gender=st.sampled_from(["female", "male", "non_binary", "other", "not_stated"]),
    hours=st.integers(-20, 200),
    travel=st.sampled_from([5, 30, 90]),
)
def test_a_gap_map_cell_says_what_a_search_with_its_inputs_at_its_moment_shows(
    services: list[Service],
    lon: float,
    lat: float,
    context: str,
    need: str,
    age: float,
    gender: str,
    hours: int,
    travel: int,
) -> None:
    agree(services, lon, lat, context, need, age, gender, AT + dt.timedelta(hours=hours, minutes=30), travel)


def agree(
    services: list[Service],
    lon: float,
    lat: float,
    context: str,
    need: str,
    age: float,
    gender: str,
    moment: dt.datetime,
    travel: int,
) -> dict[str, str]:
    """Check every step of the cell against the searches, and return each step's status."""
    index = build(services, lon, lat)
    band = age_band(age)
    gap_map = compute(gather(index, area_of(index), context, [moment], travel, {band: (age,)}))  # type: ignore[arg-type]
    person = Person(age=age, gender=gender, needs=(need,))  # type: ignore[arg-type]
    unlimited = step_options(index, person, context, moment, None)
    limited = step_options(index, person, context, moment, travel)
    plan = required_steps(context, (need,), (), age)  # type: ignore[arg-type]
    assert [s.role for s in plan] == [role for role in unlimited if role in {s.role for s in plan}]
    statuses: dict[str, str] = {}
    for step in plan:
        cell = cell_of(gap_map, step.role, need, band, gender, moment)
        status = cell.status if cell else "covered"
        none_at_all = not unlimited[step.role].options
        assert (status == "no_option") == none_at_all, (step.role, status)
        if none_at_all:
            gap = unlimited[step.role].gap
            assert gap is not None and cell is not None and cell.reason == gap.reason
            assert cell.no_option_share == 1.0
        near = limited[step.role].options
        assert (status in ("no_option", "beyond_travel")) == (not near), (step.role, status)
        if near:
            by_slug = {s.slug: s for s in services}
            phones_only = all(set(by_slug[o.service.slug].access_modes) <= {"phone"} for o in near)
            assert (status == "phone_only") == phones_only, (step.role, status)
        statuses[step.role] = status if status != "no_option" else f"no_option:{cell.reason if cell else ''}"
    return statuses


def cell_of(gap_map: GapMap, step: str, need: str, band: str, gender: str, moment: dt.datetime):  # type: ignore[no-untyped-def]
    for cell in gap_map.cells:
        if (cell.step, cell.need, cell.age_band, cell.gender, cell.time_band) == (
            step,
            need,
            band,
            gender,
            time_band(moment),
        ):
            return cell
    return None


def test_a_week_has_168_hourly_moments_in_four_bands_by_the_london_clock() -> None:
    moments = week_moments(dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC))
    assert len(moments) == 168 and moments[0] == dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
    bands = [time_band(m) for m in moments]
    assert (bands.count("weekday_day"), bands.count("weekday_evening")) == (50, 20)
    assert (bands.count("night"), bands.count("weekend_day")) == (70, 28)


def one(slug: str, **changes: object) -> Service:
    """A divert-step service for mental health in custody, open in working hours, at the site, changed as told."""
    record: dict[str, object] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, slug)),
        "version": 1,
        "created_at": AT.isoformat(),
        "updated_at": AT.isoformat(),
        "slug": slug,
        "name": slug,
        "organisation": "o",
        "kind": "womens_centre",
        "contexts": ["custody"],
        "access_modes": ["walk_in"],
        "location": {"lon": -0.7, "lat": 52.5},
        "catchment": {"type": "areas", "codes": ["WEST"]},
        "eligibility": {"needs": ["mental_health"]},
        "schedule": {"weekly": [{"day": d, "opens": "09:00", "closes": "17:00"} for d in ("mon", "tue", "wed")]},
    }
    record.update(changes)
    return msgspec.convert(record, Service)


MONDAY_NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
SATURDAY_NOON = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def divert(services: list[Service], moment: dt.datetime = MONDAY_NOON, travel: int = 90, **kw: object) -> str:
    person: dict[str, object] = {"need": "mental_health", "age": 30.0, "gender": "female", **kw}
    return agree(services, -0.7, 52.5, "custody", moment=moment, travel=travel, **person)["divert"]  # type: ignore[arg-type]


def test_each_status_and_reason_of_a_cell_matches_the_search_in_a_hand_made_directory() -> None:
    assert divert([one("a")]) == "covered"
    assert divert([one("a")], SATURDAY_NOON) == "no_option:CLOSED"
    assert divert([one("a", access_modes=["appointment"])], SATURDAY_NOON) == "covered"  # appointments are booked
    assert divert([one("a", access_modes=["phone"])]) == "phone_only"
    assert divert([one("a", location={"lon": -0.99, "lat": 52.99})], travel=5) == "beyond_travel"
    assert divert([one("a", capacity={"status": "full"})]) == "no_option:FULL"
    assert divert([one("a", eligibility={"needs": ["mental_health"], "genders": ["male"]})]) == (
        "no_option:GENDER_NOT_ACCEPTED"
    )
    assert divert([one("a", eligibility={"needs": ["mental_health"], "age": {"max": 25}})]) == (
        "no_option:AGE_NOT_ACCEPTED"
    )
    assert divert([one("a", status="temporarily_closed")]) == "no_option:NOT_ACTIVE"
    assert divert([one("a", contexts=["community"])]) == "no_option:WRONG_CONTEXT"
    assert divert([one("a", catchment={"type": "areas", "codes": ["EAST"]})]) == "no_option:OUTSIDE_CATCHMENT"
    far_away = {"lon": 1.2, "lat": 52.5}
    assert (
        divert([one("a", location=far_away, catchment={"type": "areas", "codes": ["FAR"]})]) == "no_option:NO_SERVICE"
    )
    # A women's centre finds its cohort's needs (offered whatever the need) unless it says otherwise.
    assert divert([one("a", eligibility={"needs": ["housing"]})]) == "covered"
    assert divert([one("a", eligibility={"needs": ["housing"]}, finds_needs=False)]) == "no_option:NO_SERVICE"
