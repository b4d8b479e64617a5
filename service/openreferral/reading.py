"""The small readings an Open Referral import makes of HSDS values: ids, slugs, clock times, dates, area codes,
GeoJSON in text, whole days, bank-holiday copies and phones. Pure."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from service.domain.decoding import convert
from service.domain.errors import FieldProblem, MalformedInput
from service.domain.model import MultiPolygon, Polygon
from service.domain.types import PHONE, SINGLE_LINE
from service.openreferral import hsds
from service.openreferral.mapping import (
    ANSWERED_24_HOURS,
    AREA_URN,
    GSS_URI,
    PROFESSIONALS_ONLY,
    derived_schedule_id,
)
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


@functools.lru_cache(maxsize=1024)
def is_geometry_text(text: str) -> bool:
    """Whether a GeoJSON text is a Polygon or MultiPolygon we could hold. Remembered by the text: a feed repeats an
    area's extent beside every service naming the area (thousands of times over at national scale)."""
    return is_geometry(geojson(text))


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
    # Tried in the order the export numbers them, stopping at the first that matches: our copies match at once
    # (a day's first hours are numbered 0), so an export's thousands of them cost a hash or two each.
    return schedule.id == stable_id(prefix, day) or any(
        schedule.id == stable_id(prefix, day, str(i)) for i in range(100)
    )


# --- phones -----------------------------------------------------------------------------------------------

MAX_PHONES: Final = 20
"""A service holds at most 20 phones (service/domain/model.py, Contacts)."""
MAX_LABEL: Final = 200
"""A phone's label is short text (service/domain/types.py, ShortText)."""
PHONE_KINDS: Final[Mapping[str, str]] = {
    "voice": "",
    "cell": "",
    "text": "text messages",
    "textphone": "textphone",
    "video": "video calls",
}
"""HSDS phone types (RFC 6350's words) held as phones, with the words the label gets for those that are not plain
calls. Fax and pager numbers, and types HSDS does not name, are not held: a number in the directory is one to call."""
_PHONE = re.compile(PHONE)
_LINE = re.compile(SINGLE_LINE)
_PROFESSIONALS = re.compile(r"\bprofessionals?[\s-]+only\b", re.IGNORECASE)


@dataclass(frozen=True)
class ReadPhone:
    """An HSDS phone read into ours (`phone`: a Phone of service/domain/model.py as JSON, None when not held), with
    what was left behind and what was assumed, each naming the field."""

    phone: dict[str, Any] | None
    left_behind: tuple[FieldProblem, ...] = ()
    assumed: tuple[FieldProblem, ...] = ()


def phone_key(number: str) -> str:
    """The digits that say which line a number is, however it is written: 01632 960101, +44 (0)1632 960101 and
    0044 1632 960101 are one number."""
    digits = "".join(c for c in number.replace("(0)", "") if c in "0123456789")
    if number.lstrip().startswith("+44"):
        return "0" + digits[2:]
    if digits.startswith("0044"):
        return "0" + digits[4:]
    return digits


def phone_words(description: str) -> tuple[str, bool, bool]:
    """An HSDS phone's description as (label, answered 24 hours, professionals only): the sentences our export adds
    for the flags (service/openreferral/mapping.py, phone_description) taken off the end, and the full stop it put
    between them and the label (so a label of ours that itself ended in a full stop comes back without it)."""
    words = description.strip()
    professionals = words.endswith(PROFESSIONALS_ONLY)
    if professionals:
        words = words.removesuffix(PROFESSIONALS_ONLY).rstrip()
    around_the_clock = words.endswith(ANSWERED_24_HOURS)
    if around_the_clock:
        words = words.removesuffix(ANSWERED_24_HOURS).rstrip()
    if (professionals or around_the_clock) and words.endswith("."):
        words = words[:-1]
    return words, around_the_clock, professionals


def read_phone(phone: hsds.HsdsPhone, where: str, fallback_label: str = "") -> ReadPhone:
    """An HSDS phone as ours: its number as written; its label from its description (else `fallback_label`, a
    contact's title or name), with the type's words and the extension added; the flags from the sentences our export
    writes. A description that says "professionals only" in any words makes the number professionals-only (never
    shown to the public): assumed, and reported so."""
    number = phone.number.strip()
    if not _PHONE.match(number):
        reason = "not a number we can hold (3 to 25 digits, spaces, brackets and hyphens; a leading +)"
        return ReadPhone(None, left_behind=(FieldProblem(field=f"{where}.number", reason=reason),))
    kind = (phone.type or "voice").strip().lower()
    if kind not in PHONE_KINDS:
        reason = f"a {kind!r} number is not held: the directory holds numbers to call"
        return ReadPhone(None, left_behind=(FieldProblem(field=f"{where}.type", reason=reason),))
    behind: list[FieldProblem] = []
    assumed: list[FieldProblem] = []
    description = " ".join((phone.description or "").split())
    label, around_the_clock, professionals = phone_words(description)
    if not professionals and _PROFESSIONALS.search(description):
        professionals = True
        reason = "it says the number is for professionals only: held as professionals-only, never shown to the public"
        assumed.append(FieldProblem(field=f"{where}.description", reason=reason))
    extras = [PHONE_KINDS[kind]] if PHONE_KINDS[kind] else []
    extension = "" if phone.extension is None else _extension(phone.extension)
    if extension and _fits(_labelled("", [*extras, f"extension {extension}"])):
        extras.append(f"extension {extension}")
    elif phone.extension not in (None, ""):
        behind.append(FieldProblem(field=f"{where}.extension", reason="not an extension we can hold"))
    label = label or " ".join(fallback_label.split())
    full = _labelled(label, extras)
    if not _fits(full):
        reason = f"not a label we can hold (one line of at most {MAX_LABEL} characters, with its type and extension)"
        behind.append(FieldProblem(field=f"{where}.description", reason=reason))
        full = _labelled("", extras)
    read = {"number": number, "label": full, "twenty_four_hour": around_the_clock, "professionals_only": professionals}
    return ReadPhone(read, tuple(behind), tuple(assumed))


def _extension(value: float | str) -> str:
    if isinstance(value, str):
        return " ".join(value.split())
    if not math.isfinite(value):
        return ""
    return str(int(value)) if value == int(value) else str(value)


def _labelled(label: str, extras: list[str]) -> str:
    if not extras:
        return label
    if not label:
        joined = ", ".join(extras)
        return joined[:1].upper() + joined[1:]
    return f"{label} ({', '.join(extras)})"


def _fits(label: str) -> bool:
    return len(label) <= MAX_LABEL and _LINE.match(label) is not None
