"""/v1/webhooks: change notifications a key holder registers, and their delivery log; /v1/changes/feed.atom and
feed.json: the same changes as a feed."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from litestar.params import JSONBody, PathParameter, QueryParameter
from msgspec import UNSET, Meta, UnsetType

from service.domain.access import Forbidden, Identity, require_role
from service.domain.errors import Conflict, FieldProblem, InvalidInput
from service.domain.types import Url
from service.partners import dispatch, feeds, store
from service.partners.events import EVENT_TYPES, EventType, ServiceChange, message_id
from service.partners.sending import checked
from service.partners.signing import new_secret
from service.server.access import READ, identity_of
from service.server.deps import Conn, Ident, SnapshotConn
from service.server.problems import problem_responses
from service.server.runtime import runtime_of
from service.server.schemas import Limit, Offset
from service.store.db import Connection

MAX_PER_KEY = 20
"""Webhooks one key may have: enough for a partner's environments, too few to make the directory a flood."""
ATOM = "application/atom+xml; charset=utf-8"
JSON_FEED = "application/feed+json"

Events = Annotated[
    tuple[EventType, ...],
    Meta(
        min_length=1,
        max_length=len(EVENT_TYPES),
        description="The kinds of change to be sent: each change is sent once, as the first of its kinds asked for "
        "(service.closed, then service.capacity_changed, then service.changed, which every change to a service is).",
    ),
]
Services = Annotated[
    tuple[uuid.UUID, ...],
    Meta(max_length=500, description="Only changes to these services (ids); none: every service the key may read."),
]
WebhookId = Annotated[uuid.UUID, PathParameter(description="The webhook's id.")]


class WebhookRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: Url
    """Where to POST each event: https, on a public address (PATHWAYS_WEBHOOKS_ALLOW_PRIVATE lifts both rules)."""
    events: Events
    services: Services = ()


class WebhookChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Only the fields present change. To change the URL, register a new webhook and delete this one."""

    events: Events | UnsetType = UNSET
    services: Services | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    """Switch a webhook on again after its receiver answered 410 or failed for a day (what happened meanwhile is
    not sent: read it from the feed), or off for a while."""


class Ping(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    """The delivery's id: the webhook's delivery log shows what became of it."""
    message_id: str


async def key_holder(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: an API key, of any role (a webhook belongs to a key, which can be revoked; a token's holder cannot be
    checked again later)."""
    identity = await identity_of(connection)
    require_role(identity, "reader", "editor", "provider", "admin", "analyst", "referrer")
    if identity.kind != "key":
        raise Forbidden("webhooks are registered with an API key")


def owner(identity: Identity) -> uuid.UUID | None:
    """Whose webhooks this identity sees: its key's own, or, for an admin, everyone's (None)."""
    return None if identity.role == "admin" else uuid.UUID(identity.id)


def _unique(events: Sequence[str]) -> list[str]:
    return [e for e in EVENT_TYPES if e in events]


async def _known_services(conn: Connection, services: Sequence[uuid.UUID]) -> None:
    unknown = set(await store.unknown_services(conn, services))
    problems = tuple(
        FieldProblem(field=f"services[{i}]", reason=f"unknown service {s}")
        for i, s in enumerate(services)
        if s in unknown
    )
    if problems:
        raise InvalidInput(problems)


class WebhookController(Controller):
    path = "/v1/webhooks"
    tags = ["change notifications"]
    guards = [key_holder]

    @post("/", operation_id="createWebhook", responses=problem_responses(400, 401, 403, 409, 413, 422))
    async def create_webhook(
        self, state: State, data: JSONBody[WebhookRequest], identity: Ident
    ) -> Response[store.CreatedSubscription]:
        """Register a webhook for changes to services.

        Its secret, to verify each delivery's signature with, is in this response only."""
        runtime = runtime_of(state)
        await checked(data.url, runtime.settings.webhooks_allow_private)  # before a connection is taken: DNS is slow
        key_id = uuid.UUID(identity.id)
        async with runtime.db.transaction() as conn:
            await _known_services(conn, data.services)
            if await store.count_for_key(conn, key_id) >= MAX_PER_KEY:
                raise Conflict("url", f"this key has {MAX_PER_KEY} webhooks already; delete one first")
            created = await store.create_subscription(
                conn,
                key_id=key_id,
                url=data.url,
                events=_unique(data.events),
                services=tuple(dict.fromkeys(data.services)),
                secret=new_secret(),
            )
        return Response(created, status_code=201)

    @get("/", operation_id="listWebhooks", responses=problem_responses(401, 403))
    async def list_webhooks(
        self, conn: Conn, identity: Ident, limit: Limit = 50, offset: Offset = 0
    ) -> store.SubscriptionPage:
        """This key's webhooks, oldest first, without their secrets (an admin's key: every key's)."""
        items, total = await store.list_subscriptions(conn, owner(identity), limit, offset)
        return store.SubscriptionPage(items=tuple(items), total=total, limit=limit, offset=offset)

    @get("/{webhook_id:str}", operation_id="getWebhook", responses=problem_responses(401, 403, 404))
    async def get_webhook(self, conn: Conn, identity: Ident, webhook_id: WebhookId) -> store.Subscription:
        """One webhook (another key's is not found, unless this is an admin's key)."""
        return await store.get_subscription(conn, webhook_id, owner(identity))

    @patch("/{webhook_id:str}", operation_id="updateWebhook", responses=problem_responses(400, 401, 403, 404, 422))
    async def update_webhook(
        self, conn: Conn, identity: Ident, webhook_id: WebhookId, data: JSONBody[WebhookChange]
    ) -> store.Subscription:
        """Change which events a webhook is sent, for which services, or switch it on or off."""
        services = None if isinstance(data.services, UnsetType) else tuple(dict.fromkeys(data.services))
        if services:
            await _known_services(conn, services)
        return await store.update_subscription(
            conn,
            webhook_id,
            owner(identity),
            events=None if isinstance(data.events, UnsetType) else _unique(data.events),
            services=services,
            active=None if isinstance(data.active, UnsetType) else data.active,
        )

    @delete(
        "/{webhook_id:str}", operation_id="deleteWebhook", status_code=200, responses=problem_responses(401, 403, 404)
    )
    async def delete_webhook(self, conn: Conn, identity: Ident, webhook_id: WebhookId) -> store.Subscription:
        """Delete a webhook and its delivery log: nothing more is sent to it, not even a retry."""
        return await store.delete_subscription(conn, webhook_id, owner(identity))

    @get(
        "/{webhook_id:str}/deliveries",
        operation_id="listWebhookDeliveries",
        responses=problem_responses(401, 403, 404),
    )
    async def deliveries(
        self, conn: Conn, identity: Ident, webhook_id: WebhookId, limit: Limit = 50, offset: Offset = 0
    ) -> store.DeliveryPage:
        """A webhook's delivery log, newest first.

        Each message, its attempts, and what the receiver last answered (its status code only). Finished deliveries
        are kept for 30 days."""
        await store.get_subscription(conn, webhook_id, owner(identity))
        items, total = await store.deliveries(conn, webhook_id, limit, offset)
        return store.DeliveryPage(items=tuple(items), total=total, limit=limit, offset=offset)

    @post(
        "/{webhook_id:str}/ping",
        operation_id="pingWebhook",
        status_code=202,
        responses=problem_responses(401, 403, 404, 409),
    )
    async def ping(self, conn: Conn, identity: Ident, webhook_id: WebhookId) -> Ping:
        """Send a webhook a `webhook.ping` event, to try the receiver.

        It is signed, retried and logged as any other delivery."""
        subscription = await store.get_subscription(conn, webhook_id, owner(identity))
        if not subscription.active:
            raise Conflict("active", "this webhook is switched off: switch it on first (PATCH with active true)")
        if await store.ping_waiting(conn, webhook_id):
            raise Conflict("webhook", "a ping to this webhook is still being sent: try again when it is done", 30)
        delivery_id = await dispatch.ping(conn, webhook_id)
        return Ping(id=delivery_id, message_id=message_id(delivery_id))


Before = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**53, description="Changes before this change id (the page after the one you read)."),
]
FeedLimit = Annotated[int, QueryParameter(ge=1, le=200, description="Entries on the page.")]


def _page(
    request: Request[Any, Any, Any], changes: list[ServiceChange], path: str, other: str, before: int | None, limit: int
) -> feeds.FeedPage:
    settings = runtime_of(request.app.state).settings
    base = (settings.public_url or str(request.base_url)).rstrip("/")

    def at(where: str, older: int | None) -> str:
        query = {k: v for k, v in (("before", older), ("limit", limit if limit != 50 else None)) if v is not None}
        return f"{base}{where}" + (f"?{urlencode(query)}" if query else "")

    older = changes[-1].id if len(changes) == limit else None
    return feeds.FeedPage(
        changes=tuple(changes),
        base=base,
        self_url=at(path, before),
        alternate_url=at(other, before),
        next_url=at(path, older) if older is not None else None,
        now=dt.datetime.now(dt.UTC),
    )


FEED_ATOM = "/v1/changes/feed.atom"
FEED_JSON = "/v1/changes/feed.json"


class ChangeFeedController(Controller):
    """For partners who cannot receive webhooks: the changes to services, readable as the directory is."""

    path = "/v1/changes"
    tags = ["change notifications"]
    guards = READ

    @get(
        "/feed.atom",
        operation_id="getChangeFeedAtom",
        media_type=ATOM,
        responses=problem_responses(400),
    )
    async def atom(
        self, request: Request[Any, Any, Any], snapshot_conn: SnapshotConn, before: Before = None, limit: FeedLimit = 50
    ) -> Response[bytes]:
        """The latest changes to services, as an Atom feed.

        Newest first; the feed's `next` link leads to older ones."""
        changes = await store.recent_changes(snapshot_conn, before, limit)
        return Response(feeds.atom(_page(request, changes, FEED_ATOM, FEED_JSON, before, limit)), media_type=ATOM)

    @get(
        "/feed.json",
        operation_id="getChangeFeedJson",
        media_type=JSON_FEED,
        responses=problem_responses(400),
    )
    async def json_feed(
        self, request: Request[Any, Any, Any], snapshot_conn: SnapshotConn, before: Before = None, limit: FeedLimit = 50
    ) -> Response[feeds.JsonFeed]:
        """The latest changes to services, as a JSON Feed.

        JSON Feed 1.1, newest first; `next_url` leads to older ones. Each item's `_pathways` is the event a webhook
        would carry."""
        changes = await store.recent_changes(snapshot_conn, before, limit)
        page = _page(request, changes, FEED_JSON, FEED_ATOM, before, limit)
        return Response(feeds.json_feed_document(page), media_type=JSON_FEED)
