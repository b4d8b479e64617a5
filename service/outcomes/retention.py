"""Referral records are kept for PATHWAYS_REFERRAL_RETENTION_MONTHS (default 24), then deleted with their history:
by `pathways purge`, and by an hourly job in every replica (deleting is idempotent, so replicas may overlap)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from service.domain.errors import Unavailable
from service.index.engine import DirectoryIndex
from service.outcomes import store
from service.outcomes.records import retention_cutoff
from service.outcomes.synthetic import synthetic_referrals
from service.store.db import Connection, Database

log = logging.getLogger("service.retention")
EVERY_SECONDS = 3600.0
SYNTHETIC_ACTOR = "synthetic-demo"
SYNTHETIC_SEED = 14


async def purge(conn: Connection, months: int, now: dt.datetime | None = None) -> tuple[int, int]:
    """Delete referrals made before the retention period, and older demand counters: (referrals, counters)."""
    return await store.purge(conn, retention_cutoff(months, now or dt.datetime.now(dt.UTC)))


async def keep_retention(db: Database, months: int, every: float = EVERY_SECONDS) -> None:
    while True:
        try:
            async with db.transaction() as conn:
                referrals, counters = await purge(conn, months)
            if referrals or counters:
                log.info("retention: deleted %d referral records and %d demand counters", referrals, counters)
        except (Unavailable, OSError) as e:
            log.warning("retention job could not run (%s); trying again later", type(e).__name__)
        await asyncio.sleep(every)


async def add_synthetic_outcomes(
    db: Database, index: DirectoryIndex | None, count: int, seed: int = SYNTHETIC_SEED
) -> int:
    """The demo's synthetic outcome records (service/outcomes/synthetic.py), when there are no referral records yet."""
    if index is None:
        return 0
    records = synthetic_referrals(index, count, seed, dt.datetime.now(dt.UTC))
    async with db.transaction() as conn:
        if await store.count_referrals(conn):
            return 0
        return await store.record_many(conn, records, SYNTHETIC_ACTOR)
