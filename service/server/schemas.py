"""Response shapes that are about HTTP, not the domain: pages of results."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter, PathParameter, QueryParameter
from msgspec import Meta

from service.domain.model import AreaSummary, Service, Site
from service.domain.types import AREA_CODE, CODE, REFERENCE, SINGLE_LINE

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size.")]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000, description="Items to skip.")]
ServiceKey = Annotated[str, PathParameter(description="Service id (UUID) or slug.", pattern=REFERENCE)]
SiteKey = Annotated[str, PathParameter(description="Site id (UUID) or slug.", pattern=REFERENCE)]
AreaKey = Annotated[str, PathParameter(description="Area code, e.g. E23000012.", pattern=AREA_CODE)]
AreaFilter = Annotated[str | None, QueryParameter(description="An area code.", pattern=AREA_CODE)]
NeedFilter = Annotated[str | None, QueryParameter(description="Needs-taxonomy code.", pattern=CODE, max_length=64)]
TextFilter = Annotated[
    str | None,
    QueryParameter(description="Text in slug, name, organisation or description.", max_length=200, pattern=SINGLE_LINE),
]


def each(item: Any, most: int) -> dict[str, Any]:
    """The OpenAPI schema of a query parameter repeated at most `most` times, whose every value is `item`, for
    `schema_extra`: litestar checks the values against the msgspec constraints, but leaves them out of the document."""
    return msgspec.json.schema(Annotated[list[item], Meta(max_length=most)])


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


CSV = "text/csv; charset=utf-8"


def as_csv(text: str, name: str) -> Response[str]:
    """A CSV download named `name`."""
    return Response(text, media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'})
