"""The fixed code lists of the model, each code with its words: what the pages show, and what Open Referral and
FHIR publish as our own taxonomies and CodeSystems (service/openreferral/terms.py, service/fhir/resources.py).

The needs and circumstances are not here: they are versioned in the database (service/store/taxonomy.py)."""

from __future__ import annotations

from typing import Final

KIND_WORDS: dict[str, str] = {
    "place_of_safety": "Place of safety",
    "street_triage": "Street triage",
    "triage_line": "Triage line",
    "liaison_diversion": "Liaison and diversion",
    "diversion_scheme": "Diversion scheme",
    "womens_centre": "Women's centre",
    "young_adult_transition": "Young adult service",
    "youth_justice": "Youth justice service (YOS)",
    "appropriate_adult": "Appropriate adult scheme",
    "probation": "Probation",
    "substance_misuse": "Drugs and alcohol",
    "housing": "Housing",
    "learning_disability": "Learning disability service",
    "domestic_abuse": "Domestic abuse service",
    "crisis_house": "Crisis house",
    "mental_health": "Mental health service",
    "peer_support": "Peer support",
    "victim_support": "Victim support",
    "employment": "Employment and training",
    "other": "Other service",
}
"""Each kind of service as people say it (every kind has words: a test holds it to that)."""

CAPACITY_WORDS: dict[str, str] = {
    "available": "Has capacity",
    "limited": "Limited capacity",
    "unknown": "Capacity not known",
    "full": "Full",
}

REVIEW_WORDS: dict[str, str] = {
    "checked": "Details checked within their review date",
    "overdue": "Details past their review date: not checked since",
    "never_checked": "Details never checked",
}
"""A service's review state (service/domain/review.py)."""

ROLE_WORDS: dict[str, str] = {
    "consult": "Consult a health professional (s136(1C) MHA 1983)",
    "assess": "Assess (liaison and diversion)",
    "place_of_safety": "Place of safety (s136 MHA 1983)",
    "divert": "Divert from the criminal justice system",
    "refer_on": "Refer on",
    "advice": "Advice",
    "appropriate_adult": "Appropriate adult (PACE Code C)",
    "medical_care": "Medical care (ambulance or emergency department)",
}

CONTEXT_TITLES: dict[str, str] = {
    "custody": "Police custody",
    "street": "Street (s136, Right Care Right Person)",
    "court": "Court",
    "community": "Community",
}

ACCESS_WORDS: dict[str, str] = {
    "handover": "Handover by police or staff",
    "walk_in": "Walk in",
    "phone": "By phone",
    "outreach": "Outreach",
    "appointment": "By appointment",
}

GENDER_TITLES: dict[str, str] = {"female": "Female", "male": "Male", "non_binary": "Non-binary", "other": "Other"}

REFERRER_WORDS: dict[str, str] = {
    "police": "Police",
    "liaison_diversion": "Liaison and diversion team",
    "self": "Self-referral",
    "professional": "Other professional",
}

METHOD_WORDS: dict[str, str] = {"phone": "Phone", "email": "Email", "form": "Referral form", "walk_in": "Walk in"}


class CodeList:
    """A fixed code list as it is published: a stable name, a title, and each code's words."""

    def __init__(self, name: str, title: str, words: dict[str, str]) -> None:
        self.name, self.title, self.words = name, title, words


FIXED: Final[tuple[CodeList, ...]] = (
    CodeList("service-kinds", "Kinds of service", KIND_WORDS),
    CodeList("pathway-roles", "Steps of a referral pathway", ROLE_WORDS),
    CodeList("contexts", "Where a person is met", CONTEXT_TITLES),
    CodeList("access-modes", "How a person reaches the service", ACCESS_WORDS),
    CodeList("genders", "Genders a service accepts", GENDER_TITLES),
    CodeList("referrers", "Who may refer", REFERRER_WORDS),
    CodeList("referral-methods", "How to refer", METHOD_WORDS),
    CodeList("capacity", "Live capacity", CAPACITY_WORDS),
    CodeList("review-status", "Whether a service's details are within their review date", REVIEW_WORDS),
)
"""Every fixed code list, by its published name."""
