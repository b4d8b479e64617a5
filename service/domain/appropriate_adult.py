"""Appropriate adults in police custody (Police and Criminal Evidence Act 1984, Code C).

An appropriate adult must be secured for anyone under 18 in police custody (Code C 1.5 and 3.13-3.15: a juvenile),
and for any adult the custody officer suspects, or is told in good faith, may be mentally vulnerable (Code C 1.4,
1.13(d) and 3.15; Annex E): mental disorder, a learning disability, autism. For children it is usually the youth
justice service (YOS) or a parent; for adults, a commissioned appropriate adult scheme. It is a legal step, not an
option: an answer in custody for such a person has an appropriate-adult step, and when the directory has no scheme
for the area the step's gap says so, and who else may act (Code C 1.7).

The seed report asks for access to appropriate adults in custody (recommendation 9).
"""

from __future__ import annotations

from collections.abc import Iterable

AA_NEEDS = frozenset({"learning_disability", "autism"})
"""Needs that mark a person as possibly mentally vulnerable under Code C (Annex E names learning disability and
autism among the conditions). Any suspicion of mental vulnerability is enough: the officer ticks the
`mentally_vulnerable` circumstance for the rest (a mental disorder included)."""
AA_CIRCUMSTANCES = frozenset({"mentally_vulnerable"})
"""Circumstances that mark a person as possibly mentally vulnerable (Code C 1.4)."""
ADULT_AGE = 18.0
"""Code C 1.5: anyone who appears to be under 18 is treated as a juvenile."""


def appropriate_adult_grounds(age: float, needs: Iterable[str], circumstances: Iterable[str]) -> tuple[str, ...]:
    """Why Code C requires an appropriate adult for this person in custody, in words; empty when it does not."""
    grounds = []
    if age < ADULT_AGE:
        grounds.append("the person is under 18 (Code C 1.5)")
    if not AA_CIRCUMSTANCES.isdisjoint(circumstances) or not AA_NEEDS.isdisjoint(needs):
        grounds.append("the person may be mentally vulnerable (Code C 1.4)")
    return tuple(grounds)


def appropriate_adult_required(context: str, age: float, needs: Iterable[str], circumstances: Iterable[str]) -> bool:
    """An appropriate adult is a legal requirement in police custody for a child or a possibly mentally vulnerable
    adult (PACE Code C). Courts have their own provision (intermediaries), not this one."""
    return context == "custody" and bool(appropriate_adult_grounds(age, needs, circumstances))


def required_in_words(age: float, needs: Iterable[str], circumstances: Iterable[str]) -> str:
    """The step's note: why it is there, and that it is not optional."""
    grounds = appropriate_adult_grounds(age, needs, circumstances)
    return f"Required by law (PACE Code C), not optional: {' and '.join(grounds)}."


def none_here_in_words(age: float) -> str:
    """What the custody officer does when the directory has no scheme here (Code C 1.7)."""
    if age < ADULT_AGE:
        return (
            "An appropriate adult is still required by law (PACE Code C): ask a parent or guardian, a local "
            "authority social worker, or failing them another responsible adult aged 18 or over who is not police."
        )
    return (
        "An appropriate adult is still required by law (PACE Code C): ask a relative, guardian or carer, someone "
        "experienced with mentally vulnerable people, or failing them another responsible adult who is not police."
    )
