"""Which services outside their catchment are worth listing as near misses.

A service whose catchment does not hold the origin fails one rule only when it is otherwise fine, and may still be
the right call: a place of safety just over a district border, or the neighbouring force's street triage, may take
the person by arrangement. One across the country may not, and listing it is noise. So a service outside its
catchment is listed only when the person could be there within a travel limit (NEAR_MISS_MINUTES by default, by
the same estimate as the travel rule), or when its catchment names an area bordering one that holds the origin (the
same kind of area: a neighbouring district or force). Every other service outside its catchment is counted under
OUTSIDE_CATCHMENT, not listed.
"""

from __future__ import annotations

from collections.abc import Set

from service.domain.model import AreaCatchment, Catchment
from service.domain.routing import ROAD_FACTOR, SPEED_KMH, travel_minutes

NEAR_MISS_MINUTES = 30
"""The default travel limit for a near miss outside its catchment (PATHWAYS_NEAR_MISS_MINUTES)."""


def near_miss_km(context: str, minutes: int) -> float:
    """The straight-line distance the travel estimate puts at `minutes` in this context: within it, exactly the
    services travel_minutes puts at `minutes` or less (it rounds up to whole minutes)."""
    return minutes * SPEED_KMH[context] / 60.0 / ROAD_FACTOR


def in_adjacent_area(catchment: Catchment, adjacent: Set[str]) -> bool:
    """Whether the catchment names an area bordering the origin's (`adjacent`: the areas bordering those that hold
    the origin, of the same kind, less those that hold it)."""
    match catchment:
        case AreaCatchment(codes=codes):
            return any(code in adjacent for code in codes)
        case _:
            return False


def worth_listing_outside(
    distance_km: float | None, context: str, limit_minutes: int, catchment: Catchment, adjacent: Set[str]
) -> bool:
    """Whether a service whose catchment does not hold the origin may be listed as a near miss: within the travel
    limit (a service with no location, such as a phone line, has no distance), or serving a bordering area."""
    if distance_km is not None and travel_minutes(distance_km, context) <= limit_minutes:
        return True
    return in_adjacent_area(catchment, adjacent)
