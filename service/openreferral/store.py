"""Import an Open Referral feed saved as files: map every service (service/openreferral/importing.py), then write them
with the directory import, all or nothing (service/store/directory.py), with a report of every record that could
not be mapped and why, every HSDS field left behind, and every default assumed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from service.domain.decoding import DECODE_ERRORS, problem_from
from service.domain.errors import ImportRejected, RecordProblem
from service.domain.model import Taxonomies
from service.openreferral.feed import MAX_ID_LENGTH, feed_records
from service.openreferral.importing import Mapped, map_service
from service.store.db import Connection
from service.store.directory import ImportReport, Scope, import_directory


class Note(msgspec.Struct, frozen=True, kw_only=True):
    """One thing the import did not carry over, or assumed: which service (its index and feed id), which field."""

    index: int
    id: str | None
    field: str
    reason: str


class OpenReferralReport(msgspec.Struct, frozen=True, kw_only=True):
    services_read: int
    imported: ImportReport | None
    """What was written (None on a dry run: everything was checked, nothing was written)."""
    left_behind: tuple[Note, ...]
    assumed: tuple[Note, ...]
    skipped: tuple[Note, ...]
    """Records in the feed that are not services (taxonomies, terms): ours are fixed, so they are not imported."""


class _DryRun(Exception):
    def __init__(self, report: ImportReport) -> None:
        self.report = report


def read_feed(files: Sequence[tuple[str, bytes]]) -> tuple[list[Any], list[Note], list[RecordProblem]]:
    """The services of every file (one record per service id: the fullest copy), what is not a service, and what
    cannot be read: a file that is not JSON, an item that is not an Open Referral record, a feed with no service."""
    services: dict[str, Any] = {}
    anonymous: list[Any] = []
    skipped: list[Note] = []
    broken: list[RecordProblem] = []
    for name, data in files:
        try:
            document = msgspec.json.decode(data)
        except DECODE_ERRORS as e:
            problem = problem_from(e, data=data)
            broken.append(RecordProblem(section=name, index=0, key=None, field=problem.field, reason=problem.reason))
            continue
        for i, (kind, where, record) in enumerate(feed_records(document)):
            key = record.get("id") if isinstance(record, dict) else None
            if kind == "bad":
                broken.append(RecordProblem(section=name, index=i, key=None, field=where, reason=record))
            elif kind == "other":
                named = key if isinstance(key, str) and len(key) <= MAX_ID_LENGTH else None
                skipped.append(Note(index=i, id=named, field=name, reason="not a service"))
            elif not isinstance(key, str):
                anonymous.append(record)
            elif key not in services or len(msgspec.json.encode(record)) > len(msgspec.json.encode(services[key])):
                services[key] = record
    if skipped and not (services or anonymous or broken):
        reason = f"the feed holds no services, only {len(skipped)} Open Referral record(s) of other kinds"
        broken.append(RecordProblem(section=files[0][0], index=0, key=None, field="body", reason=reason))
    return [*services.values(), *anonymous], skipped, broken


def map_feed(records: list[Any]) -> list[Mapped]:
    return [map_service(record, i) for i, record in enumerate(records)]


async def import_openreferral(
    conn: Connection,
    files: Sequence[tuple[str, bytes]],
    *,
    actor: str,
    vocab: Taxonomies,
    scope: Scope | None = None,
    dry_run: bool = False,
) -> OpenReferralReport:
    records, skipped, broken = read_feed(files)
    mapped = map_feed(records)
    problems = broken + [
        RecordProblem(section="services", index=m.index, key=m.key, field=p.field, reason=p.reason)
        for m in mapped
        for p in m.problems
    ]
    if problems:
        raise ImportRejected(tuple(problems))
    document = msgspec.json.encode({"services": [m.record for m in mapped]})
    try:
        async with conn.transaction():  # a savepoint: a dry run checks everything, then takes it all back
            imported = await import_directory(conn, document, actor=actor, vocab=vocab, scope=scope)
            if dry_run:
                raise _DryRun(imported)
    except _DryRun:
        imported = None
    return OpenReferralReport(
        services_read=len(mapped),
        imported=imported,
        left_behind=_notes(mapped, "left_behind"),
        assumed=_notes(mapped, "assumed"),
        skipped=tuple(skipped),
    )


def _notes(mapped: list[Mapped], which: str) -> tuple[Note, ...]:
    return tuple(
        Note(index=m.index, id=m.key, field=p.field, reason=p.reason) for m in mapped for p in getattr(m, which)
    )
