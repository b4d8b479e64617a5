"""A replica's own copy of the directory on its disk, so that it can start without reading every service again.

After a whole rebuild from the database, the keeper writes the snapshot it built from (its services, areas, sites
and postcode centroids, as decoded) to one file in the replica's data folder, off the event loop. At the next start
the file is read instead of the database's 50,000 documents, and is used only once checked against the database
itself, in one repeatable-read transaction:

- PostgreSQL works out a digest of every service row's id and row version (xmin, which changes with every write to
  the row, through the service or by hand, and not with VACUUM FREEZE), and the same for the areas, the sites and
  the postcode centroids, while this process decodes the file in another thread;
- a table whose digest matches is taken from the file; the areas, sites or centroids otherwise are read again
  whole (they are small), and the services by row: the ones whose row version differs from the file's, or that the
  file does not hold, are read and decoded, and those gone from the table are dropped;
- the directory version is the database's, read in the same transaction.

So an index built from it holds exactly what the database holds at that version, as a whole read would; the change
feed then carries it on as usual. A file that is missing, damaged, written by a program whose types differ, or that
would need more than MOST_REREAD services read again, is passed over, and the directory is read from the database.

The file: a first line naming it; a JSON header (format, a digest of the types it holds, the digests and version it
was read at, the unreadable ids, the lengths of the sections); then seven JSON documents: the services' row
versions, the areas, the sites, the centroids, the shared parts, which service has which, and the services.

Shared parts: a service's eligibility, schedule, referral, contacts, capacity and external ids are written once for
each distinct value, and each service names its own by number. Read back, services that have the same schedule (or
eligibility, ...) hold the one object rather than equal copies: fewer objects to decode, and at 50,000 synthetic
services about 35 MB less memory (a weekly schedule is a tuple of sessions, each with its own strings). The parts
are frozen Structs, so sharing one is as good as holding a copy; they are put in place with msgspec's
`force_setattr` on services just decoded, before anything else has seen them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from service.domain.model import (
    Area,
    Capacity,
    Contacts,
    Eligibility,
    ExternalIds,
    Referral,
    Schedule,
    Service,
    Site,
)
from service.store import areas as area_store
from service.store import services as service_store
from service.store import sites as site_store
from service.store.db import Timeouts, connect
from service.store.postcodes import all_centroids
from service.store.snapshot import Digests, DirectorySnapshot, digests
from service.store.sql import sql

log = logging.getLogger("service.index")

FORMAT = 1
"""Bumped when the file's layout changes; the types it holds are checked by their JSON Schema."""
MAGIC = b"ld-pathways directory snapshot\n"
MOST_REREAD = 10_000
"""More services than this changed since the file was written: the database is read whole instead."""
CHUNK = 2500
SECTIONS = 7

Postcodes = dict[str, tuple[float, float]]
SHARED = ("eligibility", "schedule", "referral", "contacts", "capacity", "external_ids")
"""Parts of a service written once per distinct value (each has a default, so a service written without it reads)."""
_DEFAULTS = {f.name: f.default for f in msgspec.structs.fields(Service) if f.name in SHARED}
_PARTS = tuple[list[Eligibility], list[Schedule], list[Referral], list[Contacts], list[Capacity], list[ExternalIds]]
_SECTIONS = tuple[dict[uuid.UUID, int], list[Area], list[Site], Postcodes, _PARTS, dict[str, list[int]], list[Service]]
TYPES = hashlib.sha256(msgspec.json.encode(msgspec.json.schema(_SECTIONS))).hexdigest()
"""What the file's sections are decoded as: a file written by a program whose types differ is not used."""


class Unusable(ValueError):
    """A file this program cannot use, as expected after an upgrade (not damage)."""


class Header(msgspec.Struct, frozen=True, kw_only=True):
    format: int
    types: str
    digests: Digests
    damaged: tuple[str, ...]
    written_at: float
    sections: tuple[int, ...]
    """Byte lengths of the row versions, areas, sites, centroids, shared parts, their numbers and the services."""


@dataclass(frozen=True)
class Loaded:
    """A snapshot from the file, checked against the database and brought up to it."""

    snapshot: DirectorySnapshot
    reread: int
    """Services read again from the database (changed, added or unreadable since the file was written)."""
    changed: bool
    """Whether the database differed from the file (so a new file is worth writing)."""
    seconds: dict[str, float]
    """Where the time went: reading the file, decoding it, checking it against the database."""


def snapshot_path(folder: str | Path) -> Path:
    """The file in `folder`. One a folder: a file written from another database is passed over (its digests name
    the database) and replaced."""
    return Path(folder) / "directory.json"


class LocalSnapshot:
    """The file at `path`: `load` (checked against the database) and `save`. Both block: call them off the loop."""

    def __init__(self, path: Path, most_reread: int = MOST_REREAD) -> None:
        self.path, self.most_reread = path, most_reread
        self._writing = threading.Lock()

    # --- writing -----------------------------------------------------------------------------------------------

    def save(self, snapshot: DirectorySnapshot) -> bool:
        """Write a snapshot read `marked`, replacing the file at once (a reader sees the old file or the new, never
        half of one). The services are encoded a chunk at a time, so that writing never holds a second copy of the
        directory in memory. Whether it was written (a snapshot without row versions cannot be)."""
        if snapshot.marks is None or snapshot.digests is None:
            return False
        encode = msgspec.json.encode
        services = snapshot.services
        shared, numbers = _shared(services)
        parts = [encode(snapshot.marks), encode(snapshot.areas), encode(snapshot.sites), encode(snapshot.postcodes)]
        parts += [encode(shared), encode(numbers)]
        chunks = [encode(_without_shared(services[i : i + CHUNK]))[1:-1] for i in range(0, len(services), CHUNK)]
        services_length = 2 + sum(len(c) for c in chunks) + max(len(chunks) - 1, 0)
        header = Header(
            format=FORMAT,
            types=TYPES,
            digests=msgspec.structs.replace(snapshot.digests, version=snapshot.version),
            damaged=tuple(snapshot.damaged),
            written_at=time.time(),
            sections=(*[len(part) for part in parts], services_length),
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        with self._writing:
            try:
                with temporary.open("wb") as out:
                    out.write(MAGIC + encode(header) + b"\n")
                    for part in parts:
                        out.write(part)
                    out.write(b"[")
                    for i, chunk in enumerate(chunks):
                        out.write(b"," + chunk if i else chunk)
                    out.write(b"]")
                os.replace(temporary, self.path)
            finally:
                temporary.unlink(missing_ok=True)
        return True

    # --- reading -----------------------------------------------------------------------------------------------

    def load(self, dsn: str, timeouts: Timeouts) -> Loaded | None:
        """The file's snapshot, checked against the database and brought up to it; None (saying why) when there is
        no usable file. A database that cannot be reached raises, as reading it whole would."""
        started = time.perf_counter()
        try:
            data = self.path.read_bytes()
            header, offsets = _header(data)
        except FileNotFoundError:
            log.info("no local snapshot of the directory yet (%s): reading the database", self.path)
            return None
        except Unusable as e:
            log.info("local snapshot %s not used (%s): reading the database", self.path, e)
            return None
        except (OSError, ValueError) as e:
            log.warning("local snapshot %s not used (%s): reading the database", self.path, e)
            return None
        read = time.perf_counter() - started
        view = memoryview(data)

        def section(n: int) -> memoryview:
            return view[offsets[n] : offsets[n + 1]]

        def file_marks() -> dict[uuid.UUID, int]:  # decoded only when the services differ
            marks: dict[uuid.UUID, int] = _decode(section(0), dict[uuid.UUID, int])
            return marks

        with ThreadPoolExecutor(1, thread_name_prefix="snapshot-decode") as pool:
            decoding: list[Future[tuple[list[Service], float]]] = []

            def begin() -> None:
                """Once the file is known to come from this database: PostgreSQL works out the digests (on the
                other core) while this process decodes the services."""
                decoding.append(pool.submit(_decode_services, section(6), section(4), section(5)))

            check = _check(dsn, timeouts, _File(header, file_marks, begin, self.most_reread))
            if check is None or not decoding:
                return None
            try:
                services, decode_seconds = decoding[0].result()
            except ValueError as e:
                log.warning("local snapshot %s not used (%s): reading the database", self.path, e)
                return None
        checked = time.perf_counter() - started - read
        try:
            areas = check.areas if check.areas is not None else _decode(section(1), list[Area])
            sites = check.sites if check.sites is not None else _decode(section(2), list[Site])
            postcodes = check.postcodes if check.postcodes is not None else _decode(section(3), Postcodes)
            marks = check.marks if check.marks is not None else file_marks()
        except ValueError as e:
            log.warning("local snapshot %s not used (%s): reading the database", self.path, e)
            return None
        damaged: list[str] = []  # every service unreadable when the file was written has just been read again
        if check.reread or check.gone:
            services, damaged = _brought_up(services, check)
        snapshot = DirectorySnapshot(
            check.digests.version, services, damaged, areas, sites, postcodes, marks, check.digests
        )
        seconds = {"read": read, "decode": decode_seconds, "check": checked}
        changed = check.digests != header.digests
        return Loaded(snapshot, len(check.reread), changed, seconds)


def _header(data: bytes) -> tuple[Header, list[int]]:
    """The header, and where each section starts (and the last ends). ValueError: not a file this program wrote
    (or not all of it)."""
    if not data.startswith(MAGIC):
        raise ValueError("not a directory snapshot")
    end = data.find(b"\n", len(MAGIC))
    if end < 0:
        raise ValueError("no header")
    header = _decode(memoryview(data)[len(MAGIC) : end], Header)
    if header.format != FORMAT:
        raise Unusable(f"format {header.format}, not {FORMAT}")
    if header.types != TYPES:
        raise Unusable("written by a version with other types")
    if len(header.sections) != SECTIONS:
        raise ValueError(f"{len(header.sections)} sections, not {SECTIONS}")
    offsets = [end + 1]
    for length in header.sections:
        offsets.append(offsets[-1] + length)
    if offsets[-1] != len(data):
        raise ValueError(f"{len(data)} bytes, not the {offsets[-1]} its header gives")
    return header, offsets


def _decode(data: memoryview, kind: Any) -> Any:
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.DecodeError as e:  # ValidationError included
        raise ValueError(str(e)) from None


def _decode_services(data: memoryview, parts: memoryview, numbers: memoryview) -> tuple[list[Service], float]:
    """The services, each given its shared parts."""
    started = time.perf_counter()
    services: list[Service] = _decode(data, list[Service])
    tables: tuple[list[Any], ...] = _decode(parts, _PARTS)
    numbered: dict[str, list[int]] = _decode(numbers, dict[str, list[int]])
    put = msgspec.structs.force_setattr
    for name, table in zip(SHARED, tables, strict=True):
        of = numbered.get(name, [])
        if len(of) != len(services) or (of and not 0 <= min(of) <= max(of) < len(table)):
            raise ValueError(f"the services' {name} numbers do not match them")
        default = _DEFAULTS[name]
        shown = [None if value == default else value for value in table]  # a default is already in place
        for service, n in zip(services, of, strict=True):
            if (value := shown[n]) is not None:
                put(service, name, value)
    return services, time.perf_counter() - started


def _shared(services: list[Service]) -> tuple[tuple[list[Any], ...], dict[str, list[int]]]:
    """Each shared part's distinct values, and each service's number for its own."""
    tables: list[list[Any]] = []
    numbers: dict[str, list[int]] = {}
    for name in SHARED:
        seen: dict[Any, int] = {}
        numbers[name] = [seen.setdefault(getattr(s, name), len(seen)) for s in services]
        tables.append(list(seen))
    return tuple(tables), numbers


def _without_shared(services: list[Service]) -> list[dict[str, Any]]:
    """The services as written: every field but the shared parts."""
    out = []
    for service in services:
        fields = msgspec.structs.asdict(service)
        for name in SHARED:
            del fields[name]
        out.append(fields)
    return out


@dataclass(frozen=True)
class _Check:
    digests: Digests
    marks: dict[uuid.UUID, int] | None
    """Every service's row version now (None: the file's hold)."""
    reread: dict[uuid.UUID, service_store.StoredText]
    """Rows changed, added or unreadable since the file was written, as they are now."""
    gone: set[uuid.UUID]
    areas: list[Area] | None
    """Read again (None: the file's hold)."""
    sites: list[Site] | None
    postcodes: Postcodes | None


@dataclass(frozen=True)
class _File:
    header: Header
    marks: Callable[[], dict[uuid.UUID, int]]
    """The file's row versions, decoded when asked for."""
    begin: Callable[[], None]
    """Starts decoding the file's services, in another thread."""
    most: int
    """Most services worth reading again one by one."""


def _check(dsn: str, timeouts: Timeouts, file: _File) -> _Check | None:
    """The database against the file's digests, in one repeatable-read transaction, with whatever differs read."""
    found: list[_Check | None] = []

    async def into_list() -> None:
        found.append(await _checked(dsn, timeouts, file))

    asyncio.run(into_list())
    return found[0]


async def _checked(dsn: str, timeouts: Timeouts, file: _File) -> _Check | None:
    header = file.header
    conn = await connect(dsn, timeouts)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            if await conn.fetchval(sql("directory_database")) != header.digests.database:
                log.info("local snapshot written from another database: reading the database")
                return None
            file.begin()
            now = await digests(conn)
            marks: dict[uuid.UUID, int] | None = None
            reread: dict[uuid.UUID, service_store.StoredText] = {}
            gone: set[uuid.UUID] = set()
            if now.services != header.digests.services:
                try:
                    before = file.marks()
                except ValueError as e:
                    log.warning("local snapshot not used (%s): reading the database", e)
                    return None
                marks = await service_store.service_marks(conn)
                changed = [i for i, xmin in marks.items() if before.get(i) != xmin]
                gone = before.keys() - marks.keys()
                if len(changed) + len(gone) > file.most:
                    log.info(
                        "local snapshot %d services behind the database (more than %d): reading the database",
                        len(changed) + len(gone),
                        file.most,
                    )
                    return None
                reread = {row.id: row for row in await service_store.services_marked(conn, changed)}
            # A service that could not be read when the file was written is read again: the program reading it now
            # may be one that can.
            unreadable = [uuid.UUID(d) for d in header.damaged]
            for row in await service_store.services_marked(conn, [i for i in unreadable if i not in reread]):
                reread[row.id] = row
            areas = await area_store.all_areas(conn) if now.areas != header.digests.areas else None
            sites = await site_store.all_sites(conn) if now.sites != header.digests.sites else None
            postcodes = await all_centroids(conn) if now.postcodes != header.digests.postcodes else None
    finally:
        await conn.close()
    return _Check(now, marks, reread, gone, areas, sites, postcodes)


def _brought_up(services: list[Service], check: _Check) -> tuple[list[Service], list[str]]:
    """The file's services with those read again put in their place (new ones at the end) and those gone dropped:
    the order a running index would have them in after the same writes."""
    fresh, unreadable = service_store.decode_services(list(check.reread.values()))
    by_id = {s.id: s for s in fresh}
    out: list[Service] = []
    for s in services:
        if s.id in check.gone or s.id in check.reread:
            if (now := by_id.pop(s.id, None)) is not None:
                out.append(now)
            continue
        out.append(s)
    out += by_id.values()
    return out, unreadable
