"""Referral records, their outcome and handover history, retention, the reports' counts and the demand counters."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from service.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound, PreconditionFailed
from service.domain.versioning import etag, if_match_allows
from service.outcomes.records import (
    HANDOVER_TARGET_MINUTES,
    Handover,
    NewRecord,
    OutcomeChange,
    Referral,
    handover_problem,
    outcome_problem,
)
from service.store.db import Connection
from service.store.sql import queries

sql = queries(Path(__file__).parent / "sql")

ByReferral = Callable[[Referral], Awaitable[None]]
"""Raises when the caller may not change this referral (service/domain/access.py)."""


def _handover(values: dict[str, Any]) -> dict[str, Any] | None:
    """The handover columns of a row (taken out of `values`) as a Handover's fields, or None."""
    minutes, hour = values.pop("handover_minutes", None), values.pop("handover_arrived_hour", None)
    return None if minutes is None else {"minutes": minutes, "arrived_hour": hour}


def _referral(row: asyncpg.Record, history: Sequence[asyncpg.Record] = ()) -> Referral:
    # The report key decides how the reports round counts, and so is never read back with the record.
    values: dict[str, Any] = {k: v for k, v in row.items() if k not in ("total", "report_key")}
    values["handover"] = _handover(values)
    events = [dict(h.items()) for h in history]
    for event in events:
        event["handover"] = _handover(event)
    values["history"] = events
    return msgspec.convert(values, Referral)


def _columns(handover: Handover | None) -> tuple[int | None, dt.datetime | None]:
    return (None, None) if handover is None else (handover.minutes, handover.arrived_hour)


async def record_referral(conn: Connection, new: NewRecord, actor: str) -> Referral:
    p = new.placed
    row = await conn.fetchrow(
        sql("referrals_insert"),
        uuid.uuid4(),
        new.service_id,
        new.service_slug,
        new.service_name,
        p.site_id,
        p.site_slug,
        p.force_code,
        p.district_code,
        new.context,
        new.made_at,
        new.age_band,
        new.gender,
        list(new.needs),
        list(new.circumstances),
        new.repeat_contact,
        new.synthetic,
        actor,
        *_columns(new.handover),
    )
    assert row is not None
    made = (row["id"], 1, actor, "made", None, "made", *_columns(new.handover))
    await conn.execute(sql("referral_events_insert"), *made)
    return await get_referral(conn, row["id"])


async def record_many(conn: Connection, records: Sequence[tuple[NewRecord, OutcomeChange | None]], actor: str) -> int:
    """Many referrals, each with the outcome to record after it (the synthetic demo outcomes)."""

    async def anyone(_: Referral) -> None:
        return None

    for new, outcome in records:
        made = await record_referral(conn, new, actor)
        if outcome is not None:
            await change_outcome(conn, made.id, outcome, actor, anyone)
    return len(records)


async def count_referrals(conn: Connection) -> int:
    return int(await conn.fetchval(sql("referrals_count")))


async def get_referral(conn: Connection, referral_id: uuid.UUID) -> Referral:
    row = await conn.fetchrow(sql("referrals_get"), referral_id)
    if row is None:
        raise NotFound("referral", str(referral_id))
    return _referral(row, await conn.fetch(sql("referral_events_for"), referral_id))


async def _locked(conn: Connection, referral_id: uuid.UUID, allowed: ByReferral, if_match: str | None) -> Referral:
    """The referral about to change, its row locked; the caller's right checked on it first (a key that may not write
    learns nothing of its version), then the version it read (If-Match, when given: a stale one is refused)."""
    row = await conn.fetchrow(sql("referrals_lock"), referral_id)
    if row is None:
        raise NotFound("referral", str(referral_id))
    current = _referral(row)
    await allowed(current)
    if not if_match_allows(if_match, current.version):
        raise PreconditionFailed(etag(current.version))
    return current


async def change_outcome(
    conn: Connection,
    referral_id: uuid.UUID,
    change: OutcomeChange,
    actor: str,
    allowed: ByReferral,
    if_match: str | None = None,
) -> Referral:
    """Record an outcome: the row locked, the caller's right checked on it, then the version it read (If-Match, when
    given: a stale one is refused), and the change kept in the history."""
    current = await _locked(conn, referral_id, allowed, if_match)
    if (change.outcome == "declined") != (change.decline_reason is not None):
        raise InvalidInput((FieldProblem(field="decline_reason", reason="required for a decline, and only then"),))
    problem = outcome_problem(current.outcome, current.decline_reason, change)
    if problem is not None:
        raise Conflict("outcome", problem)
    updated = await conn.fetchrow(sql("referrals_set_outcome"), referral_id, change.outcome, change.decline_reason)
    assert updated is not None
    await conn.execute(
        sql("referral_events_insert"),
        referral_id,
        updated["version"],
        actor,
        change.outcome,
        change.decline_reason,
        "outcome",
        None,
        None,
    )
    return await get_referral(conn, referral_id)


async def change_handover(
    conn: Connection,
    referral_id: uuid.UUID,
    handover: Callable[[], Handover],
    actor: str,
    allowed: ByReferral,
    if_match: str | None = None,
) -> Referral:
    """Record a referral's handover as an outcome is recorded: the row locked, the caller's right checked on it, the
    version it read (If-Match), then the handover judged (`handover` raises InvalidInput) and kept, the history
    keeping each one recorded. Recording the handover a referral already has is a conflict; another corrects it."""
    current = await _locked(conn, referral_id, allowed, if_match)
    kept = handover()
    if (problem := handover_problem(current.context, current.made_at, kept)) is not None:
        raise InvalidInput((problem,))
    if kept == current.handover:
        raise Conflict("handover", "the referral already has this handover")
    updated = await conn.fetchrow(sql("referrals_set_handover"), referral_id, *_columns(kept))
    assert updated is not None
    await conn.execute(
        sql("referral_events_insert"),
        referral_id,
        updated["version"],
        actor,
        current.outcome,
        current.decline_reason,
        "handover",
        *_columns(kept),
    )
    return await get_referral(conn, referral_id)


async def list_referrals(
    conn: Connection,
    *,
    areas: frozenset[str] | None,
    services: frozenset[str] | None,
    service_id: uuid.UUID | None,
    outcome: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Referral], int]:
    rows = await conn.fetch(
        sql("referrals_list"),
        None if areas is None else sorted(areas),
        None if services is None else [uuid.UUID(s) for s in sorted(services)],
        service_id,
        outcome,
        limit,
        offset,
    )
    return [_referral(r) for r in rows], (rows[0]["total"] if rows else 0)


async def purge(conn: Connection, before: dt.datetime) -> tuple[int, int]:
    """Delete referrals made before `before` (with their history) and demand counters of weeks before it."""
    referrals = await conn.fetchval(sql("referrals_purge"), before)
    counters = await conn.fetchval(sql("demand_purge"), before.date())
    return int(referrals), int(counters)


class Count(msgspec.Struct, frozen=True):
    row: str
    column: str
    n: int
    synthetic: int
    key: int
    """The sum of the records' report keys (service/outcomes/suppression.py)."""


async def outcome_counts(
    conn: Connection,
    rows: str,
    columns: str,
    areas: frozenset[str] | None,
    span: tuple[dt.datetime, dt.datetime],
    service: str | None,
    context: str | None,
) -> list[Count]:
    found = await conn.fetch(
        sql("reports_outcomes"),
        rows,
        columns,
        None if areas is None else sorted(areas),
        span[0],
        span[1],
        service,
        context,
    )
    return [Count(r["row_key"], r["column_key"], r["n"], r["synthetic"], r["key"]) for r in found]


async def report_keys(conn: Connection, dimension: str, areas: frozenset[str] | None) -> list[str]:
    found = await conn.fetch(sql("reports_keys"), dimension, None if areas is None else sorted(areas))
    return [r["key"] for r in found]


class RepeatRow(msgspec.Struct, frozen=True):
    area: str
    month: str
    flagged: int
    without_support: int
    flagged_key: int
    without_key: int


async def repeat_contact(
    conn: Connection, areas: frozenset[str] | None, span: tuple[dt.datetime, dt.datetime]
) -> list[RepeatRow]:
    found = await conn.fetch(sql("reports_repeat"), None if areas is None else sorted(areas), span[0], span[1])
    return [
        RepeatRow(r["area"], r["month"], r["flagged"], r["without_support"], r["flagged_key"], r["without_key"])
        for r in found
    ]


class HandoverCount(msgspec.Struct, frozen=True, kw_only=True):
    area: str
    month: str | None
    """YYYY-MM of the arrival in London; None: the whole period."""
    n: int
    within: int
    """Handed over within HANDOVER_TARGET_MINUTES."""
    synthetic: int
    key: int
    """The sum of the handovers' report keys (service/outcomes/suppression.py)."""
    within_key: int
    median: float | None
    """The median minutes (halfway between the middle two when there are an even number)."""


async def handover_counts(
    conn: Connection, by: str, areas: frozenset[str] | None, span: tuple[dt.datetime, dt.datetime]
) -> list[HandoverCount]:
    """Handovers by area (`by`: "area", the force, or "district") and month of arrival, and by area over the span."""
    found = await conn.fetch(
        sql("reports_handovers"),
        by,
        None if areas is None else sorted(areas),
        span[0],
        span[1],
        HANDOVER_TARGET_MINUTES,
    )
    return [msgspec.convert(dict(r.items()), HandoverCount) for r in found]


class DemandRow(msgspec.Struct, frozen=True, kw_only=True):
    week: dt.date
    area_code: str
    context: str
    step: str
    reason: str
    count: int
    report_key: int


DemandKey = tuple[dt.date, str, str, str, str]


async def add_demand(conn: Connection, counts: dict[DemandKey, int]) -> None:
    if not counts:
        return
    keys = list(counts)
    await conn.execute(
        sql("demand_add"),
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        [k[3] for k in keys],
        [k[4] for k in keys],
        [counts[k] for k in keys],
    )


async def demand(
    conn: Connection, areas: frozenset[str] | None, weeks: tuple[dt.date, dt.date], context: str | None
) -> list[DemandRow]:
    found = await conn.fetch(
        sql("demand_report"), None if areas is None else sorted(areas), weeks[0], weeks[1], context
    )
    return [msgspec.convert(dict(r.items()), DemandRow) for r in found]
