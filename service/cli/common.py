"""What every command shares: the settings, a connection to the one database the rule names (said out loud), the
import progress line, a rejection's report, and writing a document out."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from service.cli.database import say_writing, where
from service.domain.errors import ImportRejected, InvalidInput
from service.settings import Settings
from service.store.db import Connection, open_database
from service.store.migrate import migrate


def settings_now() -> Settings:
    return Settings.from_env(os.environ)


async def with_connection(
    settings: Settings, work: Callable[[Connection], Awaitable[int]], *, writes: bool = True
) -> int:
    if writes:
        say_writing(settings)
    else:
        print(f"reading from {where(settings).words}", file=sys.stderr)
    async with open_database(settings) as db, db.pool.acquire() as conn:
        await migrate(conn, settings.schema_dir)
        return await work(conn)


class Progress:
    """Prints "importing services 120/500 (24%)" at most every 5% on stderr, and always the last one."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.last = -1

    def __call__(self, section: str, done: int, total: int) -> None:
        step = done * 20 // max(total, 1)
        if step != self.last or done == total:
            self.last = step
            print(f"importing {section} {done}/{total} ({done * 100 // max(total, 1)}%)", file=self.out, flush=True)


def report_rejection(exc: ImportRejected | InvalidInput) -> int:
    if isinstance(exc, ImportRejected):
        for p in exc.problems:
            key = f" ({p.key})" if p.key else ""
            print(f"{p.section}[{p.index}]{key}: {p.field}: {p.reason}", file=sys.stderr)
    else:
        for fp in exc.problems:
            print(f"{fp.field}: {fp.reason}", file=sys.stderr)
    print(f"rejected: {exc}", file=sys.stderr)
    return 1


async def write_out(output: str | None, text: str) -> None:
    """To standard output (no file, or "-"), else to the file."""
    if output in (None, "-"):
        sys.stdout.write(text)
    else:
        await asyncio.to_thread(Path(output).write_text, text, encoding="utf-8")
