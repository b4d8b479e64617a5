"""The admins' pages for custody suites and courts (the places a search starts from): a list, filterable, and one
form to add or change a site, written through the API's own store functions with the same rules and words, and
If-Match on the version the form was opened at; a change someone else made meanwhile is shown field by field."""

from __future__ import annotations

import re
from typing import Any, get_args

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service.domain.access import Identity
from service.domain.decoding import convert
from service.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound, PreconditionFailed
from service.domain.model import Site, SiteBody
from service.domain.types import SiteKind
from service.domain.validation import site_problems
from service.domain.versioning import etag
from service.server.runtime import runtime_of
from service.stewardship.answers import said_value
from service.stewardship.editing import field_id, words
from service.stewardship.reading import Reading, slug_from
from service.stewardship.sessions import Session, tokens_match
from service.stewardship.views import expired, not_found, read_form, signed_in
from service.store import changes as change_store
from service.store import sites as site_store

SITE_KINDS: tuple[str, ...] = get_args(SiteKind)
MOST_SITES = 2000


async def _admin(
    request: Request[Any, Any, Any], form: dict[str, str] | None = None
) -> tuple[Session, Identity] | Response[Any]:
    found = await signed_in(request)
    if found is None:
        return Redirect("/sign-in", status_code=303)
    session, identity = found
    if form is not None and not tokens_match(form.get("csrf_token"), session.csrf):
        return expired(request)
    if identity.role != "admin":
        return Template(
            template_name="refused.html",
            status_code=403,
            context={"reason": f"a {identity.role} key may not change custody suites and courts: only admins may"},
        )
    return session, identity


def read_site(form: dict[str, str]) -> tuple[dict[str, Any], list[FieldProblem]]:
    """A site's form as the API's document, and what the form alone shows is wrong."""
    r = Reading({k: [v] for k, v in form.items()})
    name = r.needed("name", "enter the site's name")
    kind = r.needed("kind", "choose what kind of site it is")
    slug = r.text("slug") or slug_from(name)
    doc: dict[str, Any] = {
        "slug": slug,
        "name": name,
        "kind": kind,
        "location": {
            "lat": r.number("location.lat", "the latitude"),
            "lon": r.number("location.lon", "the longitude"),
        },
        "area_codes": [c for c in r.text("area_codes").replace(",", " ").split() if c],
    }
    for part in ("lat", "lon"):
        if doc["location"][part] is None:
            r.problem(f"location.{part}", f"enter the {'latitude' if part == 'lat' else 'longitude'}")
    return doc, r.problems


def site_form(
    session: Session,
    identity: Identity,
    doc: dict[str, Any],
    problems: list[FieldProblem],
    site: Site | None,
    version: int | None,
    status: int = 200,
    theirs: list[tuple[str, str, list[tuple[str, str, str]]]] | None = None,
) -> Response[Any]:
    location = doc.get("location") or {}
    return Template(
        template_name="site_form.html",
        status_code=status,
        context={
            "identity": identity,
            "csrf": session.csrf,
            "site": site,
            "version": version,
            "form": {
                "slug": doc.get("slug") or "",
                "name": doc.get("name") or "",
                "kind": doc.get("kind") or "",
                "location.lat": "" if location.get("lat") is None else str(location.get("lat")),
                "location.lon": "" if location.get("lon") is None else str(location.get("lon")),
                "area_codes": " ".join(doc.get("area_codes") or ()),
            },
            "kinds": [(k, words(k)) for k in SITE_KINDS],
            "problems": [FieldProblem(field=_at_field(p.field), reason=p.reason) for p in problems],
            "errors": {_at_field(p.field): p.reason for p in reversed(problems)},
            "theirs": theirs,
        },
    )


def _at_field(field: str) -> str:
    """The id of the field a problem is shown at: a point's at its latitude, a list's item at the list."""
    field = re.sub(r"\[\d+\]$", "", field)
    return field_id("location.lat" if field == "location" else field)


class SitesController(Controller):
    path = "/account/sites"
    include_in_schema = False
    cache_control = CacheControlHeader(no_store=True)

    @get("/")
    async def list_sites(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Every custody suite, court and other site, filterable by words and kind."""
        found = await _admin(request)
        if isinstance(found, Response):
            return found
        session, identity = found
        query = (request.query_params.get("q") or "").strip()[:100]
        kind = request.query_params.get("kind") or ""
        kind = kind if kind in SITE_KINDS else ""
        runtime = runtime_of(request.app.state)
        async with runtime.db.transaction() as conn:
            sites, total = await site_store.list_sites(conn, kind or None, None, MOST_SITES, 0)
        looked = query.lower().split()
        shown = [s for s in sites if all(w in f"{s.name} {s.slug}".lower() for w in looked)]
        return Template(
            template_name="sites.html",
            context={
                "identity": identity,
                "csrf": session.csrf,
                "sites": sorted(shown, key=lambda s: s.name.lower()),
                "total": total,
                "query": query,
                "kind": kind,
                "kinds": [(k, words(k)) for k in SITE_KINDS],
            },
        )

    @get("/new")
    async def new_site(self, request: Request[Any, Any, Any]) -> Response[Any]:
        found = await _admin(request)
        if isinstance(found, Response):
            return found
        return site_form(found[0], found[1], {"kind": "custody_suite"}, [], None, None)

    @get("/{key:str}")
    async def site(self, request: Request[Any, Any, Any], key: FromPath[str]) -> Response[Any]:
        found = await _admin(request)
        if isinstance(found, Response):
            return found
        site = await _site(request, key)
        if site is None:
            return not_found(key)
        doc = {**_doc(site)}
        return site_form(found[0], found[1], doc, [], site, site.version)

    @post("/new")
    async def add(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Add a site: the same store function, rules and words as POST /v1/sites."""
        return await _save(request, "new")

    @post("/{key:str}")
    async def save(self, request: Request[Any, Any, Any], key: FromPath[str]) -> Response[Any]:
        """Change a site: the same store function, rules and words as PUT /v1/sites/{key}."""
        return await _save(request, key)


async def _save(request: Request[Any, Any, Any], key: str) -> Response[Any]:
    """Add (key "new") or change a site."""
    form = await read_form(request)
    found = await _admin(request, form)
    if isinstance(found, Response):
        return found
    session, identity = found
    runtime = runtime_of(request.app.state)
    site = None if key == "new" else await _site(request, key)
    if key != "new" and site is None:
        return not_found(key)
    try:
        version = int(form.get("version") or "0") if site is not None else None
    except ValueError:
        version = 0
    doc, problems = read_site(form)
    if site is None and doc["slug"] == "new":
        problems.append(
            FieldProblem(field="slug", reason="“new” is the address of the page that adds a site: choose another slug")
        )
    body = None
    if not problems:
        try:
            body = convert(doc, SiteBody)
            problems = site_problems(body)
        except InvalidInput as e:
            problems = list(e.problems)
    if body is None or problems:
        return site_form(session, identity, doc, problems, site, version, status=400)
    try:
        async with runtime.db.transaction() as conn:
            if site is None:
                saved = await site_store.create_site(conn, body, actor=identity.actor)
            else:
                saved = await site_store.replace_site(
                    conn, str(site.id), body, actor=identity.actor, if_match=etag(version or 0)
                )
    except PreconditionFailed:
        assert site is not None
        async with runtime.db.transaction() as conn:
            history = await change_store.history(conn, "site", str(site.id))
            current = await site_store.get_site(conn, str(site.id))
        theirs = [
            (
                c.at.strftime("%-d %B %Y %H:%M"),
                c.actor,
                [(f.field, said_value(f.old), said_value(f.new)) for f in c.changes],
            )
            for c in history
            if c.version > (version or 0)
        ]
        clash = FieldProblem(
            field="name", reason="someone else changed this site while you were editing; here is what they changed"
        )
        return site_form(session, identity, doc, [clash], current, current.version, status=409, theirs=theirs)
    except (InvalidInput, Conflict) as e:
        found_problems = list(getattr(e, "problems", ())) or [
            FieldProblem(field=getattr(e, "field", "name"), reason=getattr(e, "reason", str(e)))
        ]
        return site_form(session, identity, doc, found_problems, site, version, status=400)
    except NotFound:
        return not_found(key)
    runtime.outage.recovered()
    return Redirect(f"/account/sites?saved={saved.slug}", status_code=303)


async def _site(request: Request[Any, Any, Any], key: str) -> Site | None:
    if len(key) > 100:
        return None
    runtime = runtime_of(request.app.state)
    try:
        async with runtime.db.transaction() as conn:
            return await site_store.get_site(conn, key)
    except (NotFound, InvalidInput):
        return None


def _doc(site: Site) -> dict[str, Any]:
    return {
        "slug": site.slug,
        "name": site.name,
        "kind": site.kind,
        "location": {"lat": site.location.lat, "lon": site.location.lon},
        "area_codes": list(site.area_codes),
    }
