"""Whether a member of the public can reach a service themselves: the rule behind the public mode of the search and
the pages (`public_only`), which leaves out every service with no public way in, as if it were not in the directory.

A service is for the public when both hold:
- **it takes the person themselves**: `self` is among its referrers (service/domain/model.py `Referral`). A service
  only the police or other professionals may refer to is not, whatever its contacts: a custody L&D team or a
  health-based place of safety with a public website still takes no one who comes to it alone. A service that does
  not say who may refer (no referrers) is judged by its contacts alone: leaving out a public line for want of a
  field would hide help from the people the public mode is for;
- **it has a way in that the public can use**: a phone not marked professionals-only (service/domain/audience.py),
  an email address, a website, or a place to walk in to (walk-in access, or walk-in referral, and a location or an
  address). An address alone is no way in for a service taken by appointment or handover.

So an emergency department that people walk in to is for the public though its one phone is the police's line; a
place of safety that takes only police handovers, an appropriate adult scheme the custody officer calls, and an
officers' triage line are not. Pure: a service in, a yes or no out.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from service.domain.answer import Gap
from service.domain.appropriate_adult import none_here_in_words
from service.domain.gap_words import ROLE_NOUNS, instead_text
from service.domain.model import ServiceBody

WayIn = Literal["phone", "email", "website", "walk_in"]


def takes_the_person_themselves(service: ServiceBody) -> bool:
    """Self-referral is among its referrers, or it does not say who may refer."""
    referrers = service.referral.referrers
    return not referrers or "self" in referrers


def public_ways_in(service: ServiceBody) -> tuple[WayIn, ...]:
    """The ways a member of the public can get in touch with the service themselves, in this order: a phone that is
    not for professionals only, an email address, a website, a place to walk in to. Empty: none."""
    contacts = service.contacts
    ways: list[WayIn] = []
    if any(not phone.professionals_only for phone in contacts.phones):
        ways.append("phone")
    if contacts.email:
        ways.append("email")
    if contacts.website:
        ways.append("website")
    walk_in = "walk_in" in service.access_modes or "walk_in" in service.referral.methods
    if walk_in and (service.location is not None or contacts.address is not None):
        ways.append("walk_in")
    return tuple(ways)


def reachable_by_public(service: ServiceBody) -> bool:
    """Whether a member of the public can reach this service themselves: it takes them, and they have a way in."""
    return takes_the_person_themselves(service) and bool(public_ways_in(service))


NO_ALTERNATIVE = "and the directory names no alternative here"
"""What a gap whose services all fail on the person's age says when no catch-all fits (gap_words.no_alternative)."""
NO_PUBLIC_ALTERNATIVE = "and there is no alternative here that the public can contact directly"


def public_gap(gap: Gap, role: str, catch_all: str | None, age: float) -> Gap:
    """A step's gap in a public-only answer, in words true of the whole directory. Where no service of the role
    that the public can reach serves here, the step's usual words ("No places of safety in the directory serve this
    area") could be false: services only professionals can reach may serve it. So it says what is true either way,
    and nothing about them: none here that the public can contact directly, and the catch-all when there is one.
    (The appropriate adult step keeps what the law still requires.) A gap counting services that serve here counts
    only the public's, and keeps its words, but for "the directory names no alternative" (one only professionals
    can reach may be named): no alternative the public can contact directly."""
    if gap.serving:
        if NO_ALTERNATIVE not in gap.text:
            return gap
        return msgspec.structs.replace(gap, text=gap.text.replace(NO_ALTERNATIVE, NO_PUBLIC_ALTERNATIVE))
    many = ROLE_NOUNS[role][1]
    text = f"No {many} here that the public can contact directly"
    text += f" but the catch-all: {instead_text(role, catch_all)}." if catch_all else "."
    if role == "appropriate_adult":
        text += f" {none_here_in_words(age)}"
    return msgspec.structs.replace(gap, text=text)
