"""Appropriate adults in police custody (PACE Code C): who must have one, and what the answer says
(service/domain/appropriate_adult.py, the routing rule, and the custody steps)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from service.domain.appropriate_adult import appropriate_adult_required, none_here_in_words, required_in_words
from service.domain.model import Point, Service
from service.domain.pathway import required_steps
from service.domain.request import Person
from service.domain.routing import Situation, appropriate_adult_only_when_required, meets_a_need
from service.domain.schedule import OpeningState

AT = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
CLOSED = OpeningState(open_now=False, open_24_7=False)


def scheme(**eligibility: Any) -> Service:
    return msgspec.convert(
        {
            "id": str(uuid.uuid4()),
            "version": 1,
            "created_at": AT.isoformat(),
            "updated_at": AT.isoformat(),
            "slug": "aa",
            "name": "Appropriate adult scheme",
            "organisation": "o",
            "kind": "appropriate_adult",
            "contexts": ["custody"],
            "access_modes": ["phone"],
            "catchment": {"type": "national"},
            "eligibility": eligibility,
            "schedule": {"open_24_7": True},
        },
        Service,
    )


def situation(context: str = "custody", **person: Any) -> Situation:
    return Situation(
        person=Person(**{"age": 30, **person}),
        context=context,  # type: ignore[arg-type]
        at=AT,
        origin=Point(lon=-0.1, lat=51.5),
        origin_areas=frozenset(),
        detention_window=dt.timedelta(hours=24),
    )


def test_pace_code_c_requires_an_appropriate_adult_for_anyone_under_18_in_custody() -> None:
    assert appropriate_adult_required("custody", 17.99, (), ())
    assert appropriate_adult_required("custody", 10, ("alcohol",), ())
    assert not appropriate_adult_required("custody", 18, (), ())


def test_pace_code_c_requires_an_appropriate_adult_for_a_possibly_mentally_vulnerable_adult_in_custody() -> None:
    assert appropriate_adult_required("custody", 30, ("learning_disability",), ())
    assert appropriate_adult_required("custody", 45, ("autism", "alcohol"), ())
    assert appropriate_adult_required("custody", 70, (), ("mentally_vulnerable",))
    assert not appropriate_adult_required("custody", 30, ("alcohol", "housing"), ("admits_offence",))


def test_an_appropriate_adult_is_a_custody_step_not_a_street_court_or_community_one() -> None:
    for context in ("street", "court", "community"):
        assert not appropriate_adult_required(context, 15, ("learning_disability",), ("mentally_vulnerable",))


def test_in_custody_a_child_or_a_vulnerable_adult_has_the_appropriate_adult_step_first() -> None:
    child = [s.role for s in required_steps("custody", ("alcohol",), (), 16.5)]
    assert child == ["appropriate_adult", "assess", "divert", "refer_on"]
    vulnerable = [s.role for s in required_steps("custody", ("learning_disability",), (), 30)]
    assert vulnerable[0] == "appropriate_adult"
    assert [s.role for s in required_steps("custody", ("alcohol",), (), 30)] == ["assess", "divert", "refer_on"]
    assert [s.role for s in required_steps("court", ("alcohol",), (), 16)] == ["assess", "divert", "refer_on"]


def test_the_step_says_it_is_a_legal_requirement_and_why() -> None:
    text = required_in_words(16, ("autism",), ())
    assert text.startswith("Required by law (PACE Code C), not optional: ")
    assert "under 18" in text and "mentally vulnerable" in text


def test_with_no_scheme_in_the_directory_the_gap_says_who_else_may_act() -> None:
    assert "parent or guardian" in none_here_in_words(15)
    assert "relative, guardian or carer" in none_here_in_words(40)
    assert all("required by law" in none_here_in_words(age) for age in (15, 40))


def test_an_appropriate_adult_scheme_is_offered_whatever_the_needs_when_the_law_requires_one() -> None:
    s = scheme(age={"max": 18})
    child = situation(age=15, needs=("housing",))
    assert meets_a_need(s, child, CLOSED) is None
    assert appropriate_adult_only_when_required(s, child, CLOSED) is None


def test_an_appropriate_adult_scheme_is_never_offered_when_the_law_does_not_require_one() -> None:
    s = scheme()
    refused = appropriate_adult_only_when_required(s, situation(age=30, needs=("alcohol",)), CLOSED)
    assert refused is not None and refused.code == "APPROPRIATE_ADULT_NOT_REQUIRED"
    street = situation("street", age=15)
    assert appropriate_adult_only_when_required(s, street, CLOSED) is not None
