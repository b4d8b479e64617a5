"""The steps of a referral pathway, and the role each service plays in them.

An answer is shaped as the pathway its context follows, not as one flat list: who to consult, where to take the
person, who assesses them, where they can be diverted, who to refer them on to. Each service has a pathway role:
its own `pathway_role` when the data sets one, otherwise its kind's (DEFAULT_ROLES). Each context has an ordered
list of steps (steps_for), each made of one role and ranked on its own.
"""

from __future__ import annotations

from typing import Protocol

from msgspec import Struct

from service.domain.answer import Reason
from service.domain.appropriate_adult import appropriate_adult_required, required_in_words
from service.domain.transitions import transition_notes
from service.domain.types import Context, PathwayRole, ServiceKind

ROLES: tuple[PathwayRole, ...] = (
    "consult",
    "assess",
    "place_of_safety",
    "divert",
    "refer_on",
    "advice",
    "appropriate_adult",
    "medical_care",
)
"""Every pathway role, in a fixed order (the index numbers them by it; a new role goes at the end)."""

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
    # Who supports a child or a mentally vulnerable adult through detention and interview (PACE Code C): the YOS's
    # scheme for children, a commissioned scheme for adults.
    "appropriate_adult": "appropriate_adult",
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


FINDS_NEEDS_KINDS: frozenset[ServiceKind] = frozenset(
    {
        # Who finds a person's needs: the L&D team, street triage and officers' triage lines.
        "liaison_diversion",
        "street_triage",
        "triage_line",
        # Who supports a child or a mentally vulnerable adult whatever their needs (PACE Code C).
        "appropriate_adult",
        # Diversion for a cohort, whose triage finds the needs: the women's custody triage, women's centres,
        # young-adult and transition services, youth justice.
        "diversion_scheme",
        "womens_centre",
        "young_adult_transition",
        "youth_justice",
    }
)
"""Kinds whose job is to find or meet the needs of a cohort: with no need given (not yet assessed, the usual case
at a custody desk), a service of these kinds is offered to anyone its other rules admit; when needs are given and it
meets none of them, it comes after the services that meet one. A service's `finds_needs` overrides its kind's."""


def finds_needs(kind: ServiceKind, declared: bool | None) -> bool:
    """Whether a service finds the needs of its cohort: its own `finds_needs` when the data says, else its kind's."""
    return kind in FINDS_NEEDS_KINDS if declared is None else declared


class Step(Struct, frozen=True, kw_only=True, gc=False):
    role: PathwayRole
    title: str
    optional: bool = False
    """Shown only when it has an option: no gap is reported for it."""


CONSULT = Step(role="consult", title="Consult a health professional before detaining")
PLACE_OF_SAFETY = Step(role="place_of_safety", title="Take to a place of safety")
ASSESS = Step(role="assess", title="Assess: liaison and diversion")
DIVERT = Step(role="divert", title="Divert")
REFER_ON = Step(role="refer_on", title="Refer on")
ADVICE = Step(role="advice", title="Advice and helplines")
APPROPRIATE_ADULT = Step(role="appropriate_adult", title="Appropriate adult")
CLINICAL_ADVICE = Step(role="consult", title="Clinical advice for officers", optional=True)
"""In custody and at court: the officers' triage lines and clinical advice lines (NHS 111 option 2), after L&D's
assessment; shown when one can be reached."""

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
    # Clinical advice for the officers sits after assessment: L&D may not be there at 3 a.m.; a 24/7 line is.
    ("custody", True): (ASSESS, CLINICAL_ADVICE, DIVERT, REFER_ON),
    ("custody", False): (ASSESS, CLINICAL_ADVICE, DIVERT, REFER_ON),
    ("court", True): (ASSESS, CLINICAL_ADVICE, DIVERT, REFER_ON),
    ("court", False): (ASSESS, CLINICAL_ADVICE, DIVERT, REFER_ON),
    # In the community, no detention: diversion and the services that take referrals, then public helplines.
    ("community", True): (DIVERT, REFER_ON, ADVICE),
    ("community", False): (DIVERT, REFER_ON, ADVICE),
}


ELSEWHERE: dict[PathwayRole, Step] = {
    "consult": Step(role="consult", title="Consult a health professional", optional=True),
    "assess": Step(role="assess", title="Assess: liaison and diversion", optional=True),
    "place_of_safety": Step(role="place_of_safety", title="Places of safety", optional=True),
    "divert": Step(role="divert", title="Divert", optional=True),
    "refer_on": Step(role="refer_on", title="Refer on", optional=True),
    "advice": Step(role="advice", title="Advice and helplines", optional=True),
    "appropriate_adult": Step(role="appropriate_adult", title="Appropriate adult", optional=True),
    "medical_care": Step(role="medical_care", title="Medical care: ambulance or emergency department", optional=True),
}
"""For a role the context's pathway has no step for: a step of its own after the pathway's, shown only when it has
an option, so that every option is in a step an officer reads."""


def steps_for(
    context: Context,
    needs: tuple[str, ...],
    circumstances: tuple[str, ...] = (),
    age: float | None = None,
    release: bool = False,
) -> tuple[Step, ...]:
    """The steps of the pathway for this context, in order, then an optional step for each other role; in the
    street, a mental-health crisis is s136's. In custody, a child or a possibly mentally vulnerable adult first needs
    an appropriate adult (PACE Code C: to be secured as soon as practicable, before interview), then the rest
    (service/domain/appropriate_adult.py); not after release, when the person is no longer detained. An unknown age
    is taken as an adult's."""
    steps = STEPS[(context, "mental_health_crisis" in needs)]
    if not release and appropriate_adult_required(context, 99.0 if age is None else age, needs, circumstances):
        steps = (APPROPRIATE_ADULT, *steps)
    present = {s.role for s in steps}
    return steps + tuple(ELSEWHERE[role] for role in ROLES if role not in present)


def required_steps(
    context: Context,
    needs: tuple[str, ...],
    circumstances: tuple[str, ...] = (),
    age: float | None = None,
    release: bool = False,
) -> tuple[Step, ...]:
    """The steps an answer always shows, with a gap when empty (steps_for's, but the optional ones)."""
    return tuple(s for s in steps_for(context, needs, circumstances, age, release) if not s.optional)


class Profile(Protocol):
    """What the steps read of the person (routing.Person)."""

    @property
    def age(self) -> float: ...
    @property
    def needs(self) -> tuple[str, ...]: ...
    @property
    def circumstances(self) -> tuple[str, ...]: ...


def step_notes(role: PathwayRole, person: Profile, transition_window_months: int) -> tuple[Reason, ...]:
    """What a step says besides its options: why a legal step is there; on `divert`, the youth-to-adult transition
    (service/domain/transitions.py)."""
    if role == "appropriate_adult":
        text = required_in_words(person.age, person.needs, person.circumstances)
        return (Reason(code="APPROPRIATE_ADULT_REQUIRED", text=text),)
    if role == "divert":
        return transition_notes(person.age, person.needs, person.circumstances, transition_window_months)
    return ()


NOTE_CODES = ("APPROPRIATE_ADULT_REQUIRED", "YOUTH_JUSTICE", "TRANSFER_TO_PROBATION_DUE", "YOUNG_ADULT")
"""Every code a step's notes can carry (step_notes)."""
