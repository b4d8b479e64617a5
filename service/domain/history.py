"""Field-level change records: what changed, from what, to what."""

from __future__ import annotations

from typing import Any

from service.domain.model import FieldChange


def field_changes(old: dict[str, Any] | None, new: dict[str, Any] | None, prefix: str = "") -> tuple[FieldChange, ...]:
    """Dotted paths of every leaf that differs. Objects recurse; lists and scalars compare whole."""
    old = old or {}
    new = new or {}
    changes: list[FieldChange] = []
    for key in sorted(old.keys() | new.keys()):
        path = f"{prefix}{key}"
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if isinstance(before, dict) and isinstance(after, dict):
            changes.extend(field_changes(before, after, f"{path}."))
        else:
            changes.append(FieldChange(field=path, old=before, new=after))
    return tuple(changes)
