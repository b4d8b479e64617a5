"""The index keeper on a real database: a write reaches search by changing just the services it touched, and a whole
rebuild (20,000 services, read, decoded and built in a thread) never holds up the searches asked meanwhile."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from service.domain.request import Person, PointOrigin, ReferralRequest
from service.index.engine import IndexConfig
from service.index.keeper import IndexKeeper
from service.settings import Settings
from service.store.db import Connection, open_database
from service.store.taxonomy import current_taxonomies
from tests.api.helpers import service

SERVICES = 20_000
REQUEST = ReferralRequest(
    origin=PointOrigin(lat=52.5, lon=-0.5), context="street", person=Person(age=30, needs=("mental_health_crisis",))
)


async def fill(conn: Connection, count: int) -> None:
    """`count` services written straight into the table (one document, its slug varied), national catchments."""
    body = service(catchment={"type": "national"}, schedule={"open_24_7": True})
    await conn.execute(
        """insert into services (id, slug, name, kind, status, contexts, needs, search_text, body)
           select gen_random_uuid(), 's-' || i, 'S ' || i, 'street_triage', 'active', '{street}',
                  '{mental_health_crisis}', 's-' || i,
                  jsonb_set(jsonb_set($1::jsonb, '{slug}', to_jsonb('s-' || i)), '{name}', to_jsonb('S ' || i))
           from generate_series(1, $2) as i""",
        body,
        count,
    )


def search(keeper: IndexKeeper) -> float:
    """One search on the index being served; its duration in seconds."""
    index = keeper.index
    assert index is not None
    start = time.perf_counter()
    answer = index.search(
        REQUEST,
        at=dt.datetime.now(dt.UTC),
        where=index.resolve_point(-0.5, 52.5),
        origin_label="x",
        resolved_from="point",
    )
    assert answer.options
    return time.perf_counter() - start


async def test_a_search_asked_during_a_rebuild_of_20000_services_answers_without_waiting_for_it(
    settings: Settings, conn: Connection
) -> None:
    await fill(conn, SERVICES)
    vocab = await current_taxonomies(conn)
    async with open_database(settings) as db:
        keeper = IndexKeeper(db, vocab, IndexConfig())
        await keeper.rebuild()
        assert keeper.index is not None and len(keeper.index) == SERVICES
        started = time.perf_counter()
        rebuilding = asyncio.create_task(keeper.rebuild())
        answered: list[tuple[float, float]] = []  # (when asked, how long the loop took to answer)
        while not rebuilding.done():
            asked = time.perf_counter()
            await asyncio.sleep(0)  # as a request arriving on the loop waits its turn
            answered.append((asked - started, time.perf_counter() - asked + search(keeper)))
            await asyncio.sleep(0.005)
        await rebuilding
        took = time.perf_counter() - started
    during = [wait for at, wait in answered if at < took]
    assert took > 0.2, f"the rebuild took {took:.2f} s: too quick to show anything"
    assert len(during) >= 5, f"only {len(during)} searches answered during a {took:.2f} s rebuild"
    # A search that waited for the rebuild would wait for the rest of it. One slow answer on a shared machine (the
    # system handing the core elsewhere) is not that, so the budget is for nine answers in ten, and the slowest
    # must still be well short of the rebuild.
    usual = sorted(during)[int(len(during) * 0.9) - 1]
    assert usual < min(0.1, took / 4), f"searches waited {usual * 1000:.0f} ms (9 in 10) of a {took:.2f} s rebuild"
    assert max(during) < took / 2, f"a search waited {max(during) * 1000:.0f} ms of a {took:.2f} s rebuild"


async def test_a_write_reaches_search_by_changing_only_the_services_it_touched(
    settings: Settings, conn: Connection
) -> None:
    await fill(conn, 50)
    vocab = await current_taxonomies(conn)
    async with open_database(settings) as db:
        keeper = IndexKeeper(db, vocab, IndexConfig())
        await keeper.start()
        try:
            assert keeper.index is not None
            rebuilds, version = keeper.rebuilds, keeper.index.version
            await conn.execute(
                """update services set body = jsonb_set(body, '{status}', '"closed"'), version = version + 1
                   where slug = 's-7'"""
            )
            await conn.execute(
                """insert into changes (actor, entity, entity_key, operation, version, fields)
                   select 'test', 'service', id::text, 'update', version, '[]' from services where slug = 's-7'"""
            )
            deadline = time.monotonic() + 5
            while keeper.index.by_slug["s-7"].status != "closed":
                assert time.monotonic() < deadline, "the write never reached the index"
                await asyncio.sleep(0.01)
            assert keeper.rebuilds == rebuilds and keeper.increments >= 1
            assert keeper.index.version > version
            assert "s-7" not in {o.service.slug for o in _answer(keeper).options}
        finally:
            await keeper.stop()


def _answer(keeper: IndexKeeper):  # type: ignore[no-untyped-def]
    index = keeper.index
    assert index is not None
    request = ReferralRequest(origin=REQUEST.origin, context="street", person=REQUEST.person, limit=50)
    return index.search(
        request,
        at=dt.datetime.now(dt.UTC),
        where=index.resolve_point(-0.5, 52.5),
        origin_label="x",
        resolved_from="point",
    )
