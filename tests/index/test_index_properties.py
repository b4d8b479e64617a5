"""Properties of the search index on random directories: it agrees with the reference rules, ranks nearer and
better-matching services first, and answers the same request the same way every time."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.answer import ReferralAnswer
from service.domain.gap_words import EXCLUSION_CODES
from service.domain.geometry import haversine_km
from service.domain.model import Area, RadiusCatchment, Service, Taxonomies, Taxonomy, TaxonomyTerm
from service.domain.near import NEAR_MISS_MINUTES, worth_listing_outside
from service.domain.pathway import NOTE_CODES, ROLES, role_of, steps_for
from service.domain.reasons import OPTION_CODES
from service.domain.request import Person, PointOrigin, ReferralRequest
from service.domain.routing import NO_PRIORITY, Situation, exclusion_reasons, fits_as_step_catch_all
from service.domain.schedule import state_at
from service.index.engine import DirectoryIndex, IndexConfig
from service.index.places import Resolution

AT = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
NEEDS = ("mental_health", "mental_health_crisis", "alcohol", "housing", "learning_disability")
CIRCS = ("admits_offence", "intoxicated", "known_to_yos", "imminent_serious_harm", "mentally_vulnerable")
CONTEXTS = ("custody", "street", "court", "community")
VOCAB = Taxonomies(
    needs=Taxonomy(name="needs", version=1, terms=tuple(TaxonomyTerm(code=c, label=c, definition=c) for c in NEEDS)),
    circumstances=Taxonomy(
        name="circumstances", version=1, terms=tuple(TaxonomyTerm(code=c, label=c, definition=c) for c in CIRCS)
    ),
)


def _box(code: str, west: float, east: float) -> Area:
    ring = [[west, 52.0], [east, 52.0], [east, 53.0], [west, 53.0], [west, 52.0]]
    return msgspec.convert(
        {
            "code": code,
            "kind": "police_force_area",
            "name": code,
            "boundary": {"type": "Polygon", "coordinates": [ring]},
        },
        Area,
    )


AREAS = [_box("WEST", -1.0, -0.5), _box("EAST", -0.5, 0.0), _box("FAR", 1.0, 1.5)]
BORDERING = {"WEST": {"EAST"}, "EAST": {"WEST"}, "FAR": set()}
"""Which areas border which: the reference's own reading of AREAS, for near misses."""
SCHEDULES = [
    {"open_24_7": True},
    {"weekly": [{"day": d, "opens": "09:00", "closes": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")]},
    {"weekly": [{"day": d, "opens": "22:00", "closes": "02:00"} for d in ("sun", "mon", "tue")]},
    {},
]

lons = st.floats(-0.99, -0.01)
lats = st.floats(52.01, 52.99)


def subsets(values: Any) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.sampled_from(values), unique=True) if values else st.just([])


def mostly_empty(values: Any) -> st.SearchStrategy[list[Any]]:
    """Restrictions are the exception, so that most directories have something to offer."""
    return st.one_of(st.just([]), st.just([]), st.just([]), subsets(values))


@st.composite
def services(draw: st.DrawFn, slug: str) -> dict[str, Any]:
    contexts = draw(st.sampled_from([list(CONTEXTS)]) | st.lists(st.sampled_from(CONTEXTS), min_size=1, unique=True))
    modes = draw(
        st.lists(st.sampled_from(["handover", "walk_in", "phone", "outreach", "appointment"]), min_size=1, unique=True)
    )
    location = draw(st.none() | st.builds(lambda x, y: {"lon": x, "lat": y}, lons, lats))
    if location is None and {"handover", "walk_in"} & set(modes):
        location = {"lon": -0.5, "lat": 52.5}
    catchments = [{"type": "national"}, *({"type": "areas", "codes": [a.code]} for a in AREAS)]
    if location is not None:
        catchments.append({"type": "radius", "km": draw(st.floats(1, 60))})
    low = draw(st.sampled_from([None, None, None, 0, 16, 18, 25]))
    high = draw(st.sampled_from([None, None, None, 18, 22, 25, 60]))
    if low is not None and high is not None and high <= low:
        high = low + draw(st.integers(1, 20))
    required = draw(mostly_empty(CIRCS))
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, slug)),
        "version": 1,
        "created_at": AT.isoformat(),
        "updated_at": AT.isoformat(),
        "slug": slug,
        "name": slug,
        "organisation": "o",
        "kind": draw(
            st.sampled_from(
                [
                    "place_of_safety",
                    "triage_line",
                    "housing",
                    "womens_centre",
                    "liaison_diversion",
                    "street_triage",
                    "appropriate_adult",
                ]
            )
        ),
        "pathway_role": draw(st.none() | st.none() | st.sampled_from(ROLES)),
        "group_pathway": draw(st.sampled_from([False, False, False, True])),
        "finds_needs": draw(st.sampled_from([None, None, True, False])),
        "fallback_for_steps": draw(mostly_empty(ROLES)),
        "fallback_for_needs": draw(st.one_of(st.just([]), subsets(NEEDS))),
        "police_station": draw(st.sampled_from([False, False, True])),
        "contexts": contexts,
        "general_entry_for": draw(st.lists(st.sampled_from(contexts), unique=True)),
        "access_modes": modes,
        "location": location,
        "catchment": draw(st.sampled_from([catchments[0], *catchments])),
        "eligibility": {
            "age": {"min": low, "max": high},
            "genders": draw(mostly_empty(["female", "male", "non_binary", "other"])),
            "needs": draw(st.lists(st.sampled_from(NEEDS), min_size=1, unique=True) | st.just([])),
            "circumstances_required": required,
            "circumstances_excluded": draw(mostly_empty([c for c in CIRCS if c not in required])),
        },
        "schedule": draw(st.sampled_from(SCHEDULES)),
        "capacity": {
            "status": draw(st.sampled_from(["available", "available", "limited", "full", "unknown"])),
            "until": draw(
                st.sampled_from(
                    [None, (AT - dt.timedelta(hours=1)).isoformat(), (AT + dt.timedelta(hours=1)).isoformat()]
                )
            ),
        },
        "pathway_priority": draw(st.none() | st.integers(1, 10)),
        "status": draw(st.sampled_from(["active", "active", "active", "temporarily_closed"])),
    }


@st.composite
def directories(draw: st.DrawFn) -> list[Service]:
    n = draw(st.integers(1, 12))
    return [msgspec.convert(draw(services(f"s{i:02d}")), Service) for i in range(n)]


people = st.builds(
    Person,
    age=st.sampled_from([10, 16, 17.99, 18, 24.99, 25, 30, 40, 70]),
    gender=st.sampled_from(["female", "male", "non_binary", "other", "not_stated"]),
    needs=st.lists(st.sampled_from(NEEDS), min_size=1, unique=True).map(tuple) | st.just(()),
    circumstances=mostly_empty(CIRCS).map(tuple),
)


def build(svcs: list[Service], config: IndexConfig | None = None) -> DirectoryIndex:
    return DirectoryIndex.build(
        services=svcs,
        areas=AREAS,
        sites=[],
        postcodes={},
        vocab=VOCAB,
        version=1,
        config=config or IndexConfig(),
        now=AT,
    )


def search(index: DirectoryIndex, person: Person, context: str, lon: float, lat: float, **kw: Any) -> ReferralAnswer:
    request = ReferralRequest(origin=PointOrigin(lat=lat, lon=lon), context=context, person=person, **kw)  # type: ignore[arg-type]
    return index.search(request, at=AT, where=index.resolve_point(lon, lat), origin_label="x", resolved_from="point")


def situation_of(
    where: Resolution, person: Person, context: str, max_travel: int | None, release: bool = False
) -> Situation:
    """The reference rules' view of a search made with `search` at this origin."""
    return Situation(
        person=person,
        context=context,  # type: ignore[arg-type]
        at=AT,
        origin=where.point,
        origin_areas=where.codes,
        detention_window=dt.timedelta(hours=24),
        max_travel_minutes=max_travel,
        release=release,
    )


def step_options(answer: ReferralAnswer) -> set[str]:
    """Every service an answer offers as an option, in the flat list or a step's."""
    return {o.service.slug for o in answer.options} | {o.service.slug for s in answer.steps for o in s.options}


def shown(answer: ReferralAnswer) -> set[str]:
    """Every service an answer shows anywhere: an option (flat or a step's) or a catch-all (a need's or a step's)."""
    caught = {f.service.slug for f in answer.fallbacks} | {f.service.slug for s in answer.steps for f in s.fallbacks}
    return step_options(answer) | caught


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    svcs=directories(),
    person=people,
    context=st.sampled_from(CONTEXTS),
    lon=lons,
    lat=lats,
    max_travel=st.none() | st.integers(5, 120),
)
def test_the_index_offers_exactly_the_services_the_reference_rules_allow(
    svcs: list[Service], person: Person, context: str, lon: float, lat: float, max_travel: int | None
) -> None:
    index = build(svcs)
    where = index.resolve_point(lon, lat)
    answer = search(index, person, context, lon, lat, limit=50, max_travel_minutes=max_travel, explain=True)
    situation = situation_of(where, person, context, max_travel)
    allowed = {s.slug for s in svcs if not exclusion_reasons(s, situation, state_at(s.schedule, AT))}
    offered = step_options(answer)
    assert answer.excluded is not None
    cut = {e.service.slug for e in answer.excluded if e.reasons[0].code == "BELOW_THE_CUT"}
    assert offered <= allowed
    assert offered | cut | (shown(answer) & allowed) == allowed
    assert not shown(answer) & cut
    for option in (*answer.options, *(o for step in answer.steps for o in step.options)):  # never breaks a rule
        s = next(x for x in svcs if x.slug == option.service.slug)
        assert exclusion_reasons(s, situation, state_at(s.schedule, AT)) == ()
        assert option.opening == msgspec.structs.replace(state_at(s.schedule, AT), open_24_7=s.schedule.open_24_7)


def welcoming(slug: str, lon: float, lat: float) -> Service:
    """A service anyone may be offered anywhere, at any time."""
    return msgspec.convert(
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, slug)),
            "version": 1,
            "created_at": AT.isoformat(),
            "updated_at": AT.isoformat(),
            "slug": slug,
            "name": slug,
            "organisation": "o",
            "kind": "housing",
            "contexts": list(CONTEXTS),
            "general_entry_for": list(CONTEXTS),
            "access_modes": ["walk_in"],
            "location": {"lon": lon, "lat": lat},
            "catchment": {"type": "national"},
            "eligibility": {"needs": list(NEEDS)},
            "schedule": {"open_24_7": True},
        },
        Service,
    )


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    svcs=directories(),
    person=people,
    context=st.sampled_from(CONTEXTS),
    lon=lons,
    lat=lats,
    max_travel=st.none() | st.integers(5, 120),
    limit=st.integers(1, 4),
    listed=st.integers(1, 6),
    open_to_all=st.lists(st.tuples(lons, lats), max_size=4),
)
def test_an_explanation_counts_every_service_by_the_reference_reasons_and_lists_the_nearest_fewest_failures_first(
    svcs: list[Service],
    person: Person,
    context: str,
    lon: float,
    lat: float,
    max_travel: int | None,
    limit: int,
    listed: int,
    open_to_all: list[tuple[float, float]],
) -> None:
    svcs = svcs + [welcoming(f"w{i}", x, y) for i, (x, y) in enumerate(open_to_all)]  # some left below the cut
    index = build(svcs)
    where = index.resolve_point(lon, lat)
    kw = {"limit": limit, "max_travel_minutes": max_travel, "explain": True, "explain_limit": listed}
    answer = search(index, person, context, lon, lat, **kw)
    situation = situation_of(where, person, context, max_travel)
    offered = shown(answer)
    bordering = set().union(*(BORDERING[code] for code in where.codes)) - where.codes
    counts: dict[str, int] = {}
    listable: list[tuple[int, float, str, tuple[str, ...]]] = []
    beyond: list[tuple[int, float, str, tuple[str, ...]]] = []  # listed only when too few fail at most one rule
    for s in svcs:
        if s.slug in offered:
            continue
        codes = tuple(r.code for r in exclusion_reasons(s, situation, state_at(s.schedule, AT)))
        km = haversine_km(s.location.lon, s.location.lat, lon, lat) if s.location else None
        entry = (len(codes), km or 0.0, s.slug, codes or ("BELOW_THE_CUT",))
        closed = "NOT_ACTIVE" in codes  # counted, never listed
        if "OUTSIDE_CATCHMENT" not in codes:
            for code in codes or ("BELOW_THE_CUT",):
                counts[code] = counts.get(code, 0) + 1
            if not closed:
                listable.append(entry)
        else:
            counts["OUTSIDE_CATCHMENT"] = counts.get("OUTSIDE_CATCHMENT", 0) + 1
            if worth_listing_outside(km, context, NEAR_MISS_MINUTES, s.catchment, bordering) and not closed:
                (listable if len(codes) == 1 else beyond).append(entry)
    if sum(1 for e in listable if e[0] <= 1) < listed:
        listable += beyond
    near = sorted(e for e in listable if e[0] == 1)
    explanation = answer.explanation
    assert answer.excluded is not None and answer.near_misses is not None and explanation is not None
    assert explanation.by_reason == counts
    assert explanation.excluded_total == len(svcs) - len(offered)
    assert explanation.near_misses_total == len(near)
    assert [(e.service.slug, tuple(r.code for r in e.reasons)) for e in answer.excluded] == [
        (slug, codes) for _, _, slug, codes in sorted(listable)[:listed]
    ]
    assert [(e.service.slug, tuple(r.code for r in e.reasons)) for e in answer.near_misses] == [
        (slug, codes) for _, _, slug, codes in near[:listed]
    ]


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    placed=st.lists(
        st.tuples(
            st.floats(0, 60),  # km from the origin
            st.floats(0, 2 * math.pi),  # bearing
            st.sampled_from(["FAR", "EAST", "radius"]),
            st.booleans(),  # located (a phone line has no location)
            st.sampled_from(["active", "active", "temporarily_closed"]),
        ),
        max_size=10,
    ),
    context=st.sampled_from(CONTEXTS),
    minutes=st.sampled_from([NEAR_MISS_MINUTES, 1, 10, 45, 240]),
)
def test_a_service_outside_its_catchment_is_listed_only_within_the_travel_limit_or_serving_a_bordering_area(
    placed: list[tuple[float, float, str, bool, str]], context: str, minutes: int
) -> None:
    origin = (-0.75, 52.5)  # in WEST, which borders EAST only
    svcs = []
    for i, (km, bearing, catchment, located, status) in enumerate(placed):
        lon = origin[0] + km * math.sin(bearing) / (111.32 * math.cos(math.radians(origin[1])))
        lat = origin[1] + km * math.cos(bearing) / 111.32
        s = welcoming(f"n{i}", lon, lat)
        serves = {"type": "radius", "km": 0.5} if catchment == "radius" else {"type": "areas", "codes": [catchment]}
        modes = ["walk_in"] if located or catchment == "radius" else ["phone"]
        location = {"lon": lon, "lat": lat} if located or catchment == "radius" else None
        svcs.append(
            msgspec.convert(
                {
                    **msgspec.to_builtins(s),
                    "catchment": serves,
                    "access_modes": modes,
                    "location": location,
                    "status": status,
                },
                Service,
            )
        )
    index = build(svcs, IndexConfig(near_miss_minutes=minutes))
    person = Person(age=30, gender="female", needs=("housing",))
    answer = search(index, person, context, *origin, explain=True, explain_limit=50)
    where = index.resolve_point(*origin)
    assert where.adjacent == {"EAST"}
    outside, expected = set(), set()
    for s in svcs:
        away = haversine_km(s.location.lon, s.location.lat, *origin) if s.location else None
        if isinstance(s.catchment, RadiusCatchment) and away is not None and away <= s.catchment.km:
            continue
        outside.add(s.slug)
        if s.status == "active" and worth_listing_outside(away, context, minutes, s.catchment, {"EAST"}):
            expected.add(s.slug)
    assert answer.near_misses is not None and answer.explanation is not None
    assert {e.service.slug for e in answer.near_misses} == expected
    assert answer.explanation.by_reason.get("OUTSIDE_CATCHMENT", 0) == len(outside)
    assert answer.explanation.near_minutes == minutes


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    base=services("x"),
    person=people,
    context=st.sampled_from(CONTEXTS),
    near_km=st.floats(0.5, 10),
    extra_km=st.floats(1, 30),
)
def test_all_else_equal_a_nearer_service_never_ranks_below_a_farther_one(
    base: dict[str, Any], person: Person, context: str, near_km: float, extra_km: float
) -> None:
    origin = (-0.5, 52.5)
    common = {**base, "catchment": {"type": "national"}, "access_modes": ["walk_in"]}
    far = msgspec.convert(
        {
            **common,
            "slug": "a-far",
            "id": str(uuid.uuid4()),
            "location": {"lon": origin[0], "lat": origin[1] + (near_km + extra_km) / 111},
        },
        Service,
    )
    near = msgspec.convert(
        {
            **common,
            "slug": "b-near",
            "id": str(uuid.uuid4()),
            "location": {"lon": origin[0], "lat": origin[1] + near_km / 111},
        },
        Service,
    )
    answer = search(build([far, near]), person, context, *origin)
    order = [o.service.slug for o in answer.options]
    if "a-far" in order and "b-near" in order:
        assert order.index("b-near") < order.index("a-far")


@settings(max_examples=100, deadline=None, derandomize=True)
@given(base=services("x"), person=people, context=st.sampled_from(CONTEXTS))
def test_all_else_equal_meeting_more_needs_never_ranks_below_meeting_fewer(
    base: dict[str, Any], person: Person, context: str
) -> None:
    if len(person.needs) < 2:
        person = msgspec.structs.replace(person, needs=("mental_health", "alcohol"))
    fewer_needs = list(person.needs[:1])
    more_needs = list(person.needs)
    el = base["eligibility"]
    fewer = msgspec.convert(
        {**base, "slug": "a-fewer", "id": str(uuid.uuid4()), "eligibility": {**el, "needs": fewer_needs}}, Service
    )
    more = msgspec.convert(
        {**base, "slug": "b-more", "id": str(uuid.uuid4()), "eligibility": {**el, "needs": more_needs}}, Service
    )
    answer = search(build([fewer, more]), person, context, -0.5, 52.5)
    order = [o.service.slug for o in answer.options]
    if "a-fewer" in order and "b-more" in order:
        assert order.index("b-more") < order.index("a-fewer")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    svcs=directories(),
    person=people,
    context=st.sampled_from(CONTEXTS),
    lon=lons,
    lat=lats,
    seed=st.randoms(use_true_random=False),
)
def test_the_same_request_on_the_same_directory_always_gets_the_same_answer(
    svcs: list[Service], person: Person, context: str, lon: float, lat: float, seed: Any
) -> None:
    first = search(build(svcs), person, context, lon, lat, explain=True)
    shuffled = list(svcs)
    seed.shuffle(shuffled)
    index = build(shuffled)
    assert search(index, person, context, lon, lat, explain=True) == first
    assert search(index, person, context, lon, lat, explain=True) == first


def failing_but_needs(s: Service, situation: Situation) -> list[str]:
    """The reference's reasons a service is not offered, but the needs rule's (a catch-all's test)."""
    return [
        r.code
        for r in exclusion_reasons(s, situation, state_at(s.schedule, AT))
        if r.code not in ("NO_NEED_MET", "NO_NEED_GIVEN")
    ]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    svcs=directories(),
    person=people,
    context=st.sampled_from(CONTEXTS),
    lon=lons,
    lat=lats,
    step_limit=st.integers(1, 4),
)
def test_every_step_offers_the_services_of_its_role_the_reference_rules_allow_or_says_why_none_can(
    svcs: list[Service], person: Person, context: str, lon: float, lat: float, step_limit: int
) -> None:
    index = build(svcs)
    where = index.resolve_point(lon, lat)
    answer = search(index, person, context, lon, lat, step_limit=step_limit)
    situation = situation_of(where, person, context, None)
    roles = {s.slug: role_of(s.kind, s.pathway_role) for s in svcs}
    plan = steps_for(context, person.needs, person.circumstances, person.age)  # type: ignore[arg-type]
    required = [s.role for s in plan if not s.optional]
    assert [s.role for s in answer.steps if s.role in required] == required
    assert [s.role for s in answer.steps] == [s.role for s in plan if s.role in {x.role for x in answer.steps}]
    assert all(step.options for step in answer.steps if step.role not in required)
    cap = IndexConfig().kind_cap
    met = {n for o in answer.options for n in o.needs_met}
    unmet = [n for n in person.needs if n not in met]
    by_need = {  # the reference's catch-all for each unmet need: every rule holds but the needs rule
        need: min(
            (s for s in svcs if need in s.fallback_for_needs and not failing_but_needs(s, situation)),
            key=lambda s: (s.pathway_priority or NO_PRIORITY, s.slug),
            default=None,
        )
        for need in unmet
    }
    assert [(f.service.slug, f.for_needs) for f in answer.fallbacks] == [
        (s.slug, tuple(n for n in unmet if by_need[n] is s)) for s in dict.fromkeys(by_need.values()) if s is not None
    ]
    for step in answer.steps:
        mine = [s for s in svcs if role_of(s.kind, s.pathway_role) == step.role]
        assert step.options or step.role in required
        codes = {s.slug: [r.code for r in exclusion_reasons(s, situation, state_at(s.schedule, AT))] for s in mine}
        allowed = [s for s in mine if not codes[s.slug]]
        offered = [o.service.slug for o in step.options]
        assert set(offered) <= {s.slug for s in allowed}
        kinds = [s.kind for s in allowed]
        assert len(offered) == min(step_limit, sum(min(cap, kinds.count(k)) for k in set(kinds)))
        assert [o.rank for o in step.options] == list(range(1, len(offered) + 1))
        if offered:
            assert step.gap is None and step.fallbacks == ()
            continue
        serving = [s for s in mine if "OUTSIDE_CATCHMENT" not in codes[s.slug]]
        counts: dict[str, int] = {}
        for s in serving:  # each counted once, under the first rule it fails
            code = codes[s.slug][0]
            counts[code] = counts.get(code, 0) + 1
        assert step.gap is not None
        assert step.gap.code == ("NONE_CAN_TAKE" if serving else "NONE_SERVE_HERE")
        catch_alls = [
            s
            for s in svcs
            if step.role in s.fallback_for_steps
            and not failing_but_needs(s, situation)
            and fits_as_step_catch_all(s, situation)
        ]
        best = min(catch_alls, key=lambda s: (s.pathway_priority or NO_PRIORITY, s.slug), default=None)
        for_needs = [f.service.slug for f in answer.fallbacks if roles[f.service.slug] == step.role]
        expected = [best.slug] if best else []
        assert [f.service.slug for f in step.fallbacks] == expected + [x for x in for_needs if x not in expected]
        assert step.gap.serving == len(serving)
        assert step.gap.by_reason == counts
        assert sum(step.gap.by_reason.values()) == step.gap.serving
        assert step.gap.text


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    base=services("x"),
    person=people,
    context=st.sampled_from(CONTEXTS),
    local=st.sampled_from(
        [
            {"type": "radius", "km": 50},
            {"type": "areas", "codes": ["WEST"]},
            {"type": "areas", "codes": ["WEST", "EAST"]},
        ]
    ),
)
def test_all_else_equal_a_local_service_never_ranks_below_a_national_one_whatever_their_slugs(
    base: dict[str, Any], person: Person, context: str, local: dict[str, Any]
) -> None:
    origin = (-0.75, 52.5)  # in WEST
    common = {**base, "location": {"lon": origin[0], "lat": origin[1]}}
    national = msgspec.convert(
        {**common, "slug": "a-national", "id": str(uuid.uuid4()), "catchment": {"type": "national"}}, Service
    )
    nearby = msgspec.convert({**common, "slug": "z-local", "id": str(uuid.uuid4()), "catchment": local}, Service)
    answer = search(build([national, nearby]), person, context, *origin)
    order = [o.service.slug for o in answer.options]
    if "a-national" in order and "z-local" in order:
        assert order.index("z-local") < order.index("a-national")


def test_a_needs_catch_all_is_offered_under_the_empty_step_of_its_own_role_too() -> None:
    line = msgspec.convert(
        {
            **msgspec.to_builtins(welcoming("housing-line", -0.75, 52.5)),
            "access_modes": ["phone"],
            "location": None,
            "eligibility": {"needs": ["alcohol"]},
            "general_entry_for": [],
            "fallback_for_needs": ["housing"],
        },
        Service,
    )
    answer = search(build([line]), Person(age=30, gender="male", needs=("housing",)), "community", -0.75, 52.5)
    assert answer.options == () and [f.service.slug for f in answer.fallbacks] == ["housing-line"]
    refer_on = next(s for s in answer.steps if s.role == "refer_on")
    assert refer_on.options == () and refer_on.gap is not None
    assert [(f.service.slug, f.for_needs) for f in refer_on.fallbacks] == [("housing-line", ("housing",))]
    assert all(not s.fallbacks for s in answer.steps if s.role != "refer_on")


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    svcs=directories(),
    person=people,
    context=st.sampled_from(CONTEXTS),
    lon=lons,
    lat=lats,
    limit=st.integers(1, 6),
    step_limit=st.integers(1, 4),
    listed=st.integers(1, 12),
    release=st.booleans(),
)
def test_every_option_is_in_a_step_and_nothing_shown_is_counted_or_listed_as_not_offered(
    svcs: list[Service],
    person: Person,
    context: str,
    lon: float,
    lat: float,
    limit: int,
    step_limit: int,
    listed: int,
    release: bool,
) -> None:
    release = release and context in ("custody", "court")
    index = build(svcs)
    kw = {"limit": limit, "step_limit": step_limit, "explain": True, "explain_limit": listed, "at_release": release}
    answer = search(index, person, context, lon, lat, **kw)
    in_steps = {o.service.slug for step in answer.steps for o in step.options}
    assert {o.service.slug for o in answer.options} <= in_steps
    assert answer.excluded is not None and answer.near_misses is not None and answer.explanation is not None
    listed_out = {e.service.slug for e in (*answer.excluded, *answer.near_misses)}
    assert not listed_out & shown(answer)
    assert all(e.reasons for e in (*answer.excluded, *answer.near_misses))
    assert answer.explanation.excluded_total == len(svcs) - len(shown(answer))
    for step in answer.steps:
        if step.gap is not None:
            assert sum(step.gap.by_reason.values()) == step.gap.serving
            assert set(step.gap.by_reason) <= set(EXCLUSION_CODES)
        assert {n.code for n in step.notes} <= set(NOTE_CODES)
    assert {r.code for o in answer.options for r in o.reasons} <= set(OPTION_CODES)
    assert {r.code for e in (*answer.excluded, *answer.near_misses) for r in e.reasons} <= set(EXCLUSION_CODES)
    assert set(answer.explanation.by_reason) <= set(EXCLUSION_CODES)
    if release:
        assert all(r.code != "CLOSED_IN_WINDOW" for e in answer.excluded for r in e.reasons)
        assert all(step.role != "appropriate_adult" for step in answer.steps)


def test_one_index_words_an_exclusion_for_release_or_detention_as_each_search_asks_whatever_came_before() -> None:
    saturday = msgspec.to_builtins(welcoming("sat-only", -0.75, 52.5))
    saturday["schedule"] = {"weekly": [{"day": "sat", "opens": "09:00", "closes": "10:00"}]}
    scheme = {**msgspec.to_builtins(welcoming("aa", -0.75, 52.5)), "kind": "appropriate_adult", "id": str(uuid.uuid4())}
    index = build([msgspec.convert(saturday, Service), msgspec.convert(scheme, Service)])
    person = Person(age=30, gender="male", needs=("housing",))
    for release in (False, True, False, True):
        answer = search(index, person, "custody", -0.75, 52.5, explain=True, at_release=release)
        assert answer.excluded is not None
        said = {e.service.slug: e.reasons[0] for e in answer.excluded}
        assert said["sat-only"].code == ("CLOSED_AFTER_RELEASE" if release else "CLOSED_IN_WINDOW")
        assert ("after release" in said["aa"].text) == release
