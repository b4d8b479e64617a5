"""/v1/referral-options: ranked, explained referral options for a person at a place, now.

Both routes hand the decoded request whole to service/search.py, which the pages use too. The GET route's query
parameters are `SearchQuery`'s fields, decoded in one step; the OpenAPI document lists them from that Struct.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import JSONBody

from service.domain.access import Identity
from service.domain.answer import ReferralAnswer
from service.domain.audience import public_answer
from service.domain.errors import InvalidInput
from service.domain.routing import ReferralRequest
from service.http.access import READ
from service.http.deps import Ident
from service.http.problems import problem_responses
from service.runtime import runtime_of
from service.search import find, renamed, search_query


class ReferralController(Controller):
    path = "/v1/referral-options"
    tags = ["referral options"]
    guards = READ

    @post("/", operation_id="findReferralOptions", status_code=200, responses=problem_responses(400, 413, 422))
    async def find(self, data: JSONBody[ReferralRequest], state: State, identity: Ident) -> ReferralAnswer:
        """Rank the services that can take this person here and now, and say why."""
        runtime = runtime_of(state)
        answer = await find(runtime.index, data, runtime.geocoder)
        runtime.demand.count(answer)
        return for_audience(answer, identity)

    @get("/", operation_id="findReferralOptionsByQuery", responses=problem_responses(400, 422))
    async def find_by_query(self, request: Request[Any, Any, Any], state: State, identity: Ident) -> ReferralAnswer:
        """The same search with query parameters, for simple clients and shareable links."""
        runtime = runtime_of(state)
        params = {name: request.query_params.getall(name) for name in request.query_params}
        try:
            answer = await find(runtime.index, search_query(params).request(), runtime.geocoder)
        except InvalidInput as e:  # name the query parameter, keeping the status (400 or 422)
            raise renamed(e) from e
        runtime.demand.count(answer)
        return for_audience(answer, identity)


def for_audience(answer: ReferralAnswer, identity: Identity) -> ReferralAnswer:
    """Without a key, the public's copy: no professionals-only numbers (service/domain/audience.py)."""
    return public_answer(answer) if identity.kind == "anonymous" else answer
