"""Proposed changes: what one changes, what changed since it was made, and the reasons to reject one. Pure.

A proposal keeps the service's document at the version it was made from (`base`) and the whole proposed document.
Its changes are base -> proposed, field by field; when the service has moved on since, its changes since are
base -> current, and approving makes the proposal's changes again on the current version a top-level field at a
time (service/stewardship/answers.py `carried_over`), refusing while a field both changed is not confirmed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from msgspec import Struct

from service.domain.history import field_changes
from service.domain.model import FieldChange
from service.stewardship.answers import carried_over

RejectReason = Literal["incorrect", "not_enough_evidence", "out_of_scope", "duplicate", "superseded", "other"]
REJECT_WORDS: dict[str, str] = {
    "incorrect": "The change is not right",
    "not_enough_evidence": "We could not confirm it",
    "out_of_scope": "Not something this directory holds",
    "duplicate": "Already proposed",
    "superseded": "Overtaken by a later change",
    "other": "Another reason",
}
Status = Literal["open", "approved", "rejected"]


class Proposal(Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    service_id: uuid.UUID
    service_slug: str
    service_name: str
    base_version: int
    """The version of the service the proposal was made from."""
    current_version: int
    stale: bool
    """The service has changed since the proposal was made: `since` says how, and approving makes the proposal's
    changes again on the current version."""
    changes: tuple[FieldChange, ...]
    """What the proposal changes, against the version it was made from."""
    since: tuple[FieldChange, ...]
    """What others changed since that version (empty unless stale)."""
    both: tuple[str, ...]
    """Top-level fields both changed: approving keeps the proposal's only when told to (`overwrite`)."""
    proposed_by: str
    made_at: dt.datetime
    status: Status
    decided_at: dt.datetime | None = None
    decided_by: str | None = None
    reject_reason: RejectReason | None = None
    version: int | None = None
    """The service's version the approval wrote."""


class Approve(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Approve a proposal: it becomes a new version through the same write path and checks as PUT."""

    overwrite: bool = False
    """For a proposal made against an older version, where it and a later change altered the same field: keep the
    proposal's answer (otherwise the approval is refused, naming the fields)."""


class Reject(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: RejectReason


def proposal_of(row: dict[str, Any], current: dict[str, Any], current_version: int) -> Proposal:
    """A stored proposal (its base and document) read against the service as it is now."""
    base, document = row["base"], row["document"]
    stale = current_version != row["base_version"]
    _, both = carried_over(base, document, current) if stale else (None, [])
    return Proposal(
        id=row["id"],
        service_id=row["service_id"],
        service_slug=row["service_slug"],
        service_name=row["service_name"],
        base_version=row["base_version"],
        current_version=current_version,
        stale=stale,
        changes=field_changes(base, document),
        since=field_changes(base, current) if stale else (),
        both=tuple(both),
        proposed_by=row["proposed_by"],
        made_at=row["made_at"],
        status=row["status"],
        decided_at=row["decided_at"],
        decided_by=row["decided_by"],
        reject_reason=row["reject_reason"],
        version=row["version"],
    )
