"""Server-rendered pages: the custody lookup, the service detail page, and the embeddable search.

They use the same ranking code as the API (`referral_options`); there is no second implementation. The forms are
plain GET forms, so every result page is a shareable URL and nothing is lost with JavaScript off.

In their public mode (PATHWAYS_PUBLIC_PAGES, or `public_only=true` on a page or an embed: results.public_mode) the
search is public-only (service/domain/reach.py): services the public cannot reach are left out of everything the
page says, as if they were not in the directory, and their own pages are "not found". The mode is carried in the
forms and in the links to the service pages, so a whole visit stays in it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.params import PathParameter
from litestar.response import Template

from service.domain.answer import ReferralAnswer
from service.domain.audience import public_answer, public_history, public_record
from service.domain.errors import FieldProblem, InvalidInput, NotFound
from service.domain.model import (
    Service,
    Taxonomies,
)
from service.domain.reach import reachable_by_public
from service.domain.reasons import wall_clock
from service.domain.review import day_words, london_today, review_of
from service.domain.types import REFERENCE
from service.index.engine import DirectoryIndex
from service.pages import record, results, words
from service.pages.form_errors import FormError, in_words, missing
from service.pages.params import Codes, PublicOnly, Text, When
from service.search.entry import query_field, search_query
from service.server import svgmap
from service.server.runtime import runtime_of
from service.store import services as service_store
from service.store.db import Connection

SITE_COOKIE = "ld_site"
PUBLIC_QUERY = "?public_only=true"
"""Carried by the links of a page in the public mode it was asked for, so that the service pages stay in it."""
Conn = NamedDependency[Connection]
ServiceSlug = Annotated[str, PathParameter(pattern=REFERENCE)]
# The input each form group's error links to (its first input); needs and circumstances: their first checkbox.
FIELD_IDS = {
    "site": "site",
    "postcode": "postcode",
    "age": "age",
    "gender": "gender",
    "context": "context-custody",
    "at": "at",
    "at_release": "when-release",
}


def _local(value: dt.datetime | None, fmt: str = "%a %-d %b %H:%M") -> str:
    return wall_clock(value, fmt) if value else ""


def _needs_by_theme(vocab: Taxonomies, only: Sequence[str] | None = None) -> list[tuple[str, list[Any]]]:
    groups: dict[str, list[Any]] = {}
    for term in vocab.needs.terms:
        if only and term.code not in only:
            continue
        groups.setdefault(term.theme or "Other", []).append(term)
    return list(groups.items())


def _results_map(index: DirectoryIndex, answer: ReferralAnswer) -> str:
    area = answer.origin.force or (answer.origin.areas[0] if answer.origin.areas else None)
    shapes = [s for s in [index.places.area_shape(area.code) if area else None] if s is not None]
    markers = []
    for option in answer.options:
        service = index.by_slug.get(option.service.slug)
        if service is not None and service.location is not None:
            markers.append(
                svgmap.Marker(
                    label=str(option.rank),
                    lon=service.location.lon,
                    lat=service.location.lat,
                    title=f"{option.rank}. {option.service.name}",
                )
            )
    origin = svgmap.Marker(
        label="", lon=answer.origin.point.lon, lat=answer.origin.point.lat, title=f"Origin: {answer.origin.label}"
    )
    where = f" in {area.name}" if area else ""
    return svgmap.draw(
        title="Map of the options",
        description=f"The origin{where}, and options numbered as in the list. Options without a place, such as "
        "phone lines, are not on the map.",
        areas=shapes,
        origin=origin,
        markers=markers,
    )


def _catchment_map(index: DirectoryIndex, service: Service) -> str:
    return svgmap.catchment_map(
        index.places,
        service.name,
        words.catchment_words(service, {a.code: a.name for a in index.places.areas}),
        service.catchment,
        service.location,
    )


def _not_found(slug: str, carried: bool = False) -> Template:
    return Template(
        template_name="not_found.html",
        context={"slug": slug, "home_href": "/" + (PUBLIC_QUERY if carried else "")},
        status_code=404,
    )


async def _service_page(
    state: State,
    conn: Connection,
    slug: str,
    *,
    public: bool,
    embedded: bool = False,
    public_mode: bool = False,
    carried: bool = False,
) -> Template:
    """`public`: no professionals-only numbers. `public_mode`: the page of a service the public cannot reach is not
    found, as an unknown one's is (the same page and status), so that nothing shows it is there."""
    runtime = runtime_of(state)
    index = runtime.index
    try:
        service = await service_store.get_service(conn, slug)
    except NotFound:
        return _not_found(slug, carried)
    if public_mode and not reachable_by_public(service):
        return _not_found(slug, carried)
    history = await service_store.service_history(conn, slug)
    if public or public_mode:  # no professionals-only numbers
        service, history = public_record(service), public_history(history)
    context = {
        "home_href": "/" + (PUBLIC_QUERY if carried else ""),
        "s": service,
        "schedule": words.schedule_lines(service.schedule),
        "ages": words.age_words(service),
        "catchment": words.catchment_words(service, {a.code: a.name for a in index.places.areas}),
        "map": _catchment_map(index, service),
        "history": list(reversed(history)),
        "need_labels": {t.code: t.label for t in runtime.vocab.needs.terms},
        "circumstance_labels": {t.code: t.label for t in runtime.vocab.circumstances.terms},
        "local": _local,
        "review": review_of(
            service.verification, london_today(dt.datetime.now(dt.UTC)), runtime.settings.review_months
        ),
        "day": day_words,
        "report_href": f"{'/embed' if embedded else ''}/services/{service.slug}/report-a-problem",
    }
    return Template(template_name="service.html", context=context)


async def _lookup(
    request: Request[Any, Any, Any],
    state: State,
    template: str,
    params: dict[str, Any],
    show_needs: Sequence[str] | None = None,
    shown: tuple[bool, bool] = (True, True),
    public: bool = False,
    carried: bool = False,
) -> Template:
    """`public`: the page's public mode (results.public_mode); `carried`: asked for by this page's `public_only`,
    so kept in its form and links."""
    runtime = runtime_of(state)
    index = runtime.index
    submitted = params["age"] is not None or params["context"] is not None
    site = params["site"] if params["site"] is not None else (None if submitted else request.cookies.get(SITE_COOKIE))
    errors: list[FormError] = []
    answer: ReferralAnswer | None = None
    instead_of_site = None
    if submitted:
        given = {k: v for k, v in params.items() if v is not None and v != ""}
        # A typed postcode, then the device's location, wins over a chosen or remembered site.
        if given.get("postcode"):
            given.pop("lat", None), given.pop("lon", None)
        if given.get("site") and (given.get("postcode") or (given.get("lat") and given.get("lon"))):
            instead_of_site = index.places.sites.get(given.pop("site"))
        errors = missing(given)
        if not errors:
            try:
                asked = {"context": "custody", **given, "explain": "true"}
                query = search_query({**asked, "public_only": "true"} if public else asked)
                answer = await runtime.find(query.request())
            except InvalidInput as e:
                errors = in_words([FieldProblem(field=query_field(p.field), reason=p.reason) for p in e.problems])
    if answer is not None and (public or template == "embed.html" or not results.for_staff(request, runtime.settings)):
        answer = public_answer(answer)  # the public's copy: no professionals-only numbers
    cookies = []
    if answer is not None and answer.origin.resolved_from == "site" and params["site"]:
        # The remembered site is the only thing kept; nothing about the person is.
        cookies.append(
            Cookie(key=SITE_COOKIE, value=params["site"], max_age=365 * 86400, httponly=True, samesite="lax", path="/")
        )
    needs_by_code = {t.code: t.label for t in runtime.vocab.needs.terms}
    circumstances_by_code = {t.code: t.label for t in runtime.vocab.circumstances.terms}
    context = {
        "params": {
            **params,
            "site": site,
            "needs": params["needs"] or [],
            "circumstances": params["circumstances"] or [],
        },
        "sites": index.places.site_choices(),
        "need_groups": _needs_by_theme(runtime.vocab, show_needs),
        "circumstances": runtime.vocab.circumstances.terms,
        "need_labels": {t.code: t.label for t in runtime.vocab.needs.terms},
        "circumstance_labels": {t.code: t.label for t in runtime.vocab.circumstances.terms},
        "answer": answer,
        "map": _results_map(index, answer) if answer else "",
        "errors": errors,
        "error_for": {e.group: e.message for e in reversed(errors)},
        "field_ids": {
            **FIELD_IDS,
            "needs": f"need-{runtime.vocab.needs.terms[0].code}" if runtime.vocab.needs.terms else "find",
            "circumstances": (
                f"circumstance-{runtime.vocab.circumstances.terms[0].code}"
                if runtime.vocab.circumstances.terms and shown[0]
                else "find"
            ),
        },
        "instead_of_site": instead_of_site,
        "kind_words": words.KIND_WORDS,
        "capacity_words": words.CAPACITY_WORDS,
        "distance_words": words.distance_words,
        "site_kind": results.site_kind(index, answer, params),
        "gender_not_stated": (params["gender"] or "not_stated") == "not_stated",
        "window_end": results.window_end(runtime.settings.detention_window_hours, answer),
        "after_window": (
            f"more than {runtime.settings.detention_window_hours} h after release"
            if answer is not None and answer.at_release
            else "after the detention window"
        ),
        "near_by_role": results.near_by_role(index, answer),
        "record": record.form_for(request, answer, params),
        "problem_links": True,
        "summary": words.search_summary(
            answer.origin.label,
            answer.context,
            params["age"] or "",
            params["gender"],
            [needs_by_code.get(n, n) for n in params["needs"] or []],
            [circumstances_by_code.get(c, c) for c in params["circumstances"] or []],
        )
        if answer
        else "",
        "local": _local,
        "show_needs": ",".join(show_needs or []),
        "show_circumstances": shown[0],
        "show_when": shown[1],
        "searched_at": _local(answer.at, "%-d %B %Y at %H:%M") if answer else "",
        "public": public,
        "public_query": PUBLIC_QUERY if carried else "",
    }
    return Template(template_name=template, context=context, cookies=cookies)


LOCAL_MINUTE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _minute(at: str | None) -> str | None:
    """A browser's date-and-time field gives a local minute (2026-11-24T14:00); the search reads it with seconds."""
    return f"{at}:00" if at is not None and LOCAL_MINUTE.fullmatch(at) else at


def _params(
    site: str | None,
    postcode: str | None,
    lat: str | None,
    lon: str | None,
    context: str | None,
    age: str | None,
    gender: str | None,
    needs: list[str] | None,
    circumstances: list[str] | None,
    at: str | None = None,
    when: str | None = None,
) -> dict[str, Any]:
    return {
        "at": _minute(at),
        "at_release": "true" if when == "release" else None,
        "site": site,
        "postcode": postcode,
        "lat": lat,
        "lon": lon,
        "context": context,
        "age": age,
        "gender": gender,
        "needs": needs,
        "circumstances": circumstances,
    }


class PageController(Controller):
    """Mounted by app.py behind the read guard, as the API's searches are."""

    include_in_schema = False

    @get("/")
    async def lookup(
        self,
        request: Request[Any, Any, Any],
        state: State,
        site: Text = None,
        postcode: Text = None,
        lat: Text = None,
        lon: Text = None,
        context: Text = None,
        age: Text = None,
        gender: Text = None,
        needs: Codes = None,
        circumstances: Codes = None,
        at: Text = None,
        when: When = None,
        public_only: PublicOnly = None,
    ) -> Template:
        """The custody lookup: pick the suite, describe the person, get ranked options."""
        params = _params(site, postcode, lat, lon, context, age, gender, needs, circumstances, at, when)
        public = results.public_mode(runtime_of(state).settings, public_only)
        return await _lookup(
            request, state, "lookup.html", params, public=public, carried=public and public_only == "true"
        )

    @get("/embed")
    async def embed(
        self,
        request: Request[Any, Any, Any],
        state: State,
        site: Text = None,
        postcode: Text = None,
        lat: Text = None,
        lon: Text = None,
        context: Text = None,
        age: Text = None,
        gender: Text = None,
        needs: Codes = None,
        circumstances: Codes = None,
        at: Text = None,
        when: When = None,
        show_needs: Text = None,
        show_circumstances: Text = None,
        show_when: Text = None,
        public_only: PublicOnly = None,
    ) -> Template:
        """The compact search for partner sites, made to sit in an iframe: the lookup's inputs, each of the optional
        ones shown unless the partner says "off"; the same answer, minus professionals-only numbers. With
        `public_only=true` (or PATHWAYS_PUBLIC_PAGES), minus every service the public cannot reach, too."""
        params = _params(site, postcode, lat, lon, context, age, gender, needs, circumstances, at, when)
        needs_shown = [n.strip() for n in (show_needs or "").split(",") if n.strip()] or None
        optional = (show_circumstances != "off", show_when != "off")
        public = results.public_mode(runtime_of(state).settings, public_only)
        carried = public and public_only == "true"
        return await _lookup(request, state, "embed.html", params, needs_shown, optional, public, carried)

    @get("/services/{slug:str}")
    async def service(
        self,
        request: Request[Any, Any, Any],
        state: State,
        conn: Conn,
        slug: ServiceSlug,
        public_only: PublicOnly = None,
    ) -> Template:
        """Everything about one service, in words, with its catchment map and history."""
        settings = runtime_of(state).settings
        staff = results.for_staff(request, settings)  # as the lookup page
        public = results.public_mode(settings, public_only)
        carried = public and public_only == "true"
        return await _service_page(state, conn, slug, public=not staff, public_mode=public, carried=carried)

    @get("/embed/services/{slug:str}")
    async def embedded_service(
        self, state: State, conn: Conn, slug: ServiceSlug, public_only: PublicOnly = None
    ) -> Template:
        """A service as the embed's links open it, on a partner's public site: never a professionals-only number,
        whatever the deployment's pages show its own staff; in the public mode, not found unless the public can
        reach it."""
        public = results.public_mode(runtime_of(state).settings, public_only)
        carried = public and public_only == "true"
        return await _service_page(state, conn, slug, public=True, embedded=True, public_mode=public, carried=carried)

    @get("/embed.js", media_type="text/javascript")
    async def embed_script(self, request: Request[Any, Any, Any]) -> Response[str]:
        """The script a partner site includes to render the search inside its page."""
        return Response(EMBED_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})


EMBED_JS = """(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var origin = new URL(script.src).origin;
  var query = new URLSearchParams();
  if (script.dataset.site) { query.set("site", script.dataset.site); }
  if (script.dataset.context) { query.set("context", script.dataset.context); }
  if (script.dataset.needs) { query.set("show_needs", script.dataset.needs); }
  if (script.dataset.circumstances === "off") { query.set("show_circumstances", "off"); }
  if (script.dataset.when === "off") { query.set("show_when", "off"); }
  if (script.dataset.audience === "public") { query.set("public_only", "true"); }
  var frame = document.createElement("iframe");
  frame.src = origin + "/embed?" + query.toString();
  frame.title = script.dataset.title || "Find referral options";
  frame.style.width = "100%";
  frame.style.border = "0";
  frame.height = "640";
  frame.setAttribute("data-ld-pathways", "");
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (event) {
    if (event.origin === origin && event.source === frame.contentWindow && event.data && event.data.ldPathwaysHeight) {
      frame.height = String(event.data.ldPathwaysHeight);
    }
  });
})();
"""
