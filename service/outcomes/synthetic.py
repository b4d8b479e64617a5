"""Synthetic referral outcomes for the demo: SYNTHETIC, made up, and marked so in every record (`synthetic`).

Run by `make run` with the demo directory (PATHWAYS_SYNTHETIC_OUTCOMES, default 300), and by
`pathways synthetic-outcomes --count N --seed S`. Each record is made the way a real one is: a made-up person (an age
from 10 to 75, a gender, one or two needs) is searched for at a random site of the directory, in custody (45%), at
court (10%) or in the street (45%), at a random hour of the last eleven months, and one of the answer's options is
taken; the referral is then given an outcome (made 18%, accepted 35%, completed 20%, declined 15% with a coded
reason, did not engage 12%) and a repeat-contact flag (yes 30%, no 50%, unknown 20%).

In the street, four people in five are in a mental-health crisis (the need mental_health_crisis, when the vocabulary
has it), and police take them to a place of safety under s136: one of the place-of-safety step's options, when it has
any. Such a referral gets a handover to health (Right Care, Right Person): arrival in the hour the referral was made,
and a wait drawn from a log-normal spread with a median of 70 minutes (about 40% within the hour, a long tail, from 5
minutes to 12 hours); one that would end after now has none yet. The same seed and directory give the same records.
Nothing here is real data about anyone."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import TypeVar

from service.domain.answer import Option
from service.domain.bands import age_band
from service.domain.request import Person, PersonGender, ReferralRequest, SiteOrigin
from service.index.engine import DirectoryIndex
from service.outcomes.records import Handover, NewRecord, OutcomeChange, Placed, kept_handover, to_the_hour

CONTEXTS = (("custody", 0.45), ("court", 0.1), ("street", 0.45))
CRISIS = "mental_health_crisis"
CRISIS_IN_STREET = 0.8
"""How many of the people met in the street are in a mental-health crisis (and so taken to a place of safety)."""
HANDOVER_MEDIAN = 70.0
HANDOVER_SPREAD = 0.6
"""The log-normal's sigma: with the median of 70 minutes, about 40% are within the hour and 1% over 4.5 hours."""
HANDOVER_RANGE = (5, 720)
OUTCOMES: tuple[tuple[OutcomeChange | None, float], ...] = (
    (None, 0.18),
    (OutcomeChange(outcome="accepted"), 0.35),
    (OutcomeChange(outcome="completed"), 0.20),
    (OutcomeChange(outcome="declined", decline_reason="no_capacity"), 0.06),
    (OutcomeChange(outcome="declined", decline_reason="not_eligible"), 0.04),
    (OutcomeChange(outcome="declined", decline_reason="declined_by_person"), 0.04),
    (OutcomeChange(outcome="declined", decline_reason="other"), 0.01),
    (OutcomeChange(outcome="did_not_engage"), 0.12),
)
REPEAT = (("yes", 0.3), ("no", 0.5), ("unknown", 0.2))
GENDERS: tuple[tuple[PersonGender, float], ...] = (
    ("male", 0.55),
    ("female", 0.35),
    ("non_binary", 0.03),
    ("other", 0.02),
    ("not_stated", 0.05),
)


T = TypeVar("T")


def _pick(rng: random.Random, weighted: tuple[tuple[T, float], ...]) -> T:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def synthetic_handover(rng: random.Random, made_at: dt.datetime, now: dt.datetime) -> Handover | None:
    """A made-up handover: arrival in the referral's hour, a log-normal wait; None if it would end after now."""
    arrived = made_at + dt.timedelta(minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))
    wait = rng.lognormvariate(math.log(HANDOVER_MEDIAN), HANDOVER_SPREAD)
    handed_over = arrived + dt.timedelta(minutes=min(max(wait, HANDOVER_RANGE[0]), HANDOVER_RANGE[1]))
    return kept_handover(arrived, handed_over) if handed_over <= now else None


def synthetic_referrals(
    index: DirectoryIndex, count: int, seed: int, now: dt.datetime
) -> list[tuple[NewRecord, OutcomeChange | None]]:
    """`count` synthetic referrals (fewer if the directory offers nothing), each with the outcome to record."""
    rng = random.Random(seed)
    handovers = random.Random(f"handovers {seed}")  # its own draws: the records do not depend on them
    sites = index.places.site_choices()
    needs = sorted(index.vocab.need_bits)
    made: list[tuple[NewRecord, OutcomeChange | None]] = []
    for _ in range(count * 3):
        if len(made) >= count or not sites or not needs:
            break
        site = rng.choice(sites)
        context = _pick(rng, CONTEXTS)
        age = float(rng.choice([rng.randint(10, 17), rng.randint(18, 24), rng.randint(25, 75), rng.randint(25, 54)]))
        drawn = tuple(rng.sample(needs, rng.choice([1, 1, 2])))
        crisis = context == "street" and CRISIS in needs and rng.random() < CRISIS_IN_STREET
        if crisis:
            drawn = (CRISIS, *(n for n in drawn if n != CRISIS))[:2]
        person = Person(age=age, gender=_pick(rng, GENDERS), needs=drawn)
        at = to_the_hour(now - dt.timedelta(hours=rng.randint(1, 24 * 335)))
        request = ReferralRequest(origin=SiteOrigin(site=site.slug), context=context, person=person)  # type: ignore[arg-type]
        where = index.places.site_resolutions[site.slug]
        answer = index.search(request, at=at, where=where, origin_label=site.name, resolved_from="site")
        options: list[tuple[str, Option]] = [(step.role, o) for step in answer.steps for o in step.options]
        options = options or [("", o) for o in answer.options]
        if not options:
            continue
        safety = [o for role, o in options if role == "place_of_safety"]
        if crisis and safety:
            role, option = "place_of_safety", rng.choice(safety)
        else:
            role, option = rng.choice(options)
        service = index.by_slug[option.service.slug]
        district = next((a.code for a in where.areas if a.kind == "local_authority"), None)
        force = answer.origin.force.code if answer.origin.force else None
        record = NewRecord(
            service_id=service.id,
            service_slug=service.slug,
            service_name=service.name,
            placed=Placed(site_id=site.id, site_slug=site.slug, force_code=force, district_code=district),
            context=context,
            made_at=at,
            age_band=age_band(age),
            gender=person.gender,
            needs=person.needs,
            circumstances=(),
            repeat_contact=_pick(rng, REPEAT),
            synthetic=True,
            handover=synthetic_handover(handovers, at, now)
            if context == "street" and role == "place_of_safety"
            else None,
        )
        made.append((record, _pick(rng, OUTCOMES)))
    return made
