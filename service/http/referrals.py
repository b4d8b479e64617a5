"""/v1/referral-options: ranked, explained referral options for a person at a place, now."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import FromQuery, JSONBody, QueryParameter

from service.domain.answer import ReferralAnswer
from service.domain.decoding import problem_from
from service.domain.errors import FieldProblem, InvalidInput, MalformedInput
from service.domain.routing import POSTCODE_SEARCH, PersonGender, ReferralRequest
from service.domain.types import REFERENCE, Context
from service.http.access import READ
from service.http.deps import search_of
from service.http.problems import problem_responses
from service.index.origins import referral_options

CodeList = Annotated[
    list[str] | None,
    QueryParameter(description="Codes, repeated (needs=a&needs=b) or comma-separated (needs=a,b)."),
]
# GET parameter names for the fields of the POST body, so a problem names what the client sent.
_QUERY_NAMES = {
    "person.age": "age",
    "person.gender": "gender",
    "person.needs": "needs",
    "person.circumstances": "circumstances",
    "origin.postcode": "postcode",
    "origin.site": "site",
    "origin.lat": "lat",
    "origin.lon": "lon",
}


_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _split(values: list[str] | None, field: str, what: str) -> list[str]:
    """Repeated or comma-separated codes. In a query they are free text, so one that cannot be a code is simply
    unknown (422, as for any other unknown code), not malformed."""
    codes = [v.strip() for value in values or () for v in value.split(",") if v.strip()]
    problems = [
        FieldProblem(field=f"{field}[{i}]", reason=f"unknown {what} {code[:64]!r}")
        for i, code in enumerate(codes)
        if not _CODE.fullmatch(code)
    ]
    if problems:
        raise InvalidInput(tuple(problems))
    return codes


def _origin(lat: float | None, lon: float | None, site: str | None, postcode: str | None) -> dict[str, Any]:
    given = [
        name
        for name, v in (
            ("lat/lon", lat if lat is not None or lon is not None else None),
            ("site", site),
            ("postcode", postcode),
        )
        if v is not None
    ]
    # Which parameters go together is a rule the OpenAPI document cannot state: a 422, like other rules.
    if len(given) != 1:
        raise InvalidInput((FieldProblem(field="origin", reason="give exactly one of lat and lon, site, or postcode"),))
    if site is not None:
        return {"type": "site", "site": site}
    if postcode is not None:
        return {"type": "postcode", "postcode": postcode}
    if lat is None or lon is None:
        raise InvalidInput((FieldProblem(field="lat" if lat is None else "lon", reason="give both lat and lon"),))
    return {"type": "point", "lat": lat, "lon": lon}


def request_from_query(
    *,
    lat: float | None,
    lon: float | None,
    site: str | None,
    postcode: str | None,
    context: str,
    age: float,
    gender: str,
    needs: list[str] | None,
    circumstances: list[str] | None,
    at: dt.datetime | None = None,
    limit: int = 10,
    max_travel_minutes: int | None = None,
    explain: bool = False,
) -> ReferralRequest:
    """A search from query parameters (the API's GET and the lookup page); problems name the parameters."""
    raw = {
        "origin": _origin(lat, lon, site, postcode),
        "context": context,
        "person": {
            "age": age,
            "gender": gender,
            "needs": _split(needs, "needs", "need"),
            "circumstances": _split(circumstances, "circumstances", "circumstance"),
        },
        "at": at,
        "limit": limit,
        "max_travel_minutes": max_travel_minutes,
        "explain": explain,
    }
    try:
        return msgspec.convert(raw, ReferralRequest)
    except msgspec.ValidationError as e:
        problem = problem_from(e)
        raise MalformedInput((FieldProblem(field=query_field(problem.field), reason=problem.reason),)) from e


def query_field(field: str) -> str:
    for body_name, query_name in _QUERY_NAMES.items():
        if field == body_name or field.startswith(body_name + "["):
            return query_name
    return field


class ReferralController(Controller):
    path = "/v1/referral-options"
    tags = ["referral options"]
    guards = READ

    @post("/", operation_id="findReferralOptions", status_code=200, responses=problem_responses(400, 413, 422))
    async def find(self, data: JSONBody[ReferralRequest], state: State) -> ReferralAnswer:
        """Rank the services that can take this person here and now, and say why."""
        search = search_of(state)
        return await referral_options(search.index, data, search.geocoder)

    @get("/", operation_id="findReferralOptionsByQuery", responses=problem_responses(400, 422))
    async def find_by_query(
        self,
        state: State,
        context: FromQuery[Context],
        age: Annotated[float, QueryParameter(ge=0, le=130, description="Age in years.")],
        lat: FromQuery[float | None] = None,
        lon: FromQuery[float | None] = None,
        site: Annotated[str | None, QueryParameter(pattern=REFERENCE, description="Site id or slug.")] = None,
        postcode: Annotated[
            str | None, QueryParameter(max_length=10, pattern=POSTCODE_SEARCH, description="Full postcode or district.")
        ] = None,
        gender: FromQuery[PersonGender] = "not_stated",
        needs: CodeList = None,
        circumstances: CodeList = None,
        at: FromQuery[dt.datetime | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=50)] = 10,
        max_travel_minutes: Annotated[int | None, QueryParameter(ge=1, le=1440)] = None,
        explain: FromQuery[bool] = False,
    ) -> ReferralAnswer:
        """The same search with query parameters, for simple clients and shareable links."""
        request = request_from_query(
            lat=lat,
            lon=lon,
            site=site,
            postcode=postcode,
            context=context,
            age=age,
            gender=gender,
            needs=needs,
            circumstances=circumstances,
            at=at,
            limit=limit,
            max_travel_minutes=max_travel_minutes,
            explain=explain,
        )
        try:
            search = search_of(state)
            return await referral_options(search.index, request, search.geocoder)
        except InvalidInput as e:  # name the query parameter, keeping the status (400 or 422)
            raise type(e)(tuple(FieldProblem(field=query_field(p.field), reason=p.reason) for p in e.problems)) from e
