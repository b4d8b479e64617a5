"""/v1/control-room/responses: a police control room's search under Right Care, Right Person. The threshold's
answer for the call, and the pathway for it, ranked and explained (service/search/control_room.py, which the
control-room page uses too)."""

from __future__ import annotations

from litestar import Controller, post
from litestar.datastructures import State
from litestar.params import JSONBody

from service.domain.rcrp import ControlRoomAnswer, ControlRoomRequest
from service.server.access import READ
from service.server.deps import Ident
from service.server.problems import problem_responses
from service.server.runtime import runtime_of


class ControlRoomController(Controller):
    path = "/v1/control-room/responses"
    tags = ["referral options"]
    guards = READ

    @post("/", operation_id="findControlRoomResponse", status_code=200, responses=problem_responses(400, 413, 422))
    async def respond(self, data: JSONBody[ControlRoomRequest], state: State, identity: Ident) -> ControlRoomAnswer:
        """Say whether the RCRP threshold for police attendance is met, and who to hand the call to, ranked."""
        return await runtime_of(state).control_room(data, public=identity.kind == "anonymous")
