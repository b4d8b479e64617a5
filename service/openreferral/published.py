"""The directory as Open Referral UK and FHIR publish it, served from the in-memory index.

Each service's record is encoded to JSON once per version of the service (and audience, where phones differ) and
remembered; a page is the remembered fragments joined. The order and each filter's result are worked out once per
directory version, off the event loop, and carried to the next version by the rows that changed
(service/openreferral/listings.py): a page is a slice. Nothing here reads the database.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Literal

import msgspec
import shapely

from service.domain.audience import public_record
from service.domain.model import Service, Taxonomies
from service.domain.review import REVIEW_MONTHS, london_today
from service.index.bounded import Bounded, CacheStats, SharedBounded
from service.index.engine import DirectoryIndex
from service.index.trim import give_back_memory
from service.openreferral import hsds
from service.openreferral import mapping as oruk_export
from service.openreferral.attributes import coded_terms
from service.openreferral.listing import Listing
from service.openreferral.listings import Listings
from service.openreferral.terms import published_taxonomies, terms_by_taxonomy

Audience = Literal["public", "staff"]
AUDIENCES: tuple[Audience, ...] = ("public", "staff")
Numbers = bytes | tuple[int, ...]
"""A service's terms, numbered (bytes while every number is below 256)."""
EXTENT_DEGREES = 0.002
"""An area's extent is its boundary simplified to about 200 m (its `uri` names the exact boundary)."""
FULL_RECORD_BYTES = 16 << 20
"""Fully nested records remembered (each audience; about 10 KB each); the one-to-one records are remembered for
every service."""
FHIR_RECORD_BYTES = 16 << 20
"""FHIR HealthcareServices remembered (each audience; about 2.5 KB each)."""


class Published:
    def __init__(self, vocab: Taxonomies, review_months: int = REVIEW_MONTHS) -> None:
        self.vocab, self.review_months = vocab, review_months
        self.taxonomies = published_taxonomies(vocab)
        self.terms = terms_by_taxonomy(self.taxonomies)
        self.vocab_modified = {
            t.name: dt.datetime.combine(t.published, dt.time(), dt.UTC)
            for t in (vocab.needs, vocab.circumstances)
            if t.published is not None
        }
        self.listings = Listings(self._publishing, self._left)
        self._extents: tuple[int, dict[str, str]] = (0, {})
        self._extents_lock = threading.Lock()
        self._listed: dict[uuid.UUID, tuple[tuple[int, dt.date], bytes, Numbers]] = {}
        """By service: its record for a version on a day (the `alert` says when its review is overdue)."""
        self._term_numbers: dict[str, int] = {}
        """Each coded term's id (and its taxonomy's) numbered, so that a service's terms are held as a few bytes
        rather than a set of strings (a set of twenty strings takes about 1 KB: 40 MB at 50,000 services)."""
        self._numbering = threading.Lock()
        self._full: dict[Audience, Bounded[tuple[uuid.UUID, int, dt.date], bytes]] = {
            audience: SharedBounded(f"oruk_full_{audience}", FULL_RECORD_BYTES, len) for audience in AUDIENCES
        }
        self._fhir: dict[Audience, Bounded[tuple[uuid.UUID, int, str, dt.date], bytes]] = {
            audience: SharedBounded(f"fhir_{audience}", FHIR_RECORD_BYTES, len) for audience in AUDIENCES
        }
        self._today = dt.date.min
        self.remembered: dict[str, Any] = {}
        """What a capability works out from each directory version and carries to the next (FHIR's Locations)."""

    async def listing(self, index: DirectoryIndex) -> Listing:
        """The services of the index as it is now: worked out once per directory version, in a thread (a read
        arriving meanwhile waits for it; service/openreferral/listings.py)."""
        today = london_today(dt.datetime.now(dt.UTC))
        found = self.listings.ready(index, today)
        if found is not None:
            return found
        if today != self._today:  # bank holidays are spelt out from today
            self._today = today
            for audience in AUDIENCES:
                self._full[audience].clear()
                self._fhir[audience].clear()
        return await self.listings.current(index, today)

    def _publishing(self, index: DirectoryIndex, today: dt.date) -> oruk_export.Publishing:
        return oruk_export.Publishing(
            terms=self.terms,
            area_names={a.code: a.name for a in index.places.areas},
            area_extents=self._area_extents(index),
            vocab_modified=self.vocab_modified,
            today=today,
            review_months=self.review_months,
        )

    def _area_extents(self, index: DirectoryIndex) -> dict[str, str]:
        with self._extents_lock:  # worked out once per set of areas, by whichever thread asks first
            key, extents = self._extents
            if key != id(index.places):
                extents = {
                    area.code: shapely.to_geojson(
                        shapely.set_precision(shapely.simplify(shape, EXTENT_DEGREES, preserve_topology=True), 1e-5)
                    )
                    for area, shape in zip(index.places.areas, index.places.area_shapes, strict=True)
                }
                self._extents = (id(index.places), extents)
            return extents

    def cache_stats(self) -> list[CacheStats]:
        """The published records' caches (for /metrics)."""
        return [full.stats() for full in self._full.values()] + [fhir.stats() for fhir in self._fhir.values()]

    def listed(self, s: Service, listing: Listing) -> bytes:
        """A service's one-to-one record as JSON (the same for every audience)."""
        return self._entry(s, listing.publishing)[1]

    def terms_of(self, s: Service, publishing: oruk_export.Publishing) -> Numbers:
        """The ids of the service's coded terms and their taxonomies, numbered (see `holds`)."""
        return self._entry(s, publishing)[2]

    def term_numbers(self, wanted: Iterable[str]) -> list[int | None]:
        """These taxonomy term or taxonomy ids by number (None: no service read so far carries it)."""
        return [self._term_numbers.get(term) for term in wanted]

    def _entry(self, s: Service, publishing: oruk_export.Publishing) -> tuple[tuple[int, dt.date], bytes, Numbers]:
        found = self._listed.get(s.id)
        made_for = (s.version, publishing.today)
        if found is None or found[0] != made_for:
            record = oruk_export.listed(s, publishing)
            terms = {i for t in coded_terms(s, publishing.terms) for i in (t.id, t.taxonomy_id or "")}
            found = self._listed[s.id] = (made_for, msgspec.json.encode(record), self._numbered(terms))
        return found

    def _numbered(self, terms: set[str]) -> Numbers:
        with self._numbering:  # the warm-up thread and the event loop may both number a new term
            return numbered(terms, self._term_numbers)

    def full(self, s: Service, listing: Listing, audience: Audience) -> bytes:
        def make() -> bytes:
            shown = public_record(s) if audience == "public" else s
            return msgspec.json.encode(oruk_export.full(shown, listing.publishing))

        return self._full[audience].get((s.id, s.version, listing.publishing.today), make)

    def record(self, s: Service, listing: Listing, audience: Audience) -> hsds.Service:
        shown = public_record(s) if audience == "public" else s
        return oruk_export.full(shown, listing.publishing)

    def fhir_record(
        self, s: Service, listing: Listing, audience: Audience, base: str, encode: Callable[[Service], bytes]
    ) -> bytes:
        """A service as FHIR publishes it, `encode`d (remembered by its version, the audience, the base URL and the
        day): the audience's record, without professionals-only numbers for the public."""

        def make() -> bytes:
            return encode(public_record(s) if audience == "public" else s)

        return self._fhir[audience].get((s.id, s.version, base, listing.publishing.today), make)

    def warm(self, index: DirectoryIndex) -> int:
        """Work out the listing and encode every service's one-to-one record and terms ahead of the first read
        (about 1 s at 50,000 services): run off the event loop at start-up. A race with a read only repeats work."""
        listing = self.listings.now(index, london_today(dt.datetime.now(dt.UTC)))
        for s in listing.in_order():
            self._entry(s, listing.publishing)
        give_back_memory()
        return len(listing)

    def _left(self, listing: Listing, leaving: list[uuid.UUID] | None) -> None:
        """Forget what is remembered for services no longer in the directory (in the thread that worked out the
        listing; dict operations one at a time, so a read on the loop meanwhile is safe)."""
        if leaving is None:
            if len(self._listed) > len(listing.by_id):
                leaving = [k for k in list(self._listed) if listing.by_id.row(k) is None]
            else:
                leaving = []
        for service_id in leaving:
            self._listed.pop(service_id, None)


def numbered(terms: Iterable[str], numbering: dict[str, int]) -> Numbers:
    """These terms by number, numbering any new one (as bytes while every number is below 256)."""
    numbers = sorted({numbering.setdefault(t, len(numbering)) for t in terms})
    return bytes(numbers) if not numbers or numbers[-1] < 256 else tuple(numbers)


def holds(held: Numbers, wanted: Iterable[int | None]) -> bool:
    """Whether every wanted number is held (None: a term nothing carries)."""
    return all(n is not None and not (n > 255 and isinstance(held, bytes)) and n in held for n in wanted)


def page_json(items: list[bytes], total: int, page: int, per_page: int) -> bytes:
    """The profile's paging envelope around already encoded records."""
    pages = (total + per_page - 1) // per_page
    head: dict[str, Any] = {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": len(items),
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": not items,
    }
    return msgspec.json.encode(head)[:-1] + b',"contents":[' + b",".join(items) + b"]}"


def published_of(state: Any) -> Published:
    """The running server's published listings, kept on `app.state.published` (the lifespan in app.py makes it)."""
    published: Published = state.published
    return published
