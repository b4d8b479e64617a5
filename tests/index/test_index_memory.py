"""What a group of rows remembers between searches (masks.Rows.remembered) is bounded: what every search asks again
must not be pushed out by what varies from search to search."""

from __future__ import annotations

from itertools import combinations

from service.domain.model import Taxonomies, Taxonomy, TaxonomyTerm
from service.domain.request import Person, PointOrigin, ReferralRequest
from service.index.bounded import ENTRY_OVERHEAD
from service.index.engine import DirectoryIndex, IndexConfig
from tests.index.test_index_properties import AREAS, AT, CIRCS, NEEDS, welcoming

MANY_NEEDS = (*NEEDS, *(f"need_{i}" for i in range(8)))
VOCAB = Taxonomies(
    needs=Taxonomy(
        name="needs", version=1, terms=tuple(TaxonomyTerm(code=c, label=c, definition=c) for c in MANY_NEEDS)
    ),
    circumstances=Taxonomy(
        name="circumstances", version=1, terms=tuple(TaxonomyTerm(code=c, label=c, definition=c) for c in CIRCS)
    ),
)


def test_explained_searches_asking_for_many_different_sets_of_needs_keep_what_every_search_asks_remembered() -> None:
    services = [welcoming(f"w{i}", -0.9 + i * 0.1, 52.5) for i in range(6)]
    index = DirectoryIndex.build(
        services=services, areas=AREAS, sites=[], postcodes={}, vocab=VOCAB, version=1, config=IndexConfig(), now=AT
    )
    where = index.resolve_point(-0.7, 52.4)

    def explain(needs: tuple[str, ...]) -> None:
        person = Person(age=30, gender="female", needs=needs)
        request = ReferralRequest(
            origin=PointOrigin(lat=52.4, lon=-0.7), context="custody", person=person, explain=True
        )
        index.search(request, at=AT, where=where, origin_label="x", resolved_from="point")

    explain(("alcohol",))
    listing, _, _ = index.candidates.explaining(where)  # the services are national
    first = set(listing.memo)
    assert first
    sets_of_needs = list(combinations(MANY_NEEDS, 3))
    assert len(sets_of_needs) > 2 * listing.memo_budget // ENTRY_OVERHEAD  # more than it can hold
    for needs in sets_of_needs:
        explain(needs)
    assert first <= set(listing.memo), sorted(map(str, first - set(listing.memo)))
