"""The move from youth to adult services at 18, as the answer's steps say it.

England and Wales split youth justice (youth offending services, YOS) and adult probation at the 18th birthday, a
cliff edge for the young people in it. The guidance behind each rule here:
- the Joint National Protocol for Transitions in England (Youth Justice Board, HM Prison and Probation Service):
  the youth justice service and probation plan a young person's transfer together, starting months before the
  18th birthday, and a named transition lead sees it through;
- Wales's own Youth to Adult Transitions Principles and Guidance (Youth Justice Board Cymru, HMPPS in Wales), to
  the same effect;
- the Transition to Adulthood (T2A) Alliance's "maturity" approach (Pathways from Crime, 2012, in the seeds):
  young adults up to 25 are often better served by young-adult services than adult ones, whatever the birthday
  says; the Bridgend 18-25 pilot (in the seeds) links 18-21-year-olds previously known to the YOS back to it.

The services themselves are data: a youth justice service (kind `youth_justice`), a transition lead or young-adult
service (kind `young_adult_transition`, often with an age band and `group_pathway` for those known to the YOS), and
probation's young-adult team (kind `probation`). These rules say which of them the person's answer is about, in
words, as notes on the `divert` step.
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable

from service.domain.answer import Reason

ADULT_AGE = 18.0
YOUNG_ADULT_UNTIL = 25.0
"""T2A's maturity approach: young-adult services up to the 25th birthday."""
TRANSITION_WINDOW_MONTHS = 6
"""The default window before the 18th birthday in which the coming transfer is flagged
(PATHWAYS_TRANSITION_WINDOW_MONTHS): planning under both protocols starts months before it."""
YOUTH_JUSTICE = frozenset({"known_to_yos", "youth_justice_supervision"})
IMPLIED = {"youth_justice_supervision": "known_to_yos"}
"""A circumstance that implies another: a young person under youth justice supervision now is known to the YOS, so
a service for those known to the YOS takes them."""


def with_implied(circumstances: tuple[str, ...], known: Container[str]) -> tuple[str, ...]:
    """The circumstances given, and those they imply (IMPLIED) that the vocabulary `known` has, each once."""
    implied = tuple(IMPLIED[c] for c in circumstances if c in IMPLIED and IMPLIED[c] in known)
    return tuple(dict.fromkeys(circumstances + implied)) if implied else circumstances


def in_youth_justice(circumstances: Iterable[str]) -> bool:
    return not YOUTH_JUSTICE.isdisjoint(circumstances)


def youth_justice_for_a_child(age: float, circumstances: Iterable[str]) -> bool:
    """A child known to the YOS or under its supervision: the local youth justice service is theirs (and, in
    custody, the appropriate adult step applies, PACE Code C)."""
    return age < ADULT_AGE and in_youth_justice(circumstances)


def transfer_to_probation_due(age: float, circumstances: Iterable[str], window_months: int) -> bool:
    """Within `window_months` of the 18th birthday, in the youth justice system: the transfer to probation is coming,
    and the transition lead should be planning it (the joint protocols)."""
    return ADULT_AGE - window_months / 12 <= age < ADULT_AGE and in_youth_justice(circumstances)


def young_adult_pathway(age: float, needs: Iterable[str], circumstances: Iterable[str]) -> bool:
    """18 to 25 and known to the YOS, on probation, or with the maturity need (T2A): young-adult services first."""
    have = set(circumstances)
    return ADULT_AGE <= age < YOUNG_ADULT_UNTIL and (
        in_youth_justice(have) or "on_probation" in have or "young_adult_maturity" in set(needs)
    )


def transition_notes(
    age: float, needs: Iterable[str], circumstances: Iterable[str], window_months: int = TRANSITION_WINDOW_MONTHS
) -> tuple[Reason, ...]:
    """What the `divert` step says about the youth-to-adult transition, with a code for each."""
    if age >= YOUNG_ADULT_UNTIL:
        return ()
    needs, circumstances = tuple(needs), tuple(circumstances)
    notes = []
    if youth_justice_for_a_child(age, circumstances):
        notes.append(
            Reason(
                code="YOUTH_JUSTICE",
                text="A child in the youth justice system: tell their youth justice service (YOS), whose workers "
                "know them.",
            )
        )
    if transfer_to_probation_due(age, circumstances, window_months):
        months = max(1, math.ceil((ADULT_AGE - age) * 12))
        when = "within a month" if months == 1 else f"in about {months} months"
        notes.append(
            Reason(
                code="TRANSFER_TO_PROBATION_DUE",
                text=f"Turns 18 {when}: the move from the youth justice service to probation is due, and the "
                "transition lead or young-adult service should be planning it (the joint youth-to-adult "
                "transitions protocols for England and for Wales).",
            )
        )
    if young_adult_pathway(age, needs, circumstances):
        notes.append(
            Reason(
                code="YOUNG_ADULT",
                text="A young adult (18 to 25): young-adult services made for them rank above adult-only ones, as "
                "the T2A maturity approach asks; one previously known to the YOS may be linked back to it.",
            )
        )
    return tuple(notes)
