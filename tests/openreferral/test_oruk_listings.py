"""The prepared listings behind the Open Referral and FHIR pages (service/openreferral/listings.py) give exactly what
the full scan over every service gave before them: the same ids, in the same order, with the same totals, for no filter
and for each kind of filter; and they follow the directory as it changes, a few services at a time, through the same
prepare-and-apply steps the index keeper takes.

`Reference` is the full scan as it was: every service tested by the profile's filters as one predicate, then sorted
by name and id."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
import pytest

from service.domain.model import Area, Service, Taxonomies
from service.index.engine import DirectoryIndex, IndexConfig
from service.openreferral.listing import Listing
from service.openreferral.listings import LARGEST_STEP, step, whole
from service.openreferral.mapping import Publishing, last_modified
from service.openreferral.published import Published, holds
from service.openreferral.query import day_of, filters
from service.openreferral.terms import stable_id
from service.store.db import Connection
from service.store.taxonomy import current_taxonomies

AT = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
NAMES = ("Alpha", "Beta", "Gamma", "Delta", "Beta", "Alpha Beta")
"""Names that repeat: services of one name are ordered by id."""
ORGANISATIONS = ("North Trust", "South Trust", "Mind", "Nacro", "Together")
WORDS = ("custody", "women", "crisis", "housing", "court", "youth")
WEEKLY: tuple[list[dict[str, str]], ...] = (
    [],
    [{"day": d, "opens": "09:00", "closes": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")],
    [{"day": d, "opens": "17:00", "closes": "24:00"} for d in ("fri", "sat")],
    [{"day": "sun", "opens": "22:00", "closes": "02:00"}],
)


def _box(code: str, west: float, east: float) -> Area:
    ring = [[west, 52.0], [east, 52.0], [east, 53.0], [west, 53.0], [west, 52.0]]
    boundary = {"type": "Polygon", "coordinates": [ring]}
    return msgspec.convert({"code": code, "kind": "police_force_area", "name": code, "boundary": boundary}, Area)


AREAS = [_box("E23000091", -1.0, -0.5), _box("E23000092", -0.5, 0.0)]
POSTCODES = {"ZZ1 1": (-0.75, 52.5), "ZZ2": (-0.25, 52.4)}


def service(rnd: random.Random, needs: list[str], service_id: uuid.UUID | None = None, version: int = 1) -> Service:
    located = rnd.random() < 0.8
    lon, lat = rnd.uniform(-0.99, -0.01), rnd.uniform(52.01, 52.99)
    catchment = rnd.choice(
        [
            {"type": "national"},
            {"type": "areas", "codes": [rnd.choice(AREAS).code]},
            *([{"type": "radius", "km": rnd.choice([5, 20, 40])}] if located else []),
        ]
    )
    low = rnd.choice([None, None, 0, 16, 18])
    high = rnd.choice([None, None, 18, 26, 65])
    if low is not None and high is not None and high <= low:
        high = low + 10
    age = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
    opening: dict[str, Any] = {"open_24_7": True} if rnd.random() < 0.2 else {"weekly": rnd.choice(WEEKLY)}
    document = {
        "id": str(service_id or uuid.UUID(int=rnd.getrandbits(128), version=4)),
        "version": version,
        "created_at": AT.isoformat(),
        "updated_at": (AT + dt.timedelta(days=rnd.randint(0, 30))).isoformat(),
        "slug": f"s-{rnd.getrandbits(40):x}",
        "name": f"{rnd.choice(NAMES)}{rnd.choice(['', '', ' House', ' Line'])}",
        "organisation": rnd.choice(ORGANISATIONS),
        "description": " ".join(rnd.sample(WORDS, 2)),
        "kind": rnd.choice(["liaison_diversion", "housing", "place_of_safety", "triage_line", "womens_centre"]),
        "status": rnd.choice(["active", "active", "active", "temporarily_closed"]),
        "contexts": ["custody"],
        "access_modes": ["handover"] if located else ["phone"],
        "location": {"lon": lon, "lat": lat} if located else None,
        "contacts": {} if located or rnd.random() < 0.5 else {"address": {"lines": ["1 High St"], "town": "X"}},
        "catchment": catchment,
        "eligibility": {"age": age, "needs": rnd.sample(needs, rnd.randint(0, 3))},
        "schedule": opening,
    }
    return msgspec.convert(document, Service)


class Reference:
    """The profile's filters as one predicate over a service, as the full scan tested every service with them."""

    def __init__(self, published: Published, publishing: Publishing, **params: Any) -> None:
        self.published, self.publishing = published, publishing
        text = params.get("text")
        self.words = text.lower().split() if text else []
        self.terms = {x.lower() for x in (params.get("taxonomy_term_id"), params.get("taxonomy_id")) if x}
        organization = params.get("organization_id")
        self.organization = organization.lower() if organization else None
        after = params.get("modified_after")
        self.modified_after = None if after is None else dt.datetime.fromisoformat(after).replace(tzinfo=dt.UTC)
        self.minimum_age, self.maximum_age = params.get("minimum_age"), params.get("maximum_age")
        start_time, end_time, day = params.get("start_time"), params.get("end_time"), params.get("day")
        self.start, self.end, self.day = (start_time or "")[:5], (end_time or "")[:5], day_of(day)
        self.sessions = bool(start_time or end_time or day)

    def __call__(self, s: Service) -> bool:
        if self.words:
            haystack = f"{s.name} {s.description} {s.organisation}".lower()
            if not all(w in haystack for w in self.words):
                return False
        if self.terms:
            held = self.published.terms_of(s, self.publishing)
            if not holds(held, self.published.term_numbers(self.terms)):
                return False
        if self.organization and stable_id("organization", s.organisation) != self.organization:
            return False
        if self.modified_after and last_modified(s, self.publishing) < self.modified_after:
            return False
        age = s.eligibility.age
        if self.minimum_age is not None and (age.min or 0) < self.minimum_age:
            return False
        if self.maximum_age is not None and (age.max is None or age.max - 1 > self.maximum_age):
            return False
        return not self.sessions or self._open(s)

    def _open(self, s: Service) -> bool:
        if s.schedule.open_24_7:
            return (not self.start or self.start == "00:00") and not self.end
        return any(
            (self.day is None or x.day == self.day)
            and (not self.start or x.opens >= self.start)
            and (not self.end or x.closes <= self.end or (x.closes == "24:00" and self.end == "24:00"))
            for x in s.schedule.weekly
        )


def scanned(services: list[Service], keep: Any) -> list[str]:
    """The full scan: every service tested, then sorted by name and id."""
    return [str(s.id) for s in sorted((s for s in services if keep(s)), key=lambda s: (s.name, str(s.id)))]


def queries(published: Published) -> list[dict[str, Any]]:
    """No filter, each kind of filter, and a few together."""
    need = published.terms["ld-pathways-needs"]
    some_need = next(iter(need.values())).id
    taxonomy = next(iter(need.values())).taxonomy_id
    return [
        {},
        {"text": "women"},
        {"text": "CUSTODY beta"},
        {"text": "nothing-matches-this"},
        {"taxonomy_term_id": some_need},
        {"taxonomy_id": taxonomy},
        {"taxonomy_term_id": str(uuid.uuid4())},
        {"organization_id": stable_id("organization", "Mind")},
        {"modified_after": "2026-12-01T00:00:00"},
        {"minimum_age": 18.0},
        {"maximum_age": 25.0},
        {"day": "MO"},
        {"start_time": "09:00", "end_time": "17:00"},
        {"end_time": "24:00", "day": "saturday"},
        {"text": "house", "minimum_age": 16.0, "day": "tu"},
    ]


def oruk_filters(published: Published, listing: Listing, params: dict[str, Any]) -> Any:
    return filters(
        published,
        listing.publishing,
        params.get("text"),
        params.get("taxonomy_term_id"),
        params.get("taxonomy_id"),
        params.get("organization_id"),
        params.get("modified_after"),
        params.get("minimum_age"),
        params.get("maximum_age"),
        params.get("start_time"),
        params.get("end_time"),
        day_of(params.get("day")),
    )


@dataclass
class Directory:
    index: DirectoryIndex
    published: Published
    services: dict[uuid.UUID, Service]
    needs: list[str]
    rnd: random.Random
    version: int = 1

    def change(self, edits: int, removals: int, additions: int) -> None:
        """A change as the keeper makes one: prepared, then applied in place, with a higher directory version."""
        self.version += 1
        ids = list(self.services)
        gone = self.rnd.sample(ids, removals)
        edited = [
            service(self.rnd, self.needs, service_id=i, version=self.services[i].version + 1)
            for i in self.rnd.sample([i for i in ids if i not in gone], edits)
        ]
        made = [service(self.rnd, self.needs) for _ in range(additions)]
        self.index.apply(self.index.prepare([*edited, *made], gone=gone, version=self.version))
        for i in gone:
            del self.services[i]
        self.services.update((s.id, s) for s in (*edited, *made))


@pytest.fixture
async def vocab(conn: Connection) -> Taxonomies:
    return await current_taxonomies(conn)


def directory(vocab: Taxonomies, n: int, seed: int) -> Directory:
    rnd = random.Random(seed)
    needs = [t.code for t in vocab.needs.terms]
    services = [service(rnd, needs) for _ in range(n)]
    index = DirectoryIndex.build(
        services=services,
        areas=AREAS,
        sites=[],
        postcodes=POSTCODES,
        vocab=vocab,
        version=1,
        config=IndexConfig(),
        now=AT,
    )
    return Directory(index, Published(vocab), {s.id: s for s in services}, needs, rnd)


async def agrees(d: Directory, listing: Listing) -> None:
    """Every query's rows, through the listing's masks, are the full scan's ids in the full scan's order."""
    services = list(d.services.values())
    assert listing.version == d.index.version and len(listing) == len(services)
    for params in queries(d.published):
        chosen = listing.services(await listing.select(oruk_filters(d.published, listing, params)))
        expected = scanned(services, Reference(d.published, listing.publishing, **params))
        assert [str(s.id) for s in chosen] == expected, params


async def test_a_listing_gives_the_full_scans_ids_order_and_totals_for_no_filter_and_each_filter(
    vocab: Taxonomies,
) -> None:
    d = directory(vocab, 400, seed=1)
    listing = await d.published.listing(d.index)
    await agrees(d, listing)
    keys = {f.key for params in queries(d.published) for f in oruk_filters(d.published, listing, params)}
    assert len(listing.masks) == len(keys)  # each filter's result remembered once


async def test_the_next_listing_follows_each_change_and_carries_every_remembered_filter_rightly(
    vocab: Taxonomies,
) -> None:
    d = directory(vocab, 300, seed=2)
    listing = await d.published.listing(d.index)
    await agrees(d, listing)
    for n in range(25):
        d.change(edits=d.rnd.randint(0, 4), removals=d.rnd.randint(0, 2), additions=d.rnd.randint(0, 3))
        before = len(listing.masks)
        listing = await d.published.listing(d.index)
        assert len(listing.masks) == before, "the remembered filters are carried, not thrown away"
        await agrees(d, listing)
        again = whole(d.index, listing.version, listing.rows, listing.publishing, 0)
        assert np.array_equal(again.order, listing.order), n
        assert again.by_id.same(listing.by_id) and again.by_location.same(listing.by_location)
        assert np.array_equal(again.located, listing.located)
        assert np.array_equal(again.lon, listing.lon, equal_nan=True)


async def test_a_change_too_large_to_step_is_worked_out_whole_and_agrees(vocab: Taxonomies) -> None:
    d = directory(vocab, 200, seed=3)
    first = await d.published.listing(d.index)
    await agrees(d, first)
    d.change(edits=LARGEST_STEP, removals=5, additions=10)
    stepped, leaving = step(first, d.index, d.index.version, tuple(d.index.services), first.publishing, 99)
    assert leaving is None and len(stepped.masks) == 0  # whole: nothing carried
    await agrees(d, await d.published.listing(d.index))


async def test_a_read_arriving_while_a_listing_is_worked_out_gets_the_directory_as_it_then_is(
    vocab: Taxonomies,
) -> None:
    d = directory(vocab, 300, seed=4)
    await d.published.listing(d.index)
    d.change(edits=2, removals=0, additions=0)
    first = asyncio.ensure_future(d.published.listing(d.index))
    await asyncio.sleep(0)  # its copy of the rows is taken; it is worked out in a thread
    d.change(edits=1, removals=1, additions=1)
    second = await d.published.listing(d.index)
    assert (await first).version == d.version - 1 and second.version == d.version
    await agrees(d, second)
    assert await d.published.listing(d.index) is second  # remembered until the next change


async def test_reads_asking_for_a_new_filter_at_once_share_one_scan(vocab: Taxonomies) -> None:
    d = directory(vocab, 300, seed=5)
    listing = await d.published.listing(d.index)
    params = {"text": "crisis"}
    masks = await asyncio.gather(*(listing.select(oruk_filters(d.published, listing, params)) for _ in range(5)))
    assert all(np.array_equal(m, masks[0]) for m in masks) and len(listing.masks) == 1


async def test_proximity_and_covering_agree_with_measuring_each_service(vocab: Taxonomies) -> None:
    from service.domain.geometry import haversine_km

    d = directory(vocab, 400, seed=6)
    listing = await d.published.listing(d.index)
    lon, lat = POSTCODES["ZZ1 1"]
    for km in (0.0, 5.0, 25.0, 80.0, float("inf"), -1.0, float("nan")):
        near = listing.chosen([listing.located, listing.within(lon, lat, km)])
        expected = [
            str(s.id)
            for s in listing.in_order()
            if s.location is not None and haversine_km(lon, lat, s.location.lon, s.location.lat) <= km
        ]
        assert [str(s.id) for s in listing.services(near)] == expected, km
    rows = d.index.candidates.everywhere(d.index.resolve_point(lon, lat))
    covering = {s.id for r in rows.tolist() if (s := d.index.services[r]) is not None}
    assert covering, "the test point is in some catchment"
    chosen = listing.services(listing.chosen([listing.located, listing.covering(rows)]))
    assert [s.id for s in chosen] == [s.id for s in listing.in_order() if s.id in covering and _located(s)]
    d.change(edits=3, removals=2, additions=2)  # the index moved on: the listing finds the services by id
    rows = d.index.candidates.everywhere(d.index.resolve_point(lon, lat))
    covering = {s.id for r in rows.tolist() if (s := d.index.services[r]) is not None}
    chosen = listing.services(listing.chosen([listing.covering(rows)]))
    assert [s.id for s in chosen] == [s.id for s in listing.in_order() if s.id in covering]


def _located(s: Service) -> bool:
    return s.location is not None or s.contacts.address is not None


def test_rows_by_uuid_find_every_uuid_even_those_ending_in_zero_bytes() -> None:
    from service.openreferral.listing import Ids

    keys = [uuid.UUID(int=0), uuid.UUID(int=1 << 120), uuid.UUID(f"00000000-0000-4000-8000-{100:012d}")]
    keys += [uuid.UUID(int=random.Random(n).getrandbits(128)) for n in range(50)]
    ids = Ids.of((k, n) for n, k in enumerate(keys))
    assert [ids.row(k) for k in keys] == list(range(len(keys))) and ids.row(uuid.UUID(int=2)) is None
    assert dict(ids.pairs()) == {k: n for n, k in enumerate(keys)}
    moved = ids.changed([(keys[0], 0), (keys[1], 99)], [(uuid.UUID(int=2), 500), (keys[0], 7)])
    assert (moved.row(keys[0]), moved.row(keys[1]), moved.row(uuid.UUID(int=2))) == (7, 1, 500)
