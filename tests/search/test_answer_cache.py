"""The answers of the last second (service/search/answered.py): a search is kept for the period in which it was asked,
so that a repeat is never answered as of more than a period earlier."""

from __future__ import annotations

import pytest

from service.domain.request import Person, PointOrigin, ReferralRequest
from service.search.answered import AnswerCache
from tests.index.test_index_properties import AT, build, welcoming


def test_a_search_that_ends_in_the_next_second_is_not_kept_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    index = build([welcoming("w", -0.7, 52.5)])
    request = ReferralRequest(origin=PointOrigin(lon=-0.7, lat=52.5), context="custody", person=Person(age=30))
    answer = index.search(
        request, at=AT, where=index.resolve_point(-0.7, 52.5), origin_label="x", resolved_from="point"
    )
    cache = AnswerCache(1)
    clock = [10.95]
    monkeypatch.setattr("service.search.answered.time.monotonic", lambda: clock[0])
    found, asked = cache.lookup(index, request)
    assert found is None
    clock[0] = 11.05  # the search took until the next second
    cache.keep(index, request, answer, asked)
    assert cache.lookup(index, request)[0] is None  # a repeat in the new second is answered afresh
    found, asked = cache.lookup(index, request)
    cache.keep(index, request, answer, asked)
    assert cache.lookup(index, request)[0] is not None  # asked and answered within one second: kept
