"""A referral to a service full or closed at its moment is recorded with a warning: which, when, and in what words."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from service.domain.model import Service
from service.outcomes.referral_warnings import referral_warnings, standing_at

NIGHT = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)  # Monday 03:00 in London (GMT)
WEEKDAYS = [{"day": d, "opens": "09:00", "closes": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")]


def service(**fields: Any) -> Service:
    base: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "version": 1,
        "created_at": NIGHT.isoformat(),
        "updated_at": NIGHT.isoformat(),
        "slug": "s",
        "name": "S",
        "organisation": "O",
        "kind": "other",
        "contexts": ["custody", "street", "court", "community"],
        "access_modes": ["phone"],
        "catchment": {"type": "national"},
        "schedule": {"open_24_7": True},
    }
    return msgspec.convert({**base, **fields}, Service)


def codes(s: Service, at: dt.datetime = NIGHT, context: str = "custody") -> list[str]:
    return [w.code for w in referral_warnings(s, context, at)]


def full(until: str | None, note: str = "") -> dict[str, Any]:
    return {"status": "full", "until": until, "note": note}


def test_a_service_open_with_room_gives_no_warning() -> None:
    assert referral_warnings(service(capacity={"status": "available"}), "street", NIGHT) == ()
    assert standing_at(service(), "street", NIGHT) == ()


def test_a_full_service_warns_until_when_with_the_providers_note_and_says_it_was_recorded_anyway() -> None:
    s = service(capacity=full("2026-12-07T06:00:00Z", "beds after the morning round"))
    [warning] = referral_warnings(s, "custody", NIGHT)
    assert warning.code == "SERVICE_FULL_AT_REFERRAL"
    assert warning.text == (
        "the service was full until Mon 07 Dec 06:00 (beds after the morning round) at that moment; recorded anyway"
    )
    assert standing_at(s, "custody", NIGHT) == ("full until Mon 07 Dec 06:00 (beds after the morning round)",)


def test_full_with_no_until_stays_full_and_says_just_full() -> None:
    [warning] = referral_warnings(service(capacity=full(None)), "custody", NIGHT)
    assert warning.text == "the service was full at that moment; recorded anyway"


def test_a_capacity_that_ran_out_before_the_moment_given_warns_nothing_though_the_record_keeps_only_the_hour() -> None:
    s = service(capacity=full("2026-12-07T03:30:00Z"))
    assert codes(s, NIGHT + dt.timedelta(minutes=20)) == ["SERVICE_FULL_AT_REFERRAL"]
    assert codes(s, NIGHT + dt.timedelta(minutes=40)) == []


def test_an_immediate_access_service_closed_at_that_moment_warns_when_it_next_opens() -> None:
    s = service(access_modes=["walk_in", "appointment"], schedule={"weekly": WEEKDAYS})
    [warning] = referral_warnings(s, "custody", NIGHT)
    assert warning.code == "SERVICE_CLOSED_AT_REFERRAL"
    assert warning.text == "the service was closed until Mon 07 Dec 09:00 at that moment; recorded anyway"
    assert codes(s, NIGHT.replace(hour=10)) == []


def test_an_immediate_access_service_with_no_hours_ahead_is_closed_with_no_opening_said() -> None:
    s = service(schedule={"weekly": []})
    assert standing_at(s, "street", NIGHT) == ("closed, with no opening in the next 8 days",)


def test_an_appointment_only_service_is_never_closed_for_a_referral() -> None:
    assert codes(service(access_modes=["appointment"], schedule={"weekly": WEEKDAYS})) == []


def test_a_community_referral_waits_for_opening_hours_so_is_never_closed() -> None:
    assert codes(service(access_modes=["walk_in"], schedule={"weekly": WEEKDAYS}), context="community") == []


def test_a_service_not_active_is_closed_whatever_its_hours_or_access() -> None:
    s = service(access_modes=["appointment"], status="temporarily_closed")
    [warning] = referral_warnings(s, "community", NIGHT)
    assert warning.code == "SERVICE_CLOSED_AT_REFERRAL"
    assert warning.text == "the service was temporarily closed at that moment; recorded anyway"


def test_a_service_both_closed_and_full_warns_closed_then_full() -> None:
    s = service(schedule={"weekly": WEEKDAYS}, capacity=full("2026-12-07T12:00:00Z"))
    assert codes(s) == ["SERVICE_CLOSED_AT_REFERRAL", "SERVICE_FULL_AT_REFERRAL"]
    assert standing_at(s, "street", NIGHT) == ("closed until Mon 07 Dec 09:00", "full until Mon 07 Dec 12:00")
