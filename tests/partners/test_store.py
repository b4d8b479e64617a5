"""The delivery log's own rules, on a real PostgreSQL: one change is one delivery per subscription however often it
is read; two workers taking one delivery at once, only one has it; a delivery whose sender went silent is taken again
after the lease; the log keeps finished deliveries for 30 days."""

from __future__ import annotations

import asyncio
import uuid

from service.partners import store
from service.store.db import Connection, connect


async def subscription(conn: Connection) -> uuid.UUID:
    made = await store.create_subscription(
        conn, key_id=uuid.uuid4(), url="https://203.0.113.9/hook", events=["service.changed"], services=(), secret="s"
    )
    return made.id


def delivery(subscription_id: uuid.UUID, change_id: int | None) -> store.NewDelivery:
    return store.NewDelivery(
        id=uuid.uuid4(),
        subscription_id=subscription_id,
        change_id=change_id,
        type="service.changed",
        service_id=None,
        body=b"{}",
    )


async def test_one_change_is_one_delivery_to_a_subscription_however_often_it_is_read(hooks: Connection) -> None:
    sub = await subscription(hooks)
    made = await store.add_deliveries(hooks, [delivery(sub, 1), delivery(sub, 2)])
    again = await store.add_deliveries(hooks, [delivery(sub, 1), delivery(sub, 2), delivery(sub, 3)])
    assert len(made) == 2 and len(again) == 1
    pings = await store.add_deliveries(hooks, [delivery(sub, None), delivery(sub, None)])
    assert len(pings) == 2  # a ping belongs to no change
    assert await hooks.fetchval("select count(*) from webhook_deliveries") == 5


async def test_of_two_workers_taking_one_delivery_at_once_only_one_has_it(hooks: Connection, database_url: str) -> None:
    sub = await subscription(hooks)
    (delivery_id,) = await store.add_deliveries(hooks, [delivery(sub, 1)])
    one, two = await connect(database_url), await connect(database_url)
    try:

        async def take(conn: Connection) -> store.Claimed | None:
            async with conn.transaction():
                return await store.claim(conn, delivery_id, 60)

        taken = await asyncio.gather(take(one), take(two))
        assert sum(t is not None for t in taken) == 1
        assert list(await asyncio.gather(take(one), take(two))) == [None, None]  # being sent: nobody takes it again
        assert await hooks.fetchval("select attempts from webhook_deliveries where id = $1", delivery_id) == 1
    finally:
        await one.close()
        await two.close()


async def test_a_delivery_whose_sender_went_silent_is_taken_again_after_the_lease(hooks: Connection) -> None:
    sub = await subscription(hooks)
    (delivery_id,) = await store.add_deliveries(hooks, [delivery(sub, 1)])
    claimed = await store.claim(hooks, delivery_id, 60)
    assert claimed is not None and claimed.attempts == 1
    assert await store.claim(hooks, delivery_id, 60) is None
    await hooks.execute(
        "update webhook_deliveries set claimed_at = now() - interval '61 seconds' where id = $1", delivery_id
    )
    again = await store.claim(hooks, delivery_id, 60)
    assert again is not None and again.attempts == 2
    # The silent sender, coming back, cannot record over the attempt that took the delivery from it.
    assert await store.record(hooks, claimed, "delivered", last_status=200, last_error=None) is None
    assert await store.record(hooks, again, "pending", last_status=503, last_error="x", wait=60) is not None
    assert await store.claim(hooks, delivery_id, 60) is None  # not due for a minute


async def test_the_log_keeps_finished_deliveries_for_thirty_days(hooks: Connection) -> None:
    sub = await subscription(hooks)
    old, recent, waiting = await store.add_deliveries(hooks, [delivery(sub, 1), delivery(sub, 2), delivery(sub, 3)])
    await hooks.execute("update webhook_deliveries set status = 'delivered' where id = any($1::uuid[])", [old, recent])
    await hooks.execute(
        "update webhook_deliveries set updated_at = now() - interval '31 days' where id = any($1::uuid[])",
        [old, waiting],
    )
    assert await store.purge_deliveries(hooks, 30, 10_000) == 1
    kept = {r["id"] for r in await hooks.fetch("select id from webhook_deliveries")}
    assert kept == {recent, waiting}


async def test_a_transaction_left_open_holds_back_the_horizon_on_this_database_and_not_from_another(
    hooks: Connection, database_url: str, admin_dsn: str
) -> None:
    elsewhere, here = await connect(admin_dsn), await connect(database_url)
    try:
        async with elsewhere.transaction():
            other = int(await elsewhere.fetchval("select pg_current_xact_id()::text"))
            await hooks.fetchval("select pg_current_xact_id()")  # a transaction of ours, finished since
            assert await store.horizon(hooks) > other  # another database's transaction holds nothing back
            async with here.transaction():
                ours = int(await here.fetchval("select pg_current_xact_id()::text"))
                await hooks.fetchval("select pg_current_xact_id()")
                assert await store.horizon(hooks) == ours  # ours does: its rows may yet commit
            assert await store.horizon(hooks) > ours
    finally:
        await elsewhere.close()
        await here.close()


async def test_a_delivery_no_job_will_take_is_found_by_the_sweep_and_one_with_a_job_is_not(hooks: Connection) -> None:
    from service.partners.dispatch import DELIVER, QUEUE

    sub = await subscription(hooks)
    silent, queued, fresh = await store.add_deliveries(hooks, [delivery(sub, 1), delivery(sub, 2), delivery(sub, 3)])
    await hooks.execute("delete from procrastinate_jobs")
    for taken in (silent, queued):
        assert await store.claim(hooks, taken, 60) is not None
    await hooks.execute(
        "update webhook_deliveries set claimed_at = now() - interval '61 seconds' where id = any($1::uuid[])",
        [silent, queued],
    )
    await store.queue_deliveries(hooks, QUEUE, DELIVER, [queued])  # its job waits: the sweep leaves it be
    assert await store.orphaned(hooks, 60, 100, DELIVER) == [silent]  # a delivery just made is not yet overdue
    await hooks.execute(
        "update webhook_deliveries set next_attempt_at = now() - interval '2 minutes' where id = $1", fresh
    )
    assert set(await store.orphaned(hooks, 60, 100, DELIVER)) == {silent, fresh}


async def test_a_second_dispatcher_finds_the_cursor_taken_and_does_not_wait(
    hooks: Connection, database_url: str
) -> None:
    other = await connect(database_url)
    try:
        async with hooks.transaction():
            assert await store.lock_cursor(hooks) is not None
            async with other.transaction():
                assert await store.lock_cursor(other) is None
    finally:
        await other.close()


async def test_a_subscription_is_sent_the_changes_a_transaction_running_when_it_was_made_commits_after(
    hooks: Connection, database_url: str
) -> None:
    from service.partners.deliveries import visible_in

    writer = await connect(database_url)
    try:
        finished = int(await hooks.fetchval("select pg_current_xact_id()::text"))  # committed before registration
        async with writer.transaction():
            running = int(await writer.fetchval("select pg_current_xact_id()::text"))
            sub = await subscription(hooks)  # registered while the writer's transaction runs
        after = int(await hooks.fetchval("select pg_current_xact_id()::text"))  # begun after registration
        since = await hooks.fetchval("select since::text from webhook_subscriptions where id = $1", sub)
        assert visible_in(since, finished)  # not sent: the partner can read it
        assert not visible_in(since, running) and not visible_in(since, after)  # sent
    finally:
        await writer.close()


async def test_the_feed_lists_no_change_while_an_older_transaction_may_still_write_one_below_it(
    hooks: Connection, database_url: str
) -> None:
    import json

    from service.store.directory import import_directory
    from service.store.taxonomy import current_taxonomies
    from tests.conftest import DEMO_FILE

    demo = json.loads(DEMO_FILE.read_text())
    line = next(s for s in demo["services"] if s["slug"] == "nhs-111-option-2")
    async with hooks.transaction():
        await import_directory(
            hooks, json.dumps({"services": [line]}).encode(), actor="t", vocab=await current_taxonomies(hooks)
        )
    service_id = await hooks.fetchval("select id::text from services")
    change = (
        "insert into changes (actor, entity, entity_key, operation, version, fields) "
        "values ('t', 'service', $1, 'update', 2, '[]') returning id"
    )
    slow = await connect(database_url)
    try:
        async with slow.transaction():
            late = await slow.fetchval(change, service_id)  # an older transaction's change, not yet committed
            early = await hooks.fetchval(change, service_id)  # a younger one's, committed first
            listed = [c.id for c in await store.recent_changes(hooks, None, 50)]
            assert early not in listed  # a reader who took it now could pass below the late one for good
        listed = [c.id for c in await store.recent_changes(hooks, None, 50)]
        assert listed[:2] == [early, late]  # newest transaction first: the younger transaction's change on top
        assert next(c.id for c in await store.recent_changes(hooks, early, 50)) == late  # and the page after it
    finally:
        await slow.close()
