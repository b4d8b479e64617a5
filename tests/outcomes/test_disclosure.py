"""The attacker: can any count the reports conceal be worked out from everything the API would tell one analyst?

A small, awkward set of synthetic referrals (a force, two of its districts, two services, four months across a quarter's
end, three outcomes, two contexts, repeat contact or not; mostly 0 to 3 in each finest cell) is put behind the reports'
store, and the real report functions (service.outcomes.reports, which the API's routes and the page call) are asked
every question one analyst of the force may ask: a table by every pair of dimensions, for the force and each of its
districts, with and without each service and context filter, for every period the API accepts, and the repeat-contact
table for each area and period. What a published value can stand for is learnt by asking the same functions about one
count at a time. Every answer, and which rows it lists, becomes a constraint on the counts of the finest cells; then,
for each concealed count, the test looks for another set of referrals that gives every answer unchanged but that count a
different value: first among small changes (one referral more, fewer or moved), then with an integer program
(scipy.optimize.milp). None may be pinned to the value it has.

Before this rule the test failed, listing single months' counts worked out: the API answered any range of months, and
(for one) Hull's referrals with outcome "made" from February to April (7) and from February to May (8) gave May's, 1,
which the May table concealed; secondary suppression, exact within a table, was undone across tables.

The finest cells are those of the attributes that vary; the others (age band, gender, need, each district's site) are
held at the records' values, and filters and periods that no record falls in (another context, a year without
records) are not asked, as every count they have is 0 in every set of records considered. That only narrows the
alternatives the program may find, so one it finds is a real one: the test errs against the rule, never for it.
tests/outcomes/test_report_counts.py checks that the stand-in store counts as the SQL does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cached_property
from types import SimpleNamespace
from typing import Any, get_args

import msgspec
import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp  # type: ignore[import-untyped]
from scipy.sparse import csr_array  # type: ignore[import-untyped]

from service.domain.errors import InvalidInput
from service.domain.types import Context
from service.outcomes import reports, store, suppression
from service.outcomes.tables import FIXED_VALUES, Dimension

FORCE = "E23000012"  # Humberside
DISTRICTS = ("E06000010", "E06000011")  # Kingston upon Hull, East Riding of Yorkshire
SITES = {"E06000010": "hull-custody-suite", "E06000011": "bridlington-custody-suite"}
SERVICES = ("hull-womens-custody-triage", "humber-liaison-and-diversion")
MONTHS = ("2026-02", "2026-03", "2026-04", "2026-05")
OUTCOMES = ("made", "accepted", "declined")
CONTEXTS: tuple[Context, ...] = ("custody", "street")
REPEATS = ("yes", "no")
AGE_BAND, GENDER, NEED = "25_34", "female", "mental_health"
KEYS = getattr(suppression, "KEYS", 1)
"""Report keys are drawn from 0 to KEYS - 1 (before this rule there were none)."""
STARTS = ("2025-04", "2026-01", *MONTHS)
ENDS = (*MONTHS, "2026-06", "2026-12", "2027-03")
"""Periods asked for: every one the records fall in, in whole or in part, is among these pairs: each month, both
quarters, the calendar year, both financial years and, where an API allows them, other ranges."""


@dataclass(frozen=True)
class Cell:
    """A finest cell: one value of each attribute that varies."""

    district: str
    service: str
    month: str
    outcome: str
    context: str
    repeat_contact: str

    @cached_property
    def values(self) -> dict[str, str]:
        """The cell's value of every dimension a table may have."""
        fixed = {"area": FORCE, "site": SITES[self.district], "need": NEED, "age_band": AGE_BAND, "gender": GENDER}
        return {**fixed, **dataclasses.asdict(self)}

    @cached_property
    def made_at(self) -> dt.datetime:
        return dt.datetime(int(self.month[:4]), int(self.month[5:]), 10, 12, tzinfo=dt.UTC)

    def within(self, areas: frozenset[str] | None) -> bool:
        return areas is None or FORCE in areas or self.district in areas


CELLS = tuple(itertools.starmap(Cell, itertools.product(DISTRICTS, SERVICES, MONTHS, OUTCOMES, CONTEXTS, REPEATS)))
INDEX = {cell: i for i, cell in enumerate(CELLS)}
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)
VALUE: dict[str, list[str]] = {d: [c.values[d] for c in CELLS] for d in DIMENSIONS}
"""Each dimension's value in each finest cell, by the cell's position."""
UNIVERSE: dict[str, list[str]] = {d: sorted(set(VALUE[d])) for d in DIMENSIONS}


@dataclass(frozen=True)
class Referral:
    cell: Cell
    key: int
    """Its report key, as migration 0011 draws one."""


def synthetic_referrals() -> list[Referral]:
    """About seventy referrals, most finest cells empty or with 1 to 3 and a few with 9, each with a random key."""
    counts, keys = random.Random(28), random.Random(29)
    made = []
    for cell in CELLS:
        n = counts.choices((0, 1, 2, 3, 9), weights=(75, 17, 5, 2, 1))[0]
        made += [Referral(cell, keys.randrange(KEYS)) for _ in range(n)]
    return made


def row(struct: type[msgspec.Struct], **fields: Any) -> Any:
    """A row of the store's, with the fields it has (before this rule there were no keys)."""
    return struct(**{k: v for k, v in fields.items() if k in struct.__struct_fields__})


class StandInStore:
    """The reads service.outcomes.reports makes of the referrals (service/outcomes/store.py), over a list of
    referrals."""

    def __init__(self) -> None:
        self.referrals: list[Referral] = []

    @property
    def referrals(self) -> list[Referral]:
        return self._referrals

    @referrals.setter
    def referrals(self, referrals: list[Referral]) -> None:
        self._referrals = referrals
        self._chosen: dict[tuple[frozenset[str] | None, tuple[dt.datetime, dt.datetime] | None], list[Referral]] = {}

    def chosen(
        self, areas: frozenset[str] | None, span: tuple[dt.datetime, dt.datetime] | None = None
    ) -> list[Referral]:
        """Those made in the areas (and within the span), remembered until the referrals change."""
        if (areas, span) not in self._chosen:
            self._chosen[(areas, span)] = [
                r
                for r in self.referrals
                if r.cell.within(areas) and (span is None or span[0] <= r.cell.made_at < span[1])
            ]
        return self._chosen[(areas, span)]

    async def outcome_counts(
        self,
        conn: object,
        rows: str,
        columns: str,
        areas: frozenset[str] | None,
        span: tuple[dt.datetime, dt.datetime],
        service: str | None,
        context: str | None,
    ) -> list[store.Count]:
        counts: Counter[tuple[str, str]] = Counter()
        keys: Counter[tuple[str, str]] = Counter()
        for r in self.chosen(areas, span):
            if service in (None, r.cell.service) and context in (None, r.cell.context):
                at = (r.cell.values[rows], r.cell.values[columns])
                counts[at] += 1
                keys[at] += r.key
        return [row(store.Count, row=a, column=b, n=n, synthetic=0, key=keys[(a, b)]) for (a, b), n in counts.items()]

    async def report_keys(self, conn: object, dimension: str, areas: frozenset[str] | None) -> list[str]:
        return sorted({r.cell.values[dimension] for r in self.chosen(areas)})

    async def repeat_contact(
        self, conn: object, areas: frozenset[str] | None, span: tuple[dt.datetime, dt.datetime]
    ) -> list[store.RepeatRow]:
        flagged: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for r in self.chosen(areas, span):
            if r.cell.repeat_contact == "yes":
                month = flagged[r.cell.month]
                month[0] += 1
                month[2] += r.key
                if r.cell.outcome not in ("accepted", "completed"):
                    month[1] += 1
                    month[3] += r.key
        return [
            row(
                store.RepeatRow,
                area=FORCE,
                month=m,
                flagged=f,
                without_support=w,
                flagged_key=fk,
                without_key=wk,
            )
            for m, (f, w, fk, wk) in sorted(flagged.items())
        ]


class Connection:
    @asynccontextmanager
    async def transaction(self, **_: object) -> AsyncIterator[None]:
        yield


CONNECTION: Any = Connection()

RUNTIME: Any = SimpleNamespace(
    index=SimpleNamespace(places=SimpleNamespace(areas=(), site_choices=list), by_slug={}),
    vocab=SimpleNamespace(needs=SimpleNamespace(terms=())),
)
Span = tuple[float, float]
"""The least and the greatest count a published value may stand for (inf: no greatest)."""
Meaning = dict[int | None, Span]


async def meanings(stand_in: StandInStore, limit: int, flagged_limit: int) -> tuple[Meaning, Meaning, Meaning]:
    """What a published table count, number flagged and number without support may each stand for, learnt by asking
    the real functions about one count at a time: with a cell key of 0 and a large one (with which any count not a
    multiple of 5 rounds up, and down), alone and beside other counts, small and not (in case the rule hides more
    than small counts). A value stands for every count seen published as it, or any count at all when those reach
    the limit tried (more than any count of the synthetic referrals, and than any of them flagged)."""
    one = Cell(DISTRICTS[0], SERVICES[0], MONTHS[0], "made", "custody", "yes")
    beside, elsewhere = dataclasses.replace(one, district=DISTRICTS[1]), dataclasses.replace(one, service=SERVICES[1])
    supported = dataclasses.replace(one, outcome="accepted")
    unflagged = dataclasses.replace(one, repeat_contact="no")
    keys = (0, KEYS * 9 // 10)
    seen: tuple[dict[int | None, set[int]], ...] = (defaultdict(set), defaultdict(set), defaultdict(set))
    across = dataclasses.replace(beside, service=SERVICES[1])
    others: tuple[list[Referral], ...] = (
        [],
        [Referral(beside, 0)] * 2,
        [Referral(elsewhere, 0)],
        [Referral(beside, 0), Referral(across, 0)] * 5,
    )
    for n, key, alongside in itertools.product(range(limit), keys, others):
        stand_in.referrals = [Referral(one, key if i == 0 else 0) for i in range(n)] + alongside
        table = await reports.outcomes_table(
            RUNTIME, CONNECTION, frozenset({FORCE}), ("service", "district"), (MONTHS[0], MONTHS[0])
        )
        truth = Counter((r.cell.service, r.cell.district) for r in stand_in.referrals)
        for line in table.rows:
            for h, shown in zip(table.columns, line.cells, strict=True):
                seen[0][shown].add(truth[(line.key, h.key)])
    for flagged in range(flagged_limit):
        near_either_end = {*range(min(flagged, 5) + 1), *range(max(flagged - 5, 0), flagged + 1)}
        for without, key, other in itertools.product(near_either_end, keys, keys):
            stand_in.referrals = (
                [Referral(one, key if i == 0 else 0) for i in range(without)]
                + [Referral(supported, other if i == 0 else 0) for i in range(flagged - without)]
                + [Referral(unflagged, 0)]
            )
            repeat = await reports.repeat_table(RUNTIME, CONNECTION, frozenset({FORCE}), (MONTHS[0], MONTHS[0]))
            for month in repeat.rows:
                seen[1][month.flagged].add(flagged)
                seen[2][month.without_support].add(without)

    def spans(found: dict[int | None, set[int]], tried: int) -> Meaning:
        return {v: (min(ns), np.inf if max(ns) == tried - 1 else max(ns)) for v, ns in found.items()}

    return spans(seen[0], limit), spans(seen[1], flagged_limit), spans(seen[2], flagged_limit)


class Attacker:
    """What one analyst has learnt: for sets of finest cells (by position), the least and the greatest their count
    can be; and which sets had their count concealed, with the first answer that did (a question and a cell)."""

    def __init__(self, table: Meaning, flagged: Meaning, without: Meaning) -> None:
        self.meaning = {"table": table, "flagged": flagged, "without": without}
        self.bounds: dict[frozenset[int], Span] = {}
        self.concealed: dict[frozenset[int], tuple[str, str]] = {}
        self.answers = 0

    def learn(self, cells: Iterable[int], span: Span, concealed_in: tuple[str, str] | None = None) -> None:
        key = frozenset(cells)
        low, high = self.bounds.get(key, (0, np.inf))
        self.bounds[key] = (max(low, span[0]), min(high, span[1]))
        if concealed_in is not None and key not in self.concealed:
            self.concealed[key] = concealed_in

    def published(self, cells: Iterable[int], kind: str, shown: int | None, question: str, what: str) -> None:
        self.learn(cells, self.meaning[kind][shown], (question, what) if shown is None else None)

    def lists(self, dimension: str, listed: Sequence[str], scope: list[int], asked: list[int]) -> None:
        """What the rows or columns of an answer say: each value listed is met in the area's referrals at some time
        (for the dimensions whose values are not all listed anyway), and a value not listed in none of those asked
        about."""
        values = VALUE[dimension]
        for value in UNIVERSE[dimension]:
            if value not in listed:
                self.learn((i for i in asked if values[i] == value), (0, 0))
            elif dimension not in FIXED_VALUES and dimension != "month":
                self.learn((i for i in scope if values[i] == value), (1, np.inf))

    def table(self, table: Any, asked: list[int], scope: list[int], question: str) -> None:
        rows_by, columns_by = table.rows_by, table.columns_by
        by_row: dict[str, list[int]] = defaultdict(list)
        by_column: dict[str, list[int]] = defaultdict(list)
        by_both: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i in asked:
            r, k = VALUE[rows_by][i], VALUE[columns_by][i]
            by_row[r].append(i)
            by_column[k].append(i)
            by_both[(r, k)].append(i)
        columns = [h.key for h in table.columns]
        for r in table.rows:
            for key, shown in zip(columns, r.cells, strict=True):
                self.published(
                    by_both[(r.key, key)], "table", shown, question, f"{rows_by} {r.key}, {columns_by} {key}"
                )
            self.published(by_row[r.key], "table", r.total, question, f"{rows_by} {r.key}, total")
        for key, shown in zip(columns, table.totals.cells, strict=True):
            self.published(by_column[key], "table", shown, question, f"total, {columns_by} {key}")
        self.published(asked, "table", table.totals.total, question, "total")
        self.lists(rows_by, [r.key for r in table.rows], scope, asked)
        self.lists(columns_by, columns, scope, asked)

    def repeat(self, table: Any, asked: list[int], scope: list[int], question: str) -> None:
        yes = [i for i in asked if VALUE["repeat_contact"][i] == "yes"]
        for r in table.rows:
            month = [i for i in yes if VALUE["month"][i] == r.month]
            unsupported = [i for i in month if VALUE["outcome"][i] not in ("accepted", "completed")]
            self.published(month, "flagged", r.flagged, question, f"{r.month}, flagged")
            self.published(unsupported, "without", r.without_support, question, f"{r.month}, without support")
        self.lists("month", [r.month for r in table.rows], scope, yes)


async def ask_everything(attacker: Attacker) -> None:
    """Every answer the reports would give an analyst of the force about the referrals, learnt."""
    for area in (FORCE, *DISTRICTS):
        areas = frozenset({area})
        scope = [i for i, c in enumerate(CELLS) if c.within(areas)]
        for first, last in itertools.product(STARTS, ENDS):
            try:
                repeat = await reports.repeat_table(RUNTIME, CONNECTION, areas, (first, last))
            except InvalidInput:
                continue
            attacker.answers += 1
            during = [i for i in scope if repeat.period_from <= VALUE["month"][i] <= repeat.period_to]
            attacker.repeat(repeat, during, scope, f"repeat contact, {area}, {first} to {last}")
            for service, context in itertools.product((None, *SERVICES), (None, *CONTEXTS)):
                asked = [i for i in during if service in (None, VALUE["service"][i])]
                asked = [i for i in asked if context in (None, VALUE["context"][i])]
                question = f"{area}, {first} to {last}, service {service}, context {context}"
                for dims in itertools.combinations(DIMENSIONS, 2):
                    table = await reports.outcomes_table(
                        RUNTIME, CONNECTION, areas, dims, (first, last), service, context
                    )
                    attacker.answers += 1
                    attacker.table(table, asked, scope, question)


class Search:
    """Looks for, each concealed count, a set of referrals that gives every answer but not that count unchanged."""

    def __init__(self, attacker: Attacker, truth: np.ndarray[Any, Any]) -> None:
        sets = list(attacker.bounds)
        self.matrix = np.zeros((len(sets), len(CELLS)))
        for i, s in enumerate(sets):
            self.matrix[i, list(s)] = 1.0
        self.low = np.array([attacker.bounds[s][0] for s in sets])
        self.high = np.array([attacker.bounds[s][1] for s in sets])
        self.answers = LinearConstraint(csr_array(self.matrix), self.low, self.high)
        self.truth, self.counts = truth, self.matrix @ truth
        assert np.all(self.low <= self.counts) and np.all(self.counts <= self.high), "the answers do not fit"
        at = {s: i for i, s in enumerate(sets)}
        self.open = {at[s]: where for s, where in attacker.concealed.items() if s}
        """Concealed counts (by their set's position) not yet shown to have another possible value."""

    def moved(self, changes: np.ndarray[Any, Any]) -> None:
        """Close the concealed counts that one of `changes` (columns: changes to the truth) alters while keeping
        every answer."""
        effect = self.matrix @ changes
        fits = (
            np.all(self.low[:, None] <= self.counts[:, None] + effect, axis=0)
            & np.all(self.counts[:, None] + effect <= self.high[:, None], axis=0)
            & np.all(self.truth[:, None] + changes >= 0, axis=0)
        )
        for i in {int(i) for i in np.flatnonzero((effect[:, fits] != 0).any(axis=1))} & set(self.open):
            del self.open[i]

    def one_referral(self) -> None:
        """Close those that one referral more or fewer in a cell, or one moved between two cells, alters: a change
        that keeps every answer moves no count already at the edge of what its answer allows past it."""
        at_top = self.matrix[self.counts + 1 > self.high]
        at_bottom = self.matrix[self.counts - 1 < self.low]
        present = self.truth >= 1
        more, fewer = ~at_top.any(axis=0), ~at_bottom.any(axis=0) & present
        # one moved into c from d: no count at its top counts c but not d, none at its bottom d but not c
        moves = ((at_top.T @ (1 - at_top)) == 0) & ((at_bottom.T @ (1 - at_bottom)).T == 0) & present[None, :]
        np.fill_diagonal(moves, False)
        sets = self.matrix[list(self.open)]
        either = moves | moves.T
        altered = (sets @ (more | fewer) > 0) | (((sets @ either) * (1 - sets)).sum(axis=1) > 0)
        for i in np.array(list(self.open))[altered]:
            del self.open[int(i)]

    def crosswise(self) -> np.ndarray[Any, Any]:
        """Two referrals moved crosswise between four cells that differ in two attributes (which keeps every count
        by either attribute alone), as columns of changes."""
        fields = [f.name for f in dataclasses.fields(Cell)]
        changes = []
        for one, other in itertools.combinations(fields, 2):
            for c in CELLS:
                for u in {getattr(x, one) for x in CELLS} - {getattr(c, one)}:
                    for v in {getattr(x, other) for x in CELLS} - {getattr(c, other)}:
                        change = np.zeros(len(CELLS))
                        change[INDEX[c]] += 1
                        change[INDEX[dataclasses.replace(c, **{one: u})]] -= 1
                        change[INDEX[dataclasses.replace(c, **{one: u, other: v})]] += 1
                        change[INDEX[dataclasses.replace(c, **{other: v})]] -= 1
                        changes.append(change)
        return np.array(changes).T

    def other_values(self, targets: list[int]) -> bool:
        """Whether some set of referrals gives every answer and the concealed counts `targets`, together, another
        sum (so at least one of them another value), found by an integer program: first among sets within 3 of the
        truth in every cell (quicker), then among any. The set found closes every concealed count it alters."""
        together = self.matrix[targets].sum(axis=0)
        for box in (Bounds(np.maximum(self.truth - 3, 0), self.truth + 3), Bounds(0, self.truth.sum())):
            for low, high in ((together @ self.truth + 1, np.inf), (-np.inf, together @ self.truth - 1)):
                found = milp(
                    np.zeros(len(CELLS)),
                    integrality=np.ones(len(CELLS)),
                    bounds=box,
                    constraints=[self.answers, LinearConstraint(csr_array(together[None, :]), low, high)],
                )
                if found.x is not None:
                    self.moved((np.round(found.x) - self.truth)[:, None])
                    return True
        return False

    def pinned(self, enough: int = 10) -> list[str]:
        """The concealed counts that no set of referrals giving the same answers has otherwise (up to `enough`)."""
        self.one_referral()
        if self.open:
            self.moved(self.crosswise())
        found = []
        while self.open and self.other_values(list(self.open)):  # many at a time while that finds something
            pass
        plainest_first = sorted(self.open, key=lambda i: (not re.search(r"(\S+) to \1,", self.open[i][0]), i))
        for i in plainest_first:  # a single month's counts first, which differencing ranges of months gave away
            if i in self.open and not self.other_values([i]):
                question, what = self.open.pop(i)
                found.append(f"{question}: {what}: {int(self.counts[i])}, whatever the referrals")
                if len(found) == enough:
                    break
        return found


async def test_no_concealed_count_can_be_worked_out_from_every_answer_one_analyst_can_get(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stand_in = StandInStore()
    for name in ("outcome_counts", "report_keys", "repeat_contact"):
        monkeypatch.setattr(store, name, getattr(stand_in, name), raising=False)
    referrals = synthetic_referrals()
    flagged = [r for r in referrals if r.cell.repeat_contact == "yes"]
    attacker = Attacker(*await meanings(stand_in, len(referrals) + 10, len(flagged) + 10))
    stand_in.referrals = referrals
    await ask_everything(attacker)
    truth = np.zeros(len(CELLS))
    for r in referrals:
        truth[INDEX[r.cell]] += 1
    found = Search(attacker, truth).pinned()
    assert not found, f"concealed counts worked out from {attacker.answers} answers:\n" + "\n".join(found)
