"""Referral records are kept for PATHWAYS_REFERRAL_RETENTION_MONTHS (default 24), then deleted with their history:
by `pathways purge`, and by an hourly job on the job queue (service/server/jobs.py: one replica runs each hour's)."""

from __future__ import annotations

import datetime as dt
import logging

import procrastinate

from service.domain.errors import Unavailable
from service.index.engine import DirectoryIndex
from service.outcomes import store
from service.outcomes.records import retention_cutoff
from service.outcomes.synthetic import synthetic_referrals
from service.server.runtime import runtime_of
from service.store.db import Connection, Database

log = logging.getLogger("service.retention")
SYNTHETIC_ACTOR = "synthetic-demo"
SYNTHETIC_SEED = 14


async def purge(conn: Connection, months: int, now: dt.datetime | None = None) -> tuple[int, int]:
    """Delete referrals made before the retention period, and older demand counters: (referrals, counters)."""
    return await store.purge(conn, retention_cutoff(months, now or dt.datetime.now(dt.UTC)))


async def purge_referrals(context: procrastinate.JobContext, timestamp: int) -> None:
    """The hourly job: referrals and demand counters past the retention period."""
    runtime = runtime_of(context.additional_context["state"])
    try:
        async with runtime.db.transaction() as conn:
            referrals, counters = await purge(conn, runtime.settings.referral_retention_months)
    except (Unavailable, OSError) as e:
        log.warning("retention job could not run (%s); the next hour's will", type(e).__name__)
        return
    if referrals or counters:
        log.info("retention: deleted %d referral records and %d demand counters", referrals, counters)


def blueprint() -> procrastinate.Blueprint:
    """The outcomes' jobs: retention, hourly."""
    bp = procrastinate.Blueprint()
    bp.periodic(cron="7 * * * *")(bp.task(name="purge_referrals", pass_context=True)(purge_referrals))
    return bp


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
