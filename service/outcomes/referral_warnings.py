"""Was the service full or closed when the referral was made? A referral is recorded all the same (the officer may
have phoned ahead), but the answer says so and the page asks the user to confirm first.

Judged at the referral's own moment (not the hour it is kept to), with the search's rules: full is a `full`
capacity whose `until` has not passed (routing.effective_capacity); closed is a service that is not active, or one
that must be open when needed (routing.needs_immediate_access: not by appointment, not in the community) and is
not open at that moment (schedule.state_at). Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt

from service.domain import reasons
from service.domain.answer import Reason
from service.domain.model import Service
from service.domain.routing import effective_capacity, needs_immediate_access
from service.domain.schedule import state_at


def full_at(service: Service, at: dt.datetime) -> str | None:
    """How full the service was at `at`, in words ("full until Mon 07 Dec 06:00 (note)"), or None when it was not."""
    if effective_capacity(service.capacity, at) != "full":
        return None
    return reasons.full_until(service.capacity.until, service.capacity.note)


def closed_at(service: Service, context: str, at: dt.datetime) -> str | None:
    """How closed the service was at `at` for a referral from `context`, in words, or None when it was not."""
    if service.status != "active":
        return reasons.status_words(service.status)
    if not needs_immediate_access(service, context):
        return None
    opening = state_at(service.schedule, at)
    return None if opening.open_now else reasons.closed_until(opening.next_opens_at)


def standing_at(service: Service, context: str, at: dt.datetime) -> tuple[str, ...]:
    """What stood in the referral's way at `at`, in words for "<service> is ..."; empty when nothing did."""
    return tuple(words for words in (closed_at(service, context, at), full_at(service, at)) if words)


def referral_warnings(service: Service, context: str, at: dt.datetime) -> tuple[Reason, ...]:
    """The warnings a referral recorded at `at` carries: closed, then full; empty when the service was open with
    room (or by appointment)."""
    closed, full = closed_at(service, context, at), full_at(service, at)
    found = [reasons.closed_at_referral(closed)] if closed else []
    return (*found, reasons.full_at_referral(full)) if full else tuple(found)
