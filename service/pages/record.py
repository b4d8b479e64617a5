"""The lookup page's "Record referral": shown on each option to a key holder who may record referrals (a referrer,
an editor or an admin), posting the option's service and the search's inputs, with the age as its band. The key
comes in a header, never a cookie, so another site cannot post this form on the user's behalf. A referral to a
service that is full or closed at that moment is not written at once: the page asks the user to confirm, and the
confirming form posts the same fields again with `confirm=yes`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Request, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.response import Template

from service.domain.access import Forbidden, Unauthorised, may_record_referral
from service.domain.answer import ReferralAnswer
from service.domain.bands import AGE_BAND_WORDS, age_band
from service.domain.errors import InvalidInput
from service.domain.request import PointOrigin, SiteOrigin
from service.outcomes import store
from service.outcomes.recording import new_record
from service.outcomes.records import NewReferral
from service.pages.results import identity_in
from service.server.runtime import runtime_of
from service.store.db import Connection

RECORDERS = frozenset({"referrer", "editor", "admin"})


def form_for(request: Request[Any, Any, Any], answer: ReferralAnswer | None, params: dict[str, Any]) -> dict[str, Any]:
    """What each option's form carries besides the service; empty when this user may not record."""
    if answer is None or identity_in(request).role not in RECORDERS:
        return {}
    try:
        band = age_band(float(params["age"]))
    except (TypeError, ValueError):
        return {}
    origin = (
        {"site": params["site"]}
        if answer.origin.resolved_from == "site"
        else {"lat": f"{answer.origin.point.lat:.5f}", "lon": f"{answer.origin.point.lon:.5f}"}
    )
    return {
        **origin,
        "context": answer.context,
        "age_band": band,
        "age_band_words": AGE_BAND_WORDS[band],
        "gender": params["gender"] or "not_stated",
        "needs": params["needs"] or [],
        "circumstances": params["circumstances"] or [],
    }


@post("/referrals/record", include_in_schema=False, status_code=200)
async def record_referral(
    request: Request[Any, Any, Any], state: State, conn: NamedDependency[Connection], actor: NamedDependency[str]
) -> Template:
    """Record a referral from the lookup page, and say so."""
    runtime = runtime_of(state)
    form = await request.form()
    origin: dict[str, Any] = (
        {"type": "site", "site": form.get("site")}
        if form.get("site")
        else {"type": "point", "lat": _number(form.get("lat")), "lon": _number(form.get("lon"))}
    )
    body = {
        "service": form.get("service"),
        "repeat_contact": form.get("repeat_contact") or "unknown",
        "origin": origin,
        "context": form.get("context"),
        "person": {
            "age_band": form.get("age_band"),
            "gender": form.get("gender") or "not_stated",
            "needs": form.getall("needs") if "needs" in form else [],
            "circumstances": form.getall("circumstances") if "circumstances" in form else [],
        },
    }
    try:
        referral = msgspec.convert(body, NewReferral)
        now = dt.datetime.now(dt.UTC)
        recording = await new_record(
            runtime.index, referral, runtime.geocoder, now, runtime.settings.referral_retention_months
        )
        may_record_referral(identity_in(request), recording.record.placed.areas)
    except (msgspec.ValidationError, InvalidInput, Forbidden, Unauthorised) as e:
        status = 403 if isinstance(e, Forbidden) else 401 if isinstance(e, Unauthorised) else 422
        return Template(template_name="recorded.html", context={"error": str(e)}, status_code=status)
    if recording.standing and form.get("confirm") != "yes":
        context = {"name": recording.record.service_name, "standing": recording.standing, "fields": _fields(referral)}
        return Template(template_name="record_confirm.html", context=context)
    made = await store.record_referral(conn, recording.record, actor)
    return Template(template_name="recorded.html", context={"referral": made, "standing": recording.standing})


def _fields(referral: NewReferral) -> list[tuple[str, str]]:
    """The form's fields again, as validated (never as posted), for the confirming form to send back."""
    assert referral.origin is not None and referral.person is not None and referral.context is not None
    person, origin = referral.person, referral.origin
    match origin:
        case SiteOrigin(site=site):
            where = [("site", site)]
        case PointOrigin(lat=lat, lon=lon):
            where = [("lat", f"{lat:.5f}"), ("lon", f"{lon:.5f}")]
        case _:  # the page posts a site or a point, nothing else
            where = []
    return [
        ("service", referral.service),
        *where,
        ("context", referral.context),
        ("age_band", person.age_band),
        ("gender", person.gender),
        *(("needs", n) for n in person.needs),
        *(("circumstances", c) for c in person.circumstances),
        ("repeat_contact", referral.repeat_contact),
    ]


def _number(value: object) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None
