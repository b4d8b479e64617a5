"""Problem reports and the audit of what people do to keep the directory true, in PostgreSQL. SQL in sql/*.sql."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import msgspec

from service.domain.errors import Conflict, NotFound
from service.stewardship.problems import OUTCOME_OF, REASON_WORDS, CloseReason, NewProblemReport, ProblemReport
from service.store.db import Connection
from service.store.sql import queries

sql = queries(Path(__file__).parent / "sql")
MOST_LISTED = 200


class AuditEvent(msgspec.Struct, frozen=True, kw_only=True):
    at: dt.datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]


async def audit(
    conn: Connection,
    actor: str,
    action: str,
    service_id: uuid.UUID | None,
    subject: str = "",
    detail: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Record what someone did (coded details only: never a note's text)."""
    await conn.execute(
        sql("audit_insert"),
        at or dt.datetime.now(dt.UTC),
        actor,
        action,
        service_id,
        subject,
        dict(detail or {}),
    )


async def audit_for_service(conn: Connection, service_id: uuid.UUID, limit: int = 100) -> list[AuditEvent]:
    rows = await conn.fetch(sql("audit_for_service"), service_id, limit)
    return [
        AuditEvent(
            at=r["at"],
            actor=r["actor"],
            action=r["action"],
            subject=r["subject"],
            detail=r["detail"],
        )
        for r in rows
    ]


def _report(row: Mapping[str, Any]) -> ProblemReport:
    return msgspec.convert(
        {**row, "reason_text": REASON_WORDS[row["reason"]], "has_note": bool(row["note"])}, ProblemReport
    )


async def make_report(
    conn: Connection, service_id: uuid.UUID, version: int, report: NewProblemReport, now: dt.datetime
) -> ProblemReport:
    """Keep a report about a service as it is now; the audit says a report was made, by "the public"."""
    report_id = uuid.uuid4()
    await conn.execute(sql("problems_insert"), report_id, service_id, version, report.reason, report.note, now)
    await audit(conn, "public", "problem_report.made", service_id, str(report_id), {"reason": report.reason}, now)
    return await get_report(conn, report_id)


async def get_report(conn: Connection, report_id: uuid.UUID) -> ProblemReport:
    row = await conn.fetchrow(sql("problems_get"), report_id)
    if row is None:
        raise NotFound("problem report", str(report_id))
    return _report(dict(row.items()))


async def list_reports(
    conn: Connection, services: Collection[uuid.UUID] | None, *, open_only: bool = True, limit: int = MOST_LISTED
) -> list[ProblemReport]:
    """Reports about these services (None: all), open or closed, newest first."""
    ids = None if services is None else list(services)
    rows = await conn.fetch(sql("problems_list"), ids, "open" if open_only else "closed", limit)
    return [_report(dict(r.items())) for r in rows]


async def open_for(conn: Connection, service_id: uuid.UUID) -> int:
    return int(await conn.fetchval(sql("problems_open_for"), service_id))


async def reported_services(conn: Connection, *, open_only: bool = True) -> list[uuid.UUID]:
    return [r["service_id"] for r in await conn.fetch(sql("problems_services"), "open" if open_only else "closed")]


async def open_counts(conn: Connection) -> dict[uuid.UUID, int]:
    return {r["service_id"]: r["open"] for r in await conn.fetch(sql("problems_counts"))}


async def close_report(
    conn: Connection, report_id: uuid.UUID, reason: CloseReason, *, remove_note: bool, actor: str, now: dt.datetime
) -> ProblemReport:
    """Resolve or dismiss an open report, by the reason given; a closed one is a conflict (someone else closed it)."""
    found = await get_report(conn, report_id)
    outcome = OUTCOME_OF[reason]
    if await conn.fetchval(sql("problems_close"), report_id, outcome, now, actor, reason, remove_note) is None:
        raise Conflict("status", f"this report was {found.status} already, by {found.closed_by}")
    detail = {"reason": reason, "note_removed": remove_note and bool(found.note)}
    await audit(conn, actor, f"problem_report.{outcome}", found.service_id, str(report_id), detail, now)
    return await get_report(conn, report_id)


async def remove_note(conn: Connection, report_id: uuid.UUID, *, actor: str, now: dt.datetime) -> ProblemReport:
    """Delete a report's note, open or closed (it said something about a person, say); the report and its reason
    stay, and the audit says who removed it."""
    found = await get_report(conn, report_id)
    if await conn.fetchval(sql("problems_remove_note"), report_id) is not None:
        await audit(conn, actor, "problem_report.note_removed", found.service_id, str(report_id), {}, now)
    return await get_report(conn, report_id)


async def purge_reports(conn: Connection, now: dt.datetime, days: int) -> int:
    """Delete reports closed more than `days` ago; how many went."""
    status = await conn.execute(sql("problems_purge"), now - dt.timedelta(days=days))
    return int(status.split()[-1])
