"""Services described in words for people: schedules, eligibility and catchments."""

from __future__ import annotations

from service.domain.codes import CAPACITY_WORDS as CAPACITY_WORDS  # re-exported for the templates
from service.domain.codes import KIND_WORDS as KIND_WORDS
from service.domain.model import (
    AreaCatchment,
    NationalCatchment,
    PolygonCatchment,
    RadiusCatchment,
    Schedule,
    Service,
)
from service.domain.reasons import HERE_KM

CONTEXT_WORDS = {
    "custody": "in custody",
    "street": "on the street",
    "court": "at court",
    "community": "in the community",
}
GENDER_WORDS = {"female": ("woman", "girl"), "male": ("man", "boy"), "non_binary": ("non-binary", "non-binary")}


def search_summary(
    origin: str, context: str, age: str, gender: str | None, needs: list[str], circumstances: list[str]
) -> str:
    """The search in one line, above its answer: "Hull custody suite, in custody; woman, age 30; Mental health,
    Alcohol use; Admits the offence." (needs and circumstances as their labels)."""
    adult = _number(age) >= 18
    who = GENDER_WORDS.get(gender or "")
    person = (
        f"{who[0 if adult else 1]}, age {age}"
        if who
        else f"age {age}"
        + (", gender not stated" if (gender or "not_stated") == "not_stated" else f", gender {gender}")
    )
    parts = [f"{origin}, {CONTEXT_WORDS.get(context, context)}", person]
    if needs:
        parts.append(", ".join(needs))
    if circumstances:
        parts.append(", ".join(circumstances))
    return "; ".join(parts) + "."


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


HERE = {"custody_suite": "At this suite", "court": "At this court"}


def distance_words(km: float, minutes: int, site_kind: str | None) -> str:
    """How far an option is, as an officer says it: "At this suite" when it is where they are (under 50 m)."""
    if km < HERE_KM:
        return HERE.get(site_kind or "", "At this site" if site_kind else "Here")
    return f"{km:.1f} km, about {minutes} min by road"


DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


def hours(opens: str, closes: str) -> str:
    overnight = closes <= opens and closes != "24:00"
    return f"{opens} to {closes}" + (" (next day)" if overnight else "")


def schedule_lines(schedule: Schedule) -> list[str]:
    lines: list[str] = []
    if schedule.open_24_7:
        lines.append("Open 24 hours a day, every day.")
    else:
        for day, name in DAY_NAMES.items():
            sessions = [hours(s.opens, s.closes) for s in schedule.weekly if s.day == day]
            lines.append(f"{name}: {', '.join(sessions) if sessions else 'closed'}")
    bank = schedule.bank_holidays
    if not schedule.open_24_7:
        match bank.mode:
            case "closed":
                lines.append("Bank holidays (England and Wales): closed.")
            case "special":
                lines.append("Bank holidays: " + ", ".join(hours(h.opens, h.closes) for h in bank.hours) + ".")
            case "normal":
                lines.append("Bank holidays: the usual hours for that day of the week.")
    for e in schedule.exceptions:
        when = e.date.strftime("%-d %B %Y")
        what = ", ".join(hours(h.opens, h.closes) for h in e.hours) if e.hours else "closed"
        lines.append(f"{when}: {what}" + (f" ({e.note})" if e.note else "") + ".")
    return lines


def age_words(service: Service) -> str:
    age = service.eligibility.age
    if age.min is None and age.max is None:
        return "All ages"
    if age.min is None:
        return f"Under {age.max:g}"
    if age.max is None:
        return f"{age.min:g} and over"
    return f"{age.min:g} to under {age.max:g}"


def catchment_words(service: Service, area_names: dict[str, str]) -> str:
    match service.catchment:
        case NationalCatchment():
            return "National: anywhere in England and Wales."
        case AreaCatchment(codes=codes):
            return "Serves: " + ", ".join(f"{area_names.get(c, c)} ({c})" for c in codes) + "."
        case PolygonCatchment():
            return "Serves the area drawn on the map."
        case RadiusCatchment(km=km):
            return f"Serves within {km:g} km of its location."
