"""The small readings an Open Referral import makes of HSDS values: ids, slugs, clock times, dates, area codes,
GeoJSON in text, whole days and bank-holiday copies. Pure."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import msgspec

from service.domain.decoding import convert
from service.domain.errors import MalformedInput
from service.domain.model import MultiPolygon, Polygon
from service.openreferral import hsds
from service.openreferral.mapping import AREA_URN, GSS_URI, derived_schedule_id
from service.openreferral.terms import NAMESPACE, stable_id

TIME = re.compile(r"^([01][0-9]|2[0-4]):([0-5][0-9])(?::([0-5][0-9])(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?$")


def our_id(source: str) -> tuple[uuid.UUID, str | None]:
    """The feed's id when it is a UUID; otherwise a UUID made from it, and the source's id kept."""
    try:
        return uuid.UUID(source), None
    except ValueError:
        return uuid.uuid5(NAMESPACE, f"open-referral/{source}"), source


def slug_for(name: str, source_id: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-")
    suffix = re.sub(r"[^a-z0-9]", "", source_id.lower())[:8] or "x"
    return f"{words}-{suffix}" if words else f"service-{suffix}"


def whole_day(times: tuple[str, str]) -> bool:
    """00:00 to 00:00 is the whole day (our own export writes it so), and so is 00:00 to 23:59, which HSDS's guidance
    on schedules gives as the sign of a service open 24 hours."""
    return times[0] == "00:00" and times[1] in ("00:00", "23:59")


def as_int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def clock(value: str | None) -> str | None:
    m = TIME.match(value or "")
    if m is None or (m.group(1) == "24" and m.group(2) != "00"):
        return None
    return f"{m.group(1)}:{m.group(2)}"


def as_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def area_code(uri: str | None) -> str | None:
    for prefix in (GSS_URI, AREA_URN):
        if uri and uri.startswith(prefix) and uri[len(prefix) :]:
            return uri[len(prefix) :]
    return None


def geojson(text: str) -> dict[str, Any] | None:
    try:
        value = msgspec.json.decode(text)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if isinstance(value, dict) and value.get("type") in ("Polygon", "MultiPolygon") and "coordinates" in value:
        return {"type": value["type"], "coordinates": value["coordinates"]}
    return None


def is_geometry(value: dict[str, Any] | None) -> bool:
    if value is None:
        return False
    try:
        if value["type"] == "Polygon":
            convert(value, Polygon)
        else:
            convert(value, MultiPolygon)
    except MalformedInput:
        return False
    return True


def is_bank_holiday_copy(sid: str, schedule: hsds.Schedule) -> bool:
    """A schedule our export spelt out from a bank-holiday rule (the rule itself is an attribute)."""
    if not schedule.valid_from:
        return False
    prefix, day = derived_schedule_id(sid, "bank_holiday"), schedule.valid_from
    return schedule.id in {stable_id(prefix, day), *(stable_id(prefix, day, str(i)) for i in range(100))}
