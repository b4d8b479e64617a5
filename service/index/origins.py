"""Where a search starts: a point, a site, or a postcode resolved offline (or, if configured, online)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Literal, Protocol

from service.domain.answer import ReferralAnswer
from service.domain.errors import FieldProblem, InvalidInput
from service.domain.geometry import point_is_plausible
from service.domain.routing import Origin, PointOrigin, PostcodeOrigin, ReferralRequest, SiteOrigin, when_needed
from service.index.engine import DirectoryIndex, Resolution

log = logging.getLogger("service.geocoder")


class Geocoder(Protocol):
    async def locate(self, postcode: str) -> tuple[float, float] | None:
        """(lon, lat) of a postcode, or None when it cannot be found."""
        ...


class NominatimGeocoder:
    """Online postcode look-up through geopy's Nominatim client. Off by default: set PATHWAYS_ONLINE_GEOCODER."""

    def __init__(self, user_agent: str, timeout: float = 3.0) -> None:
        from geopy.geocoders import Nominatim

        self._client = Nominatim(user_agent=user_agent, timeout=timeout)

    async def locate(self, postcode: str) -> tuple[float, float] | None:
        from geopy.exc import GeopyError

        try:
            found = await asyncio.to_thread(self._client.geocode, {"postalcode": postcode, "country": "GB"})
        except GeopyError as e:
            log.warning("online geocoder failed: %s", type(e).__name__)
            return None
        return (float(found.longitude), float(found.latitude)) if found is not None else None


def make_geocoder(name: str, user_agent: str) -> Geocoder | None:
    match name:
        case "":
            return None
        case "nominatim":
            return NominatimGeocoder(user_agent)
        case _:
            raise ValueError(f"unknown online geocoder {name!r}; the one supported is 'nominatim'")


Resolved = tuple[Resolution, str, Literal["point", "site", "postcode"]]


async def resolve_origin(index: DirectoryIndex, origin: Origin, geocoder: Geocoder | None) -> Resolved:
    match origin:
        case PointOrigin(lat=lat, lon=lon):
            if not point_is_plausible(lon, lat):
                raise InvalidInput(
                    (FieldProblem(field="origin", reason=f"({lat}, {lon}) is outside England and Wales"),)
                )
            return index.resolve_point(lon, lat), f"{lat:.5f}, {lon:.5f}", "point"
        case SiteOrigin(site=key):
            site, where = index.resolve_site(key)
            return where, site.name, "site"
        case PostcodeOrigin(postcode=postcode):
            found = index.locate_postcode(postcode)
            if found is not None:
                code, (lon, lat) = found
                return index.resolve_point(lon, lat), code, "postcode"
            located = await geocoder.locate(postcode) if geocoder is not None else None
            if located is None or not point_is_plausible(*located):
                reason = f"unknown postcode {postcode.strip().upper()!r}: neither its sector nor its district is known"
                raise InvalidInput((FieldProblem(field="origin.postcode", reason=reason),))
            return index.resolve_point(*located), postcode.strip().upper(), "postcode"


async def referral_options(
    index: DirectoryIndex, request: ReferralRequest, geocoder: Geocoder | None
) -> ReferralAnswer:
    where, label, resolved_from = await resolve_origin(index, request.origin, geocoder)
    return index.search(
        person=request.person,
        context=request.context,
        at=when_needed(request.at, dt.datetime.now(dt.UTC)),
        where=where,
        origin_label=label,
        resolved_from=resolved_from,
        limit=request.limit,
        max_travel_minutes=request.max_travel_minutes,
        explain=request.explain,
    )
