"""/reports: the commissioners' page. The gap matrix of a force area as a table and an SVG heat map, a choropleth
of its districts by gap count, outcome tables and handovers to health against the one-hour target for this calendar
year (counts shown by the reports' one rule, service/outcomes/suppression.py), and CSV downloads; the same data as
/v1/reports, under the same access rules."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.response import Template

from service.domain.access import Forbidden, Unauthorised, report_scope
from service.domain.pathway import ROLES
from service.domain.types import Context
from service.gaps.maps import GapMaps, gap_maps_of
from service.gaps.model import DEFAULT_TRAVEL_MINUTES, REASON_WORDS, GapMap
from service.outcomes.reports import handover_table, outcomes_table
from service.outcomes.tables import HandoverTable, OutcomeTable
from service.pages.params import Text
from service.pages.results import identity_in
from service.server import svgmap
from service.server.runtime import Runtime, runtime_of
from service.store.db import Connection

CONTEXTS: tuple[Context, ...] = ("custody", "street", "court", "community")
STEP_WORDS = {
    "consult": "Consult",
    "assess": "Assess",
    "place_of_safety": "Place of safety",
    "divert": "Divert",
    "refer_on": "Refer on",
    "advice": "Advice",
    "appropriate_adult": "Appropriate adult",
    "medical_care": "Medical care",
}


def _matrix(gap_map: GapMap) -> tuple[list[tuple[str, str]], list[list[int]], int]:
    """Rows (site name, step), and for each the count of no-option cells per need; and the most cells one holds."""
    per_cell = len(gap_map.age_bands) * len(gap_map.genders) * len(gap_map.time_bands)
    counts: dict[tuple[str, str, str], int] = {}
    for c in gap_map.cells:
        if c.status == "no_option":
            counts[(c.site, c.step, c.need)] = counts.get((c.site, c.step, c.need), 0) + 1
    rows, values = [], []
    for site in gap_map.sites:
        for step in gap_map.steps:
            rows.append((site.name, STEP_WORDS.get(step, step)))
            values.append([counts.get((site.slug, step, n), 0) for n in gap_map.needs])
    return rows, values, per_cell


FORCES_WORKED_OUT = 12
"""Up to this many forces, the page works out every force's gap map for the force choropleth (about 0.2 s each on
the demo); beyond it, only the forces already remembered are shaded."""


async def _forces_choropleth(runtime: Runtime, gap_maps: GapMaps, forces: list[Any], gap_map: GapMap) -> str:
    """Where the force's sites have no districts: the forces, each by its gap count."""
    index = runtime.index
    counts: dict[str, int] = {}
    for force in forces:
        if len(forces) <= FORCES_WORKED_OUT or force.code == gap_map.area:
            other = await gap_maps.get(index, force.code, gap_map.context, gap_map.travel_minutes)
            counts[force.code] = other.by_status.get("no_option", 0)
    most = max(counts.values(), default=0)
    filled = [
        (shape, f"app-choropleth app-shade-{svgmap.band(n, most)}", f"{f.name}: {n}")
        for f in forces
        if (n := counts.get(f.code)) is not None and (shape := index.places.area_shape(f.code)) is not None
    ]
    if not filled:
        return ""
    return svgmap.draw(
        title="Gaps by police force area",
        description="Force areas shaded by how many gap cells (no option at all) their sites have, darker for more; "
        "the commonest reasons are listed above.",
        areas=[],
        origin=None,
        markers=[],
        filled=filled,
    )


def _choropleth(runtime: Runtime, gap_map: GapMap) -> str:
    index = runtime.index
    by_district: dict[str, int] = {}
    for site in gap_map.sites:
        if site.district:
            by_district.setdefault(site.district, 0)
    district_of = {s.slug: s.district for s in gap_map.sites}
    for c in gap_map.cells:
        district = district_of.get(c.site)
        if c.status == "no_option" and district:
            by_district[district] += 1
    names = {a.code: a.name for a in index.places.areas}
    most = max(by_district.values(), default=0)
    filled = []
    for code, n in sorted(by_district.items()):
        shape = index.places.area_shape(code)
        if shape is not None:
            filled.append((shape, f"app-choropleth app-shade-{svgmap.band(n, most)}", f"{names.get(code, code)}: {n}"))
    force = index.places.area_shape(gap_map.area)
    if not filled:
        return ""
    return svgmap.draw(
        title=f"Gaps by district in {gap_map.area_name}",
        description="Districts with a site, shaded by how many gap cells (no option at all) their sites have; "
        "the table of districts below gives the same figures.",
        areas=[force] if force is not None else [],
        origin=None,
        markers=[],
        filled=filled,
    )


class ReportPageController(Controller):
    include_in_schema = False

    @get("/reports")
    async def reports(
        self,
        request: Request[Any, Any, Any],
        state: State,
        snapshot_conn: NamedDependency[Connection],
        area: Text = None,
        context: Text = None,
    ) -> Template:
        """The commissioners' page."""
        runtime = runtime_of(state)
        index = runtime.index
        try:
            allowed = report_scope(identity_in(request), runtime.settings.reports_access == "open")
        except (Unauthorised, Forbidden) as e:
            status = 401 if isinstance(e, Unauthorised) else 403
            return Template(template_name="reports_denied.html", context={"why": str(e)}, status_code=status)
        forces = [
            a
            for a in index.places.areas
            if a.kind == "police_force_area"
            and (allowed is None or a.code in allowed)
            and any(a.code in w.codes for w in index.places.site_resolutions.values())
        ]
        chosen = next((a for a in forces if a.code == area), forces[0] if forces else None)
        ctx: Context = next((c for c in CONTEXTS if c == context), "custody")
        gap_map = await gap_maps_of(state).get(index, chosen.code, ctx, DEFAULT_TRAVEL_MINUTES) if chosen else None
        tables: list[tuple[str, OutcomeTable]] = []
        handovers: HandoverTable | None = None
        if chosen is not None:
            scope = frozenset({chosen.code})
            for title, dims in (
                ("Referrals by month and outcome", ("month", "outcome")),
                ("Referrals by age band and outcome", ("age_band", "outcome")),
                ("Referrals by service and outcome", ("service", "outcome")),
            ):
                tables.append((title, await outcomes_table(runtime, snapshot_conn, scope, dims, (None, None))))  # type: ignore[arg-type]
            handovers = await handover_table(runtime, snapshot_conn, scope, (None, None))
        rows, values, per_cell = _matrix(gap_map) if gap_map else ([], [], 0)
        labels = {t.code: t.label for t in runtime.vocab.needs.terms}
        heat = ""
        if gap_map and rows:
            heat = svgmap.heatmap(
                title=f"Gap heat map, {gap_map.area_name}, {ctx}",
                description="Rows are sites and pathway steps, columns are needs; the darker a cell, the more of its "
                f"{per_cell} combinations of age band, gender and time band have no option at all. The table "
                "below gives the same figures.",
                rows=[f"{site}: {step}" for site, step in rows],
                columns=[labels.get(n, n) for n in gap_map.needs],
                values=values,
                most=per_cell,
            )
        context_data = {
            "forces": forces,
            "chosen": chosen,
            "context": ctx,
            "contexts": CONTEXTS,
            "gap_map": gap_map,
            "matrix": list(zip(rows, values, strict=True)),
            "per_cell": per_cell,
            "heat": heat,
            "choropleth": (
                _choropleth(runtime, gap_map) or await _forces_choropleth(runtime, gap_maps_of(state), forces, gap_map)
            )
            if gap_map
            else "",
            "need_labels": labels,
            "reason_words": REASON_WORDS,
            "tables": tables,
            "synthetic": max((t.synthetic for _, t in tables), default=0),
            "handovers": handovers,
            "steps": [r for r in ROLES if gap_map and r in gap_map.steps],
        }
        return Template(template_name="reports.html", context=context_data)
