"""The job queue: procrastinate on the directory's own PostgreSQL, with a worker in every replica.

Why procrastinate: jobs live in PostgreSQL (no broker to run beside it), a job is taken by one worker only (row locks
with SKIP LOCKED), periodic jobs are deferred once per tick however many replicas run (a unique row per task and
tick), failed jobs are retried on a schedule, and jobs can be deferred in the same transaction as the write that
causes them (`defer`, through the queue's own SQL function), so that none is lost and none is made for a write that
rolled back. Its tables come from migration 0016.

Capabilities bring their tasks as procrastinate Blueprints (app.py adds them); a task that needs the running app
takes `pass_context=True` and reads `context.additional_context["state"]` (the litestar app's state). The worker is
restarted after a pause when the database goes away, and stopped with the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import procrastinate
from procrastinate import builtin_tasks

from service.store.db import Connection
from service.store.sql import sql

log = logging.getLogger("service.jobs")
RESTART_SECONDS = 10.0


def queue_app(dsn: str, blueprints: Sequence[tuple[str, procrastinate.Blueprint]] = ()) -> procrastinate.App:
    """A procrastinate App on the directory's database, with the capabilities' tasks under their namespaces."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn, min_size=1, max_size=4))
    for namespace, blueprint in blueprints:
        app.add_tasks_from(blueprint, namespace=namespace)
    return app


class Worker:
    """A worker running beside the app's server, on its event loop: started again after a pause whenever it stops
    without being asked to (the database went away, or one of its side tasks failed)."""

    def __init__(self, app: procrastinate.App, context: Mapping[str, Any], poll_seconds: float = 5.0) -> None:
        self.app, self.context, self.poll_seconds = app, dict(context), poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._opened = False
        self._stopping = False

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run_forever(), name="job-worker")

    async def _run_forever(self) -> None:
        while not self._stopping:
            try:
                if not self._opened:
                    await self.app.open_async()
                    self._opened = True
                await self.app.run_worker_async(
                    install_signal_handlers=False,
                    concurrency=2,
                    wait=True,
                    fetch_job_polling_interval=self.poll_seconds,
                    abort_job_polling_interval=max(self.poll_seconds, 5.0),
                    additional_context=self.context,
                    delete_jobs="successful",
                    shutdown_graceful_timeout=5.0,
                )
                if self._stopping:
                    return
                log.warning("job worker stopped by itself; starting again in %.0f s", RESTART_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the database went away, say: try again later, never take the server down
                log.warning("job worker stopped (%s); starting again in %.0f s", type(e).__name__, RESTART_SECONDS)
            if self._opened:
                with contextlib.suppress(Exception):
                    await self.app.close_async()
                self._opened = False
            await asyncio.sleep(RESTART_SECONDS)

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            while not self._task.done():  # as the index keeper: never trust one cancellation
                self._task.cancel()
                await asyncio.wait({self._task}, timeout=6.0)
        if self._opened:
            with contextlib.suppress(Exception):
                await self.app.close_async()
            self._opened = False


STALLED_SECONDS = 60
"""A job whose worker has not beaten its heart for this long is taken to have died with it, and is run again."""
KEEP_FINISHED_HOURS = 24 * 14
"""Finished jobs (and failed ones, which hold a mail's address) are deleted after two weeks."""


async def retry_stalled(context: procrastinate.JobContext, timestamp: int) -> None:
    """Jobs left "doing" by a replica that died run again (a mail may then go twice: at least once, never lost)."""
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_SECONDS):
        log.warning("retrying job %s, left running by a worker that stopped", job.id)
        await manager.retry_job(job)


async def remove_finished(context: procrastinate.JobContext, timestamp: int) -> None:
    await builtin_tasks.remove_old_jobs(
        context, max_hours=KEEP_FINISHED_HOURS, remove_failed=True, remove_cancelled=True, remove_aborted=True
    )


def housekeeping() -> procrastinate.Blueprint:
    """The queue's own upkeep: stalled jobs run again each minute; finished ones deleted each night."""
    bp = procrastinate.Blueprint()
    bp.periodic(cron="* * * * *")(bp.task(name="retry_stalled", pass_context=True)(retry_stalled))
    bp.periodic(cron="41 3 * * *")(bp.task(name="remove_finished", pass_context=True)(remove_finished))
    return bp


async def defer(
    conn: Connection,
    task_name: str,
    args: Mapping[str, Any],
    *,
    queue: str = "default",
    queueing_lock: str | None = None,
    scheduled_at: dt.datetime | None = None,
) -> int | None:
    """Queue a job in the caller's transaction: it exists if and only if the transaction commits. With a
    `queueing_lock`, a job already waiting under the same lock makes this one unnecessary (None)."""
    if queueing_lock is not None and await conn.fetchval(sql("jobs_waiting"), queueing_lock):
        return None
    job_id: int = await conn.fetchval(
        sql("jobs_defer"), queue, task_name, 0, None, queueing_lock, dict(args), scheduled_at
    )
    return job_id
