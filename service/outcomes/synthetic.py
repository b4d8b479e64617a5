"""Synthetic referral outcomes for the demo: SYNTHETIC, made up, and marked so in every record (`synthetic`).

Run by `make run` with the demo directory (PATHWAYS_SYNTHETIC_OUTCOMES, default 300), and by
`pathways synthetic-outcomes --count N --seed S`. Each record is made the way a real one is: a made-up person (an age
from 10 to 75, a gender, one or two needs) is searched for at a random site of the directory, in custody (70%), at
court (10%) or in the street (20%), at a random hour of the last eleven months, and one of the answer's options is
taken; the referral is then given an outcome (made 18%, accepted 35%, completed 20%, declined 15% with a coded
reason, did not engage 12%) and a repeat-contact flag (yes 30%, no 50%, unknown 20%). The same seed and directory
give the same records. Nothing here is real data about anyone.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TypeVar

from service.domain.bands import age_band
from service.domain.request import Person, PersonGender, ReferralRequest, SiteOrigin
from service.index.engine import DirectoryIndex
from service.outcomes.records import NewRecord, OutcomeChange, Placed, to_the_hour

CONTEXTS = (("custody", 0.7), ("court", 0.1), ("street", 0.2))
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


def synthetic_referrals(
    index: DirectoryIndex, count: int, seed: int, now: dt.datetime
) -> list[tuple[NewRecord, OutcomeChange | None]]:
    """`count` synthetic referrals (fewer if the directory offers nothing), each with the outcome to record."""
    rng = random.Random(seed)
    sites = index.places.site_choices()
    needs = sorted(index.vocab.need_bits)
    made: list[tuple[NewRecord, OutcomeChange | None]] = []
    for _ in range(count * 3):
        if len(made) >= count or not sites or not needs:
            break
        site = rng.choice(sites)
        context = _pick(rng, CONTEXTS)
        age = float(rng.choice([rng.randint(10, 17), rng.randint(18, 24), rng.randint(25, 75), rng.randint(25, 54)]))
        person = Person(age=age, gender=_pick(rng, GENDERS), needs=tuple(rng.sample(needs, rng.choice([1, 1, 2]))))
        at = to_the_hour(now - dt.timedelta(hours=rng.randint(1, 24 * 335)))
        request = ReferralRequest(origin=SiteOrigin(site=site.slug), context=context, person=person)  # type: ignore[arg-type]
        where = index.places.site_resolutions[site.slug]
        answer = index.search(request, at=at, where=where, origin_label=site.name, resolved_from="site")
        options = [o for step in answer.steps for o in step.options] or list(answer.options)
        if not options:
            continue
        option = rng.choice(options)
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
        )
        made.append((record, _pick(rng, OUTCOMES)))
    return made
