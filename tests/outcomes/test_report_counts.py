"""The attacker test's stand-in store (tests/outcomes/test_disclosure.py) counts as the SQL does: its synthetic
referrals, stored, give the same counts and key sums for every pair of dimensions, the same rows and the same repeat
contact, for the force and each district, with and without each filter, over a month, a quarter and the year."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from service.domain.types import Context
from service.outcomes import store
from service.outcomes.reports import period
from service.outcomes.tables import Dimension
from service.store.db import Connection
from tests.outcomes.test_disclosure import (
    CONTEXTS,
    DIMENSIONS,
    DISTRICTS,
    FORCE,
    NEED,
    SERVICES,
    StandInStore,
    synthetic_referrals,
)

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)


async def test_the_stand_in_store_counts_the_synthetic_referrals_as_the_sql_does(conn: Connection) -> None:
    referrals = synthetic_referrals()
    service_ids = {slug: uuid.uuid4() for slug in SERVICES}
    await conn.executemany(
        "insert into referrals (id, service_id, service_slug, service_name, site_slug, force_code, district_code, "
        "context, made_at, age_band, gender, needs, repeat_contact, outcome, decline_reason, version, recorded_by, "
        "updated_at, report_key) values ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, 'test', "
        "$8, $15)",
        [
            (
                uuid.uuid4(),
                service_ids[c.service],
                c.service,
                c.values["site"],
                FORCE,
                c.district,
                c.context,
                c.made_at,
                c.values["age_band"],
                c.values["gender"],
                [NEED],
                c.repeat_contact,
                c.outcome,
                "other" if c.outcome == "declined" else None,
                r.key,
            )
            for r in referrals
            for c in (r.cell,)
        ],
    )
    stand_in = StandInStore()
    stand_in.referrals = referrals
    periods = [
        period(first, last, NOW) for first, last in (("2026-03", "2026-03"), ("2026-01", "2026-03"), (None, None))
    ]
    for area, when in itertools.product((FORCE, *DISTRICTS), periods):
        areas, span = frozenset({area}), (when.start, when.end)
        filters = itertools.product((None, *SERVICES), (None, *CONTEXTS))
        asked: list[tuple[tuple[Dimension, Dimension], str | None, Context | None]] = [
            (dims, None, None) for dims in itertools.combinations(DIMENSIONS, 2)
        ]
        asked += [(("district", "outcome"), service, context) for service, context in filters]
        for (rows, columns), service, context in asked:
            found = await store.outcome_counts(conn, rows, columns, areas, span, service, context)
            expected = await stand_in.outcome_counts(conn, rows, columns, areas, span, service, context)
            assert sorted(found, key=repr) == sorted(expected, key=repr), (area, when.first, rows, columns)
        for dimension in ("area", "district", "service", "site", "need"):
            assert await store.report_keys(conn, dimension, areas) == await stand_in.report_keys(conn, dimension, areas)
        assert await store.repeat_contact(conn, areas, span) == await stand_in.repeat_contact(conn, areas, span)
