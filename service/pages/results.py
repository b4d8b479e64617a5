"""What the results page shows beside the answer: who may see professionals-only numbers, whether the page is in
its public mode, each step's near misses, the end of the detention window, and the kind of site searched from."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request

from service.domain.access import ANONYMOUS, Identity
from service.domain.answer import Excluded, ReferralAnswer
from service.domain.pathway import role_of
from service.index.engine import DirectoryIndex
from service.settings import Settings


def identity_in(request: Request[Any, Any, Any]) -> Identity:
    """The identity the app's authentication resolved for this request (the pages sit behind the read guard, which
    raises a bad credential's error first); anonymous when none was given."""
    return request.scope.get("state", {}).get("identity") or ANONYMOUS


def for_staff(request: Request[Any, Any, Any], settings: Settings) -> bool:
    """Whether the lookup page may show professionals-only numbers: a deployment for staff, or a key holder (the
    identity the app's authentication resolved for this request; the pages sit behind the read guard)."""
    return settings.pages_for_staff or identity_in(request).kind != "anonymous"


def public_mode(settings: Settings, public_only: str | None) -> bool:
    """Whether a page is in its public mode: the deployment's pages are for the public (PATHWAYS_PUBLIC_PAGES), or
    this page or embed asks for it (`public_only=true`). It then leaves out every service the public cannot reach
    (service/domain/reach.py) and says nothing about them, and shows no professionals-only number, whoever asks."""
    return settings.public_pages or public_only == "true"


AVAILABILITY = frozenset(
    {"FULL", "CLOSED_NOW", "CLOSED_IN_WINDOW", "CLOSED_AFTER_RELEASE", "OUTSIDE_CATCHMENT", "TOO_FAR"}
)
"""Near misses worth showing under a step: services that could take the person but for where or when (full now,
closed, just over a border, beyond the travel limit); one that is for someone else (another need, age or gender)
is listed under "Why is a service not listed?" instead."""


def near_by_role(index: DirectoryIndex, answer: ReferralAnswer | None) -> dict[str, list[Excluded]]:
    """The answer's near misses under the step of their role ("Also nearby, but full until 20:00")."""
    grouped: dict[str, list[Excluded]] = {}
    for e in (answer.near_misses or ()) if answer else ():
        if not AVAILABILITY.issuperset(r.code for r in e.reasons):
            continue
        service = index.by_slug.get(e.service.slug)
        if service is not None:
            grouped.setdefault(role_of(service.kind, service.pathway_role), []).append(e)
    return grouped


def window_end(hours: int, answer: ReferralAnswer | None) -> dt.datetime | None:
    """In custody or at court, the end of the expected detention window: an option opening later is flagged."""
    if answer is None or answer.context not in ("custody", "court"):
        return None
    return answer.at + dt.timedelta(hours=hours)


def site_kind(index: DirectoryIndex, answer: ReferralAnswer | None, params: dict[str, Any]) -> str | None:
    """The kind of site searched from (a custody suite, a court), for "At this suite"; None from a point."""
    if answer is None or answer.origin.resolved_from != "site" or not params["site"]:
        return None
    site = index.places.sites.get(params["site"])
    return site.kind if site else None
