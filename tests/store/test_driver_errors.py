"""The store's one translation point turns driver errors caused by the values sent into bad input (400), not a bug:
a NUL byte PostgreSQL text cannot hold, or a character that cannot be encoded for it at all."""

from __future__ import annotations

import asyncpg
import pytest

from service.domain.errors import MalformedInput
from service.store.db import Connection, unavailable


@pytest.mark.parametrize("value", ["a\x00b", "\udcff"], ids=["a NUL byte", "a lone surrogate"])
async def test_a_value_postgresql_cannot_hold_is_bad_input_not_a_bug(conn: Connection, value: str) -> None:
    with pytest.raises(asyncpg.PostgresError) as raised:
        await conn.fetchval("select $1::text", value)
    found = unavailable(raised.value)
    assert isinstance(found, MalformedInput), found
    assert found.problems[0].reason == "holds a character that cannot be stored (a NUL byte, say)"
