"""A route for the search benchmark only (PATHWAYS_BENCH_ROUTES=true): a fixed answer of the same shape as a
search, so that HTTP throughput of search can be compared with the server's ceiling for that response."""

from __future__ import annotations

from litestar import get
from litestar.datastructures import State

from service.domain.answer import ReferralAnswer


@get("/bench/fixed-options", include_in_schema=False, sync_to_thread=False)
def fixed_options(state: State) -> ReferralAnswer:
    answer: ReferralAnswer = state.bench_answer
    return answer
