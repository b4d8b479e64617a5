"""The `pathways` command: serve, migrate, import, export, and the generated documents."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TextIO

import msgspec

from service.domain.errors import ImportRejected, InvalidInput
from service.index.engine import IndexConfig
from service.settings import Settings, SettingsError
from service.store.db import Connection, open_database
from service.store.migrate import migrate


def _settings() -> Settings:
    return Settings.from_env(os.environ)


async def _with_connection(settings: Settings, work: Callable[[Connection], Awaitable[int]]) -> int:
    async with open_database(settings) as db, db.pool.acquire() as conn:
        await migrate(conn, settings.schema_dir)
        return await work(conn)


class _Progress:
    """Prints "importing services 120/500 (24%)" at most every 5% on stderr, and always the last one."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.last = -1

    def __call__(self, section: str, done: int, total: int) -> None:
        step = done * 20 // max(total, 1)
        if step != self.last or done == total:
            self.last = step
            print(f"importing {section} {done}/{total} ({done * 100 // max(total, 1)}%)", file=self.out, flush=True)


def _report_rejection(exc: ImportRejected | InvalidInput) -> int:
    if isinstance(exc, ImportRejected):
        for p in exc.problems:
            key = f" ({p.key})" if p.key else ""
            print(f"{p.section}[{p.index}]{key}: {p.field}: {p.reason}", file=sys.stderr)
    else:
        for fp in exc.problems:
            print(f"{fp.field}: {fp.reason}", file=sys.stderr)
    print(f"rejected: {exc}; nothing was imported", file=sys.stderr)
    return 1


def cmd_serve(args: argparse.Namespace) -> int:
    # The cyclic collector waits while the modules load and the app is made: they make hundreds of thousands of
    # objects that live as long as the process, and every collection meanwhile would scan them again (about 0.1 s
    # of a start-up). Then they are frozen out of its reach, and it works as usual.
    gc.disable()
    import uvicorn

    from service.app import create_app

    settings = _settings()
    settings = msgspec.structs.replace(settings, host=args.host or settings.host, port=args.port or settings.port)
    print(f"ld-pathways on http://{settings.host}:{settings.port}  (API docs: /schema)", file=sys.stderr)
    app = create_app(settings)
    gc.freeze()
    gc.enable()
    # No access log: query strings will carry search inputs (age, gender, needs), which must never be logged.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        # The app decides whose X-Forwarded-For to believe (PATHWAYS_TRUSTED_PROXIES); uvicorn's default would
        # believe any client connecting from 127.0.0.1.
        proxy_headers=False,
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()

    async def run() -> int:
        async with open_database(settings) as db, db.pool.acquire() as conn:
            applied = await migrate(conn, settings.schema_dir)
        print(f"applied {len(applied)} migration(s)" + "".join(f"\n  {m.version:04d}_{m.name}" for m in applied))
        return 0

    return asyncio.run(run())


def _run_import(args: argparse.Namespace, load: Callable[[Connection, bytes, str], Awaitable[msgspec.Struct]]) -> int:
    """Read FILE, import it in one transaction, print the report; a rejection prints every bad record."""
    settings = _settings()
    data = Path(args.file).read_bytes()
    actor = args.actor or settings.default_actor

    async def work(conn: Connection) -> int:
        try:
            async with conn.transaction():
                report = await load(conn, data, actor)
        except (ImportRejected, InvalidInput) as e:
            return _report_rejection(e)
        print(json.dumps(msgspec.to_builtins(report), indent=2))
        return 0

    return asyncio.run(_with_connection(settings, work))


def cmd_import(args: argparse.Namespace) -> int:
    from service.store.directory import import_directory
    from service.store.taxonomy import current_taxonomies

    async def load(conn: Connection, data: bytes, actor: str) -> msgspec.Struct:
        vocab = await current_taxonomies(conn)
        return await import_directory(conn, data, actor=actor, vocab=vocab, progress=_Progress(sys.stderr))

    return _run_import(args, load)


def cmd_import_openreferral(args: argparse.Namespace) -> int:
    """FILE_OR_DIR: one saved feed file, or a folder of them (every *.json in it, by name)."""
    from service.openreferral.store import import_openreferral
    from service.store.taxonomy import current_taxonomies

    settings = _settings()
    path = Path(args.path)
    paths = sorted(path.glob("*.json")) if path.is_dir() else [path]
    files = [(p.name, p.read_bytes()) for p in paths]
    actor = args.actor or settings.default_actor

    async def work(conn: Connection) -> int:
        try:
            async with conn.transaction():
                vocab = await current_taxonomies(conn)
                report = await import_openreferral(conn, files, actor=actor, vocab=vocab, dry_run=args.dry_run)
        except (ImportRejected, InvalidInput) as e:
            return _report_rejection(e)
        print(json.dumps(msgspec.to_builtins(report), indent=2))
        return 0

    return asyncio.run(_with_connection(settings, work))


def cmd_import_areas(args: argparse.Namespace) -> int:
    from service.store.area_import import import_areas

    async def load(conn: Connection, data: bytes, actor: str) -> msgspec.Struct:
        return await import_areas(
            conn,
            data,
            actor=actor,
            code_property=args.code_property,
            name_property=args.name_property,
            kind=args.kind,
            progress=_Progress(sys.stderr),
        )

    return _run_import(args, load)


def cmd_import_postcodes(args: argparse.Namespace) -> int:
    from service.store.postcodes import import_centroids

    async def load(conn: Connection, data: bytes, actor: str) -> msgspec.Struct:
        return PostcodeReport(imported=await import_centroids(conn, data.decode("utf-8-sig")))

    return _run_import(args, load)


class PostcodeReport(msgspec.Struct, frozen=True):
    imported: int


def cmd_export(args: argparse.Namespace) -> int:
    from service.store.directory import export_directory

    settings = _settings()

    async def work(conn: Connection) -> int:
        document = await export_directory(conn)
        text = msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n"
        if args.output in (None, "-"):
            sys.stdout.write(text)
        else:
            await asyncio.to_thread(Path(args.output).write_text, text, encoding="utf-8")
        return 0

    return asyncio.run(_with_connection(settings, work))


def cmd_keys(args: argparse.Namespace) -> int:
    import uuid

    from service.store import keys as key_store

    settings = _settings()

    async def work(conn: Connection) -> int:
        if args.keys_command == "create":
            services = []
            for ref in [s.strip() for s in (args.services or "").split(",") if s.strip()]:
                from service.store.services import get_service

                services.append((await get_service(conn, ref)).id)
            try:
                created = await key_store.create_key(
                    conn,
                    name=args.name,
                    role=args.role,
                    area_codes=tuple(a.strip() for a in (args.areas or "").split(",") if a.strip()),
                    service_ids=tuple(services),
                    created_by=f"cli:{os.environ.get('USER', 'unknown')}",
                )
            except InvalidInput as e:
                return _report_rejection(e)
            print(f"{created.key}\n", file=sys.stdout)
            print(
                f"created {created.details.role} key {created.details.id} ({created.details.name}). "
                "This is the only time the key is shown; store it now.",
                file=sys.stderr,
            )
        elif args.keys_command == "list":
            for k in await key_store.list_keys(conn):
                state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
                scope = ",".join(k.area_codes) or ",".join(str(s) for s in k.service_ids) or "-"
                print(f"{k.id}  {k.role:<8} {state:<18} {k.prefix}…  {scope}  {k.name}")
        else:
            revoked = await key_store.revoke_key(conn, uuid.UUID(args.id))
            print(f"revoked {revoked.id} ({revoked.name})")
        return 0

    return asyncio.run(_with_connection(settings, work))


def cmd_purge(args: argparse.Namespace) -> int:
    """Delete referral records past the retention period (PATHWAYS_REFERRAL_RETENTION_MONTHS), with their history."""
    from service.outcomes.retention import purge

    settings = _settings()
    months = args.months or settings.referral_retention_months

    async def work(conn: Connection) -> int:
        async with conn.transaction():
            referrals, counters = await purge(conn, months)
        print(
            f"deleted {referrals} referral record(s) made more than {months} months ago "
            f"and {counters} demand counter(s)"
        )
        return 0

    return asyncio.run(_with_connection(settings, work))


def cmd_synthetic(args: argparse.Namespace) -> int:
    """Add synthetic (made-up, marked) outcome records, made from searches of the directory
    (service/outcomes/synthetic.py)."""
    from service.index.keeper import IndexKeeper
    from service.outcomes.retention import add_synthetic_outcomes
    from service.store.taxonomy import current_taxonomies

    settings = _settings()

    async def run() -> int:
        async with open_database(settings) as db:
            async with db.pool.acquire() as conn:
                await migrate(conn, settings.schema_dir)
                vocab = await current_taxonomies(conn)
            keeper = IndexKeeper(db, vocab, IndexConfig())
            await keeper.start()
            try:
                made = await add_synthetic_outcomes(db, keeper.index, args.count, args.seed)
            finally:
                await keeper.stop()
        print(f"added {made} synthetic outcome record(s)" if made else "referral records exist already: none added")
        return 0

    return asyncio.run(run())


def cmd_check_reach(args: argparse.Namespace) -> int:
    """Judge every stored service again by the editors' reach rule; exit status 1 when some would now be refused."""
    from service.domain.scope import describe
    from service.store.territory import recheck_services

    async def work(conn: Connection) -> int:
        checked, findings = await recheck_services(conn)
        print("\n".join(describe(checked, findings)))
        return 1 if any(not f.unjudged for f in findings) else 0

    return asyncio.run(_with_connection(_settings(), work))


def cmd_openapi(args: argparse.Namespace) -> int:
    from service.app import create_app, openapi_document

    sys.stdout.write(json.dumps(openapi_document(create_app(Settings())), indent=2, sort_keys=True) + "\n")
    return 0


def cmd_import_schema(args: argparse.Namespace) -> int:
    from service.store.directory import directory_json_schema

    sys.stdout.write(json.dumps(directory_json_schema(), indent=2, sort_keys=True) + "\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pathways", description="ld-pathways: the L&D referral pathway directory")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API (embedded PostgreSQL unless DATABASE_URL is set)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=cmd_serve)
    sub.add_parser("migrate", help="apply pending migrations").set_defaults(run=cmd_migrate)
    imp = sub.add_parser("import", help="import a directory document, all or nothing")
    imp.add_argument("file")
    imp.add_argument("--actor", help="who the change log names (default: PATHWAYS_DEFAULT_ACTOR)")
    imp.set_defaults(run=cmd_import)
    oruk = sub.add_parser(
        "import-openreferral", help="import an Open Referral (HSDS 3.0 / ORUK) feed saved as files, all or nothing"
    )
    oruk.add_argument("path", metavar="FILE_OR_DIR")
    oruk.add_argument("--actor", help="who the change log names (default: PATHWAYS_DEFAULT_ACTOR)")
    oruk.add_argument("--dry-run", action="store_true", help="check and report, but write nothing")
    oruk.set_defaults(run=cmd_import_openreferral)
    areas = sub.add_parser("import-areas", help="import areas from a GeoJSON FeatureCollection or {areas: [...]}")
    areas.add_argument("file")
    areas.add_argument("--code-property", default="code")
    areas.add_argument("--name-property", default="name")
    areas.add_argument("--kind", default="custom", choices=["police_force_area", "local_authority", "custom"])
    areas.add_argument("--actor")
    areas.set_defaults(run=cmd_import_areas)
    codes = sub.add_parser(
        "import-postcodes", help="import outcode or sector centroids (columns outcode|sector, latitude, longitude)"
    )
    codes.add_argument("file")
    codes.add_argument("--actor")
    codes.set_defaults(run=cmd_import_postcodes)
    exp = sub.add_parser("export", help="export the whole directory as one JSON document")
    exp.add_argument("-o", "--output", help="file to write (default: standard output)")
    exp.set_defaults(run=cmd_export)
    keys = sub.add_parser("keys", help="create, list and revoke API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key; it is printed once")
    create.add_argument("--name", required=True)
    roles = ["reader", "editor", "provider", "admin", "analyst", "referrer"]
    create.add_argument("--role", required=True, choices=roles)
    create.add_argument("--areas", help="an editor's, analyst's or referrer's area codes, comma-separated")
    create.add_argument("--services", help="a provider's services (ids or slugs), comma-separated")
    keys_sub.add_parser("list", help="list keys (never their secrets)")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id")
    keys.set_defaults(run=cmd_keys)
    purge = sub.add_parser("purge", help="delete referral records past the retention period, with their history")
    purge.add_argument("--months", type=int, default=0, help="keep this many months (default: the setting, 24)")
    purge.set_defaults(run=cmd_purge)
    synthetic = sub.add_parser("synthetic-outcomes", help="add synthetic outcome records (marked synthetic) for a demo")
    synthetic.add_argument("--count", type=int, default=300)
    synthetic.add_argument("--seed", type=int, default=14)
    synthetic.set_defaults(run=cmd_synthetic)
    sub.add_parser(
        "check-reach", help="judge every stored service again by the editors' reach rule (exit 1 if some fail it)"
    ).set_defaults(run=cmd_check_reach)
    sub.add_parser("openapi", help="print the OpenAPI document").set_defaults(run=cmd_openapi)
    sub.add_parser("import-schema", help="print the directory document's JSON Schema").set_defaults(
        run=cmd_import_schema
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except SettingsError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        print(f"no such file: {e.filename}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
