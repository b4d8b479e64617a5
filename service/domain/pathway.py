"""The steps of a referral pathway, and the role each service plays in them.

An answer is shaped as the pathway its context follows, not as one flat list: who to consult, where to take the
person, who assesses them, where they can be diverted, who to refer them on to. Each service has a pathway role:
its own `pathway_role` when the data sets one, otherwise its kind's (DEFAULT_ROLES). Each context has an ordered
list of steps (steps_for), each made of one role and ranked on its own.
"""

from __future__ import annotations

from msgspec import Struct

from service.domain.types import Context, PathwayRole, ServiceKind

ROLES: tuple[PathwayRole, ...] = ("consult", "assess", "place_of_safety", "divert", "refer_on", "advice")
"""Every pathway role, in a fixed order (the index numbers them by it)."""

DEFAULT_ROLES: dict[ServiceKind, PathwayRole] = {
    # Health professionals an officer consults before detaining under s136 (s136(1C)): street triage teams and
    # officers' triage lines.
    "street_triage": "consult",
    "triage_line": "consult",
    # Where a person detained under s136 is taken: a health-based place of safety (A&E only where the data says so,
    # with its own pathway_role).
    "place_of_safety": "place_of_safety",
    # Who identifies, screens and assesses vulnerabilities in custody and at court: the L&D team.
    "liaison_diversion": "assess",
    # Where a person can be diverted from the criminal justice system.
    "diversion_scheme": "divert",
    "womens_centre": "divert",
    "young_adult_transition": "divert",
    "youth_justice": "divert",
    # The services an L&D team refers on to.
    "probation": "refer_on",
    "substance_misuse": "refer_on",
    "housing": "refer_on",
    "learning_disability": "refer_on",
    "domestic_abuse": "refer_on",
    "crisis_house": "refer_on",
    "mental_health": "refer_on",
    "peer_support": "refer_on",
    "victim_support": "refer_on",
    "employment": "refer_on",
    "other": "refer_on",
}
"""A service's role when its data names none. Public helplines (`advice`) are of kinds that also hold officers'
lines, so a helpline names its role itself."""


def role_of(kind: ServiceKind, pathway_role: PathwayRole | None) -> PathwayRole:
    """A service's pathway role: its own when the data names one, else its kind's."""
    return pathway_role or DEFAULT_ROLES[kind]


class Step(Struct, frozen=True, kw_only=True, gc=False):
    role: PathwayRole
    title: str


CONSULT = Step(role="consult", title="Consult a health professional before detaining")
PLACE_OF_SAFETY = Step(role="place_of_safety", title="Take to a place of safety")
ASSESS = Step(role="assess", title="Assess: liaison and diversion")
DIVERT = Step(role="divert", title="Divert")
REFER_ON = Step(role="refer_on", title="Refer on")
ADVICE = Step(role="advice", title="Advice and helplines")

STEPS: dict[tuple[Context, bool], tuple[Step, ...]] = {
    # Mental Health Act 1983 s136, as amended by the Policing and Crime Act 2017: before removing a person in crisis
    # from a public place, an officer must where practicable consult a health professional (s136(1C)); the person
    # is then taken to a place of safety (never a police station under 18), and referred on from there.
    ("street", True): (CONSULT, PLACE_OF_SAFETY, REFER_ON),
    # In the street without a mental-health crisis (Right Care, Right Person, 2023): health advice first, then the
    # services that take the person on, then public helplines.
    ("street", False): (CONSULT, REFER_ON, ADVICE),
    # In custody and at court, L&D teams identify, screen and assess, then divert or refer on (NHS England's L&D
    # service specification; the seed report's pathway from custody).
    ("custody", True): (ASSESS, DIVERT, REFER_ON),
    ("custody", False): (ASSESS, DIVERT, REFER_ON),
    ("court", True): (ASSESS, DIVERT, REFER_ON),
    ("court", False): (ASSESS, DIVERT, REFER_ON),
    # In the community, no detention: diversion and the services that take referrals, then public helplines.
    ("community", True): (DIVERT, REFER_ON, ADVICE),
    ("community", False): (DIVERT, REFER_ON, ADVICE),
}


def steps_for(context: Context, needs: tuple[str, ...]) -> tuple[Step, ...]:
    """The steps of the pathway for this context, in order; in the street, a mental-health crisis is s136's."""
    return STEPS[(context, "mental_health_crisis" in needs)]
