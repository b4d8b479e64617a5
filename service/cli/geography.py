"""The commands that load places: `setup-geography` (the official open files of a folder), `import-sites` and
`export-sites`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import msgspec

from service.cli.common import Progress, report_rejection, settings_now, with_connection, write_out
from service.domain.errors import ImportRejected, InvalidInput
from service.store.db import Connection


def cmd_setup_geography(args: argparse.Namespace) -> int:
    """Load the police force areas, districts, postcode centroids and custody suites from the files in DIR."""
    from service.store.geography import setup_geography
    from service.store.taxonomy import current_taxonomies

    settings = settings_now()
    folder = Path(args.folder)
    actor = args.actor or settings.default_actor

    async def work(conn: Connection) -> int:
        try:
            async with conn.transaction():
                vocab = await current_taxonomies(conn)
                report = await setup_geography(
                    conn,
                    folder,
                    actor=actor,
                    vocab=vocab,
                    forces_file=Path(args.forces) if args.forces else None,
                    districts_file=Path(args.districts) if args.districts else None,
                    progress=Progress(sys.stderr),
                    say=lambda line: print(line, file=sys.stderr, flush=True),
                )
        except (ImportRejected, InvalidInput) as e:
            return report_rejection(e)
        if args.json:
            print(json.dumps(msgspec.to_builtins(report), indent=2))
            return 0
        for part in report.parts:
            counts = ", ".join(
                f"{n} {what}"
                for what, n in (
                    ("created", part.created),
                    ("updated", part.updated),
                    ("unchanged", part.unchanged),
                    ("stored before but not in these files (kept)", part.not_in_files),
                )
                if n
            )
            print(f"{part.part} ({', '.join(part.files)})" + (f": {counts}" if counts else ""))
            for note in part.notes:
                print(f"  {note}")
        for gap in report.missing:
            print(f"not in the folder: {gap}")
        for passed_over in report.not_recognised:
            print(f"not recognised: {passed_over}")
        changed = sum(p.created + p.updated for p in report.parts)
        print(
            f"{changed} record(s) written; directory version {report.directory_version}"
            if changed
            else "nothing changed"
        )
        return 0

    return asyncio.run(with_connection(settings, work))


def cmd_import_sites(args: argparse.Namespace) -> int:
    """Sites from a CSV (the MoJ custody-suite list as it is, or any table with a place) or our JSON."""
    from service.store.directory import import_sites
    from service.store.site_import import import_site_file
    from service.store.taxonomy import current_taxonomies

    settings = settings_now()
    path = Path(args.file)
    data = path.read_bytes()
    actor = args.actor or settings.default_actor
    is_json = path.suffix.lower() == ".json" or data.lstrip()[:1] == b"{"
    first, _, last = (args.block or "").partition(":")
    if args.block and not (first and last):
        print("--block: give the first and last references, e.g. DP1:GWN2", file=sys.stderr)
        return 2
    block = (first.strip(), last.strip()) if args.block else None

    async def work(conn: Connection) -> int:
        try:
            async with conn.transaction():
                vocab = await current_taxonomies(conn)
                report: msgspec.Struct = (
                    await import_sites(conn, data, actor=actor, vocab=vocab)
                    if is_json
                    else await import_site_file(
                        conn,
                        data,
                        actor=actor,
                        vocab=vocab,
                        kind=args.kind,
                        skip_unplaced=args.skip_unplaced,
                        block=block,
                    )
                )
        except (ImportRejected, InvalidInput) as e:
            return report_rejection(e)
        print(json.dumps(msgspec.to_builtins(report), indent=2))
        return 0

    return asyncio.run(with_connection(settings, work))


def cmd_export_sites(args: argparse.Namespace) -> int:
    from service.store.site_import import export_sites

    settings = settings_now()
    fmt = args.format or ("csv" if (args.output or "").lower().endswith(".csv") else "json")

    async def work(conn: Connection) -> int:
        await write_out(args.output, await export_sites(conn, fmt))
        return 0

    return asyncio.run(with_connection(settings, work, writes=False))
