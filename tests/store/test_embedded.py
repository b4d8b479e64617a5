"""The embedded PostgreSQL (pgserver): the same code path as DATABASE_URL, and data that survives a restart."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from service.settings import PROJECT_ROOT, Settings
from service.store.changes import directory_version
from service.store.db import open_database
from service.store.demo import load_demo_if_empty
from service.store.migrate import migrate
from service.store.services import ServiceFilter, list_services
from service.store.taxonomy import current_taxonomies

pytestmark = pytest.mark.embedded


async def test_the_embedded_server_keeps_the_directory_across_a_restart(tmp_path: Path) -> None:
    settings = Settings(database_url=None, data_dir=str(tmp_path / "data"), load_demo=True)
    async with open_database(settings) as db, db.pool.acquire() as conn:
        assert db.embedded
        await migrate(conn, PROJECT_ROOT / "schema")
        vocab = await current_taxonomies(conn)
        report = await load_demo_if_empty(conn, settings.demo_file, vocab)
        assert report is not None and report.services.created > 0
        version = await directory_version(conn)

    async with open_database(settings) as db, db.pool.acquire() as conn:
        assert await migrate(conn, PROJECT_ROOT / "schema") == []
        assert await directory_version(conn) == version
        assert await load_demo_if_empty(conn, settings.demo_file, await current_taxonomies(conn)) is None
        services, total = await list_services(conn, ServiceFilter())
        assert total == report.services.created
        assert msgspec.to_builtins(services[0])["slug"]


async def test_a_data_folder_that_holds_a_replicas_index_snapshot_still_starts_the_embedded_server(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    (data / "index-snapshot").mkdir(parents=True)  # left by a run on DATABASE_URL (or by a test) in the same folder
    (data / "index-snapshot" / "directory.json").write_text("{}", encoding="utf-8")
    settings = Settings(database_url=None, data_dir=str(data), load_demo=False)
    async with open_database(settings) as db, db.pool.acquire() as conn:
        assert db.embedded and await conn.fetchval("select 1") == 1
    assert (data / "postgres" / "PG_VERSION").is_file()


async def test_a_data_folder_made_before_the_cluster_had_a_folder_of_its_own_keeps_its_data(tmp_path: Path) -> None:
    import pgserver  # type: ignore[import-untyped,unused-ignore]

    data = tmp_path / "data"
    old = pgserver.get_server(data, cleanup_mode="stop")  # type: ignore[attr-defined]  # the former layout: the cluster in the data folder itself
    try:
        old.psql("create table kept (x int); insert into kept values (7);")
    finally:
        old.cleanup()
    settings = Settings(database_url=None, data_dir=str(data), load_demo=False)
    async with open_database(settings) as db, db.pool.acquire() as conn:
        assert await conn.fetchval("select x from kept") == 7
    assert not (data / "postgres").exists()
