"""A service's answers in words, as pure functions: each section's answers as "Check your answers" lists them, a
change to one field as the questions it answers differently, and an edit carried over onto a newer version. The
forms themselves are read in service/stewardship/editing.py."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping
from typing import Any

import msgspec

from service.domain.schedule import LONDON
from service.stewardship.editing import DAY_WORDS, Doc, Section, at, section_of, words

# --- answers in words -------------------------------------------------------------------------------------


def _list(values: Any, names: Mapping[str, str]) -> str:
    if not values:
        return "None"
    return ", ".join(names.get(v, words(v)) for v in values)


def _hours(hours: Any) -> str:
    return ", ".join(f"{h.get('opens')}-{h.get('closes')}" for h in hours or () if isinstance(h, dict)) or "closed"


def _day(value: Any) -> str:
    try:
        return dt.date.fromisoformat(str(value)).strftime("%-d %B %Y")
    except ValueError:
        return str(value)


def _number(value: Any) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def answers(section: Section, doc: Doc, names: Mapping[str, str]) -> list[tuple[str, str]]:
    """A section's answers in words, as "Check your answers" lists them: (question, answer)."""
    match section.name:
        case "about":
            return [
                ("Name", doc.get("name") or ""),
                ("Organisation", doc.get("organisation") or ""),
                ("Slug", doc.get("slug") or ""),
                ("Description", doc.get("description") or "None"),
            ]
        case "kind":
            return [
                ("Kind", words(doc.get("kind") or "")),
                ("Pathway step", words(doc["pathway_role"]) if doc.get("pathway_role") else "The kind's own"),
                ("Pathway priority", _number(doc.get("pathway_priority")) or "None"),
                ("Contexts", _list(doc.get("contexts"), {})),
                ("Reached by", _list(doc.get("access_modes"), {})),
                ("A police station or custody suite", "Yes" if doc.get("police_station") else "No"),
                ("Status", words(doc.get("status") or "active")),
            ]
        case "eligibility":
            el = doc.get("eligibility") or {}
            age = el.get("age") or {}
            low, high = _number(age.get("min")), _number(age.get("max"))
            band = (
                f"From {low}, under {high}"
                if low and high
                else f"{low} and over"
                if low
                else f"Under {high}"
                if high
                else "Any age"
            )
            return [
                ("Ages", band),
                ("Genders", _list(el.get("genders"), {}) if el.get("genders") else "All"),
                ("Needs", _list(el.get("needs"), names)),
                ("Circumstances required", _list(el.get("circumstances_required"), names)),
                ("Circumstances excluded", _list(el.get("circumstances_excluded"), names)),
            ]
        case "catchment":
            loc = doc.get("location")
            c = doc.get("catchment") or {}
            match c.get("type"):
                case "areas":
                    serves = "Areas: " + _list(c.get("codes"), names)
                case "radius":
                    serves = f"Within {_number(c.get('km'))} km of its location"
                case "polygon":
                    rings = at(c, "geometry.coordinates") or []
                    serves = f"A drawn area ({len(rings)} part{'s' if len(rings) != 1 else ''})"
                case "national":
                    serves = "Anywhere in England and Wales"
                case _:
                    serves = "Not given"
            where = f"{_number(loc.get('lat'))}, {_number(loc.get('lon'))}" if isinstance(loc, dict) else "None"
            return [("Location (latitude, longitude)", where), ("Serves", serves)]
        case "hours":
            s = doc.get("schedule") or {}
            weekly = "; ".join(
                f"{DAY_WORDS.get(w.get('day'), w.get('day'))} {w.get('opens')}-{w.get('closes')}"
                for w in s.get("weekly") or ()
            )
            bank = s.get("bank_holidays") or {}
            mode = bank.get("mode") or "normal"
            said = {"normal": "As the weekly sessions", "closed": "Closed"}.get(mode) or _hours(bank.get("hours"))
            exceptions = "; ".join(
                f"{_day(e.get('date'))}: {_hours(e.get('hours'))}{' (' + e['note'] + ')' if e.get('note') else ''}"
                for e in s.get("exceptions") or ()
            )
            return [
                ("Open 24 hours, 7 days", "Yes" if s.get("open_24_7") else "No"),
                ("Weekly sessions", weekly or "None"),
                ("Bank holidays", said),
                ("Dated exceptions", exceptions or "None"),
            ]
        case "contacts":
            c = doc.get("contacts") or {}
            phones = "; ".join(
                f"{p.get('number')}{' (' + p['label'] + ')' if p.get('label') else ''}"
                f"{', 24 hours' if p.get('twenty_four_hour') else ''}"
                f"{', professionals only' if p.get('professionals_only') else ', public'}"
                for p in c.get("phones") or ()
            )
            a = c.get("address") or {}
            address = ", ".join([*(a.get("lines") or []), a.get("town") or "", a.get("postcode") or ""]).strip(", ")
            return [
                ("Phones", phones or "None"),
                ("Email", c.get("email") or "None"),
                ("Website", c.get("website") or "None"),
                ("Address", address or "None"),
            ]
        case "referral":
            rf = doc.get("referral") or {}
            target = rf.get("handover_target_minutes")
            return [
                ("Who refers", _list(rf.get("referrers"), {})),
                ("How", _list(rf.get("methods"), {})),
                ("Instructions", rf.get("instructions") or "None"),
                ("Handover target", f"{target} minutes" if target is not None else "None"),
            ]
        case "capacity":
            cap = doc.get("capacity") or {}
            until = cap.get("until")
            when = ""
            if until:
                with contextlib.suppress(ValueError):
                    when = " until " + dt.datetime.fromisoformat(until).astimezone(LONDON).strftime("%-d %B %Y %H:%M")
            return [
                ("Capacity", words(cap.get("status") or "unknown") + when),
                ("Note", cap.get("note") or "None"),
            ]
        case _:
            finds = doc.get("finds_needs")
            ids = doc.get("external_ids") or {}
            return [
                ("General entry point in", _list(doc.get("general_entry_for"), {})),
                ("Catch-all for needs", _list(doc.get("fallback_for_needs"), names)),
                ("Catch-all for steps", _list(doc.get("fallback_for_steps"), {})),
                ("A group pathway", "Yes" if doc.get("group_pathway") else "No"),
                (
                    "Finds or meets a cohort's needs",
                    "Yes" if finds is True else "No" if finds is False else "The kind's default",
                ),
                ("ODS code", ids.get("ods_code") or "None"),
                ("Open Referral id", ids.get("open_referral_id") or "None"),
            ]


# --- a change in words -------------------------------------------------------------------------------------


def said_value(value: object) -> str:
    """A value as one short line: nothing, a word, or its JSON, cut at 200 characters."""
    if value is None:
        return "(none)"
    text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
    return text if len(text) <= 200 else text[:199] + "\u2026"


def _nested(dotted: str, value: Any) -> Doc:
    doc: Doc = {}
    inner = doc
    parts = dotted.split(".")
    for part in parts[:-1]:
        inner = inner.setdefault(part, {})
    inner[parts[-1]] = value
    return doc


def change_words(field: str, old: Any, new: Any, names: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """A change to one field of a service as a person reads it: each question whose answer it changes, with the
    answer before and after, in the words of "Check your answers"; the field's path and its values where no
    question shows it (a verification, say)."""
    section = section_of(field)
    if section is not None:
        with contextlib.suppress(AttributeError, TypeError, KeyError, IndexError, ValueError):
            before = answers(section, _nested(field, old), names)
            after = answers(section, _nested(field, new), names)
            rows = [(q, was, now) for (q, was), (_, now) in zip(before, after, strict=True) if was != now]
            if rows:
                return rows
    return [(field, said_value(old), said_value(new))]


# --- a change carried over onto a newer version ---------------------------------------------------------------


def _plain(doc: Doc) -> Doc:
    """A document as JSON reads it back (tuples as lists), so that two documents compare field by field."""
    plain: Doc = msgspec.json.decode(msgspec.json.encode(doc))
    return plain


def carried_over(base: Doc, mine: Doc, theirs: Doc) -> tuple[Doc, list[str]]:
    """My changes (base -> mine) made again on their newer version, a top-level field at a time (a catchment, the
    eligibility or the schedule is carried whole, so the result is always a document the API's types take); and
    the fields we both changed, where mine is kept, for the page to point out."""
    base, mine, merged = _plain(base), _plain(mine), _plain(theirs)
    both = []
    for field in sorted(base.keys() | mine.keys()):
        if base.get(field) == mine.get(field):
            continue
        if merged.get(field) != base.get(field):
            both.append(field)
        if field in mine:
            merged[field] = mine[field]
        else:
            merged.pop(field, None)
    return merged, both
