"""What a partner is told of a change to a service, and in what message. Pure.

A change-log row about a service is one or more kinds of event (`kinds`), most specific first:
- `service.created`: the service's first version (made by the API, a page or an import);
- `service.closed`: its status became closed (DELETE /v1/services/{key}, or an edit to `status`);
- `service.capacity_changed`: its live capacity changed;
- `service.changed`: anything else about an existing service changed, and every change to one (it is the catch-all:
  a partner keeping a copy of the directory asks for it and hears of every change).
A subscription is sent one event for a change: the first of its kinds that the subscription asked for.

The message is thin: the kind, when, the change's id, the service's id, slug and version, which of its fields
changed (by name, never a value), and links to fetch it from the API and as Open Referral. A partner reads the record
itself, with its own key: what a message says is never more than any reader may know, so no professionals-only
number and nothing about a person referred can travel in one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Iterable
from typing import Literal, get_args

import msgspec
from msgspec import Struct

from service.domain.access import Identity

EventType = Literal["service.created", "service.changed", "service.closed", "service.capacity_changed"]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
PING = "webhook.ping"
"""The event a key holder asks for to try its receiver (POST /v1/webhooks/{id}/ping)."""
TITLES: dict[str, str] = {
    "service.created": "Created",
    "service.changed": "Changed",
    "service.closed": "Closed",
    "service.capacity_changed": "Capacity changed",
}


class ServiceChange(Struct, frozen=True, kw_only=True):
    """One change to a service, as the change log holds it: the paths of the fields it touched, never their values."""

    id: int
    at: dt.datetime
    service_id: uuid.UUID
    slug: str
    """The service's slug now (the links name it as it is)."""
    name: str
    version: int
    fields: tuple[str, ...]
    """Dotted paths of the fields that changed (`capacity.status`, `contacts.phones`)."""
    closed: bool
    """Its status became closed."""


def _capacity(path: str) -> bool:
    return path == "capacity" or path.startswith("capacity.")


def kinds(change: ServiceChange) -> tuple[EventType, ...]:
    """The kinds of event a change is, most specific first; none for a change that touched no field."""
    if change.version == 1:
        return ("service.created",)
    if not change.fields:
        return ()
    found: list[EventType] = []
    if change.closed:
        found.append("service.closed")
    if any(_capacity(f) for f in change.fields):
        found.append("service.capacity_changed")
    found.append("service.changed")
    return tuple(found)


def event_for(change: ServiceChange, wanted: Iterable[str]) -> EventType | None:
    """The event a subscription that asked for `wanted` is sent for this change, or None."""
    asked = set(wanted)
    return next((k for k in kinds(change) if k in asked), None)


def receives(identity: Identity, services: Collection[uuid.UUID], change: ServiceChange) -> bool:
    """Whether a subscription is sent a change: its key may read the service, and it asked for this service (or
    for every one). Every key, of any role, reads every service today (what a key without one may not see, the
    professionals-only numbers, no message carries); a revoked key has no identity, and is never asked. When keys
    come to be refused some services, that rule belongs here."""
    return identity.kind == "key" and identity.role is not None and (not services or change.service_id in services)


def field_names(paths: Iterable[str]) -> tuple[str, ...]:
    """The top-level fields these paths are in (`capacity`, `contacts`), each once, in order."""
    return tuple(sorted({p.split(".", 1)[0] for p in paths}))


class Links(Struct, frozen=True, kw_only=True):
    api: str
    """The service in the directory's API (GET /v1/services/{id}): with a key, every contact."""
    open_referral: str
    """The service as Open Referral UK (HSDS 3.0)."""
    page: str
    """The service's page, for people."""


def links(base: str, service_id: uuid.UUID, slug: str) -> Links:
    root = base.rstrip("/")
    return Links(
        api=f"{root}/v1/services/{service_id}",
        open_referral=f"{root}/openreferral/services/{service_id}",
        page=f"{root}/services/{slug}",
    )


class ChangeData(Struct, frozen=True, kw_only=True):
    change_id: int
    """The change log's id for this change (GET /v1/services/{id}/history lists it): the same in every message and
    feed entry about this change."""
    service_id: uuid.UUID
    slug: str
    version: int
    """The service's version this change made: fetch the record and compare its version (or its ETag, "v{version}")
    to know whether what you read is at least this new."""
    changed_at: dt.datetime
    fields: tuple[str, ...]
    """The top-level fields that changed, by name."""
    links: Links


class ChangeEvent(Struct, frozen=True, kw_only=True):
    """A webhook's body, and a feed entry's data: the Standard Webhooks shape (type, timestamp, data)."""

    type: EventType
    timestamp: dt.datetime
    data: ChangeData


class PingData(Struct, frozen=True, kw_only=True):
    subscription_id: uuid.UUID


class PingEvent(Struct, frozen=True, kw_only=True):
    type: Literal["webhook.ping"] = "webhook.ping"
    timestamp: dt.datetime
    data: PingData


def change_event(change: ServiceChange, kind: EventType, base: str) -> ChangeEvent:
    return ChangeEvent(
        type=kind,
        timestamp=change.at,
        data=ChangeData(
            change_id=change.id,
            service_id=change.service_id,
            slug=change.slug,
            version=change.version,
            changed_at=change.at,
            fields=field_names(change.fields),
            links=links(base, change.service_id, change.slug),
        ),
    )


def message_id(delivery_id: uuid.UUID) -> str:
    """The `webhook-id` of a delivery: the same on every attempt, so a receiver can tell a retry from news."""
    return f"msg_{delivery_id.hex}"


def body(event: ChangeEvent | PingEvent) -> bytes:
    return msgspec.json.encode(event)
