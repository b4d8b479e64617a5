"""Query and path parameters: every one of every route refuses what its documented constraints refuse, with a 4xx
naming the parameter as the client wrote it, and nothing a client sends there is ever a 500."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.helpers import assert_problem

Client = AsyncTestClient[Litestar]


async def test_a_nul_byte_in_a_services_need_is_a_400_naming_it(client: Client) -> None:
    assert_problem(await client.get("/v1/services?need=%00"), 400, "need")
    client.headers.pop("Authorization")
    assert_problem(await client.get("/v1/services?need=a%00"), 400, "need")
