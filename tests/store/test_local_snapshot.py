"""A replica's local snapshot of the directory, on a real database: started from it, a replica holds exactly what the
database holds (services written since, through the service or by hand, read again; those gone dropped; areas
changed read again), and a file it cannot trust is passed over for the database."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest

from service.domain.model import Area, Service, ServiceBody
from service.index.engine import IndexConfig
from service.index.keeper import IndexKeeper
from service.settings import Settings
from service.store.areas import write_area
from service.store.db import Connection, Timeouts, open_database
from service.store.local_snapshot import Loaded, LocalSnapshot, snapshot_path
from service.store.services import insert_service
from service.store.snapshot import DirectorySnapshot, read_directory
from service.store.taxonomy import current_taxonomies
from tests.api.helpers import AREA, service

SCHEDULES: list[dict[str, Any]] = [
    {"open_24_7": True},
    {"weekly": [{"day": d, "opens": "09:00", "closes": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")]},
    {"weekly": [{"day": "fri", "opens": "22:00", "closes": "02:00"}]},
]


def body(n: int, **changes: Any) -> ServiceBody:
    fields = service(slug=f"s-{n:03d}", name=f"Service {n}", schedule=SCHEDULES[n % 3], **changes)
    return msgspec.convert(fields, ServiceBody)


async def fill(conn: Connection, count: int) -> list[Service]:
    area = msgspec.convert({**AREA, "code": "T1"}, Area)
    await write_area(conn, area, actor="test")
    return [await insert_service(conn, body(n), actor="test") for n in range(count)]


async def read(database_url: str) -> DirectorySnapshot:
    return await asyncio.to_thread(read_directory, database_url, Timeouts(), True)


async def load(local: LocalSnapshot, database_url: str) -> Loaded | None:
    return await asyncio.to_thread(local.load, database_url, Timeouts())


def by_id(services: list[Service]) -> dict[uuid.UUID, bytes]:
    """Each service as JSON: equal only when every field is, offsets of times included."""
    return {s.id: msgspec.json.encode(s) for s in services}


def assert_same(loaded: DirectorySnapshot, whole: DirectorySnapshot) -> None:
    assert by_id(loaded.services) == by_id(whole.services)
    assert msgspec.json.encode(loaded.areas) == msgspec.json.encode(whole.areas)
    assert msgspec.json.encode(loaded.sites) == msgspec.json.encode(whole.sites)
    assert loaded.postcodes == whole.postcodes
    assert loaded.version == whole.version
    assert sorted(loaded.damaged) == sorted(whole.damaged)


async def test_a_snapshot_read_back_holds_exactly_what_the_database_holds_with_equal_schedules_shared(
    conn: Connection, database_url: str, tmp_path: Path
) -> None:
    await fill(conn, 30)
    local = LocalSnapshot(snapshot_path(tmp_path))
    assert local.save(await read(database_url))
    loaded = await load(local, database_url)
    assert loaded is not None and not loaded.changed and loaded.reread == 0
    assert_same(loaded.snapshot, await read(database_url))
    schedules = {id(s.schedule) for s in loaded.snapshot.services}
    assert len(schedules) == len(SCHEDULES)


async def test_services_written_since_even_by_hand_are_read_again_and_those_gone_are_dropped(
    conn: Connection, database_url: str, tmp_path: Path
) -> None:
    written = await fill(conn, 30)
    local = LocalSnapshot(snapshot_path(tmp_path))
    local.save(await read(database_url))
    # By hand: no change record, no version bump; only the row's own version (xmin) tells.
    await conn.execute(
        "update services set body = jsonb_set(body, '{name}', '\"Renamed by hand\"') where id = $1", written[3].id
    )
    await conn.execute("delete from services where id = $1", written[4].id)
    await insert_service(conn, body(99), actor="test")
    boundary = {"type": "Polygon", "coordinates": [[[-1.0, 52.0], [1.0, 52.0], [1.0, 53.0], [-1.0, 52.0]]]}
    await write_area(conn, msgspec.convert({**AREA, "code": "T1", "boundary": boundary}, Area), actor="test")

    loaded = await load(local, database_url)

    assert loaded is not None and loaded.changed and loaded.reread == 2
    assert_same(loaded.snapshot, await read(database_url))
    names = {s.slug: s.name for s in loaded.snapshot.services}
    assert names["s-003"] == "Renamed by hand" and "s-004" not in names and "s-099" in names
    # Written again, the file needs nothing read next time.
    local.save(loaded.snapshot)
    again = await load(local, database_url)
    assert again is not None and not again.changed and again.reread == 0
    assert_same(again.snapshot, loaded.snapshot)


async def test_a_service_that_cannot_be_read_stays_out_of_search_until_it_is_mended(
    conn: Connection, database_url: str, tmp_path: Path
) -> None:
    written = await fill(conn, 5)
    await conn.execute("update services set body = body - 'kind' where id = $1", written[1].id)
    local = LocalSnapshot(snapshot_path(tmp_path))
    local.save(await read(database_url))
    loaded = await load(local, database_url)
    assert loaded is not None and loaded.snapshot.damaged == [str(written[1].id)]
    assert written[1].id not in by_id(loaded.snapshot.services)

    await conn.execute('update services set body = body || \'{"kind": "street_triage"}\' where id = $1', written[1].id)
    mended = await load(local, database_url)
    assert mended is not None and mended.snapshot.damaged == []
    assert_same(mended.snapshot, await read(database_url))


@pytest.mark.parametrize("damage", ["truncated", "not ours", "other types", "another database"])
async def test_a_file_that_cannot_be_trusted_is_passed_over_for_the_database(
    conn: Connection, database_url: str, tmp_path: Path, damage: str
) -> None:
    await fill(conn, 5)
    local = LocalSnapshot(snapshot_path(tmp_path))
    snapshot = await read(database_url)
    if damage == "another database":
        assert snapshot.digests is not None
        snapshot = dataclasses.replace(snapshot, digests=msgspec.structs.replace(snapshot.digests, database="1/1/1"))
    local.save(snapshot)
    data = local.path.read_bytes()
    if damage == "truncated":
        local.path.write_bytes(data[:-10])
    elif damage == "not ours":
        local.path.write_bytes(b'{"services": []}')
    elif damage == "other types":
        header_end = data.index(b"\n", data.index(b"\n") + 1)
        header = data[:header_end].replace(b'"types":"', b'"types":"0')
        local.path.write_bytes(header + data[header_end:])
    assert await load(local, database_url) is None


async def test_more_services_changed_than_are_worth_reading_one_by_one_means_reading_the_database(
    conn: Connection, database_url: str, tmp_path: Path
) -> None:
    written = await fill(conn, 10)
    local = LocalSnapshot(snapshot_path(tmp_path), most_reread=2)
    local.save(await read(database_url))
    for s in written[:3]:
        await conn.execute("update services set version = version + 1 where id = $1", s.id)
    assert await load(local, database_url) is None


async def test_the_keeper_writes_its_snapshot_after_building_from_the_database_and_starts_from_it_next_time(
    conn: Connection, settings: Settings, tmp_path: Path
) -> None:
    await fill(conn, 20)
    vocab = await current_taxonomies(conn)
    async with open_database(settings) as db:
        first = IndexKeeper(db, vocab, IndexConfig(), local=LocalSnapshot(snapshot_path(tmp_path)))
        await first.start()
        await first.stop()  # which waits for the file to be written
        assert first.source == "database" and snapshot_path(tmp_path).is_file()

        await insert_service(conn, body(50), actor="test")  # a write while no replica was running
        second = IndexKeeper(db, vocab, IndexConfig(), local=LocalSnapshot(snapshot_path(tmp_path)))
        await second.start()
        await second.stop()
    assert second.source == "local" and second.timings["services read again"] == 1
    assert first.index is not None and second.index is not None
    assert len(second.index) == len(first.index) + 1 and "s-050" in second.index.by_slug
    assert second.index.version > first.index.version


async def test_a_rebuild_while_serving_starts_from_the_snapshot_too_and_takes_in_the_changed_area(
    conn: Connection, settings: Settings, tmp_path: Path
) -> None:
    await fill(conn, 10)
    vocab = await current_taxonomies(conn)
    async with open_database(settings) as db:
        keeper = IndexKeeper(db, vocab, IndexConfig(), local=LocalSnapshot(snapshot_path(tmp_path)))
        await keeper.start()
        try:
            rebuilds = keeper.rebuilds
            moved = {"type": "Polygon", "coordinates": [[[1.0, 52.0], [2.0, 52.0], [2.0, 53.0], [1.0, 52.0]]]}
            await write_area(conn, msgspec.convert({**AREA, "code": "T1", "boundary": moved}, Area), actor="test")
            deadline = asyncio.get_running_loop().time() + 10
            while keeper.rebuilds == rebuilds:  # an area's change is taken in by a whole rebuild
                assert asyncio.get_running_loop().time() < deadline, "the area's change never reached the index"
                await asyncio.sleep(0.01)
        finally:
            await keeper.stop()
    assert keeper.source == "local" and keeper.index is not None
    assert [msgspec.json.decode(msgspec.json.encode(a.boundary)) for a in keeper.index.places.areas] == [moved]
