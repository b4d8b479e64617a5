"""/v1/referrals: anonymous referral records, their outcomes and their handovers to health
(service/outcomes/records.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.params import FromQuery, JSONBody, PathParameter

from service.domain.access import Forbidden, Identity, may_record_outcome, may_record_referral, referral_scope
from service.domain.answer import Reason
from service.domain.errors import NotFound
from service.domain.versioning import etag
from service.outcomes import store
from service.outcomes.recording import handover_of, new_record
from service.outcomes.records import (
    Handover,
    HandoverTimes,
    NewReferral,
    Outcome,
    OutcomeChange,
    Referral,
    retention_cutoff,
)
from service.outcomes.store import ByReferral
from service.server.access import Reach, needs
from service.server.deps import Actor, Conn, Ident
from service.server.problems import problem_responses
from service.server.runtime import runtime_of
from service.server.schemas import ETAG, IfMatch, Limit, Offset
from service.store import services as service_store
from service.store.db import Connection

ReferralId = Annotated[uuid.UUID, PathParameter(description="The referral's id.")]


class ReferralPage(msgspec.Struct, frozen=True, kw_only=True):
    items: tuple[Referral, ...]
    total: int
    limit: int
    offset: int


class RecordedReferral(Referral, frozen=True, kw_only=True):
    """The referral just recorded, and what stood in its way at its moment (it is recorded all the same)."""

    warnings: tuple[Reason, ...]
    """SERVICE_FULL_AT_REFERRAL, SERVICE_CLOSED_AT_REFERRAL; empty when the service was open with room."""


def _with_etag(referral: Referral) -> Response[Referral]:
    return Response(referral, headers={"ETag": etag(referral.version)})


def readable(identity: Identity, referral: Referral) -> None:
    areas, services = referral_scope(identity)
    placed = {c for c in (referral.force_code, referral.district_code) if c}
    if services is not None and str(referral.service_id) not in services:
        raise Forbidden("this key may read only the referrals to its services")
    if areas is not None and areas.isdisjoint(placed):
        raise Forbidden("this key may read only the referrals made in its areas")


def changer(state: State, conn: Connection, identity: Identity) -> ByReferral:
    """Who may record what became of a referral (its outcome, its handover): the receiving service's provider key, an
    editor whose scope covers the service, or an admin."""
    reach = Reach(state, conn, identity)

    async def allowed(referral: Referral) -> None:
        verdict = None
        if identity.role == "editor":
            try:
                current = await service_store.get_service(conn, str(referral.service_id))
            except NotFound:  # a deleted service: only its provider or an admin
                raise Forbidden("the service no longer exists: only an admin can record this now") from None
            verdict = await reach(service_store.body_of(current))
        may_record_outcome(identity, str(referral.service_id), verdict)

    return allowed


class ReferralRecordController(Controller):
    path = "/v1/referrals"
    tags = ["referral outcomes"]

    @post(
        "/",
        operation_id="recordReferral",
        guards=[needs("referrer", "editor", "admin")],
        response_headers=ETAG,
        responses=problem_responses(400, 403, 413, 422),
    )
    async def record(
        self, state: State, conn: Conn, identity: Ident, actor: Actor, data: JSONBody[NewReferral]
    ) -> Response[RecordedReferral]:
        """Record that a referral was made: codes and an age band only, nothing that identifies the person. A
        service full or closed at that moment is recorded all the same, with warnings saying so."""
        runtime = runtime_of(state)
        now, months = dt.datetime.now(dt.UTC), runtime.settings.referral_retention_months
        recording = await new_record(runtime.index, data, runtime.geocoder, now, months)
        may_record_referral(identity, recording.record.placed.areas)
        made = await store.record_referral(conn, recording.record, actor)
        answer = RecordedReferral(**msgspec.structs.asdict(made), warnings=recording.warnings)
        return Response(
            answer, status_code=201, headers={"Location": f"/v1/referrals/{made.id}", "ETag": etag(made.version)}
        )

    @get("/", operation_id="listReferrals", responses=problem_responses(403))
    async def list_referrals(
        self,
        conn: Conn,
        identity: Ident,
        service: FromQuery[uuid.UUID | None] = None,
        outcome: FromQuery[Outcome | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ReferralPage:
        """The referrals this key may see, newest first: a provider's to its services, others' in their areas."""
        areas, services = referral_scope(identity)
        items, total = await store.list_referrals(
            conn, areas=areas, services=services, service_id=service, outcome=outcome, limit=limit, offset=offset
        )
        return ReferralPage(items=tuple(items), total=total, limit=limit, offset=offset)

    @get(
        "/{referral_id:uuid}",
        operation_id="getReferral",
        response_headers=ETAG,
        responses=problem_responses(403, 404),
    )
    async def get_referral(self, conn: Conn, identity: Ident, referral_id: ReferralId) -> Response[Referral]:
        """One referral, with the history of its outcome (who changed it, and when)."""
        referral = await store.get_referral(conn, referral_id)
        readable(identity, referral)
        return _with_etag(referral)

    @post(
        "/{referral_id:uuid}/outcome",
        operation_id="recordOutcome",
        status_code=200,
        guards=[needs("provider", "editor", "admin")],
        response_headers=ETAG,
        responses=problem_responses(400, 403, 404, 409, 412, 413, 422),
    )
    async def record_outcome(
        self,
        state: State,
        conn: Conn,
        identity: Ident,
        actor: Actor,
        referral_id: ReferralId,
        data: JSONBody[OutcomeChange],
        if_match: IfMatch = None,
    ) -> Response[Referral]:
        """Record what became of a referral: the receiving service's provider key, an editor in scope, or an admin.
        Send the ETag you read as If-Match to be sure of what you change: a stale one gets 412."""
        allowed = changer(state, conn, identity)
        return _with_etag(await store.change_outcome(conn, referral_id, data, actor, allowed, if_match))

    @post(
        "/{referral_id:uuid}/handover",
        operation_id="recordHandover",
        status_code=200,
        guards=[needs("provider", "editor", "admin")],
        response_headers=ETAG,
        responses=problem_responses(400, 403, 404, 409, 412, 413, 422),
    )
    async def record_handover(
        self,
        state: State,
        conn: Conn,
        identity: Ident,
        actor: Actor,
        referral_id: ReferralId,
        data: JSONBody[HandoverTimes],
        if_match: IfMatch = None,
    ) -> Response[Referral]:
        """Record when police handed the person over to health: kept as whole minutes and the hour of arrival only.
        Who may, and If-Match, as for an outcome; another handover corrects the one kept, the history keeping both."""
        now = dt.datetime.now(dt.UTC)
        earliest = retention_cutoff(runtime_of(state).settings.referral_retention_months, now)

        def handover() -> Handover:
            return handover_of(data, now, earliest)

        allowed = changer(state, conn, identity)
        return _with_etag(await store.change_handover(conn, referral_id, handover, actor, allowed, if_match))
