"""A change applied to the index in place leaves it answering exactly as an index built afresh from the same
directory would, whatever the sequence of creates, updates, capacity changes, closures and removals."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.model import Capacity, Service
from service.domain.pathway import ROLES
from service.domain.request import Person, PointOrigin, ReferralRequest
from service.index.engine import DirectoryIndex
from tests.index.test_index_properties import (
    AT,
    CONTEXTS,
    NEEDS,
    build,
    directories,
    lats,
    lons,
    people,
    search,
    services,
)

Operation = tuple[str, int, Any]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.integers(0, 10**6), services("new")),
        st.tuples(st.just("replace"), st.integers(0, 10**6), services("replaced")),
        st.tuples(
            st.just("capacity"),
            st.integers(0, 10**6),
            st.sampled_from(["available", "limited", "full", "unknown"]),
        ),
        st.tuples(st.just("close"), st.integers(0, 10**6), st.sampled_from(["closed", "temporarily_closed", "active"])),
        st.tuples(st.just("remove"), st.integers(0, 10**6), st.none()),
        st.tuples(st.just("rename"), st.integers(0, 10**6), st.text("abcdef ", min_size=1, max_size=8)),
        st.tuples(st.just("role"), st.integers(0, 10**6), st.none() | st.sampled_from(ROLES)),
        st.tuples(st.just("kind"), st.integers(0, 10**6), st.sampled_from(["triage_line", "housing", "other"])),
    ),
    min_size=1,
    max_size=8,
)


def apply(directory: dict[uuid.UUID, Service], op: Operation, serial: int) -> tuple[list[Service], list[uuid.UUID]]:
    """Change the directory as the store would; return what changed (the services' new state, and ids removed)."""
    kind, pick, value = op
    ids = sorted(directory)
    target = directory[ids[pick % len(ids)]] if ids else None
    match kind:
        case "create":
            slug = f"n{serial:02d}"
            new = msgspec.convert({**value, "slug": slug, "name": slug, "id": str(uuid.uuid4())}, Service)
        case "replace" if target is not None:
            slug = target.slug if pick % 2 else f"r{serial:02d}"  # half the time the slug changes too
            new = msgspec.convert({**value, "slug": slug, "name": slug, "id": str(target.id)}, Service)
        case "capacity" if target is not None:
            until = AT + dt.timedelta(hours=1) if pick % 3 == 0 else None
            new = msgspec.structs.replace(target, capacity=Capacity(status=value, until=until))
        case "rename" if target is not None:
            new = msgspec.structs.replace(target, name=value.strip() or "x", pathway_priority=pick % 10 + 1)
        case "role" if target is not None:  # only the step it is offered under changes
            new = msgspec.structs.replace(target, pathway_role=value)
        case "kind" if target is not None:
            new = msgspec.structs.replace(target, kind=value)
        case "close" if target is not None:
            new = msgspec.structs.replace(target, status=value)
        case "remove" if target is not None:
            del directory[target.id]
            return [], [target.id]
        case _:
            return [], []
    directory[new.id] = new
    return [new], []


@settings(max_examples=120, deadline=None, derandomize=True)
@given(
    start=directories(),
    ops=operations,
    searches=st.lists(
        st.tuples(people, st.sampled_from(CONTEXTS), lons, lats, st.none() | st.integers(5, 120)),
        min_size=1,
        max_size=4,
    ),
)
def test_an_index_changed_in_place_answers_every_search_as_one_built_afresh(
    start: list[Service], ops: list[Operation], searches: list[tuple[Person, str, float, float, int | None]]
) -> None:
    index = build(start)
    directory = {s.id: s for s in start}

    def same_answers() -> None:
        fresh: DirectoryIndex = build(list(directory.values()))
        assert len(index) == len(fresh)
        for person, context, lon, lat, max_travel in searches:
            kw: dict[str, Any] = {"limit": 50, "max_travel_minutes": max_travel, "explain": True}
            assert search(index, person, context, lon, lat, **kw) == search(fresh, person, context, lon, lat, **kw)
            kw = {"limit": 3, "explain": True, "explain_limit": 2}
            assert search(index, person, context, lon, lat, **kw) == search(fresh, person, context, lon, lat, **kw)

    same_answers()  # and every cache the searches fill is warm before the first change
    for serial, op in enumerate(ops):
        changed, gone = apply(directory, op, serial)
        index.apply(index.prepare(changed, gone=gone, version=1))
        same_answers()


def test_a_change_to_what_no_cached_look_up_reads_keeps_them_and_any_other_change_drops_them() -> None:
    """Live capacity updates are most of the writes: they must not make every area set's candidates be gathered
    again, while a change to a catchment, a schedule or an eligibility column must."""
    start = [
        _service(f"s{i}", -0.1 - i / 10, {"type": "areas", "codes": ["WEST" if i % 2 else "EAST"]}) for i in range(6)
    ]
    index = build(start)
    person = Person(age=30, gender="female", needs=(NEEDS[0],))
    for s in start:
        assert s.location is not None
        for context in CONTEXTS:
            search(index, person, context, s.location.lon, s.location.lat, explain=True)
    warm = index.candidates.cached()
    assert warm > 0
    target = start[0]
    later = AT + dt.timedelta(hours=2)
    index.apply(index.prepare([msgspec.structs.replace(target, capacity=Capacity(status="full", until=later))]))
    assert index.candidates.cached() == warm
    index.apply(index.prepare([msgspec.structs.replace(target, name="Renamed")]))
    assert index.candidates.cached() == warm
    index.apply(index.prepare([msgspec.structs.replace(target, capacity=Capacity(status="full"))]))
    assert index.candidates.cached() == 0


def _service(slug: str, lon: float, catchment: dict[str, Any]) -> Service:
    return msgspec.convert(
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, slug)),
            "version": 1,
            "created_at": AT.isoformat(),
            "updated_at": AT.isoformat(),
            "slug": slug,
            "name": slug,
            "organisation": "o",
            "kind": "triage_line",
            "contexts": list(CONTEXTS),
            "access_modes": ["phone"],
            "location": {"lon": lon, "lat": 52.5},
            "catchment": catchment,
            "eligibility": {"needs": [NEEDS[0]]},
        },
        Service,
    )


def test_a_service_full_until_a_time_counts_as_full_before_it_and_not_after_it_on_the_same_index() -> None:
    """An explanation remembers each group's capacity until a row changes or a "full until" time passes."""
    until = AT + dt.timedelta(hours=2)
    full = msgspec.structs.replace(
        _service("s0", -0.2, {"type": "national"}), capacity=Capacity(status="full", until=until)
    )
    index = build([full, _service("s1", -0.3, {"type": "national"})])
    person = Person(age=30, gender="female", needs=(NEEDS[0],))
    request = ReferralRequest(origin=PointOrigin(lat=52.5, lon=-0.2), context="community", person=person, explain=True)

    def full_count(at: dt.datetime) -> int:
        answer = index.search(
            request, at=at, where=index.resolve_point(-0.2, 52.5), origin_label="x", resolved_from="point"
        )
        assert answer.explanation is not None
        return answer.explanation.by_reason.get("FULL", 0)

    for at, expected in [(AT, 1), (AT, 1), (until - dt.timedelta(seconds=1), 1), (until, 0), (until, 0), (AT, 1)]:
        assert full_count(at) == expected, at
    index.apply(index.prepare([msgspec.structs.replace(full, capacity=Capacity(status="available"))]))
    assert full_count(AT) == 0


def test_an_index_holds_no_reference_cycle_so_reference_counting_alone_frees_it() -> None:
    # The keeper freezes what a rebuild made out of the garbage collector's reach (keeper._gentle), so an index
    # replaced by a rebuild must be freed by reference counting alone.
    import gc

    from service.domain.request import Person
    from tests.index.test_index_properties import build, search, welcoming

    gc.collect()
    index = build([welcoming(f"w{i}", -0.9 + i * 0.01, 52.5) for i in range(50)])
    for i in range(20):
        search(
            index, Person(age=30, gender="female", needs=("alcohol",)), "custody", -0.7 + i * 0.01, 52.4, explain=True
        )
    del index
    assert gc.collect() == 0
