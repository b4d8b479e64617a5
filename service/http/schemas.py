"""Response shapes that are about HTTP, not the domain: pages of results."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter, QueryParameter

from service.domain.model import AreaSummary, Service, Site

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size.")]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000, description="Items to skip.")]
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match", description="The ETag you last read; a stale one gets 412 and nothing is written."
    ),
]

ETAG = [
    ResponseHeader(
        name="ETag", documentation_only=True, description="The record's version; send it back in If-Match to write."
    )
]


class ServicePage(msgspec.Struct, frozen=True, kw_only=True):
    items: tuple[Service, ...]
    total: int
    limit: int
    offset: int


class AreaPage(msgspec.Struct, frozen=True, kw_only=True):
    items: tuple[AreaSummary, ...]
    total: int
    limit: int
    offset: int


class SitePage(msgspec.Struct, frozen=True, kw_only=True):
    items: tuple[Site, ...]
    total: int
    limit: int
    offset: int
