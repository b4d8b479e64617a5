"""Domain rules a service, area or site must meet beyond its types."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from service.domain.model import AreaBody, Polygon, ServiceBody, SiteBody
from service.domain.validation import area_problems, service_problems, site_problems

NEEDS = frozenset({"mental_health", "alcohol", "mental_health_crisis"})
CIRCS = frozenset({"admits_offence", "intoxicated", "known_to_yos"})
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)

BASE = {
    "slug": "a-service",
    "name": "A service",
    "organisation": "An organisation",
    "kind": "triage_line",
    "contexts": ["street"],
    "access_modes": ["phone"],
    "catchment": {"type": "national"},
}


def body(**changes: object) -> ServiceBody:
    return msgspec.convert({**BASE, **changes}, ServiceBody)


def fields(b: ServiceBody) -> list[str]:
    return [p.field for p in service_problems(b, NEEDS, CIRCS, NOW)]


BOWTIE = {"type": "Polygon", "coordinates": [[[-1, 52], [0, 53], [0, 52], [-1, 53], [-1, 52]]]}
SQUARE = {"type": "Polygon", "coordinates": [[[-1, 52], [0, 52], [0, 53], [-1, 53], [-1, 52]]]}


def test_a_plain_national_phone_line_has_no_problems() -> None:
    assert fields(body()) == []


def test_min_age_above_max_age_is_rejected_naming_min() -> None:
    assert fields(body(eligibility={"age": {"min": 25, "max": 18}})) == ["eligibility.age.min"]


def test_equal_min_and_max_age_is_an_empty_range_and_rejected() -> None:
    assert fields(body(eligibility={"age": {"min": 18, "max": 18}})) == ["eligibility.age.min"]


def test_an_open_ended_age_range_is_fine() -> None:
    assert fields(body(eligibility={"age": {"min": 18}})) == []
    assert fields(body(eligibility={"age": {"max": 18}})) == []


def test_ages_below_0_or_above_130_do_not_decode() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.eligibility\.age\.min"):
        body(eligibility={"age": {"min": -1}})
    with pytest.raises(msgspec.ValidationError, match=r"\$\.eligibility\.age\.max"):
        body(eligibility={"age": {"max": 131}})


def test_unknown_needs_are_named_by_position() -> None:
    assert fields(body(eligibility={"needs": ["alcohol", "astrology"]})) == ["eligibility.needs[1]"]


def test_unknown_circumstances_are_named_by_position() -> None:
    b = body(eligibility={"circumstances_required": ["admits_offence"], "circumstances_excluded": ["moon_phase"]})
    assert fields(b) == ["eligibility.circumstances_excluded[0]"]


def test_a_circumstance_cannot_be_both_required_and_excluded() -> None:
    b = body(eligibility={"circumstances_required": ["intoxicated"], "circumstances_excluded": ["intoxicated"]})
    assert fields(b) == ["eligibility.circumstances_excluded"]


def test_a_radius_catchment_needs_a_location() -> None:
    assert fields(body(catchment={"type": "radius", "km": 10})) == ["catchment"]


def test_a_handover_service_needs_a_location_but_a_phone_line_does_not() -> None:
    assert fields(body(access_modes=["handover"])) == ["location"]
    assert fields(body(access_modes=["phone"])) == []


def test_swapped_lat_lon_is_outside_plausible_bounds() -> None:
    assert fields(body(location={"lon": 53.7, "lat": -0.3})) == ["location"]


def test_a_self_intersecting_polygon_catchment_is_rejected() -> None:
    assert fields(body(catchment={"type": "polygon", "geometry": BOWTIE})) == ["catchment.geometry"]


def test_a_simple_polygon_catchment_is_accepted() -> None:
    assert fields(body(catchment={"type": "polygon", "geometry": SQUARE})) == []


def test_an_unclosed_ring_is_rejected_naming_the_ring() -> None:
    ring = [[-1, 52], [0, 52], [0, 53], [-1, 53]]
    problems = fields(body(catchment={"type": "polygon", "geometry": {"type": "Polygon", "coordinates": [ring]}}))
    assert problems == ["catchment.geometry.coordinates[0]"]


def test_a_session_that_opens_and_closes_at_the_same_time_is_rejected() -> None:
    b = body(schedule={"weekly": [{"day": "mon", "opens": "09:00", "closes": "09:00"}]})
    assert fields(b) == ["schedule.weekly[0]"]


def test_a_session_running_past_midnight_is_allowed() -> None:
    assert fields(body(schedule={"weekly": [{"day": "fri", "opens": "22:00", "closes": "02:00"}]})) == []


def test_special_bank_holiday_hours_need_at_least_one_range() -> None:
    assert fields(body(schedule={"bank_holidays": {"mode": "special"}})) == ["schedule.bank_holidays.hours"]


def test_two_exceptions_on_one_date_are_rejected() -> None:
    b = body(schedule={"exceptions": [{"date": "2026-12-25"}, {"date": "2026-12-25"}]})
    assert fields(b) == ["schedule.exceptions"]


def test_an_area_with_a_bowtie_boundary_is_rejected() -> None:
    area = AreaBody(kind="custom", name="x", boundary=msgspec.convert(BOWTIE, Polygon))
    assert [p.field for p in area_problems(area)] == ["boundary"]


def test_a_site_outside_england_and_wales_is_rejected() -> None:
    site = msgspec.convert(
        {"slug": "x", "name": "X", "kind": "court", "location": {"lon": 2.35, "lat": 48.85}}, SiteBody
    )
    assert [p.field for p in site_problems(site)] == ["location"]
