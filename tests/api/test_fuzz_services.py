"""Property: whatever a client sends to the service endpoints, the answer is never a 5xx, and every rejection is
a problem+json naming a field, with nothing written."""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from tests.api.helpers import PROBLEM_JSON, SERVICE, seed, snapshot

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
# Values of the right shape, so that examples also reach the domain rules (422), slug clashes (409) and writes.
CANDIDATES = st.sampled_from(
    [
        "mental_health",
        "astrology",
        "test-street-triage",
        "T1",
        ["T1", "NOPE"],
        ["street", "street"],
        {"type": "national"},
        {"type": "radius", "km": 5},
        {"type": "areas", "codes": ["T1"]},
        {
            "type": "polygon",
            "geometry": {"type": "Polygon", "coordinates": [[[-1, 52], [0, 53], [0, 52], [-1, 53], [-1, 52]]]},
        },
        {"lon": 53.7, "lat": -0.3},
        {"lon": -0.5, "lat": 52.5},
        {"min": 30, "max": 20},
        [{"day": "mon", "opens": "09:00", "closes": "09:00"}],
        [{"number": "01632 960000", "twenty_four_hour": True}],
        "2026-11-22T03:00:00Z",
        5,
        130.5,
    ]
)
SLUGS = itertools.count()
SEEDED: dict[int, str] = {}  # the service each client's examples replace and patch, by id
PATHS = [
    ("name",),
    ("slug",),
    ("kind",),
    ("contexts",),
    ("catchment",),
    ("catchment", "codes"),
    ("location",),
    ("eligibility", "age", "min"),
    ("eligibility", "needs"),
    ("eligibility", "genders"),
    ("schedule", "weekly"),
    ("contacts", "phones"),
    ("capacity", "until"),
    ("pathway_priority",),
    ("unexpected",),
]


def mutate(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    out.setdefault("location", {"lon": -0.5, "lat": 52.5})
    target = out
    for key in path[:-1]:
        nested = target.get(key)
        target[key] = nested = nested if isinstance(nested, dict) else {}
        target = nested
    target[path[-1]] = value
    return out


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(PATHS),
    value=st.one_of(CANDIDATES, JSON_VALUES),
    method=st.sampled_from(["POST", "PUT", "PATCH"]),
)
async def test_mutated_service_bodies_never_get_a_5xx_and_rejections_name_a_field(
    client: AsyncTestClient,  # type: ignore[type-arg]
    path: tuple[str, ...],
    value: Any,
    method: str,
) -> None:
    seeded = SEEDED.get(id(client))
    if seeded is None:
        seeded = SEEDED[id(client)] = (await seed(client))["id"]
    before = await snapshot(client)
    body = mutate({**SERVICE, "slug": f"fuzzed-{next(SLUGS)}"}, path, value)
    url = "/v1/services" if method == "POST" else f"/v1/services/{seeded}"
    if method == "PATCH":
        body = {path[0]: body[path[0]]}
    response = await client.request(method, url, content=json.dumps(body).encode())
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        assert response.json()["field"], response.text
        assert await snapshot(client) == before
