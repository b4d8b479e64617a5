"""The demo's stewardship loop, for `make run` (PATHWAYS_DEMO_KEYS): a problem report waiting in the Humberside
editor's queue, a change proposed by the Hull place of safety's provider for that editor to approve, and an address
for the editor, so that the report's e-mail reaches the local mail catcher `make run` starts. Only on the first
start with the demo directory; all of it is demo content, about listings, never about anyone referred."""

from __future__ import annotations

import contextlib
import datetime as dt

import msgspec

from service.domain.access import Identity, hash_key
from service.domain.errors import Conflict, InvalidInput, NotFound
from service.domain.model import ServiceBody, Taxonomies
from service.stewardship import problem_store, proposal_store, store
from service.stewardship.editing import document_of
from service.stewardship.problems import NewProblemReport
from service.store import services as service_store
from service.store.db import Connection

EDITOR_EMAIL = "humberside-editor@example.org"
REPORTED = "hull-drug-and-alcohol-service"
PROPOSED = "hull-place-of-safety"


async def demo_loop(conn: Connection, keys: list[tuple[str, str]], vocab: Taxonomies) -> None:
    identities = {}
    for _, key in keys:
        identity = await store.key_identity(conn, hash_key(key))
        if identity is not None:
            identities[identity.role] = (identity, hash_key(key))
    now = dt.datetime.now(dt.UTC)
    if "editor" in identities:
        editor, key_hash = identities["editor"]
        await conn.execute(
            "insert into notice_contacts (who, name, email, identity, key_hash) values ($1, $2, $3, $4, $5)"
            " on conflict do nothing",
            editor.actor,
            editor.name,
            EDITOR_EMAIL,
            msgspec.to_builtins(editor),
            key_hash,
        )
    with contextlib.suppress(NotFound):  # a demo file of one's own may lack these services
        reported = await service_store.get_service(conn, REPORTED)
        note = "The 24-hour number in the listing rang out twice tonight; the office line answered."
        report = NewProblemReport(reason="wrong_phone", note=note)
        await problem_store.make_report(conn, reported.id, reported.version, report, now)
    if "provider" in identities:
        await _proposal(conn, identities["provider"][0], vocab, now)


async def _proposal(conn: Connection, provider: Identity, vocab: Taxonomies, now: dt.datetime) -> None:
    with contextlib.suppress(NotFound, Conflict, InvalidInput):  # a demo file of one's own: a service unlike ours
        service = await service_store.get_service(conn, PROPOSED)
        body = service_store.body_of(service)
        phones = tuple(
            msgspec.structs.replace(p, label=f"{p.label} (ask for the nurse in charge)".strip()) if i == 0 else p
            for i, p in enumerate(body.contacts.phones)
        )
        proposed = msgspec.structs.replace(body, contacts=msgspec.structs.replace(body.contacts, phones=phones))

        async def anyone(_: ServiceBody) -> None:
            return None

        await proposal_store.propose(
            conn,
            PROPOSED,
            document_of(proposed),
            base_version=None,
            base=None,
            actor=provider.actor,
            vocab=vocab,
            authorise=anyone,
            now=now,
        )
