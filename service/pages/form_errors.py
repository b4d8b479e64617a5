"""Problems with the lookup form, the GOV.UK way: each in plain words, for the field it is about.

The search reports problems for the API's callers (a field name and a reason a developer can act on); the pages put
each one in words an officer can act on, on the input it is about, and link the error summary to that input. A form
missing both the origin and the age says both at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.domain.errors import FieldProblem

AGE_EXAMPLE = "like 30 or 17.5"


@dataclass(frozen=True)
class FormError:
    group: str
    """The form group it belongs to (site, postcode, context, age, gender, needs, circumstances, at)."""
    message: str


def missing(params: Mapping[str, Any]) -> list[FormError]:
    """What a submitted form lacks, before any search: where the person is searched from, and their age."""
    errors = []
    if not (params.get("site") or params.get("postcode") or (params.get("lat") and params.get("lon"))):
        errors.append(FormError("site", "Choose a custody suite or site, or enter a postcode"))
    if not params.get("age"):
        errors.append(FormError("age", "Enter the person's age in years"))
    return errors


def in_words(problems: Sequence[FieldProblem]) -> list[FormError]:
    """The search's problems, each once, in words, on their form group."""
    out: list[FormError] = []
    for p in problems:
        error = _one(p.field.split("[")[0], p.reason)
        if error not in out:
            out.append(error)
    return out


def _one(field: str, reason: str) -> FormError:
    match field:
        case "age" | "person.age":
            if "missing" in reason:
                return FormError("age", "Enter the person's age in years")
            if "Expected `float`, got" in reason or "Expected `number`" in reason:
                return FormError("age", f"Enter the age as a number of years, {AGE_EXAMPLE}")
            return FormError("age", "Enter an age from 0 to 130")
        case "postcode" | "origin.postcode":
            if reason.startswith("unknown postcode"):
                return FormError("postcode", "That postcode is not one we know: enter another, or just its district")
            return FormError("postcode", "Enter a postcode in England or Wales, like HU1 2AA, or just its district")
        case "site" | "origin.site":
            return FormError("site", "Choose a custody suite or site from the list")
        case "origin" if "outside England and Wales" in reason:
            return FormError("postcode", "That place is outside England and Wales: choose a site or enter a postcode")
        case "origin":
            return FormError("site", "Choose a custody suite or site, or enter a postcode")
        case "lat" | "lon" | "origin.lat" | "origin.lon":
            return FormError("postcode", "Your location could not be used: choose a site or enter a postcode")
        case "needs" | "person.needs":
            return FormError("needs", "Choose the person's needs from the list")
        case "circumstances" | "person.circumstances":
            return FormError("circumstances", "Choose circumstances from the list")
        case "gender" | "person.gender":
            return FormError("gender", "Choose a gender from the list")
        case "context":
            return FormError("context", "Choose where the person is")
        case "at":
            return FormError("at", "Enter a date and time between 2000 and 2100, or leave it blank for now")
        case "at_release":
            return FormError("at_release", "Choose 'While held': 'At release' is for custody and court searches")
        case _:
            return FormError("site", reason[:1].upper() + reason[1:])
