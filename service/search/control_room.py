"""The control room's search (Right Care, Right Person): the threshold's answer for the call (service/domain/rcrp.py)
and the pathway for it, through the one search the API and the pages use (`entry.resolve_origin`, the index).

A call is about someone out of custody, so its services are the street context's, searched as for a person in
mental-health crisis (the need the places of safety and crisis services declare), in the control room's steps.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from service.domain.answer import Reason
from service.domain.rcrp import ControlRoomAnswer, ControlRoomRequest, control_room_steps, threshold
from service.domain.request import ReferralRequest, when_needed
from service.index.engine import DirectoryIndex
from service.search.entry import Geocoder, resolve_origin

CRISIS = "mental_health_crisis"
EMERGENCY_DEPARTMENT = Reason(
    code="EMERGENCY_DEPARTMENT",
    text="Or take the person to the nearest emergency department (A&E), if that is quicker than an ambulance; an "
    "A&E that is also a place of safety is listed with them.",
)
"""The medical step's note: an emergency department is the other way to medical care, and directories list one as
a place of safety (its role there), not in this step."""


def street_request(request: ControlRoomRequest, at: dt.datetime, known_needs: frozenset[str]) -> ReferralRequest:
    """The street search a call makes: the person with mental-health crisis among their needs (where the directory's
    taxonomy has it), at the call's moment."""
    person = request.person
    if CRISIS in known_needs and CRISIS not in person.needs:
        person = msgspec.structs.replace(person, needs=(CRISIS, *person.needs))
    return ReferralRequest(
        origin=request.origin,
        context="street",
        person=person,
        at=at,
        limit=request.limit,
        step_limit=request.step_limit,
        explain=request.explain,
        explain_limit=request.explain_limit,
    )


async def find_for_call(
    index: DirectoryIndex, request: ControlRoomRequest, geocoder: Geocoder | None
) -> ControlRoomAnswer:
    """The threshold's answer and the pathway for a decoded control-room request."""
    found = threshold(request.call)
    where, label, resolved_from = await resolve_origin(index, request.origin, geocoder)
    at = when_needed(request.at, dt.datetime.now(dt.UTC))
    search = street_request(request, at, frozenset(index.vocab.need_bits))
    pathway = index.search(
        search,
        at=at,
        where=where,
        origin_label=label,
        resolved_from=resolved_from,
        plan=control_room_steps(found, request.call.medical_care),
    )
    steps = tuple(
        msgspec.structs.replace(s, notes=(*s.notes, EMERGENCY_DEPARTMENT)) if s.role == "medical_care" else s
        for s in pathway.steps
    )
    return ControlRoomAnswer(call=request.call, threshold=found, pathway=msgspec.structs.replace(pathway, steps=steps))
