"""Sessions in PostgreSQL, so that every replica sees them: made at sign-in, read at each request of the pages,
touched at most once a minute, deleted at sign-out, and purged once ended. SQL in sql/*.sql."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec

from service.domain.access import Identity
from service.stewardship.editing import Draft
from service.stewardship.sessions import ATTEMPT_MINUTES, Attempt, Session
from service.store.db import Connection
from service.store.keys import identities_for_hashes
from service.store.sql import queries

sql = queries(Path(__file__).parent / "sql")
TOUCH_EVERY = dt.timedelta(minutes=1)
"""How stale a session's last use may be before a request writes it again (the idle timeout is minutes long)."""


async def create_session(conn: Connection, session: Session) -> None:
    await conn.execute(
        sql("sessions_insert"),
        session.id,
        session.key_hash,
        session.identity,
        session.csrf,
        session.created_at,
        session.expires_at,
    )


async def find_session(conn: Connection, session_id: str) -> Session | None:
    row = await conn.fetchrow(sql("sessions_get"), session_id)
    return None if row is None else msgspec.convert(dict(row.items()), Session)


async def touch_session(conn: Connection, session: Session, now: dt.datetime) -> None:
    if now - session.seen_at >= TOUCH_EVERY:
        await conn.execute(sql("sessions_touch"), session.id, now)


async def end_session(conn: Connection, session_id: str) -> None:
    await conn.execute(sql("sessions_delete"), session_id)


async def purge_sessions(conn: Connection, now: dt.datetime, idle: dt.timedelta) -> int:
    """Delete every session past its lifetime or its idle timeout; how many went."""
    status = await conn.execute(sql("sessions_purge"), now, now - idle)
    return int(status.split()[-1])


async def begin_attempt(conn: Connection, attempt: Attempt) -> None:
    """Keep an OpenID Connect sign-in's state for its callback (and drop those older than ATTEMPT_MINUTES)."""
    await conn.execute(sql("attempts_purge"), attempt.created_at - dt.timedelta(minutes=ATTEMPT_MINUTES))
    await conn.execute(sql("attempts_insert"), attempt.id, attempt.nonce, attempt.verifier, attempt.created_at)


async def take_attempt(conn: Connection, attempt_id: str) -> Attempt | None:
    """The sign-in under way with this state, removed (a callback is used once)."""
    row = await conn.fetchrow(sql("attempts_take"), attempt_id)
    return None if row is None else Attempt(id=attempt_id, **dict(row.items()))


async def key_identity(conn: Connection, key_hash: str) -> Identity | None:
    """The identity of the key a session was made from, or None once that key is revoked."""
    return (await identities_for_hashes(conn, [key_hash]))[key_hash]


MOST_DRAFTS = 20
"""Drafts one session may hold at once (each is at most a service's size)."""


async def create_draft(conn: Connection, session_id: str, draft: Draft) -> bool:
    """Keep a new draft for this session; False when the session already holds MOST_DRAFTS."""
    if int(await conn.fetchval(sql("drafts_count"), session_id)) >= MOST_DRAFTS:
        return False
    await conn.execute(
        sql("drafts_insert"),
        draft.id,
        session_id,
        draft.service_id,
        draft.base_version,
        draft.base,
        draft.document,
        list(draft.done),
    )
    return True


async def find_draft(conn: Connection, session_id: str, draft_id: str) -> Draft | None:
    """The draft, only for the session that started it."""
    row = await conn.fetchrow(sql("drafts_get"), draft_id, session_id)
    return None if row is None else msgspec.convert(dict(row.items()), Draft)


async def save_draft(conn: Connection, session_id: str, draft: Draft) -> None:
    await conn.execute(
        sql("drafts_update"),
        draft.id,
        session_id,
        draft.document,
        list(draft.done),
        draft.base_version,
        draft.base,
    )


async def drop_draft(conn: Connection, session_id: str, draft_id: str) -> None:
    await conn.execute(sql("drafts_delete"), draft_id, session_id)
