"""Each section's form read into the service's document, as pure functions: the fields a form names by their path
in the API's JSON (service/stewardship/editing.py has the sections and the checks), the values as people type them
(9:30, 25/12/2026, "10:00-16:00, 18:00-20:00", a GeoJSON file), and what the form alone shows is wrong."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from service.domain.errors import FieldProblem
from service.domain.schedule import LONDON
from service.stewardship.editing import MOST_ROWS, Doc, Form, Section

# --- reading a form -----------------------------------------------------------------------------------------


class Reading:
    """One section's form, read field by field into the document; problems a form alone can show (a required
    answer missing, a number that is not a number) are kept, and the value as typed is shown back."""

    def __init__(self, form: Form) -> None:
        self.form = form
        self.problems: list[FieldProblem] = []

    def problem(self, field: str, reason: str) -> None:
        self.problems.append(FieldProblem(field=field, reason=reason))

    def many(self, name: str) -> list[str]:
        return [v.strip() for v in self.form.get(name, ()) if v.strip()]

    def text(self, name: str) -> str:
        """A value, with a form's CRLF line ends as the API keeps them (LF) and the ends trimmed."""
        values = self.form.get(name, ())
        return values[0].replace("\r\n", "\n").strip() if values else ""

    def ticked(self, name: str) -> bool:
        return "yes" in self.many(name)

    def needed(self, name: str, reason: str) -> str:
        value = self.text(name)
        if not value:
            self.problem(name, reason)
        return value

    def number(self, name: str, what: str, whole: bool = False) -> float | int | str | None:
        value = self.text(name).replace(",", "")
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            self.problem(name, f"{what} must be a number, like {'4' if whole else '17.5'}")
            return value
        if whole and not number.is_integer():
            self.problem(name, f"{what} must be a whole number")
            return value
        if number != number or number in (float("inf"), float("-inf")):
            self.problem(name, f"{what} must be a number")
            return value
        return int(number) if whole else number

    def clock(self, name: str, what: str, closing: bool = False) -> str:
        """A time of day, as HH:MM (9:30, 0930 and 9.30 read as 09:30; 24:00 only for a closing time)."""
        value = self.text(name)
        found = re.fullmatch(r"([0-9]{1,2})[:.]?([0-9]{2})", value)
        if found is None:
            self.problem(name, f"enter {what} as a 24-hour time, like 09:30")
            return value
        hour, minute = int(found.group(1)), int(found.group(2))
        if minute > 59 or hour > 24 or (hour == 24 and (minute or not closing)):
            self.problem(name, f"{what} must be a real time, from 00:00 to {'24:00' if closing else '23:59'}")
            return value
        return f"{hour:02d}:{minute:02d}"

    def date(self, name: str, what: str) -> str:
        """A date as YYYY-MM-DD; 25/12/2026 reads as 25 December 2026."""
        value = self.text(name)
        found = re.fullmatch(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", value)
        text = f"{found.group(3)}-{int(found.group(2)):02d}-{int(found.group(1)):02d}" if found else value
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            self.problem(name, f"enter {what} as a real date, like 25/12/2026")
            return value

    def ranges(self, name: str, what: str) -> list[dict[str, str]]:
        """Hours written as ranges: "10:00-16:00, 18:00-20:00"; blank or "closed" is none."""
        value = self.text(name)
        if value.lower() in ("", "closed"):
            return []
        hours = []
        for part in re.split(r"[,;]", value):
            found = re.fullmatch(r"\s*([0-9]{1,2}[:.]?[0-9]{2})\s*(?:-|\u2013|to)\s*([0-9]{1,2}[:.]?[0-9]{2})\s*", part)
            if found is None:
                self.problem(name, f"write {what} as times from and to, like 10:00-16:00, 18:00-20:00")
                return [{"raw": value}]
            hours.append({"opens": found.group(1), "closes": found.group(2)})
        out = []
        for h in hours:
            opens, closes = _clock_text(h["opens"]), _clock_text(h["closes"])
            if opens is None or closes is None or opens == "24:00":
                self.problem(name, f"{what} must be real 24-hour times, like 10:00-16:00")
                return [{"raw": value}]
            out.append({"opens": opens, "closes": closes})
        return out

    def rows(self, name: str) -> int:
        try:
            return max(0, min(MOST_ROWS, int(self.text(f"{name}.rows") or "0")))
        except ValueError:
            return 0


def _clock_text(value: str) -> str | None:
    found = re.fullmatch(r"([0-9]{1,2})[:.]?([0-9]{2})", value)
    if found is None or int(found.group(2)) > 59 or int(found.group(1)) > 24:
        return None
    if int(found.group(1)) == 24 and int(found.group(2)):
        return None
    return f"{int(found.group(1)):02d}:{found.group(2)}"


def slug_from(name: str) -> str:
    """A slug made from a name: accents dropped (café -> cafe), anything else not a letter or digit a hyphen."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:80].strip("-")


def read_about(r: Reading, current: Doc) -> Doc:
    name = r.needed("name", "enter the service's name")
    organisation = r.needed("organisation", "enter the organisation that runs it")
    slug = r.text("slug") or slug_from(name)
    if not slug:
        r.problem("slug", "enter a slug: lower-case letters, digits and single hyphens")
    return {"name": name, "organisation": organisation, "slug": slug, "description": r.text("description")}


def read_kind(r: Reading, current: Doc) -> Doc:
    kind = r.needed("kind", "choose what kind of service it is")
    contexts = r.many("contexts")
    if not contexts:
        r.problem("contexts", "choose at least one context it takes referrals in")
    access = r.many("access_modes")
    if not access:
        r.problem("access_modes", "choose at least one way a person reaches it")
    return {
        "kind": kind,
        "pathway_role": r.text("pathway_role") or None,
        "pathway_priority": r.number("pathway_priority", "the pathway priority", whole=True),
        "contexts": contexts,
        "access_modes": access,
        "police_station": r.ticked("police_station"),
        "status": r.text("status") or "active",
    }


def read_eligibility(r: Reading, current: Doc) -> Doc:
    return {
        "eligibility": {
            "age": {
                "min": r.number("eligibility.age.min", "the youngest age"),
                "max": r.number("eligibility.age.max", "the age it stops at"),
            },
            "genders": r.many("eligibility.genders"),
            "needs": r.many("eligibility.needs"),
            "circumstances_required": r.many("eligibility.circumstances_required"),
            "circumstances_excluded": r.many("eligibility.circumstances_excluded"),
        }
    }


def geometry_from(text: str) -> Any:
    """A GeoJSON Polygon or MultiPolygon as uploaded: the geometry itself, a Feature, or a FeatureCollection whose
    polygons are joined into one MultiPolygon. Only `type` and `coordinates` are kept (a `bbox` or other members
    are dropped). Raises ValueError in words."""
    try:
        value = msgspec.json.decode(text)
    except (msgspec.DecodeError, RecursionError):
        raise ValueError("the file is not GeoJSON: it is not valid JSON, or it is nested too deeply") from None
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        features = value.get("features")
        parts: list[Any] = []
        for feature in features if isinstance(features, list) else []:
            geometry = feature.get("geometry") if isinstance(feature, dict) else None
            coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
            if not isinstance(coordinates, list) or not isinstance(geometry, dict):
                continue
            if geometry.get("type") == "Polygon":
                parts.append(coordinates)
            elif geometry.get("type") == "MultiPolygon":
                parts.extend(coordinates)
        if not parts:
            raise ValueError("the file holds no Polygon or MultiPolygon")
        value = (
            {"type": "MultiPolygon", "coordinates": parts}
            if len(parts) > 1
            else {"type": "Polygon", "coordinates": parts[0]}
        )
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError(
            "the file must hold a GeoJSON Polygon or MultiPolygon (a Feature or FeatureCollection of them)"
        )
    return {"type": value["type"], "coordinates": value.get("coordinates")}


def read_catchment(r: Reading, current: Doc) -> Doc:
    lat, lon = r.text("location.lat"), r.text("location.lon")
    location: Any = None
    if lat or lon:
        location = {
            "lat": r.number("location.lat", "the latitude"),
            "lon": r.number("location.lon", "the longitude"),
        }
        if not lat:
            r.problem("location.lat", "enter the latitude as well as the longitude")
        if not lon:
            r.problem("location.lon", "enter the longitude as well as the latitude")
    kind = r.text("catchment.type")
    catchment: Doc
    match kind:
        case "national":
            catchment = {"type": "national"}
        case "areas":
            codes = r.many("catchment.codes")
            if not codes:
                r.problem("catchment.codes", "choose at least one area it serves")
            catchment = {"type": "areas", "codes": codes}
        case "radius":
            km = r.number("catchment.km", "the radius")
            if km is None:
                r.problem("catchment.km", "enter the radius in kilometres")
            catchment = {"type": "radius", "km": km}
        case "polygon":
            upload = r.text("catchment.file") or r.text("catchment.geojson")
            kept = current.get("catchment") or {}
            if upload:
                try:
                    catchment = {"type": "polygon", "geometry": geometry_from(upload)}
                except ValueError as e:
                    r.problem("catchment.file", str(e))
                    catchment = {"type": "polygon"}
            elif kept.get("type") == "polygon" and kept.get("geometry"):
                catchment = kept
            else:
                r.problem("catchment.file", "choose a GeoJSON file of the area it serves")
                catchment = {"type": "polygon"}
        case _:
            r.problem("catchment.type", "choose how to say where it serves")
            catchment = {"type": ""}
    return {"location": location, "catchment": catchment}


def read_hours(r: Reading, current: Doc) -> Doc:
    weekly = []
    for i in range(r.rows("schedule.weekly")):
        at = f"schedule.weekly[{i}]"
        day, opens, closes = r.text(f"{at}.day"), r.text(f"{at}.opens"), r.text(f"{at}.closes")
        if not (day or opens or closes):
            continue
        if not day:
            r.problem(f"{at}.day", "choose the day this session opens")
        weekly.append(
            {
                "day": day,
                "opens": r.clock(f"{at}.opens", "the opening time"),
                "closes": r.clock(f"{at}.closes", "the closing time", closing=True),
            }
        )
    mode = r.text("schedule.bank_holidays.mode") or "normal"
    exceptions = []
    for i in range(r.rows("schedule.exceptions")):
        at = f"schedule.exceptions[{i}]"
        if not (r.text(f"{at}.date") or r.text(f"{at}.hours") or r.text(f"{at}.note")):
            continue
        exceptions.append(
            {
                "date": r.date(f"{at}.date", "the date"),
                "hours": r.ranges(f"{at}.hours", "the hours that day"),
                "note": r.text(f"{at}.note"),
            }
        )
    return {
        "schedule": {
            "open_24_7": r.ticked("schedule.open_24_7"),
            "weekly": weekly,
            "bank_holidays": {
                "mode": mode,
                "hours": r.ranges("schedule.bank_holidays.hours", "bank holiday hours") if mode == "special" else [],
            },
            "exceptions": exceptions,
        }
    }


def read_contacts(r: Reading, current: Doc) -> Doc:
    phones = []
    for i in range(r.rows("contacts.phones")):
        at = f"contacts.phones[{i}]"
        number, label = r.text(f"{at}.number"), r.text(f"{at}.label")
        if not (number or label):
            continue
        if not number:
            r.problem(f"{at}.number", "enter the phone number, or clear its label")
        phones.append(
            {
                "number": number,
                "label": label,
                "twenty_four_hour": r.ticked(f"{at}.twenty_four_hour"),
                "professionals_only": r.ticked(f"{at}.professionals_only"),
            }
        )
    lines = [line.strip() for line in r.text("contacts.address.lines").split("\n") if line.strip()]
    town, postcode = r.text("contacts.address.town"), r.text("contacts.address.postcode")
    address = {"lines": lines, "town": town, "postcode": postcode or None} if lines or town or postcode else None
    return {
        "contacts": {
            "phones": phones,
            "email": r.text("contacts.email") or None,
            "website": r.text("contacts.website") or None,
            "address": address,
        }
    }


def read_referral(r: Reading, current: Doc) -> Doc:
    return {
        "referral": {
            "referrers": r.many("referral.referrers"),
            "methods": r.many("referral.methods"),
            "instructions": r.text("referral.instructions"),
            "handover_target_minutes": r.number("referral.handover_target_minutes", "the handover target", whole=True),
        }
    }


def until_shown(value: Any) -> tuple[str, str]:
    """A stored capacity `until` as the form shows it: a UK date and a time to the minute, London time."""
    if not isinstance(value, str):
        return "", ""
    try:
        local = dt.datetime.fromisoformat(value).astimezone(LONDON)
    except (ValueError, OverflowError):
        return "", ""
    return local.strftime("%d/%m/%Y"), local.strftime("%H:%M")


def read_capacity(r: Reading, current: Doc) -> Doc:
    status = r.text("capacity.status") or "unknown"
    day, time = r.text("capacity.until_date"), r.text("capacity.until_time")
    until: str | None = None
    kept = (current.get("capacity") or {}).get("until")
    if day or time:
        on, at = r.date("capacity.until_date", "the date"), r.clock("capacity.until_time", "the time")
        if (day, time) == until_shown(kept):
            until = kept  # unchanged as shown: kept to the second, not rounded to the minute
        else:
            try:
                moment = dt.datetime.combine(dt.date.fromisoformat(on), dt.time.fromisoformat(at), LONDON)
                until = moment.astimezone(dt.UTC).isoformat()
            except ValueError:
                until = None
    return {"capacity": {"status": status, "until": until, "note": r.text("capacity.note")}}


def read_pathway(r: Reading, current: Doc) -> Doc:
    finds = r.text("finds_needs")
    return {
        "general_entry_for": r.many("general_entry_for"),
        "fallback_for_needs": r.many("fallback_for_needs"),
        "fallback_for_steps": r.many("fallback_for_steps"),
        "group_pathway": r.ticked("group_pathway"),
        "finds_needs": True if finds == "yes" else False if finds == "no" else None,
        "external_ids": {
            "ods_code": r.text("external_ids.ods_code") or None,
            "open_referral_id": r.text("external_ids.open_referral_id") or None,
        },
    }


READERS: dict[str, Callable[[Reading, Doc], Doc]] = {
    "about": read_about,
    "kind": read_kind,
    "eligibility": read_eligibility,
    "catchment": read_catchment,
    "hours": read_hours,
    "contacts": read_contacts,
    "referral": read_referral,
    "capacity": read_capacity,
    "pathway": read_pathway,
}


ROWS = {
    "schedule.weekly": ("day", "opens", "closes"),
    "schedule.exceptions": ("date", "hours", "note"),
    "contacts.phones": ("number", "label", "twenty_four_hour", "professionals_only"),
}
"""The lists a form shows as rows, and each row's fields: a row left empty is dropped."""


def compacted(form: Form) -> dict[str, Sequence[str]]:
    """The form with each list's empty rows dropped and the rest numbered from 0, as they will be kept, so that a
    problem found in a row names the row the page shows again (a ticked box alone does not keep a row)."""
    out = {k: v for k, v in form.items() if not any(k.startswith(f"{name}[") for name in ROWS)}
    for name, subfields in ROWS.items():
        try:
            rows = max(0, min(MOST_ROWS, int((form.get(f"{name}.rows") or ["0"])[0] or "0")))
        except ValueError:
            rows = 0
        kept = 0
        for i in range(rows):
            values = {f: form.get(f"{name}[{i}].{f}", ()) for f in subfields}
            typed = [f for f in subfields[:3] if f not in ("twenty_four_hour", "professionals_only")]
            if not any(v.strip() for f in typed for v in values[f]):
                continue
            for f, v in values.items():
                out[f"{name}[{kept}].{f}"] = v
            kept += 1
        out[f"{name}.rows"] = [str(kept)]
    return out


def read_section(section: Section, form: Form, current: Doc) -> tuple[Doc, list[FieldProblem]]:
    """A section's form as the document's fields it writes, and what the form alone shows is wrong."""
    reading = Reading(compacted(form))
    fragment = READERS[section.name](reading, current)
    return fragment, reading.problems
