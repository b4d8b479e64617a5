"""Right Care, Right Person: the threshold a police control room applies to a call about someone in mental-health
crisis, and the pathway that follows from it. Pure.

The National Partnership Agreement: Right Care, Right Person (Home Office, Department of Health and Social Care,
NHS England, National Police Chiefs' Council and others, 2023) asks control rooms to decide at the outset which agency
should respond. Police attend to investigate a crime, or where there is a real and immediate risk to the life of a
person or of a person being subjected to or at risk of serious harm; otherwise the health-led response takes the call.
A concern for someone's welfare alone, or a person who has walked out of a health setting, is first for health.
Where police do take a person to a health setting, partners work towards handing over within one hour.

The call handler's answers to the threshold questions are codes (`Call`), each `yes`, `no` or `not_known`; the
answer (`threshold`) says whether police attendance is indicated, why, and under which guidance. It supports the call
handler's decision and never makes it: the words say so every time.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from service.domain.answer import Reason, ReferralAnswer
from service.domain.model import Model
from service.domain.pathway import ELSEWHERE, ROLES, Step
from service.domain.request import Origin, Person, StepLimit, WhenNeeded

Answer = Literal["yes", "no", "not_known"]
Concern = Literal["mental_health_crisis", "welfare_concern", "walked_out_of_health_setting"]
Decision = Literal["POLICE_ATTENDANCE_INDICATED", "POLICE_ATTENDANCE_NOT_INDICATED", "THRESHOLD_NOT_KNOWN"]

CONCERN_WORDS: dict[str, str] = {
    "mental_health_crisis": "A person in mental-health crisis",
    "welfare_concern": "A concern for someone's welfare only",
    "walked_out_of_health_setting": "A person has walked out of a health setting (A&E, a ward, a mental-health unit)",
}
"""What a call is about, as the control-room page asks it."""

QUESTIONS: dict[str, str] = {
    "crime": "Is a crime being committed, or has one been committed?",
    "risk_to_life": "Is there a real and immediate risk to someone's life, or of serious harm?",
    "medical_care": "Does the person need medical care now (an injury, an overdose, collapse)?",
}
"""The threshold questions, by the field that answers each."""

ANSWER_WORDS: dict[str, str] = {"yes": "Yes", "no": "No", "not_known": "Not known"}

DECISION_WORDS: dict[str, str] = {
    "POLICE_ATTENDANCE_INDICATED": "Police attendance is indicated",
    "POLICE_ATTENDANCE_NOT_INDICATED": "Police attendance is not indicated: a health-led response",
    "THRESHOLD_NOT_KNOWN": "Not yet known whether police attendance is indicated",
}


class Call(Model, frozen=True, kw_only=True):
    """A call as the control room has it: what it is about, and the answers to the threshold questions. Nothing
    about who the person is."""

    concern: Concern = "mental_health_crisis"
    crime: Answer = "not_known"
    """A crime in progress, or committed."""
    risk_to_life: Answer = "not_known"
    """A real and immediate risk to life, or of serious harm."""
    medical_care: Answer = "not_known"
    """The person needs medical care now."""


class Guidance(Struct, frozen=True, kw_only=True, gc=False):
    title: str
    says: str


class Threshold(Struct, frozen=True, kw_only=True, gc=False):
    """What the threshold says of a call: the decision it supports, in words, with each reason and the guidance
    behind it."""

    decision: Decision
    title: str
    """The decision in words ("Police attendance is not indicated: a health-led response")."""
    text: str
    """Why, and what follows, read after the title."""
    reasons: tuple[Reason, ...]
    guidance: tuple[Guidance, ...]
    decided_by: Literal["call_handler"] = "call_handler"
    """The decision stays with the call handler: the answer supports it, never makes it."""


RCRP = Guidance(
    title="National Partnership Agreement: Right Care, Right Person (2023)",
    says="Police respond to investigate a crime, or where there is a real and immediate risk to the life of a "
    "person or of a person being subjected to or at risk of serious harm; otherwise the right agency, often health, "
    "responds. Where police take a person to a health setting, partners work towards handing over within one hour.",
)
S136 = Guidance(
    title="Mental Health Act 1983, section 136 (as amended by the Policing and Crime Act 2017)",
    says="An officer may remove a person in crisis to a place of safety; before doing so they must, where "
    "practicable, consult a health professional (s136(1C)). A police station is never a place of safety for a "
    "child.",
)
STAYS_WITH_CALL_HANDLER = Reason(
    code="DECISION_STAYS_WITH_CALL_HANDLER",
    text="The call handler decides: this supports the decision and never makes it, and officers are sent whenever "
    "the call handler judges that the threshold is met.",
)


def threshold(call: Call) -> Threshold:
    """Whether the RCRP threshold for police attendance is met by the answers given: yes to a crime or to a real and
    immediate risk meets it; no to both points to the health-led response; otherwise it is not yet known. A question
    not yet answered is never read as a no: the words ask it (medical care included, whatever the decision)."""
    reasons: list[Reason] = [STAYS_WITH_CALL_HANDLER]
    if call.medical_care == "yes":
        reasons.append(
            Reason(
                code="MEDICAL_CARE_FIRST",
                text="The person needs medical care: an ambulance, or an emergency department, comes first, whatever "
                "else is decided.",
            )
        )
    if call.crime == "yes":
        reasons.append(
            Reason(code="CRIME", text="A crime is being, or has been, committed: the threshold for police is met.")
        )
    if call.risk_to_life == "yes":
        reasons.append(
            Reason(
                code="RISK_TO_LIFE",
                text="There is a real and immediate risk to life or of serious harm: the threshold for police is met, "
                "and health is needed too.",
            )
        )
    if "yes" in (call.crime, call.risk_to_life):
        decision: Decision = "POLICE_ATTENDANCE_INDICATED"
        text = (
            "Under Right Care, Right Person this is a call for officers to attend. If they detain the person under "
            "s136, they consult a health professional first where practicable, take them to a place of safety, and "
            "hand over to health within one hour."
        )
    elif call.crime == "no" and call.risk_to_life == "no":
        decision = "POLICE_ATTENDANCE_NOT_INDICATED"
        text = (
            "No crime, and no real and immediate risk to life or of serious harm: under Right Care, Right Person "
            "this is a call for the health-led response below."
        )
    else:
        decision = "THRESHOLD_NOT_KNOWN"
        text = (
            "Not enough is known yet to apply the threshold: ask the questions still open. Meanwhile a health "
            "professional can advise, and the places of safety are below for when officers attend."
        )
    unasked = [text for q, text in QUESTIONS.items() if getattr(call, q) == "not_known"]
    if unasked:
        reasons.append(Reason(code="ASK", text="Ask: " + " ".join(unasked)))
    if call.concern == "welfare_concern" and decision == "POLICE_ATTENDANCE_NOT_INDICATED":
        reasons.append(
            Reason(
                code="WELFARE_CONCERN",
                text="A concern for someone's welfare alone is not a reason for police to attend: health or another "
                "agency checks on the person.",
            )
        )
    if call.concern == "walked_out_of_health_setting":
        reasons.append(
            Reason(
                code="WALKED_OUT_OF_HEALTH_SETTING",
                text="The health setting the person left keeps its duty of care: ask it to follow its own procedure "
                "for a patient who leaves, and to say what risk it knows of; police attend only if the threshold is "
                "met.",
            )
        )
    guidance = (RCRP, S136) if decision != "POLICE_ATTENDANCE_NOT_INDICATED" else (RCRP,)
    return Threshold(
        decision=decision, title=DECISION_WORDS[decision], text=text, reasons=tuple(reasons), guidance=guidance
    )


MEDICAL_CARE = Step(role="medical_care", title="Medical care first: ambulance or emergency department")
MEDICAL_CARE_IF_NEEDED = Step(
    role="medical_care", title="If the person needs medical care: ambulance or emergency department", optional=True
)
HAND_TO_HEALTH = Step(role="consult", title="Hand the call to health: crisis lines, consult services, street triage")
CONSULT = Step(role="consult", title="Consult a health professional: crisis lines, consult services, street triage")
CONSULT_BEFORE_DETAINING = Step(
    role="consult", title="Consult a health professional before detaining (s136(1C)), and hand over to health"
)
PLACE_OF_SAFETY = Step(role="place_of_safety", title="If detained under s136: take to a place of safety")
IF_OFFICERS_ATTEND = Step(role="place_of_safety", title="If officers attend and detain under s136: places of safety")
IF_OFFICERS_DETAIN = Step(
    role="place_of_safety", title="Only if officers attend and detain under s136: places of safety", optional=True
)
TAKE_ON = Step(role="refer_on", title="Health and support services that can take the person on")
HELPLINES = Step(role="advice", title="Helplines for the person or the caller (NHS 111 option 2)", optional=True)


def control_room_steps(found: Threshold, medical_care: Answer) -> tuple[Step, ...]:
    """The steps of a control room's answer, in order: medical care first when the person needs it (second, and
    shown when it has an option, while that is not known); then, when the threshold for police is met, the street's
    s136 pathway (consult, place of safety, refer on); when it is not, the health-led response first (the services to
    hand the call to, the services that take the person on, helplines), with the places of safety last, for when
    officers do attend and detain; while it is not yet known, a health professional to consult and the places of
    safety, neither chosen over the other. Every other role has an optional step after."""
    first = (MEDICAL_CARE,) if medical_care == "yes" else ()
    then = (MEDICAL_CARE_IF_NEEDED,) if medical_care == "not_known" else ()
    match found.decision:
        case "POLICE_ATTENDANCE_INDICATED":
            steps = (*first, CONSULT_BEFORE_DETAINING, *then, PLACE_OF_SAFETY, TAKE_ON, HELPLINES)
        case "POLICE_ATTENDANCE_NOT_INDICATED":
            steps = (*first, HAND_TO_HEALTH, *then, TAKE_ON, HELPLINES, IF_OFFICERS_DETAIN)
        case "THRESHOLD_NOT_KNOWN":
            steps = (*first, CONSULT, *then, IF_OFFICERS_ATTEND, TAKE_ON, HELPLINES)
    present = {s.role for s in steps}
    return steps + tuple(ELSEWHERE[role] for role in ROLES if role not in present)


class ControlRoomRequest(Model, frozen=True, kw_only=True):
    """A control room's search: where the call is (a postcode, a point, an OS grid reference, or a site), the call's
    answers to the threshold questions, and the person as far as the caller knows (an age, best estimate; a gender;
    any needs or circumstances known). Nothing identifying."""

    origin: Origin
    call: Call = Call()
    person: Person
    at: WhenNeeded | None = None
    limit: Annotated[int, Meta(ge=1, le=50)] = 10
    step_limit: StepLimit = 5
    explain: bool = False
    explain_limit: Annotated[int, Meta(ge=1, le=200)] = 10


HANDOVER_WORDS = (
    "Where officers take the person to a health setting, hand over to health within one hour (Right Care, Right "
    "Person). Each place of safety's own target is beside it."
)


class ControlRoomAnswer(Struct, frozen=True, kw_only=True):
    """What the threshold says of the call, and the pathway for it: the street pathway's services (a call is about
    someone out of custody), in the control room's steps (`control_room_steps`), ranked and explained as every
    answer is."""

    call: Call
    threshold: Threshold
    handover: str = HANDOVER_WORDS
    pathway: ReferralAnswer
