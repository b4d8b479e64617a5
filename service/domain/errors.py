"""Domain errors. The HTTP layer maps each to one status in one place (service/server/problems.py)."""

from __future__ import annotations

from msgspec import Struct


class FieldProblem(Struct, frozen=True, kw_only=True):
    field: str
    reason: str


class RecordProblem(Struct, frozen=True, kw_only=True):
    """A bad record in a bulk import: which section, its index and slug (or code), and the bad field."""

    section: str
    index: int
    key: str | None
    field: str
    reason: str


class DomainError(Exception):
    """Base for every error the domain or store raises on purpose."""


class InvalidInput(DomainError):
    def __init__(self, problems: tuple[FieldProblem, ...]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))
        self.problems = problems


class MalformedInput(InvalidInput):
    """Input of the wrong shape or type (400), as opposed to well-formed input that breaks a rule (422)."""


class NotFound(DomainError):
    def __init__(self, entity: str, key: str) -> None:
        super().__init__(f"{entity} {key!r} not found")
        self.entity = entity
        self.key = key


class Conflict(DomainError):
    def __init__(self, field: str, reason: str, retry_after: int | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.retry_after = retry_after
        """Set when sending the same request again later may succeed (a concurrent import, a deadlock)."""


class PreconditionFailed(DomainError):
    def __init__(self, current_etag: str) -> None:
        super().__init__(f"If-Match does not match the current version {current_etag}")
        self.current_etag = current_etag


class ImportRejected(DomainError):
    def __init__(self, problems: tuple[RecordProblem, ...], *, malformed: bool = False) -> None:
        super().__init__(f"{len(problems)} bad record(s); nothing was imported")
        self.problems = problems
        self.malformed = malformed
        """Some record does not match its schema (400); otherwise the records break rules (422)."""


class Unavailable(DomainError):
    """The database cannot be used just now (503, with Retry-After). Nothing was written."""

    def __init__(self, reason: str, retry_after: int = 5) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def invalid(field: str, reason: str) -> InvalidInput:
    return InvalidInput((FieldProblem(field=field, reason=reason),))
