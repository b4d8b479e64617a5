"""The control-room mode of the lookup (Right Care, Right Person): where the call is (a postcode or an OS grid
reference), what it is about and the threshold questions as radio buttons, the person's age and gender; then the
threshold's answer and the pathway, results first. The same search as the API's /v1/control-room/responses
(service/search/control_room.py); a plain GET form, so every answer is a shareable URL and works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.response import Template

from service.domain import gridref, rcrp
from service.domain.answer import ReferralAnswer
from service.domain.decoding import convert
from service.domain.errors import FieldProblem, InvalidInput
from service.domain.rcrp import ControlRoomAnswer, ControlRoomRequest
from service.pages import results, words
from service.pages.form_errors import FormError, in_words
from service.pages.pages import _local, _minute, _results_map
from service.pages.params import Text
from service.server.runtime import runtime_of

QUESTIONS = ("crime", "risk_to_life", "medical_care")
ANSWERS = tuple(rcrp.ANSWER_WORDS)
GRID_REFERENCE_MESSAGE = "Enter an OS grid reference: two letters and 2 to 10 digits, like TA 09 28"
FIELD_IDS = {
    "origin": "postcode",
    "postcode": "postcode",
    "grid_reference": "grid_reference",
    "concern": "concern-mental_health_crisis",
    **{q: f"{q}-yes" for q in QUESTIONS},
    "age": "age",
    "gender": "gender",
    "at": "at",
}


def control_room_errors(problems: list[FieldProblem]) -> list[FormError]:
    """The search's problems in the words of this form: the call's answers and the grid reference have their own;
    the rest are the lookup's."""
    out: list[FormError] = []
    for p in problems:
        field = p.field.removeprefix("call.").removeprefix("origin.").removeprefix("person.")
        if field == "grid_reference":
            error = FormError(
                "grid_reference",
                GRID_REFERENCE_MESSAGE
                if "outside" not in p.reason
                else "That grid reference is outside England and Wales",
            )
        elif field == "concern":
            error = FormError("concern", "Choose what the call is about")
        elif field in QUESTIONS:
            error = FormError(field, "Choose yes, no or not known")
        else:
            error = in_words([FieldProblem(field=field, reason=p.reason)])[0]
        if error not in out:
            out.append(error)
    return out


def _missing(params: dict[str, str | None]) -> list[FormError]:
    """What a submitted form lacks or could not have sent, all at once, before any search."""
    errors = []
    if params["concern"] and params["concern"] not in rcrp.CONCERN_WORDS:
        errors.append(FormError("concern", "Choose what the call is about"))
    errors += [FormError(q, "Choose yes, no or not known") for q in QUESTIONS if params[q] not in (None, *ANSWERS)]
    if bool(params["postcode"]) == bool(params["grid_reference"]):
        message = (
            "Enter a postcode or a grid reference for the call, not both"
            if params["postcode"]
            else "Enter the call's postcode or grid reference"
        )
        errors.append(FormError("postcode", message))
    if params["grid_reference"]:
        try:
            gridref.parse(params["grid_reference"])
        except InvalidInput:
            errors.append(FormError("grid_reference", GRID_REFERENCE_MESSAGE))
    if not params["age"]:
        errors.append(FormError("age", "Enter the person's age in years: a best estimate will do"))
    return errors


def _request(params: dict[str, str | None]) -> ControlRoomRequest:
    origin = (
        {"type": "grid_reference", "grid_reference": params["grid_reference"]}
        if params["grid_reference"]
        else {"type": "postcode", "postcode": params["postcode"]}
    )
    age = params["age"] or ""
    try:
        number: float | str = float(age)
    except ValueError:
        number = age  # refused, naming the age, by the conversion below
    if isinstance(number, float) and not math.isfinite(number):
        number = age
    body: dict[str, Any] = {
        "origin": origin,
        "call": {k: params[k] for k in ("concern", *QUESTIONS) if params[k]},
        "person": {"age": number, "gender": params["gender"] or "not_stated"},
        "explain": True,
    }
    if params["at"]:
        body["at"] = dt.datetime.fromisoformat(params["at"]) if _iso(params["at"]) else params["at"]
    return convert(body, ControlRoomRequest)


def _iso(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def summary(params: dict[str, str | None], label: str) -> str:
    """The call in one line above its answer: "TA 09 28; a person in mental-health crisis; crime: no; ...; age 34,
    gender not stated." """
    answers = "; ".join(
        f"{name}: {rcrp.ANSWER_WORDS[params[q] or 'not_known'].lower()}"
        for q, name in zip(QUESTIONS, ("crime", "immediate risk", "medical care"), strict=True)
    )
    concern = rcrp.CONCERN_WORDS[params["concern"] or "mental_health_crisis"]
    person = words.search_summary("", "", params["age"] or "", params["gender"], [], []).split("; ", 1)[1]
    return f"{label}; {concern[0].lower()}{concern[1:]}; {answers}; {person}"


def _place(answer: ReferralAnswer) -> str:
    force = answer.origin.force
    return f"{answer.origin.label} ({force.name})" if force else answer.origin.label


class ControlRoomPageController(Controller):
    """Mounted by app.py beside the lookup, behind the read guard."""

    include_in_schema = False

    @get("/control-room")
    async def control_room(
        self,
        request: Request[Any, Any, Any],
        state: State,
        postcode: Text = None,
        grid_reference: Text = None,
        concern: Text = None,
        crime: Text = None,
        risk_to_life: Text = None,
        medical_care: Text = None,
        age: Text = None,
        gender: Text = None,
        at: Text = None,
    ) -> Template:
        """The control-room search: who should respond to a mental-health call, and the services to hand it to."""
        runtime = runtime_of(state)
        params: dict[str, str | None] = {
            "postcode": (postcode or "").strip() or None,
            "grid_reference": (grid_reference or "").strip() or None,
            "concern": concern,
            "crime": crime,
            "risk_to_life": risk_to_life,
            "medical_care": medical_care,
            "age": (age or "").strip() or None,
            "gender": gender,
            "at": _minute(at or None),
        }
        submitted = any(params[k] for k in ("postcode", "grid_reference", "age", "concern", *QUESTIONS))
        errors: list[FormError] = []
        found: ControlRoomAnswer | None = None
        if submitted:
            errors = _missing(params)
            if not errors:
                try:
                    public = not results.for_staff(request, runtime.settings)
                    found = await runtime.control_room(_request(params), public=public)
                except InvalidInput as e:
                    errors = control_room_errors(list(e.problems))
        answer = found.pathway if found else None
        context = {
            "params": params,
            "found": found,
            "answer": answer,
            "concerns": rcrp.CONCERN_WORDS,
            "questions": rcrp.QUESTIONS,
            "answer_words": rcrp.ANSWER_WORDS,
            "map": _results_map(runtime.index, answer) if answer else "",
            "errors": errors,
            "error_for": {e.group: e.message for e in reversed(errors)},
            "field_ids": FIELD_IDS,
            "kind_words": words.KIND_WORDS,
            "capacity_words": words.CAPACITY_WORDS,
            "distance_words": words.distance_words,
            "site_kind": None,
            "gender_not_stated": False,
            "window_end": None,
            "after_window": "",
            "near_by_role": results.near_by_role(runtime.index, answer),
            "record": None,
            "problem_links": True,
            "need_labels": {t.code: t.label for t in runtime.vocab.needs.terms},
            "summary": summary(params, _place(answer)) if answer else "",
            "local": _local,
            "searched_at": _local(answer.at, "%-d %B %Y at %H:%M") if answer else "",
            "results_title": "Services for this call",
        }
        return Template(template_name="control_room.html", context=context)
