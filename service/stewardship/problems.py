"""Reports of a problem with a listing: the coded reasons, the note's limits, and what an editor may answer. Pure.

Anyone may report a problem (the public, a custody officer, a partner's site through the embed). The form asks for a
coded reason and an optional note about the listing, and says that nothing about the person being referred belongs
in it. A note over the limit, or with characters a form cannot send, is refused with the form's own words: nothing
is cut or stripped silently. What looks like a name or a date of birth cannot be told from a listing's details
("closed since 01/12/2026", "ask for Sam"), so nothing is guessed: the note is kept as written, shown only to the
editors whose scope covers the service, never logged, and an editor can remove it (README: "Problem reports").
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from msgspec import Meta, Struct

from service.domain.errors import FieldProblem
from service.stewardship.proposals import REJECT_WORDS

ProblemReason = Literal["wrong_phone", "closed", "wrong_hours", "wrong_eligibility", "other"]
REASON_WORDS: dict[str, str] = {
    "wrong_phone": "The phone number is wrong or does not answer",
    "closed": "The service has closed or moved",
    "wrong_hours": "The opening hours are wrong",
    "wrong_eligibility": "Who it is for is wrong",
    "other": "Something else is wrong",
}
CloseOutcome = Literal["resolved", "dismissed"]
CloseReason = Literal[
    "listing_corrected", "already_corrected", "listing_was_right", "duplicate", "not_about_the_listing", "spam"
]
CLOSE_WORDS: dict[str, str] = {
    "listing_corrected": "The listing has been corrected",
    "already_corrected": "The listing had already been corrected",
    "listing_was_right": "Checked: the listing was right",
    "duplicate": "Already reported",
    "not_about_the_listing": "Not about the listing",
    "spam": "Spam or abuse",
}
OUTCOME_OF: dict[str, CloseOutcome] = {
    "listing_corrected": "resolved",
    "already_corrected": "resolved",
    "listing_was_right": "dismissed",
    "duplicate": "dismissed",
    "not_about_the_listing": "dismissed",
    "spam": "dismissed",
}
"""Each closing reason says whether the report was resolved (the listing was wrong) or dismissed."""
NOTE_MAX = 500
RETENTION_DAYS = 90

Note = Annotated[str, Meta(max_length=NOTE_MAX, description="About the listing, never about a person; at most 500.")]


class NewProblemReport(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A problem with a listing, as anyone may report it."""

    reason: ProblemReason
    note: Note = ""


class CloseProblemReport(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An editor's answer to a report: the reason decides whether it is resolved or dismissed."""

    reason: CloseReason
    remove_note: bool = False
    """Remove the note too (it said something about a person, say); the report and its reason stay."""


class ProblemReport(Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    service_id: uuid.UUID
    service_slug: str
    service_name: str
    service_version: int
    """The version of the listing the report was made about."""
    reason: ProblemReason
    reason_text: str
    note: str
    """Shown to the editors who keep the service and admins; empty for its providers (see `has_note`)."""
    has_note: bool = False
    note_removed: bool
    status: Literal["open", "resolved", "dismissed"]
    made_at: dt.datetime
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    close_reason: CloseReason | None = None


def note_problems(note: str, field: str = "note") -> list[FieldProblem]:
    """A note is plain text a form can send (line breaks allowed), at most NOTE_MAX characters: refused, not cut."""
    if len(note) > NOTE_MAX:
        return [FieldProblem(field=field, reason=f"must be {NOTE_MAX} characters or fewer (it has {len(note)})")]
    if any((ord(c) < 32 and c not in "\r\n\t") or 0xD800 <= ord(c) <= 0xDFFF or ord(c) == 0x7F for c in note):
        return [FieldProblem(field=field, reason="must be plain text: it holds a control character")]
    return []


def closed_until(closed_at: dt.datetime, days: int = RETENTION_DAYS) -> dt.datetime:
    """When a closed report is deleted."""
    return closed_at + dt.timedelta(days=days)


AUDIT_WORDS: dict[str, str] = {
    "problem_report.made": "Problem reported",
    "problem_report.resolved": "Problem report resolved",
    "problem_report.dismissed": "Problem report dismissed",
    "problem_report.note_removed": "A problem report's note removed",
    "proposal.made": "Change proposed",
    "proposal.approved": "Proposed change approved",
    "proposal.rejected": "Proposed change rejected",
    "service.watched": "Started watching",
    "service.unwatched": "Stopped watching",
    "notifications.saved": "E-mail settings saved",
    "notifications.stopped": "E-mail stopped",
}
"""The audit's actions in words (service/stewardship/problem_store.py)."""


def audit_words(action: str, detail: dict[str, object]) -> str:
    """An audit event in words: "Problem reported: The phone number is wrong or does not answer"."""
    said = AUDIT_WORDS.get(action, action.replace("_", " ").replace(".", ": "))
    reason = str(detail.get("reason", ""))
    if action.startswith("proposal."):
        why = REJECT_WORDS.get(reason)
    else:
        why = (CLOSE_WORDS if action.endswith(("resolved", "dismissed")) else REASON_WORDS).get(reason)
    if why:
        said += f": {why}"
    if detail.get("version"):
        said += f" (version {detail['version']})"
    if detail.get("note_removed"):
        said += " (note removed)"
    return said
