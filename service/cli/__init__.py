"""The `pathways` command: serve, set up the geography, migrate, import, export, keys, and the generated documents.

Which database a command uses is one rule, said by every command that writes (service/cli/database.py)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import msgspec

from service.cli.common import Progress, report_rejection, settings_now, with_connection, write_out
from service.cli.database import register_server, say_writing
from service.cli.geography import cmd_export_sites, cmd_import_sites, cmd_setup_geography
from service.domain.errors import DomainError, ImportRejected, InvalidInput
from service.index.engine import IndexConfig
from service.settings import Settings, SettingsError
from service.store.db import Connection, open_database
from service.store.embedded import DataFolderError
from service.store.migrate import migrate


def cmd_serve(args: argparse.Namespace) -> int:
    # The cyclic collector waits while the modules load and the app is made: they make hundreds of thousands of
    # objects that live as long as the process, and every collection meanwhile would scan them again (about 0.1 s
    # of a start-up). Then they are frozen out of its reach, and it works as usual.
    gc.disable()
    import uvicorn

    from service.app import create_app

    settings = settings_now()
    settings = msgspec.structs.replace(settings, host=args.host or settings.host, port=args.port or settings.port)
    print(f"ld-pathways on http://{settings.host}:{settings.port}  (API docs: /schema)", file=sys.stderr)
    app = create_app(settings)
    register_server(settings)
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
    settings = settings_now()

    say_writing(settings)

    async def run() -> int:
        async with open_database(settings) as db, db.pool.acquire() as conn:
            applied = await migrate(conn, settings.schema_dir)
        print(f"applied {len(applied)} migration(s)" + "".join(f"\n  {m.version:04d}_{m.name}" for m in applied))
        return 0

    return asyncio.run(run())


def _run_import(args: argparse.Namespace, load: Callable[[Connection, bytes, str], Awaitable[msgspec.Struct]]) -> int:
    """Read FILE, import it in one transaction, print the report; a rejection prints every bad record."""
    settings = settings_now()
    data = Path(args.file).read_bytes()
    actor = args.actor or settings.default_actor

    async def work(conn: Connection) -> int:
        try:
            async with conn.transaction():
                report = await load(conn, data, actor)
        except (ImportRejected, InvalidInput) as e:
            return report_rejection(e)
        print(json.dumps(msgspec.to_builtins(report), indent=2))
        return 0

    return asyncio.run(with_connection(settings, work))


def cmd_import(args: argparse.Namespace) -> int:
    from service.store.directory import import_directory
    from service.store.taxonomy import current_taxonomies

    async def load(conn: Connection, data: bytes, actor: str) -> msgspec.Struct:
        vocab = await current_taxonomies(conn)
        if args.keep_areas:
            data = await _without_stored_areas(conn, data)
        return await import_directory(conn, data, actor=actor, vocab=vocab, progress=Progress(sys.stderr))

    return _run_import(args, load)


async def _without_stored_areas(conn: Connection, data: bytes) -> bytes:
    """The document without the areas the directory has already (their stored boundaries are kept as they are):
    the demo's services on a real geography, say. A document that is not an object is left for the import to
    refuse."""
    from service.store.areas import existing_codes

    try:
        document = msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return data
    areas = document.get("areas") if isinstance(document, dict) else None
    if not isinstance(areas, list):
        return data
    codes = [a["code"] for a in areas if isinstance(a, dict) and isinstance(a.get("code"), str)]
    stored = await existing_codes(conn, codes)
    document["areas"] = [a for a in areas if not (isinstance(a, dict) and a.get("code") in stored)]
    print(f"kept {len(areas) - len(document['areas'])} stored area(s) as they are", file=sys.stderr)
    return msgspec.json.encode(document)


def cmd_import_openreferral(args: argparse.Namespace) -> int:
    """FILE_OR_DIR: one saved feed file, or a folder of them (every *.json in it, by name)."""
    from service.openreferral.store import import_openreferral, prepare_feed
    from service.store.taxonomy import current_taxonomies

    settings = settings_now()
    path = Path(args.path)
    paths = sorted(path.glob("*.json")) if path.is_dir() else [path]
    actor = args.actor or settings.default_actor
    print(f"reading {len(paths)} file(s)", file=sys.stderr, flush=True)
    try:  # read and mapped before the database is opened: no transaction waits on it
        prepared = prepare_feed([(p.name, p.read_bytes()) for p in paths])
    except (ImportRejected, InvalidInput) as e:
        return report_rejection(e)
    print(f"mapped {len(prepared.mapped)} service(s)", file=sys.stderr, flush=True)

    async def work(conn: Connection) -> int:
        try:
            async with conn.transaction():
                vocab = await current_taxonomies(conn)
                report = await import_openreferral(conn, prepared, actor=actor, vocab=vocab, dry_run=args.dry_run)
        except (ImportRejected, InvalidInput) as e:
            return report_rejection(e)
        print(json.dumps(msgspec.to_builtins(report), indent=2))
        return 0

    return asyncio.run(with_connection(settings, work, writes=not args.dry_run))


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
            progress=Progress(sys.stderr),
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

    settings = settings_now()

    async def work(conn: Connection) -> int:
        document = await export_directory(conn)
        await write_out(args.output, msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n")
        return 0

    return asyncio.run(with_connection(settings, work, writes=False))


def cmd_keys(args: argparse.Namespace) -> int:
    import uuid

    from service.store import keys as key_store

    settings = settings_now()

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
                return report_rejection(e)
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

    return asyncio.run(with_connection(settings, work, writes=args.keys_command != "list"))


def cmd_purge(args: argparse.Namespace) -> int:
    """Delete referral records past the retention period (PATHWAYS_REFERRAL_RETENTION_MONTHS), with their history."""
    from service.outcomes.retention import purge

    settings = settings_now()
    months = args.months or settings.referral_retention_months

    async def work(conn: Connection) -> int:
        async with conn.transaction():
            referrals, counters = await purge(conn, months)
        print(
            f"deleted {referrals} referral record(s) made more than {months} months ago "
            f"and {counters} demand counter(s)"
        )
        return 0

    return asyncio.run(with_connection(settings, work))


def cmd_synthetic(args: argparse.Namespace) -> int:
    """Add synthetic (made-up, marked) outcome records, made from searches of the directory
    (service/outcomes/synthetic.py)."""
    from service.index.keeper import IndexKeeper
    from service.outcomes.retention import add_synthetic_outcomes
    from service.store.taxonomy import current_taxonomies

    settings = settings_now()
    say_writing(settings)

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

    return asyncio.run(with_connection(settings_now(), work, writes=False))


def cmd_openapi(args: argparse.Namespace) -> int:
    from service.app import create_app, openapi_document

    sys.stdout.write(json.dumps(openapi_document(create_app(Settings())), indent=2, sort_keys=True) + "\n")
    return 0


def cmd_import_schema(args: argparse.Namespace) -> int:
    from service.store.directory import directory_json_schema

    sys.stdout.write(json.dumps(directory_json_schema(), indent=2, sort_keys=True) + "\n")
    return 0


DATABASE_RULE = """\
Which database: every command uses DATABASE_URL when it is set; otherwise the embedded PostgreSQL in
PATHWAYS_DATA_DIR (default .pathways-data, in the folder the command runs in). `serve` follows the same rule, so
run commands with the server's environment, from its folder. Commands that write say where ("writing to ...") on
standard error, and warn when a running server uses another database."""

ACTOR_HELP = "who the change log names as the writer (default: PATHWAYS_DEFAULT_ACTOR)"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ld-pathways")
    except PackageNotFoundError:
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pathways",
        description="ld-pathways: the L&D referral pathway directory",
        epilog=DATABASE_RULE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="one of:")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=DATABASE_RULE,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    serve = command("serve", "serve the API and the pages (embedded PostgreSQL unless DATABASE_URL is set)")
    serve.add_argument("--host", help="address to listen on (default: PATHWAYS_HOST, else 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: PATHWAYS_PORT, else 8000)")
    serve.set_defaults(run=cmd_serve)
    command("migrate", "apply pending migrations").set_defaults(run=cmd_migrate)
    geo = command(
        "setup-geography",
        "load the police force areas, local authority districts, postcode centroids and custody suites from the "
        "official open files in a folder (idempotent; newer files update in place)",
    )
    geo.add_argument("folder", metavar="DIR", help="the folder holding the downloaded files (see the README)")
    geo.add_argument("--forces", metavar="FILE", help="the force areas' GeoJSON, when the folder holds several")
    geo.add_argument("--districts", metavar="FILE", help="the districts' GeoJSON, when the folder holds several")
    geo.add_argument("--json", action="store_true", help="print the report as JSON rather than lines")
    geo.add_argument("--actor", help=ACTOR_HELP)
    geo.set_defaults(run=cmd_setup_geography)
    imp = command("import", "import a directory document (areas, sites, services), all or nothing")
    imp.add_argument("file", metavar="FILE", help="the JSON document (the export's format; `pathways import-schema`)")
    imp.add_argument("--actor", help=ACTOR_HELP)
    imp.add_argument(
        "--keep-areas",
        action="store_true",
        help="leave the areas the directory has as they are (e.g. the demo's services on the official boundaries)",
    )
    imp.set_defaults(run=cmd_import)
    oruk = command(
        "import-openreferral", "import an Open Referral (HSDS 3.0 / ORUK) feed saved as files, all or nothing"
    )
    oruk.add_argument("path", metavar="FILE_OR_DIR", help="one saved feed file, or a folder of them (every *.json)")
    oruk.add_argument("--actor", help=ACTOR_HELP)
    oruk.add_argument("--dry-run", action="store_true", help="check and report, but write nothing")
    oruk.set_defaults(run=cmd_import_openreferral)
    areas = command("import-areas", "import areas from a GeoJSON FeatureCollection or an {areas: [...]} document")
    areas.add_argument("file", metavar="FILE", help="the GeoJSON or JSON file")
    areas.add_argument("--code-property", default="code", help="the feature property holding the area code")
    areas.add_argument("--name-property", default="name", help="the feature property holding the area name")
    areas.add_argument(
        "--kind",
        default="custom",
        choices=["police_force_area", "local_authority", "custom"],
        help="what the areas are (default: custom)",
    )
    areas.add_argument("--actor", help=ACTOR_HELP)
    areas.set_defaults(run=cmd_import_areas)
    codes = command(
        "import-postcodes", "import outcode or sector centroids (columns outcode|sector, latitude, longitude)"
    )
    codes.add_argument("file", metavar="FILE", help="the CSV file")
    codes.add_argument("--actor", help=ACTOR_HELP)
    codes.set_defaults(run=cmd_import_postcodes)
    sites = command(
        "import-sites",
        "import sites (custody suites, courts, ...) from a CSV (the MoJ custody-suite list as it is, or columns "
        "such as id, name, kind, postcode, latitude, longitude) or our JSON ({sites: [...]}), all or nothing",
    )
    sites.add_argument("file", metavar="FILE", help="the CSV or JSON file")
    sites.add_argument(
        "--kind",
        choices=["custody_suite", "court", "police_station", "hospital", "other"],
        help="the kind of every row without a kind column (the MoJ list: custody_suite unless given)",
    )
    sites.add_argument(
        "--block",
        metavar="FIRST:LAST",
        help="keep only the rows of the references listed from FIRST to LAST (the MoJ list's police rows: DP1:GWN2)",
    )
    sites.add_argument(
        "--skip-unplaced",
        action="store_true",
        help="leave out (and list) rows whose postcode is in no stored sector or district, instead of refusing all",
    )
    sites.add_argument("--actor", help=ACTOR_HELP)
    sites.set_defaults(run=cmd_import_sites)
    exp_sites = command("export-sites", "export every site as JSON (the import's format) or CSV")
    exp_sites.add_argument("-o", "--output", metavar="FILE", help="file to write (default: standard output)")
    exp_sites.add_argument("--format", choices=["json", "csv"], help="default: csv for a .csv file, else json")
    exp_sites.set_defaults(run=cmd_export_sites)
    exp = command("export", "export the whole directory as one JSON document")
    exp.add_argument("-o", "--output", metavar="FILE", help="file to write (default: standard output)")
    exp.set_defaults(run=cmd_export)
    keys = command("keys", "create, list and revoke API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION", help="one of:")
    create = keys_sub.add_parser("create", help="create a key; it is printed once")
    create.add_argument("--name", required=True, help="who or what the key is for, as lists show it")
    roles = ["reader", "editor", "provider", "admin", "analyst", "referrer"]
    create.add_argument("--role", required=True, choices=roles, help="what the key may do (the README's table)")
    create.add_argument("--areas", help="an editor's, analyst's or referrer's area codes, comma-separated")
    create.add_argument("--services", help="a provider's services (ids or slugs), comma-separated")
    keys_sub.add_parser("list", help="list keys (never their secrets)")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id", metavar="ID", help="the key's id, as `keys list` shows it")
    keys.set_defaults(run=cmd_keys)
    purge = command("purge", "delete referral records past the retention period, with their history")
    purge.add_argument("--months", type=int, default=0, help="keep this many months (default: the setting, 24)")
    purge.set_defaults(run=cmd_purge)
    synthetic = command("synthetic-outcomes", "add synthetic outcome records (marked synthetic) for a demo")
    synthetic.add_argument("--count", type=int, default=300, help="how many records to add (default: 300)")
    synthetic.add_argument("--seed", type=int, default=14, help="the random seed, for the same records again")
    synthetic.set_defaults(run=cmd_synthetic)
    command(
        "check-reach", "judge every stored service again by the editors' reach rule (exit 1 if some fail it)"
    ).set_defaults(run=cmd_check_reach)
    command("openapi", "print the OpenAPI document").set_defaults(run=cmd_openapi)
    command("import-schema", "print the directory document's JSON Schema").set_defaults(run=cmd_import_schema)
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
    except IsADirectoryError as e:
        print(f"a folder, not a file: {e.filename}", file=sys.stderr)
        return 2
    except OSError as e:  # a refused connection, a file that cannot be written
        print(f"cannot go on: {e}", file=sys.stderr)
        return 2
    except DataFolderError as e:
        print(f"cannot start the embedded database: {e}", file=sys.stderr)
        return 2
    except DomainError as e:
        print(f"refused: {e}; nothing was written", file=sys.stderr)
        return 1
    except Exception as e:
        # The database driver's own errors (a database that does not exist, a URL it cannot read): said in one line.
        if type(e).__module__.split(".")[0] != "asyncpg":
            raise
        print(f"database error: {e}", file=sys.stderr)
        return 2
