"""Contacts by audience: a professionals-only number (a custody line, a duty practitioner's phone) is for the
professionals the directory serves, never for the public.

Surfaces for the public (the embed, and reads without a key when reads are open) never show one; surfaces for
staff (a key holder's reads, and the lookup page where the deployment says it is for staff) do. These functions
make the public copy of what a read returns; what is stored never changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

import msgspec

from service.domain.answer import PathwayStep, ReferralAnswer
from service.domain.model import Change, FieldChange


class HasContacts(Protocol):
    @property
    def contacts(self) -> Any: ...


C = TypeVar("C", bound=HasContacts)


def _public(phones: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(p for p in phones if not p.professionals_only)


def public_record(record: C) -> C:
    """A service (or a directory record of one) without its professionals-only numbers."""
    phones = record.contacts.phones
    if not any(p.professionals_only for p in phones):
        return record
    contacts = msgspec.structs.replace(record.contacts, phones=_public(phones))
    return msgspec.structs.replace(record, contacts=contacts)  # type: ignore[type-var]


def public_answer(answer: ReferralAnswer) -> ReferralAnswer:
    """A referral answer without professionals-only numbers, in its options, steps and catch-alls alike."""

    def options(items: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            msgspec.structs.replace(o, phones=_public(o.phones)) if any(p.professionals_only for p in o.phones) else o
            for o in items
        )

    def step(s: PathwayStep) -> PathwayStep:
        return msgspec.structs.replace(s, options=options(s.options), fallbacks=options(s.fallbacks))

    return msgspec.structs.replace(
        answer,
        options=options(answer.options),
        steps=tuple(step(s) for s in answer.steps),
        fallbacks=options(answer.fallbacks),
    )


def public_history(changes: Sequence[Change]) -> list[Change]:
    """A service's history without professionals-only numbers in the old and new values of its contacts."""
    return [msgspec.structs.replace(c, changes=tuple(_public_change(f) for f in c.changes)) for c in changes]


def _public_change(change: FieldChange) -> FieldChange:
    if not change.field.startswith("contacts"):
        return change
    return msgspec.structs.replace(change, old=_scrub(change.old), new=_scrub(change.new))


def _scrub(value: object) -> object:
    """JSON values with every phone marked professionals-only taken out."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value if not (isinstance(v, dict) and v.get("professionals_only") is True)]
    return value
