"""The directory as Open Referral UK and FHIR publish it, served from the in-memory index.

Each service's record is encoded to JSON once per version of the service (and audience, where phones differ) and
remembered; a page is the remembered fragments joined. The order and the filters' look-ups are worked out once per
directory version. Nothing here reads the database.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
import shapely

from service.domain import hsds, oruk_export
from service.domain.audience import public_record
from service.domain.model import Service, Taxonomies
from service.domain.oruk_attributes import coded_terms
from service.domain.oruk_terms import published_taxonomies, terms_by_taxonomy
from service.index.bounded import Bounded
from service.index.engine import DirectoryIndex
from service.index.trim import give_back_memory

Audience = Literal["public", "staff"]
Numbers = bytes | tuple[int, ...]
"""A service's terms, numbered (bytes while every number is below 256)."""
EXTENT_DEGREES = 0.002
"""An area's extent is its boundary simplified to about 200 m (its `uri` names the exact boundary)."""
FULL_RECORDS = 20_000
"""Fully nested records remembered (each audience); the one-to-one records are remembered for every service."""


@dataclass(frozen=True)
class Listing:
    """One directory version's services in publication order (name, then id), with what the filters look up."""

    index: DirectoryIndex
    version: int
    services: tuple[Service, ...]
    by_id: dict[str, Service]
    by_location: dict[str, Service]
    publishing: oruk_export.Publishing


class Published:
    def __init__(self, vocab: Taxonomies) -> None:
        self.vocab = vocab
        self.taxonomies = published_taxonomies(vocab)
        self.terms = terms_by_taxonomy(self.taxonomies)
        self.vocab_modified = {
            t.name: dt.datetime.combine(t.published, dt.time(), dt.UTC)
            for t in (vocab.needs, vocab.circumstances)
            if t.published is not None
        }
        self._listing: Listing | None = None
        self._extents: tuple[int, dict[str, str]] = (0, {})
        self._listed: dict[uuid.UUID, tuple[int, bytes, Numbers]] = {}
        self._term_numbers: dict[str, int] = {}
        """Each coded term's id (and its taxonomy's) numbered, so that a service's terms are held as a few bytes
        rather than a set of strings (a set of twenty strings takes about 1 KB: 40 MB at 50,000 services)."""
        self._numbering = threading.Lock()
        self._full: dict[Audience, Bounded[tuple[uuid.UUID, int], bytes]] = {
            "public": Bounded(FULL_RECORDS),
            "staff": Bounded(FULL_RECORDS),
        }
        self._today = dt.date.min
        self._memo: tuple[Listing | None, dict[str, Any]] = (None, {})

    def listing(self, index: DirectoryIndex) -> Listing:
        """The services of the index as it is now (worked out again when the directory version moves on)."""
        current = self._listing
        if current is not None and current.index is index and current.version == index.version:
            return current
        today = dt.datetime.now(dt.UTC).date()
        if today != self._today:  # bank holidays are spelt out from today
            self._today = today
            for cache in self._full.values():
                cache.clear()
        services = tuple(sorted((s for s in index.services if s is not None), key=lambda s: (s.name, str(s.id))))
        publishing = oruk_export.Publishing(
            terms=self.terms,
            area_names={a.code: a.name for a in index.places.areas},
            area_extents=self._area_extents(index),
            vocab_modified=self.vocab_modified,
            today=today,
        )
        current = self._listing = Listing(
            index=index,
            version=index.version,
            services=services,
            by_id={str(s.id): s for s in services},
            by_location={oruk_export.service_at_location_id(s): s for s in services if _located(s)},
            publishing=publishing,
        )
        self._forget_removed(current)
        return current

    def _area_extents(self, index: DirectoryIndex) -> dict[str, str]:
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

    def listed(self, s: Service, listing: Listing) -> bytes:
        """A service's one-to-one record as JSON (the same for every audience)."""
        return self._entry(s, listing)[1]

    def terms_of(self, s: Service, listing: Listing) -> Numbers:
        """The ids of the service's coded terms and their taxonomies, numbered (see `holds`)."""
        return self._entry(s, listing)[2]

    def term_numbers(self, wanted: Iterable[str]) -> list[int | None]:
        """These taxonomy term or taxonomy ids by number (None: no service read so far carries it)."""
        return [self._term_numbers.get(term) for term in wanted]

    def _entry(self, s: Service, listing: Listing) -> tuple[int, bytes, Numbers]:
        found = self._listed.get(s.id)
        if found is None or found[0] != s.version:
            record = oruk_export.listed(s, listing.publishing)
            terms = {i for t in coded_terms(s, listing.publishing.terms) for i in (t.id, t.taxonomy_id or "")}
            found = self._listed[s.id] = (s.version, msgspec.json.encode(record), self._numbered(terms))
        return found

    def _numbered(self, terms: set[str]) -> Numbers:
        with self._numbering:  # the warm-up thread and the event loop may both number a new term
            return numbered(terms, self._term_numbers)

    def full(self, s: Service, listing: Listing, audience: Audience) -> bytes:
        def make() -> bytes:
            shown = public_record(s) if audience == "public" else s
            return msgspec.json.encode(oruk_export.full(shown, listing.publishing))

        return self._full[audience].get((s.id, s.version), make)

    def record(self, s: Service, listing: Listing, audience: Audience) -> hsds.Service:
        shown = public_record(s) if audience == "public" else s
        return oruk_export.full(shown, listing.publishing)

    def warm(self, index: DirectoryIndex) -> int:
        """Encode every service's one-to-one record and terms ahead of the first filtered read (about 4 s at 50,000
        services): run off the event loop at start-up. A race with a request only repeats work."""
        listing = self.listing(index)
        for s in listing.services:
            self._entry(s, listing)
        give_back_memory()
        return len(listing.services)

    def per_listing(self, listing: Listing, name: str, make: Callable[[], Any]) -> Any:
        """`make()`, remembered for this directory version (what a FHIR search looks through, say)."""
        held, memo = self._memo
        if held is not listing:
            memo = {}
            self._memo = (listing, memo)
        if name not in memo:
            memo[name] = make()
        return memo[name]

    def _forget_removed(self, listing: Listing) -> None:
        """Drop what is remembered for services no longer in the directory (after a listing is worked out)."""
        if len(self._listed) > len(listing.by_id):
            for service_id in [k for k in self._listed if str(k) not in listing.by_id]:
                del self._listed[service_id]


def numbered(terms: Iterable[str], numbering: dict[str, int]) -> Numbers:
    """These terms by number, numbering any new one (as bytes while every number is below 256)."""
    numbers = sorted({numbering.setdefault(t, len(numbering)) for t in terms})
    return bytes(numbers) if not numbers or numbers[-1] < 256 else tuple(numbers)


def holds(held: Numbers, wanted: Iterable[int | None]) -> bool:
    """Whether every wanted number is held (None: a term nothing carries)."""
    return all(n is not None and not (n > 255 and isinstance(held, bytes)) and n in held for n in wanted)


def _located(s: Service) -> bool:
    return s.location is not None or s.contacts.address is not None


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
