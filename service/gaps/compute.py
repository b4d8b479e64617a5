"""Gap maps over the index, vectorised: every site of an area x every step, need, age, gender and hour of a week.

`gather` runs on the event loop and copies what the work reads (each site's rows, the columns of the rows involved,
the services' schedules), so that `compute`, the heavy part, runs in a thread while the index changes. For each
site and step, each rule stage is a boolean over (row, need, age, gender) or (row, hour of the week); whether a
step has an option anywhere in a cell is one matrix product of the person's side by the moment's side, after
dropping repeated rows and columns. The stages and masks are those of a search (masks.py, steps.funnel_reason),
and the property tests hold the two to agreeing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.domain.appropriate_adult import appropriate_adult_required
from service.domain.bands import AgeBand
from service.domain.gap_words import FUNNEL
from service.domain.geometry import haversine_km_many
from service.domain.model import Service
from service.domain.pathway import ROLES, required_steps
from service.domain.request import Person
from service.domain.schedule import HORIZON
from service.domain.types import Context, PathwayRole
from service.gaps.model import (
    GENDERS,
    SAMPLE_AGES,
    STATUSES,
    TIME_BANDS,
    GapCell,
    GapMap,
    SiteRef,
    time_band,
)
from service.index.columns import CONTEXT_BITS, FULL, GENDER_BITS, UNKNOWN, Bools, Ints
from service.index.engine import DirectoryIndex
from service.index.masks import travel_minutes
from service.index.timeline import spans_of

REASONS = ("OUTSIDE_CATCHMENT", *(reason for reason, _ in FUNNEL))
"""Reason codes by number: 0 is OUTSIDE_CATCHMENT, then FUNNEL's stages in order (1 is NO_SERVICE)."""
COLUMNS = (
    "role",
    "active",
    "contexts",
    "general",
    "age_min",
    "age_max",
    "genders",
    "needs",
    "required",
    "police_station",
    "place_of_safety",
    "immediate",
    "appropriate_adult",
    "capacity",
    "capacity_until",
    "travel_limited",
    "lon",
    "lat",
)


@dataclass(frozen=True)
class SiteRows:
    site: SiteRef
    serving: Ints
    """Live rows whose catchment holds the site, whatever their status (as a search's gap counts them)."""
    nearby: Ints
    """Active rows serving the context located near the site, or serving a bordering area, outside their catchment."""


@dataclass(frozen=True)
class Gathered:
    area: str
    area_name: str
    context: Context
    version: int
    moments: tuple[dt.datetime, ...]
    travel: int
    window: float
    sites: tuple[SiteRows, ...]
    rows: Ints
    """Every row the sites read, sorted: the columns below are theirs, in this order."""
    columns: dict[str, np.ndarray]
    services: tuple[Service, ...]
    needs: tuple[str, ...]
    need_bits: tuple[int, ...]
    ages: dict[AgeBand, tuple[float, ...]]


def gather(
    index: DirectoryIndex,
    area: str,
    context: Context,
    moments: Sequence[dt.datetime],
    travel: int,
    ages: dict[AgeBand, tuple[float, ...]] = SAMPLE_AGES,
) -> Gathered:
    """On the event loop: what `compute` reads, copied out of the index. Sites are those whose place lies in `area`."""
    places, candidates = index.places, index.candidates
    probe = index.query(Person(age=30.0), context, moments[0])
    sites = []
    for site in places.site_choices():
        where = places.site_resolutions[site.slug]
        if area not in where.codes:
            continue
        near = [candidates.nearby_outside(where, probe).idx, candidates.bordering(where, probe).idx]
        district = next((a.code for a in where.areas if a.kind == "local_authority"), None)
        ref = SiteRef(
            id=str(site.id),
            slug=site.slug,
            name=site.name,
            kind=site.kind,
            district=district,
            lon=site.location.lon,
            lat=site.location.lat,
        )
        sites.append(SiteRows(site=ref, serving=candidates.everywhere(where).copy(), nearby=np.concatenate(near)))
    every = [s.serving for s in sites] + [s.nearby for s in sites]
    rows = np.unique(np.concatenate(every)) if every else np.zeros(0, dtype=np.int64)
    c = index.columns.values
    services = tuple(s for s in (index.services[int(r)] for r in rows) if s is not None)
    assert len(services) == len(rows), "every gathered row is live"
    name = next((a.name for a in places.areas if a.code == area), area)
    return Gathered(
        area=area,
        area_name=name,
        context=context,
        version=index.version,
        moments=tuple(moments),
        travel=travel,
        window=index.config.detention_window.total_seconds(),
        sites=tuple(sites),
        rows=rows,
        columns={name: getattr(c, name)[rows] for name in COLUMNS},
        services=services,
        needs=tuple(index.vocab.need_bits),
        need_bits=tuple(index.vocab.need_bits.values()),
        ages=ages,
    )


@dataclass(frozen=True)
class _Moments:
    """For every gathered row and moment: open when needed, and not full."""

    open_ok: Bools
    room: Bools


def _moments(g: Gathered) -> _Moments:
    t = np.array([m.timestamp() for m in g.moments])
    n, cols = len(g.rows), g.columns
    if g.context == "community" or not n:
        open_ok = np.ones((n, len(t)), dtype=bool)
    else:
        start = min(g.moments) - dt.timedelta(days=1)
        end = max(g.moments) + HORIZON + dt.timedelta(days=1)
        spans = spans_of(g.services, start.timestamp(), end.timestamp())
        width = max((len(s) for s in spans), default=1) or 1
        starts, ends = np.full((n, width), math.inf), np.full((n, width), math.inf)
        for i, row_spans in enumerate(spans):
            for j, (a, b) in enumerate(row_spans):
                starts[i, j], ends[i, j] = a, b
        open_ok = np.zeros((n, len(t)), dtype=bool)
        horizon = HORIZON.total_seconds()
        for k, tk in enumerate(t):  # as Timeline._at: the opening a row is in, or its next within the horizon
            now = (starts <= tk) & (ends > tk)
            if g.context == "street":
                ready = now.any(axis=1)
            else:
                soon = (starts > tk) & (starts <= min(tk + g.window, tk + horizon))
                ready = (now | soon).any(axis=1)
            open_ok[:, k] = ~cols["immediate"] | ready
    capacity = np.where(cols["capacity_until"][:, None] <= t[None, :], UNKNOWN, cols["capacity"][:, None])
    return _Moments(open_ok=open_ok, room=capacity != FULL)


def compute(g: Gathered) -> GapMap:
    """The gap map: pure numpy over the gathered copies (run it in a thread)."""
    moments = _moments(g)
    phone = np.array([set(s.access_modes) <= {"phone"} for s in g.services], dtype=bool)
    cells: list[GapCell] = []
    total = 0
    steps: list[PathwayRole] = []
    for plan in (required_steps(g.context, (need,), (), age) for need in g.needs for a in g.ages.values() for age in a):
        steps += [s.role for s in plan if s.role not in steps]
    ages = [a for band in g.ages.values() for a in band]
    present = {
        role: np.array(
            [[any(s.role == role for s in required_steps(g.context, (n,), (), a)) for a in ages] for n in g.needs]
        )
        for role in ROLES
    }
    for site in g.sites:
        found, counted = _site(g, site, moments, phone, present)
        cells += found
        total += counted
    by_status: dict[str, int] = dict.fromkeys(STATUSES, 0)
    by_reason: dict[str, int] = {}
    for cell in cells:
        by_status[cell.status] += 1
        if cell.reason:
            by_reason[cell.reason] = by_reason.get(cell.reason, 0) + 1
    by_status["covered"] = total - len(cells)
    return GapMap(
        area=g.area,
        area_name=g.area_name,
        context=g.context,
        directory_version=g.version,
        week_from=g.moments[0],
        travel_minutes=g.travel,
        sites=tuple(s.site for s in g.sites),
        steps=tuple(sorted(steps, key=ROLES.index)),
        needs=g.needs,
        age_bands=tuple(g.ages),
        genders=GENDERS,
        time_bands=TIME_BANDS,
        cells=tuple(cells),
        cells_total=total,
        by_status=by_status,
        by_reason=by_reason,
    )


def _unique_columns(m: Bools) -> tuple[Bools, Ints]:
    """The distinct columns of a boolean matrix, and for each column which of them it is."""
    if m.shape[0] == 0 or m.shape[1] == 0:
        return m[:, :1] if m.shape[1] else m, np.zeros(m.shape[1], dtype=np.int64)
    packed = np.ascontiguousarray(np.packbits(m, axis=0).T)
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return m[:, first], inverse.ravel()


def _any_both(person: Bools, moment: Bools) -> Bools:
    """any over rows of person[r, k] & moment[r, m], as [k, m]: one matrix product over distinct columns."""
    if person.shape[0] == 0:
        return np.zeros((person.shape[1], moment.shape[1]), dtype=bool)
    p, pi = _unique_columns(person)
    q, qi = _unique_columns(moment)
    product = p.T.astype(np.float32) @ q.astype(np.float32)
    return (product > 0)[pi][:, qi]


def _site(
    g: Gathered, site: SiteRows, moments: _Moments, phone: Bools, present: dict[PathwayRole, Bools]
) -> tuple[list[GapCell], int]:
    cols, ctx_bit = g.columns, CONTEXT_BITS[g.context]
    at = np.searchsorted(g.rows, site.serving)
    near_at = np.searchsorted(g.rows, site.nearby)
    distance = haversine_km_many(cols["lon"][at], cols["lat"][at], site.site.lon, site.site.lat)
    far = cols["travel_limited"][at] & (travel_minutes(distance, g.context) > g.travel)
    ages = [a for band in g.ages.values() for a in band]
    age_arr = np.array(ages)
    crisis = np.array([g.context == "street" and n == "mental_health_crisis" for n in g.needs])
    aa_needed = np.array([[appropriate_adult_required(g.context, a, (n,), ()) for a in ages] for n in g.needs])
    cells: list[GapCell] = []
    total = 0
    for role in ROLES:
        if not present[role].any():
            continue
        mine = cols["role"][at] == ROLES.index(role)
        r = at[mine]
        status, reason, moment_of = _stages(
            g, r, mine, far, phone, moments, age_arr, crisis, aa_needed, ctx_bit, near_at, role
        )
        found, counted = _cells(g, site.site.slug, role, (status, reason, moment_of), present[role])
        cells += found
        total += counted
    return cells, total


def _stages(
    g: Gathered,
    r: Ints,
    mine: Bools,
    far: Bools,
    phone: Bools,
    moments: _Moments,
    ages: np.ndarray,
    crisis: Bools,
    aa_needed: Bools,
    ctx_bit: int,
    near_at: Ints,
    role: PathwayRole,
) -> tuple[np.ndarray, np.ndarray, Ints]:
    """For one site and step: each (need, age, gender, distinct moment)'s status (index into STATUSES) and gap
    reason (index into REASONS; -1 where there is an option), and which distinct moment each moment is."""
    cols = g.columns
    n_need, n_age, n_gender = len(g.needs), len(ages), len(GENDERS)
    bits = np.array(g.need_bits, dtype=np.uint64)
    need = ((cols["general"][r] & ctx_bit) != 0)[:, None] | ((cols["needs"][r][:, None] & bits[None, :]) != 0)
    active = need & cols["active"][r][:, None]
    context = active & ((cols["contexts"][r] & ctx_bit) != 0)[:, None]
    allowed = (cols["required"][r] == 0)[:, None, None] & (~cols["appropriate_adult"][r][:, None, None] | aa_needed)
    circ = context[:, :, None] & allowed
    age_ok = (cols["age_min"][r][:, None] <= ages[None, :]) & (ages[None, :] < cols["age_max"][r][:, None])
    pos_ok = ~(cols["place_of_safety"][r][:, None] & ~age_ok)  # s136: a place of safety must take this age
    age_stage = circ & age_ok[:, None, :] & np.where(crisis[None, :, None], pos_ok[:, None, :], True)
    police = age_stage & ~cols["police_station"][r][:, None, None]  # never under 18; adults only in exceptional cases
    gender_ok = np.stack([(cols["genders"][r] & GENDER_BITS[x]) != 0 for x in GENDERS], axis=1)
    person = police[:, :, :, None] & gender_ok[:, None, None, :]
    flat = person.reshape(len(r), n_need * n_age * n_gender)
    open_ok, room = moments.open_ok[r], moments.room[r]
    usable = open_ok & room
    reach = usable & ~far[mine][:, None]
    stacked = np.concatenate([open_ok, usable, reach, reach & ~phone[r][:, None]], axis=0)  # 4 rows a row
    distinct, moment_of = _unique_columns(stacked)  # moments alike for these rows are worked out once
    n_moment = distinct.shape[1]
    side = np.concatenate(np.split(distinct, 4, axis=0), axis=1)
    any_of = _any_both(flat, side).reshape(n_need, n_age, n_gender, 4, n_moment)
    is_open, has, near, in_person = (any_of[:, :, :, i, :] for i in range(4))
    status = np.where(~has, 3, np.where(~near, 2, np.where(~in_person, 1, 0))).astype(np.int8)
    shape = (n_need, n_age, n_gender, n_moment)
    reason = np.full(shape, -1, dtype=np.int8)
    stages = [
        need.any(axis=0)[:, None, None, None],
        active.any(axis=0)[:, None, None, None],
        context.any(axis=0)[:, None, None, None],
        circ.any(axis=0)[:, :, None, None],
        age_stage.any(axis=0)[:, :, None, None],
        police.any(axis=0)[:, :, None, None],
        person.any(axis=0)[:, :, :, None],
        is_open,
        has,
    ]
    for k in range(len(stages) - 1, -1, -1):  # the earliest stage that leaves none wins
        reason = np.where(np.broadcast_to(~stages[k], shape), k + 1, reason)
    reason = np.where(status == 3, reason, -1)
    if (reason == 1).any():
        near_rows = near_at[g.columns["role"][near_at] == ROLES.index(role)]
        meets = ((cols["general"][near_rows] & ctx_bit) != 0)[:, None] | (
            (cols["needs"][near_rows][:, None] & bits[None, :]) != 0
        )
        outside = meets.any(axis=0)[:, None, None, None]
        reason = np.where((reason == 1) & outside, 0, reason)
    return status, reason, moment_of


def _cells(
    g: Gathered, slug: str, role: PathwayRole, judged: tuple[np.ndarray, np.ndarray, Ints], present: Bools
) -> tuple[list[GapCell], int]:
    """The cells of one site and step: the samples of each age band and time band together, counted at once by
    summing one-hot statuses and reasons over indicator matrices of the bands."""
    age_of = np.array([b for b, band_ages in enumerate(g.ages.values()) for _ in band_ages])
    ages_in = np.eye(len(g.ages), dtype=np.float32)[age_of]  # sample age -> its band
    status, reason, moment_of = judged
    times_in = np.eye(len(TIME_BANDS), dtype=np.float32)[[TIME_BANDS.index(time_band(m)) for m in g.moments]]
    times_in = np.eye(status.shape[3], dtype=np.float32)[moment_of].T @ times_in  # distinct moment -> bands
    channels = np.concatenate(
        [np.eye(len(STATUSES), dtype=np.float32)[status], np.eye(len(REASONS) + 1, dtype=np.float32)[reason + 1]],
        axis=-1,
    )  # need, age, gender, moment, channel
    tally = np.einsum("nagmc,ab,mt->nbgtc", channels, ages_in, times_in, optimize=True)
    samples = np.einsum("ab,mt->bt", ages_in, times_in)  # how many samples each band pair has
    seen = tally[..., : len(STATUSES)] > 0
    worst = len(STATUSES) - 1 - np.argmax(seen[..., ::-1], axis=-1)
    band_present = (present.astype(np.float32) @ ages_in) > 0  # need, age band
    has_moments = times_in.sum(axis=0) > 0
    shown = band_present[:, :, None, None] & has_moments[None, None, None, :]
    total = int(np.broadcast_to(shown, worst.shape).sum())
    cells: list[GapCell] = []
    bands = tuple(g.ages)
    for ni, bi, gi, ti in zip(*np.nonzero(shown & (worst > 0)), strict=True):
        counts = tally[ni, bi, gi, ti, len(STATUSES) + 1 :]
        cells.append(
            GapCell(
                site=slug,
                step=role,
                need=g.needs[ni],
                age_band=bands[bi],
                gender=GENDERS[gi],
                time_band=TIME_BANDS[ti],
                status=STATUSES[int(worst[ni, bi, gi, ti])],
                no_option_share=round(float(tally[ni, bi, gi, ti, 3] / samples[bi, ti]), 3),
                reason=REASONS[int(np.argmax(counts))] if counts.any() else None,
            )
        )
    return cells, total
