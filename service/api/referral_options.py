"""/v1/referral-options: ranked, explained referral options for a person at a place, now.

Both routes hand the decoded request whole to service/search/entry.py, which the pages use too. The GET route's query
parameters are `SearchQuery`'s fields, decoded in one step; the OpenAPI document lists them from that Struct.
"""

from __future__ import annotations

from typing import Any, cast

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import MediaType
from litestar.params import JSONBody

from service.domain.answer import ReferralAnswer
from service.domain.errors import InvalidInput
from service.domain.request import ReferralRequest
from service.search.entry import renamed, search_query
from service.server.access import READ
from service.server.deps import Ident
from service.server.problems import problem_responses
from service.server.runtime import runtime_of


class ReferralController(Controller):
    path = "/v1/referral-options"
    tags = ["referral options"]
    guards = READ

    @post("/", operation_id="findReferralOptions", status_code=200, responses=problem_responses(400, 413, 422))
    async def find(self, data: JSONBody[ReferralRequest], state: State, identity: Ident) -> Response[ReferralAnswer]:
        """Rank the services that can take this person here and now, and say why."""
        runtime = runtime_of(state)
        return _json(await runtime.find_json(data, public=identity.kind == "anonymous"))

    @get("/", operation_id="findReferralOptionsByQuery", responses=problem_responses(400, 422))
    async def find_by_query(
        self, request: Request[Any, Any, Any], state: State, identity: Ident
    ) -> Response[ReferralAnswer]:
        """The same search with query parameters, for simple clients and shareable links."""
        runtime = runtime_of(state)
        params = {name: request.query_params.getall(name) for name in request.query_params}
        try:
            encoded = await runtime.find_json(search_query(params).request(), public=identity.kind == "anonymous")
        except InvalidInput as e:  # name the query parameter, keeping the status (400 or 422)
            raise renamed(e) from e
        return _json(encoded)


def _json(encoded: bytes) -> Response[ReferralAnswer]:
    """A ReferralAnswer already encoded (once, by service/search/answered.py); without a key, the public's copy, with no
    professionals-only numbers (service/domain/audience.py). The OpenAPI document takes its schema from the
    annotation; the bytes are passed through as they are."""
    return cast(Response[ReferralAnswer], Response(encoded, media_type=MediaType.JSON))
