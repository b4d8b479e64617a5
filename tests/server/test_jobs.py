"""The job queue's set-up: its tables are procrastinate's own schema, and the notifier's schedule ticks as set."""

from __future__ import annotations

import datetime as dt
import itertools
from importlib import resources

import msgspec
from croniter import croniter  # type: ignore[import-untyped]

from service.settings import PROJECT_ROOT, Settings
from service.stewardship import notify
from service.store.migrate import discover


def test_the_job_queue_migration_is_the_installed_procrastinates_schema() -> None:
    """When procrastinate is upgraded, its own migrations become new ones of ours: this says when."""
    ours = next(m for m in discover(PROJECT_ROOT / "schema") if m.name == "job_queue").sql
    theirs = resources.files("procrastinate").joinpath("sql/schema.sql").read_text(encoding="utf-8")
    assert ours.endswith(theirs) and ours[: -len(theirs)].strip().startswith("-- The job queue")


def test_the_notifier_runs_every_notify_seconds_all_minute_long() -> None:
    for seconds in (1, 15, 20):  # each divides the minute
        settings = msgspec.structs.replace(Settings(), notify_seconds=seconds)
        crons = [p.cron for p in notify.blueprint(settings).periodic_registry.periodic_tasks.values()]
        cron = next(c for c in crons if len(c.split()) == 6)
        ticks = croniter(cron, dt.datetime(2026, 12, 7, 10, 0, 0))
        times = [ticks.get_next(dt.datetime) for _ in range(8)]
        assert {(b - a).total_seconds() for a, b in itertools.pairwise(times)} == {seconds}
