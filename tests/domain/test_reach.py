"""Whether a member of the public can reach a service themselves (service/domain/reach.py): the rule behind the
public mode, which leaves out every service with no public way in."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from service.domain.answer import Gap
from service.domain.gap_words import in_words
from service.domain.model import ServiceBody, ServiceRecord
from service.domain.reach import public_gap, public_ways_in, reachable_by_public, takes_the_person_themselves
from service.settings import PROJECT_ROOT

HULL = {"lon": -0.33, "lat": 53.74}


def service(**fields: Any) -> ServiceBody:
    """A service with a professionals-only line and no other contact, taking only police referrals, unless told."""
    body: dict[str, Any] = {
        "slug": "a-service",
        "name": "A service",
        "organisation": "An organisation",
        "kind": "liaison_diversion",
        "contexts": ["custody"],
        "access_modes": ["phone"],
        "catchment": {"type": "national"},
        "referral": {"referrers": ["police"], "methods": ["phone"]},
        "contacts": {"phones": [{"number": "01632 960100", "professionals_only": True}]},
        **fields,
    }
    return msgspec.convert(body, ServiceBody)


PUBLIC_LINE = {"number": "0800 000 0000"}
DUTY_LINE = {"number": "01632 960100", "professionals_only": True}


def test_a_service_whose_every_phone_is_for_professionals_and_with_nothing_else_has_no_public_way_in() -> None:
    s = service(referral={"referrers": ["self", "police"]})
    assert public_ways_in(s) == ()
    assert not reachable_by_public(s)


def test_a_custody_team_with_a_public_website_that_only_professionals_may_refer_to_is_not_for_the_public() -> None:
    s = service(
        referral={"referrers": ["police", "professional"]},
        contacts={"phones": [DUTY_LINE], "website": "https://example.org/liaison"},
    )
    assert public_ways_in(s) == ("website",)  # people can read about it...
    assert not takes_the_person_themselves(s)  # ...but cannot refer themselves
    assert not reachable_by_public(s)


def test_a_place_of_safety_that_only_the_police_hand_people_over_to_is_not_for_the_public() -> None:
    s = service(
        kind="place_of_safety",
        access_modes=["handover"],
        location=HULL,
        contacts={"phones": [DUTY_LINE], "address": {"lines": ["1 Hospital Road"], "town": "Hull"}},
    )
    assert not reachable_by_public(s)


def test_an_emergency_department_people_walk_in_to_is_for_the_public_though_its_only_phone_is_the_polices() -> None:
    s = service(
        kind="other",
        access_modes=["handover", "walk_in"],
        location=HULL,
        referral={"referrers": ["police", "self", "professional"], "methods": ["walk_in", "phone"]},
    )
    assert public_ways_in(s) == ("walk_in",)
    assert reachable_by_public(s)


def test_a_helpline_with_a_public_number_that_takes_self_referrals_is_for_the_public() -> None:
    s = service(kind="housing", referral={"referrers": ["self"]}, contacts={"phones": [PUBLIC_LINE]})
    assert public_ways_in(s) == ("phone",)
    assert reachable_by_public(s)


def test_a_public_number_beside_a_professionals_line_is_a_way_in() -> None:
    s = service(referral={"referrers": ["police", "self"]}, contacts={"phones": [DUTY_LINE, PUBLIC_LINE]})
    assert reachable_by_public(s)


def test_an_email_address_or_a_website_is_a_way_in_for_a_service_that_takes_self_referrals() -> None:
    for contacts in ({"email": "help@example.org"}, {"website": "https://example.org"}):
        assert reachable_by_public(service(referral={"referrers": ["self"]}, contacts=contacts)), contacts


def test_an_address_is_no_way_in_to_a_service_taken_by_appointment_only() -> None:
    s = service(
        access_modes=["appointment"],
        referral={"referrers": ["self"]},
        contacts={"phones": [DUTY_LINE], "address": {"lines": ["2 High Street"], "town": "Hull"}},
    )
    assert public_ways_in(s) == ()
    assert not reachable_by_public(s)


def test_walking_in_is_a_way_in_only_with_a_place_to_walk_in_to() -> None:
    nowhere = service(access_modes=["phone"], referral={"referrers": ["self"], "methods": ["walk_in"]})
    assert not reachable_by_public(nowhere)
    addressed = service(
        access_modes=["phone"],
        referral={"referrers": ["self"], "methods": ["walk_in"]},
        contacts={"address": {"lines": ["2 High Street"], "town": "Hull"}},
    )
    assert public_ways_in(addressed) == ("walk_in",)


def test_a_service_that_does_not_say_who_may_refer_is_judged_by_its_contacts_alone() -> None:
    assert reachable_by_public(service(referral={}, contacts={"phones": [PUBLIC_LINE]}))
    assert not reachable_by_public(service(referral={}))


def test_in_the_demo_directory_the_professionals_services_are_left_out_and_the_publics_kept() -> None:
    document = json.loads((PROJECT_ROOT / "geodata" / "demo" / "directory.json").read_bytes())
    services = {s.slug: s for s in msgspec.convert(document["services"], list[ServiceRecord])}
    kept = {slug for slug, s in services.items() if reachable_by_public(s)}
    for left_out in (
        "humber-liaison-and-diversion",  # L&D: police and professionals refer, a duty line
        "hull-womens-custody-triage",  # custody triage
        "hull-place-of-safety",  # police handover only
        "humberside-appropriate-adult-service",
        "gm-mental-health-triage-line",  # officers' line
    ):
        assert left_out not in kept, left_out
    for public in (
        "together-women-project-hull",
        "nhs-111-option-2",
        "hull-emergency-department",  # walk in
        "humberside-mental-health-crisis-line",  # a public number beside the professionals' line
        "national-support-signposting-line",
    ):
        assert public in kept, public


def test_a_public_gap_where_none_the_public_can_reach_serves_here_never_says_none_is_in_the_directory() -> None:
    gap = Gap(
        code="NONE_SERVE_HERE", text="No places of safety in the directory serve this area.", serving=0, by_reason={}
    )
    text = public_gap(gap, "place_of_safety", None, 30).text
    assert text == "No places of safety here that the public can contact directly."
    caught = public_gap(gap, "place_of_safety", "Hull Royal Infirmary A&E", 30).text
    assert caught == (
        "No places of safety here that the public can contact directly but the catch-all: "
        "take them to Hull Royal Infirmary A&E."
    )


def test_a_public_gap_for_the_appropriate_adult_keeps_what_the_law_still_requires() -> None:
    gap = Gap(code="NONE_SERVE_HERE", text="…", serving=0, by_reason={})
    assert "still required by law (PACE Code C)" in public_gap(gap, "appropriate_adult", None, 15).text


def test_a_public_gap_counting_the_services_that_serve_here_stays_as_it_is() -> None:
    gap = Gap(
        code="NONE_CAN_TAKE",
        text="1 place of safety serves here; none can take this person now: 1 is full.",
        serving=1,
        by_reason={"FULL": 1},
    )
    assert public_gap(gap, "place_of_safety", None, 30) is gap


def test_a_public_gap_whose_services_all_fail_on_age_never_says_what_the_directory_names() -> None:
    text = in_words("divert", 2, {"AGE_BELOW_MIN": 2}, None, (18.0, float("-inf"), 2), 16, None)
    gap = Gap(code="NONE_CAN_TAKE", text=text, serving=2, by_reason={"AGE_BELOW_MIN": 2})
    assert "the directory" in text
    said = public_gap(gap, "divert", None, 16).text
    assert said == (
        "No diversion service here takes under-18s, and there is no alternative here that the public can contact "
        "directly."
    )
