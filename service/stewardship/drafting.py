"""What the editors' pages read and show, for service/stewardship/editor.py: the signed-in editor and their draft,
a posted form with every value of each field (and a GeoJSON file), the services in an editor's scope, and each page
of a draft as rendered: the task list, a section, "Check your answers", and a change someone else made meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from service.domain.access import Identity
from service.domain.errors import FieldProblem
from service.domain.history import field_changes
from service.domain.model import Catchment, Point, Service
from service.domain.schedule import LONDON
from service.server import svgmap
from service.server.runtime import Runtime, runtime_of
from service.stewardship import editing, store
from service.stewardship.answers import answers, change_words
from service.stewardship.editing import (
    BY_NAME,
    GEOJSON_MAX_BYTES,
    MORE_ROWS,
    SECTIONS,
    Doc,
    Draft,
    Section,
    anchor,
    at,
    field_id,
    section_of,
    words,
)
from service.stewardship.proposal_store import must_propose
from service.stewardship.reading import until_shown
from service.stewardship.sessions import Session, plain_text, tokens_match, urlencoded_utf8
from service.stewardship.views import FORM_FIELD_MAX, day, expired, names_of, not_found, signed_in
from service.store import services as service_store

EDITORS = ("editor", "admin", "provider")
"""Who may draft: editors and admins; providers too, for their own services, whose changes are proposals."""
MOST_FIELDS = 2000
"""More fields than any of these forms has (361 areas' boxes, 100 rows of four): a bigger form is refused."""
PAGE_SIZE = 50


@dataclass(frozen=True)
class Drafting:
    session: Session
    identity: Identity
    draft: Draft


async def editor(request: Request[Any, Any, Any], form: dict[str, list[str]] | None = None) -> Drafting | Response[Any]:
    """The signed-in editor or admin (with the posted form's token checked), or the page to send instead."""
    found = await signed_in(request)
    if found is None:
        return Redirect("/sign-in", status_code=303)
    session, identity = found
    if form is not None and not tokens_match(first(form, "csrf_token"), session.csrf):
        return expired(request)
    if identity.role not in EDITORS:
        return refused_role(identity)
    return Drafting(session=session, identity=identity, draft=Draft(id="", document={}))


async def drafting(
    request: Request[Any, Any, Any], draft_id: str, form: dict[str, list[str]] | None = None
) -> Drafting | Response[Any]:
    """The editor and the draft a page is about (a draft is only ever its own session's)."""
    found = await editor(request, form)
    if isinstance(found, Response):
        return found
    if len(draft_id) > 64:
        return not_found(draft_id)
    runtime = runtime_of(request.app.state)
    async with runtime.db.transaction() as conn:
        draft = await store.find_draft(conn, found.session.id, draft_id)
    if draft is None:
        return draft_gone()
    return Drafting(session=found.session, identity=found.identity, draft=draft)


def first(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


async def read_fields(request: Request[Any, Any, Any]) -> tuple[dict[str, list[str]], list[FieldProblem]]:
    """Every value of each field; a GeoJSON file's text as the field `catchment.file`. A form too big or too
    broken to read is empty, with the problem said (never a 500)."""
    limit = runtime_of(request.app.state).settings.max_body_bytes
    try:
        length = int(request.headers.get("content-length") or 0)
    except ValueError:
        length = 0
    if length > limit:
        too_big = f"the form is larger than {limit // (1024 * 1024)} MB: a catchment file must be under 2 MB"
        return {}, [FieldProblem(field="catchment.file", reason=too_big)]
    not_utf8 = FieldProblem(field="body", reason="the form holds text that is not UTF-8: nothing was saved")
    try:
        urlencoded = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        if urlencoded and not urlencoded_utf8(await request.body()):
            return {}, [not_utf8]
        data = await request.form()
        items = list(data.multi_items())
    except Exception:  # a malformed or oversized body is an empty form: the page says what is missing
        return {}, [FieldProblem(field="body", reason="the form could not be read: try again")]
    if len(items) > MOST_FIELDS:
        return {}, [FieldProblem(field="body", reason=f"the form has more than {MOST_FIELDS} fields")]
    fields: dict[str, list[str]] = {}
    problems: list[FieldProblem] = []
    for name, value in items:
        if not plain_text(name) or (isinstance(value, str) and not plain_text(value)):
            problems.append(not_utf8)
            continue
        if isinstance(value, UploadFile):
            content = await value.read(GEOJSON_MAX_BYTES + 1)
            if not content:
                continue
            if len(content) > GEOJSON_MAX_BYTES:
                problems.append(FieldProblem(field="catchment.file", reason="the file must be smaller than 2 MB"))
                continue
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(
                    FieldProblem(field="catchment.file", reason="the file is not GeoJSON: it is not UTF-8 text")
                )
                continue
            fields.setdefault(name[:100], []).append(text)
        elif isinstance(value, str):
            big = GEOJSON_MAX_BYTES if name == "catchment.geojson" else FORM_FIELD_MAX
            fields.setdefault(name[:100], []).append(value[: big + 1])
    for name, values in fields.items():
        big = GEOJSON_MAX_BYTES if name in ("catchment.geojson", "catchment.file") else FORM_FIELD_MAX
        if any(len(v) > big for v in values):
            problems.append(FieldProblem(field=name, reason=f"must be at most {big:,} characters"))
        if any("\x00" in v for v in values):
            problems.append(FieldProblem(field=name, reason="must not contain NUL characters"))
    return fields, problems


def refused_role(identity: Identity) -> Response[Any]:
    return Template(
        template_name="refused.html",
        status_code=403,
        context={
            "reason": f"a {identity.role} key may not change a service's details: only editors (in their areas) "
            "and admins may, and providers may propose changes to their own services",
        },
    )


def draft_gone() -> Response[Any]:
    return Template(template_name="draft_gone.html", status_code=404, context={})


# --- a draft's pages -----------------------------------------------------------------------------------------


def vocabulary(runtime: Runtime) -> tuple[list[tuple[str, str]], list[tuple[str, str]], dict[str, str]]:
    """The needs and circumstances as (code, label), and every code's label or area's name for the answers."""
    vocab = runtime.vocab
    needs = [(t.code, t.label) for t in vocab.needs.terms]
    circumstances = [(t.code, t.label) for t in vocab.circumstances.terms]
    return needs, circumstances, names_of(runtime)


def heading(draft: Draft) -> str:
    name = draft.document.get("name")
    return f"Change {name}" if draft.service_id is not None and name else "Add a service"


def tasks_page(request: Request[Any, Any, Any], d: Drafting, status: int = 200, carried: bool = False) -> Response[Any]:
    ready = all(s.name in d.draft.done for s in SECTIONS if s.required)
    return Template(
        template_name="draft_tasks.html",
        status_code=status,
        context={
            "identity": d.identity,
            "csrf": d.session.csrf,
            "draft": d.draft,
            "heading": heading(d.draft),
            "sections": [(s, s.name in d.draft.done) for s in SECTIONS],
            "ready": ready,
        },
    )


def _areas(runtime: Runtime) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The stored areas to pick from: each force with its districts; areas of no force after."""
    places = runtime.index.places
    forces = sorted((a for a in places.areas if a.kind == "police_force_area"), key=lambda a: a.name)
    within: dict[str, list[tuple[str, str]]] = {f.code: [] for f in forces}
    others: list[tuple[str, str, list[tuple[str, str]]]] = []
    for a in sorted(places.areas, key=lambda a: a.name):
        if a.kind == "police_force_area":
            continue
        force = places.force_of(a.code)
        if force in within:
            within[force].append((a.code, a.name))
        else:
            others.append((a.code, a.name, []))
    return [(f.code, f.name, within[f.code]) for f in forces] + others


def _map(runtime: Runtime, doc: Doc) -> str:
    try:
        catchment = msgspec.convert(doc.get("catchment"), Catchment)
        location = None if doc.get("location") is None else msgspec.convert(doc.get("location"), Point)
    except (msgspec.ValidationError, TypeError):
        return ""
    name = str(doc.get("name") or "this service")
    return svgmap.catchment_map(runtime.index.places, name, "The catchment as saved.", catchment, location)


def shown(problems: list[FieldProblem]) -> tuple[list[FieldProblem], dict[str, str]]:
    """Problems at the field the page shows them against, and each such field's first problem."""
    at_fields = [FieldProblem(field=anchor(p.field), reason=p.reason) for p in problems]
    errors: dict[str, str] = {}
    for p in at_fields:
        errors.setdefault(p.field, p.reason)
    return at_fields, errors


def _options(codes: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(c, words(c)) for c in codes]


OPTIONS: dict[str, list[tuple[str, str]]] = {
    "options_kinds": _options(editing.KINDS),
    "contexts": _options(editing.CONTEXTS),
    "access": _options(editing.ACCESS),
    "roles": _options(editing.ROLES),
    "statuses": _options(editing.STATUSES),
    "genders": _options(editing.GENDERS),
    "referrers": _options(editing.REFERRERS),
    "methods": _options(editing.METHODS),
    "capacities": _options(editing.CAPACITIES),
    "days": list(editing.DAY_WORDS.items()),
    "bank_modes": [("normal", "Open as on the weekly sessions"), ("closed", "Closed"), ("special", "Special hours")],
    "catchments": [
        ("areas", "Stored areas: a force area or districts"),
        ("radius", "Within a radius of its location"),
        ("polygon", "A drawn area, from a GeoJSON file"),
        ("national", "Anywhere in England and Wales"),
    ],
    "finds": [("default", "Its kind\u2019s default"), ("yes", "Yes"), ("no", "No")],
}
"""Each question's answers, as (code, words)."""


def _finds(value: object) -> str:
    return "yes" if value is True else "no" if value is False else "default"


def value_of(doc: Doc) -> Any:
    def value(path: str) -> str:
        v = at(doc, path)
        if v is None or isinstance(v, (dict, list)):
            return ""
        if isinstance(v, bool):
            return "yes" if v else ""
        if isinstance(v, float):
            return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)  # every digit kept
        return str(v)

    return value


def section_page(
    request: Request[Any, Any, Any],
    d: Drafting,
    section: Section,
    doc: Doc,
    problems: list[FieldProblem],
    status: int = 200,
) -> Response[Any]:
    runtime = runtime_of(request.app.state)
    needs, circumstances, _ = vocabulary(runtime)
    listed, errors = shown(problems)
    schedule = doc.get("schedule") or {}
    contacts = doc.get("contacts") or {}
    until_date, until_time = until_shown(at(doc, "capacity.until"))
    return Template(
        template_name="draft_section.html",
        status_code=status,
        context={
            "identity": d.identity,
            "csrf": d.session.csrf,
            "draft": d.draft,
            "heading": heading(d.draft),
            "section": section,
            "doc": doc,
            "val": value_of(doc),
            "vals": lambda path: [str(v) for v in (at(doc, path) or ()) if not isinstance(v, (dict, list))],
            "fid": field_id,
            "words": words,
            "problems": listed,
            "errors": errors,
            "needs": needs,
            "circumstances": circumstances,
            "areas": _areas(runtime) if section.name == "catchment" else [],
            "map": _map(runtime, doc) if section.name == "catchment" else "",
            "weekly_rows": len(schedule.get("weekly") or ()) + MORE_ROWS,
            "exception_rows": len(schedule.get("exceptions") or ()) + MORE_ROWS,
            "phone_rows": len(contacts.get("phones") or ()) + MORE_ROWS,
            "until_date": until_date,
            "until_time": until_time,
            "by_name": BY_NAME,
            **OPTIONS,
            "finds_now": _finds(doc.get("finds_needs")),
            "at_catchment_polygon": (doc.get("catchment") or {}).get("type") == "polygon",
        },
    )


def check_page(
    request: Request[Any, Any, Any],
    d: Drafting,
    problems: list[FieldProblem],
    status: int = 200,
    carried: list[str] | None = None,
) -> Response[Any]:
    runtime = runtime_of(request.app.state)
    _, _, names = vocabulary(runtime)
    listed, _ = shown(problems)
    linked = []
    for p in listed:
        owner = section_of(p.field)
        href = f"/account/drafts/{d.draft.id}/{owner.name}#{field_id(p.field)}" if owner else "#submit"
        linked.append((href, p.reason))
    return Template(
        template_name="draft_check.html",
        status_code=status,
        context={
            "identity": d.identity,
            "csrf": d.session.csrf,
            "draft": d.draft,
            "heading": heading(d.draft),
            "sections": [(s, answers(s, d.draft.document, names)) for s in SECTIONS],
            "problems": linked,
            "carried": carried,
            "feed_seconds": 1,
            "proposing": d.draft.service_id is not None and must_propose(runtime.settings, d.identity),
        },
    )


async def conflict_page(request: Request[Any, Any, Any], d: Drafting, current: Service) -> Response[Any]:
    """Someone else changed the service since this edit began: what they changed, field by field, who and when;
    and what this edit changes."""
    runtime = runtime_of(request.app.state)
    async with runtime.db.transaction() as conn:
        history = await service_store.service_history(conn, str(current.id))
    base = d.draft.base_version or 0
    names = names_of(runtime)
    theirs = [
        (
            day(c.at) + " " + c.at.astimezone(LONDON).strftime("%H:%M"),
            c.actor,
            [row for f in c.changes for row in change_words(f.field, f.old, f.new, names)],
        )
        for c in history
        if c.version > base
    ]
    changed = field_changes(d.draft.base, d.draft.document)
    mine = [row for f in changed for row in change_words(f.field, f.old, f.new, names)]
    return Template(
        template_name="draft_conflict.html",
        status_code=409,
        context={
            "identity": d.identity,
            "csrf": d.session.csrf,
            "draft": d.draft,
            "heading": heading(d.draft),
            "theirs": theirs,
            "mine": mine,
        },
    )


def problems_of(error: Exception) -> list[FieldProblem]:
    found = list(getattr(error, "problems", ()))
    if found:
        return found
    field = getattr(error, "field", None) or "body"
    return [FieldProblem(field=field, reason=str(getattr(error, "reason", None) or error))]
