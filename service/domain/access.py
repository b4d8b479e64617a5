"""Who may do what. Pure: the HTTP layer resolves the identity, the store supplies a service's areas."""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated, Literal

from msgspec import Meta, Struct

from service.domain.errors import DomainError, RecordProblem
from service.domain.scope import SHOWN, Verdict
from service.domain.types import AreaCode, Name

Role = Literal["reader", "editor", "provider", "admin", "analyst", "referrer"]
AREA_ROLES: frozenset[str] = frozenset({"editor", "analyst", "referrer"})
"""Roles whose keys are scoped to areas (at least one)."""
KEY_PREFIX = "ldp_"


class Identity(Struct, frozen=True, kw_only=True):
    kind: Literal["anonymous", "key", "jwt", "oidc"]
    id: str
    name: str
    role: Role | None = None
    areas: frozenset[str] = frozenset()
    """An editor's, analyst's or referrer's scope: the area codes whose services it may write, whose reports it may
    read, or from which it may record referrals."""
    services: frozenset[str] = frozenset()
    """A provider's services (ids) whose capacity it may update."""

    @property
    def actor(self) -> str:
        """How the change history names this identity."""
        match self.kind:
            case "anonymous":
                return "anonymous"
            case "key":
                return f"key:{self.name} ({self.id[:8]})"
            case "jwt":
                return f"jwt:{self.name}"
            case "oidc":
                return f"oidc:{self.name} ({self.id[:8]})"


ANONYMOUS = Identity(kind="anonymous", id="", name="anonymous")


class TokenClaims(Struct, frozen=True, kw_only=True):
    """What an identity provider's JWT may say about its holder, checked like any other input: the subject names
    the editor in the change history, so it is one line of text, and the areas are area codes."""

    sub: Name
    role: Role = "editor"
    areas: Annotated[tuple[AreaCode, ...], Meta(max_length=100)] = ()


class Unauthorised(DomainError):
    """No credentials, or ones that are not valid (401)."""


class Forbidden(DomainError):
    """Valid credentials that do not allow this (403)."""


class TooManyAttempts(DomainError):
    """Too many failed attempts to authenticate from one address (429): no more look-ups for a while."""

    def __init__(self, retry_after: int, what: str = "failed attempts") -> None:
        super().__init__(f"too many {what} from this address; try again in {retry_after} s")
        self.retry_after = retry_after


class ForbiddenRecords(Forbidden):
    """Records of an import that this key may not write (403), each named like an import problem."""

    def __init__(self, problems: tuple[RecordProblem, ...]) -> None:
        super().__init__(f"{len(problems)} record(s) reach beyond this key's areas; nothing was imported")
        self.problems = problems


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    # Keys are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def require_role(identity: Identity, *roles: Role) -> None:
    if identity.role is None:
        raise Unauthorised("this needs an API key or token")
    if identity.role not in roles:
        raise Forbidden(f"a {identity.role} key cannot do this; it needs one of: {', '.join(roles)}")


def may_read(identity: Identity, read_open: bool) -> None:
    if not read_open and identity.role is None:
        raise Unauthorised("reading this directory needs an API key")


def may_write_service(identity: Identity, reach: Verdict | None) -> None:
    """Admins write anything; an editor writes a service only when its catchment covers nothing beyond the key's
    areas (`reach`, judged by service.domain.scope; None is only ever passed for admins)."""
    require_role(identity, "editor", "admin")
    if identity.role == "admin":
        return
    if reach is None or reach.national:
        raise Forbidden("only an admin can write a national service")
    if reach.outside:
        more = len(reach.outside) - SHOWN
        shown = "; ".join(reach.outside[:SHOWN]) + (f"; and {more} more" if more > 0 else "")
        raise Forbidden(f"the catchment covers more than this key's areas: it reaches {shown}")


def may_update_capacity(identity: Identity, service_id: str, reach: Verdict | None) -> None:
    """Providers update the capacity of their own services; editors in scope and admins may too."""
    require_role(identity, "provider", "editor", "admin")
    if identity.role == "provider":
        if service_id not in identity.services:
            raise Forbidden("this provider key is not linked to this service")
        return
    may_write_service(identity, reach)


def may_record_referral(identity: Identity, areas: frozenset[str]) -> None:
    """Referrers (and editors) record referrals made in their areas (`areas`: the origin's district and force, as
    the record keeps them); admins anywhere. A referral is judged by the reports it reaches: its origin's areas."""
    require_role(identity, "referrer", "editor", "admin")
    if identity.role != "admin" and identity.areas.isdisjoint(areas):
        raise Forbidden("this key may record referrals only from its own areas")


def may_record_outcome(identity: Identity, service_id: str, reach: Verdict | None) -> None:
    """The receiving service's provider key records what became of a referral; editors whose scope covers the
    service, and admins, may too (the same rule as live capacity)."""
    may_update_capacity(identity, service_id, reach)


def report_scope(identity: Identity, open_reports: bool = False) -> frozenset[str] | None:
    """The areas whose reports this identity reads (None: every area): an analyst its areas, an admin all. With
    PATHWAYS_REPORTS_ACCESS=open (a demo or an internal deployment) anyone reads every area."""
    if identity.role == "analyst":
        return identity.areas
    if open_reports:
        return None
    require_role(identity, "analyst", "admin")
    return None if identity.role == "admin" else identity.areas


def referral_scope(identity: Identity) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """Which referrals this identity may read, as (areas, services), None being no limit on that side: admins
    read all; providers the referrals to their services; referrers and editors those made in their areas. Analysts
    read the reports, never the records: the reports' disclosure control would mean nothing to a reader who could
    count the records themselves."""
    require_role(identity, "referrer", "editor", "provider", "admin")
    match identity.role:
        case "admin":
            return None, None
        case "provider":
            return None, identity.services
        case _:
            return identity.areas, None
