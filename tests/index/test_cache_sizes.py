"""The search's caches are bounded in bytes (service/index/bounded.py): each stays within its budget, the least
recently used goes first, and what each entry is charged is at least what tracemalloc measures it to hold."""

from __future__ import annotations

import gc
import threading
import tracemalloc
import uuid
from typing import Any

import msgspec
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.model import Service
from service.domain.request import Person, PointOrigin, ReferralRequest
from service.index.answers import PARTS_BYTES, parts_of
from service.index.bounded import ENTRY_OVERHEAD, Bounded, SharedBounded
from service.index.engine import IndexConfig
from service.index.masks import Rows
from service.index.places import RESOLUTION_BYTES, Places
from service.search.answered import Answered, answer_bytes
from tests.index.test_index_properties import AREAS, AT, NEEDS, build, welcoming
from tests.openreferral.test_oruk_mapping import demo_services


def measured(make: Any, count: int) -> float:
    """Bytes held per value made, on average, as tracemalloc sees them."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        kept = [make(i) for i in range(count)]
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert len(kept) == count
    return held / count


def demo() -> list[Service]:
    return [
        msgspec.convert(
            {**body, "id": str(uuid.uuid4()), "version": 1, "created_at": AT.isoformat(), "updated_at": AT.isoformat()},
            Service,
        )
        for body in demo_services()
    ]


@settings(max_examples=60, deadline=None)
@given(
    budget=st.integers(ENTRY_OVERHEAD, 20 * ENTRY_OVERHEAD),
    asked=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 400)), max_size=200),
)
def test_a_cache_never_holds_more_than_its_budget_and_forgets_the_least_recently_used_first(
    budget: int, asked: list[tuple[int, int]]
) -> None:
    cache: Bounded[int, int] = Bounded("test", budget, lambda size: size)
    used: list[int] = []
    for key, size in asked:
        value = cache.get(key, lambda size=size: size)  # type: ignore[misc]
        if key in cache.entries:
            used = [k for k in used if k != key] + [key]
        assert cache.bytes <= budget
        assert cache.bytes == sum(v + ENTRY_OVERHEAD for v in cache.entries.values())
        assert value == cache.entries.get(key, value)
        kept = list(cache.entries)
        assert kept == [k for k in used if k in cache.entries]  # in order of use, the most recent last
    stats = cache.stats()
    assert stats.hits + stats.misses == len(asked)


def test_a_value_larger_than_the_whole_budget_is_used_but_not_kept() -> None:
    cache: Bounded[str, bytes] = Bounded("test", 1000, len)
    assert cache.get("big", lambda: b"x" * 5000) == b"x" * 5000
    assert cache.entries == {} and cache.bytes == 0


@settings(max_examples=30, deadline=None)
@given(keys=st.lists(st.integers(0, 500), max_size=300))
def test_a_group_of_rows_never_remembers_more_than_its_budget(keys: list[int]) -> None:
    index = build([welcoming(f"w{i}", -0.9 + i * 0.01, 52.5) for i in range(40)])
    rows = Rows.of(index.columns.values, np.arange(40, dtype=np.int64))
    for key in keys:
        mask = rows.remembered(key, lambda: np.ones(40, dtype=bool))
        assert len(mask) == 40
        assert rows.spent[0] <= rows.memo_budget
    assert rows.nbytes() >= rows.memo_budget


def test_a_services_parts_are_charged_at_least_what_they_hold() -> None:
    services = demo()
    contexts = ("custody", "street", "court", "community")

    def parts(i: int) -> Any:
        made = parts_of(services[i])
        for context in contexts:
            made.tail(context)
        return made

    per_part = measured(parts, len(services))
    assert per_part <= PARTS_BYTES, per_part


def test_a_resolved_point_is_charged_at_least_what_it_holds() -> None:
    places = Places(AREAS, [], {})
    per_point = measured(lambda i: places._resolve_uncached(-0.99 + i * 0.0004, 52.0 + i * 0.0001), 2000)
    assert per_point <= RESOLUTION_BYTES, per_point


def test_an_answer_kept_with_both_its_json_copies_is_charged_at_least_what_it_holds() -> None:
    index = build([welcoming(f"w{i}", -0.99 + i * 0.01, 52.5) for i in range(60)], IndexConfig())
    answers = []
    for lon, lat in ((-0.4, 52.1), (-0.9, 52.6), (-0.3, 52.7), (-0.5, 52.8)):
        for explain in (False, True):
            request = ReferralRequest(
                origin=PointOrigin(lon=lon, lat=lat),
                context="custody",
                person=Person(age=30, gender="female", needs=NEEDS[:2]),
                explain=explain,
            )
            where = index.resolve_point(lon, lat)
            answers.append(index.search(request, at=AT, where=where, origin_label="x", resolved_from="point"))

    def kept(i: int) -> Answered:
        made = Answered(msgspec.json.decode(msgspec.json.encode(answers[i % len(answers)]), type=type(answers[0])))
        made.encoded(True), made.encoded(False)
        return made

    held = measured(kept, 4 * len(answers))
    charged = sum(answer_bytes(answers[i % len(answers)]) for i in range(4 * len(answers))) / (4 * len(answers))
    assert held <= charged, (held, charged)


def test_what_the_search_caches_charge_covers_what_a_run_of_searches_leaves_held() -> None:
    """Every cache at once: the memory a run of distinct explained searches leaves held, less what the same run
    holds once its caches are emptied, is at most what the caches say they hold."""
    index = build([welcoming(f"w{i}", -0.99 + i * 0.004, 52.5 + (i % 7) * 0.01) for i in range(400)])
    requests = [
        ReferralRequest(
            origin=PointOrigin(lon=-0.95 + k * 0.003, lat=52.45 + (k % 5) * 0.02),
            context=("custody", "street", "court", "community")[k % 4],
            person=Person(age=14 + k % 60, gender=("female", "male", "not_stated")[k % 3], needs=NEEDS[: k % 4]),
            explain=k % 2 == 0,
        )
        for k in range(120)
    ]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for request in requests:
            where = index.resolve_point(request.origin.lon, request.origin.lat)  # type: ignore[union-attr]
            index.search(request, at=AT, where=where, origin_label="x", resolved_from="point")
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    charged = sum(st.bytes for st in index.cache_stats())
    assert charged > 0
    assert held <= charged, (held, charged)


def test_a_cache_shared_with_worker_threads_keeps_its_count_and_its_budget() -> None:
    cache: SharedBounded[int, bytes] = SharedBounded("test", 64 * 1024, len)

    def hammer(seed: int) -> None:
        for k in range(4000):
            key = (seed * 7919 + k * 104729) % 300
            assert len(cache.get(key, lambda key=key: b"x" * (100 + key))) == 100 + key  # type: ignore[misc]

    threads = [threading.Thread(target=hammer, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.bytes <= cache.budget
    assert cache.bytes == sum(len(v) + ENTRY_OVERHEAD for v in cache.entries.values())
    stats = cache.stats()
    assert stats.hits + stats.misses == 6 * 4000
