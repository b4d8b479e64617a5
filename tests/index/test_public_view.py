"""The public's view of the index (candidates.Candidates with `public`): a public-only search answers as if the
services the public cannot reach (service/domain/reach.py) were not in the directory at all, on random directories."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.answer import ReferralAnswer
from service.domain.model import Service
from service.domain.reach import reachable_by_public
from service.domain.request import Person
from tests.index.test_index_properties import AT, CONTEXTS, build, lats, lons, people, search, services


@st.composite
def reached_or_not(draw: st.DrawFn, slug: str) -> dict[str, Any]:
    """A random service of the property tests, taking the public or not, with a public way in or not."""
    service = draw(services(slug))
    service["referral"] = {
        "referrers": draw(st.lists(st.sampled_from(["police", "self", "professional"]), unique=True))
    }
    phones = draw(st.lists(st.booleans(), max_size=2))
    service["contacts"] = {
        "phones": [{"number": f"01632 96000{i}", "professionals_only": only} for i, only in enumerate(phones)],
        "website": draw(st.sampled_from([None, None, "https://example.org/help"])),
    }
    return service


@st.composite
def directories(draw: st.DrawFn) -> list[Service]:
    n = draw(st.integers(1, 12))
    return [msgspec.convert(draw(reached_or_not(f"s{i:02d}")), Service) for i in range(n)]


def named(answer: ReferralAnswer) -> set[str]:
    """Every service an answer names anywhere: options, steps, catch-alls, exclusions and near misses."""
    slugs = {o.service.slug for o in answer.options} | {f.service.slug for f in answer.fallbacks}
    for step in answer.steps:
        slugs |= {o.service.slug for o in step.options} | {f.service.slug for f in step.fallbacks}
    slugs |= {e.service.slug for e in (answer.excluded or ())} | {e.service.slug for e in (answer.near_misses or ())}
    return slugs


@given(
    svcs=directories(),
    person=people,
    context=st.sampled_from(CONTEXTS),
    lon=lons,
    lat=lats,
    travel=st.none() | st.integers(5, 90),
)
@settings(max_examples=150, deadline=None)
def test_a_public_only_answer_is_the_answer_of_the_directory_without_the_services_the_public_cannot_reach(
    svcs: list[Service], person: Person, context: str, lon: float, lat: float, travel: int | None
) -> None:
    kw = {"explain": True, "explain_limit": 50, "max_travel_minutes": travel, "public_only": True}
    whole = search(build(svcs), person, context, lon, lat, **kw)
    public = [s for s in svcs if reachable_by_public(s)]
    assert whole == search(build(public), person, context, lon, lat, **kw)
    assert named(whole) <= {s.slug for s in public}


@given(svcs=directories(), person=people, context=st.sampled_from(CONTEXTS), lon=lons, lat=lats)
@settings(max_examples=60, deadline=None)
def test_one_index_answers_the_public_and_everyone_alike_whichever_asked_first(
    svcs: list[Service], person: Person, context: str, lon: float, lat: float
) -> None:
    index = build(svcs)
    everyone = search(index, person, context, lon, lat, explain=True)
    public = search(index, person, context, lon, lat, explain=True, public_only=True)
    assert search(index, person, context, lon, lat, explain=True) == everyone
    assert search(build(svcs), person, context, lon, lat, explain=True, public_only=True) == public
    assert search(build(svcs), person, context, lon, lat, explain=True) == everyone


def test_a_service_that_stops_taking_the_public_leaves_the_public_view_at_once() -> None:
    line = msgspec.convert(
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "line")),
            "version": 1,
            "created_at": AT.isoformat(),
            "updated_at": AT.isoformat(),
            "slug": "a-helpline",
            "name": "A helpline",
            "organisation": "o",
            "kind": "housing",
            "contexts": ["custody"],
            "access_modes": ["phone"],
            "catchment": {"type": "national"},
            "eligibility": {"needs": ["housing"]},
            "schedule": {"open_24_7": True},
            "referral": {"referrers": ["self", "police"]},
            "contacts": {"phones": [{"number": "01632 960001"}]},
        },
        Service,
    )
    index = build([line])
    person = Person(age=30, needs=("housing",))
    assert [o.service.slug for o in search(index, person, "custody", -0.7, 52.5, public_only=True).options] == [
        "a-helpline"
    ]
    police_only = msgspec.structs.replace(line, referral=msgspec.structs.replace(line.referral, referrers=("police",)))
    index.apply(index.prepare([police_only], version=2))
    answer = search(index, person, "custody", -0.7, 52.5, explain=True, public_only=True)
    assert not named(answer) and answer.explanation is not None and answer.explanation.excluded_total == 0
    assert [o.service.slug for o in search(index, person, "custody", -0.7, 52.5).options] == ["a-helpline"]
