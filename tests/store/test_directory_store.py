"""Services in the store, and the whole-directory document."""

from __future__ import annotations

import msgspec

from service.domain.model import ServiceBody
from service.store import services as store
from service.store.changes import directory_version
from service.store.db import Connection
from service.store.directory import export_directory, import_directory
from service.store.taxonomy import current_taxonomies


async def test_export_import_into_an_empty_database_export_gives_equal_documents(
    conn: Connection, demo_document: bytes
) -> None:
    vocab = await current_taxonomies(conn)
    async with conn.transaction():
        await import_directory(conn, demo_document, actor="test", vocab=vocab)
    first = msgspec.json.encode(await export_directory(conn))

    await conn.execute("truncate services, sites, areas, changes restart identity cascade")
    async with conn.transaction():
        report = await import_directory(conn, first, actor="test", vocab=vocab)
    second = msgspec.json.encode(await export_directory(conn))

    assert report.services.created == len(msgspec.json.decode(first)["services"])
    assert first == second


async def test_importing_the_same_document_twice_changes_nothing(conn: Connection, demo_document: bytes) -> None:
    vocab = await current_taxonomies(conn)
    await import_directory(conn, demo_document, actor="test", vocab=vocab)
    version = await directory_version(conn)
    report = await import_directory(conn, demo_document, actor="test", vocab=vocab)
    assert (report.services.created, report.services.updated) == (0, 0)
    assert report.services.unchanged > 0
    assert await directory_version(conn) == version


async def test_every_write_bumps_the_version_and_records_old_and_new(conn: Connection, demo_document: bytes) -> None:
    vocab = await current_taxonomies(conn)
    await import_directory(conn, demo_document, actor="test", vocab=vocab)
    service = await store.get_service(conn, "nhs-111-option-2")
    body = msgspec.structs.replace(store.body_of(service), name="NHS 111 option 2")
    updated = await store.replace_service(conn, str(service.id), body, actor="editor-1", vocab=vocab, if_match=None)
    assert updated.version == service.version + 1
    history = await store.service_history(conn, "nhs-111-option-2")
    assert [h.operation for h in history] == ["import", "replace"]
    assert history[-1].actor == "editor-1"
    assert [(c.field, c.old, c.new) for c in history[-1].changes] == [
        ("name", "NHS 111, option 2 (mental health)", "NHS 111 option 2")
    ]
    assert isinstance(store.body_of(updated), ServiceBody)


async def test_list_is_filtered_paged_and_stably_ordered(conn: Connection, demo_document: bytes) -> None:
    vocab = await current_taxonomies(conn)
    await import_directory(conn, demo_document, actor="test", vocab=vocab)
    everything, total = await store.list_services(conn, store.ServiceFilter(limit=200))
    assert [s.name for s in everything] == sorted(s.name for s in everything)
    pages = [(await store.list_services(conn, store.ServiceFilter(limit=4, offset=o)))[0] for o in range(0, total, 4)]
    assert [s.id for page in pages for s in page] == [s.id for s in everything]

    places, _ = await store.list_services(conn, store.ServiceFilter(kind="place_of_safety"))
    assert places and all(s.kind == "place_of_safety" for s in places)
    bedfordshire, _ = await store.list_services(conn, store.ServiceFilter(area="E23000026"))
    assert {s.slug for s in bedfordshire} >= {"bedford-place-of-safety", "bedfordshire-street-triage"}
    women, _ = await store.list_services(conn, store.ServiceFilter(text="WOMEN"))
    assert {s.slug for s in women} >= {"hull-womens-custody-triage", "together-women-project-hull"}
    nothing, none_total = await store.list_services(conn, store.ServiceFilter(text="100%_"))
    assert (nothing, none_total) == ([], 0)
    beyond, beyond_total = await store.list_services(conn, store.ServiceFilter(offset=1000))
    assert (beyond, beyond_total) == ([], total)
