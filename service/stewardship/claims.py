"""An identity provider's ID token claims, mapped to a role and a scope by configuration: pure.

By default the `role` claim names one of our roles and the `areas` and `services` claims give an editor's (or
analyst's, or referrer's) area codes and a provider's service ids. A deployment whose provider says it otherwise
names its claims (PATHWAYS_OIDC_ROLE_CLAIM, …) and maps its values to ours (PATHWAYS_OIDC_ROLE_MAP, for example
`LD.Editor=editor,LD.Admin=admin` for Entra ID app roles). A claim holding several roles gives the most trusted one
that is mapped. No role, and no default role (PATHWAYS_OIDC_DEFAULT_ROLE, empty by default): no entry."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any, get_args

from msgspec import Struct

from service.domain.access import Identity, Role

ROLES: tuple[str, ...] = get_args(Role)
TRUST: tuple[str, ...] = ("admin", "editor", "provider", "analyst", "referrer", "reader")
"""Most trusted first: which role a claim holding several gives."""
AREA_CODE = re.compile(r"^[A-Za-z0-9]{1,20}$")
MOST = 100
"""Areas or services taken from one claim, at most."""


class ClaimRules(Struct, frozen=True, kw_only=True):
    role_claim: str = "role"
    areas_claim: str = "areas"
    services_claim: str = "services"
    name_claim: str = "name"
    role_map: dict[str, str] = {}
    """The provider's role values to ours; values that are already ours need no entry."""
    default_role: str = ""


def role_map(text: str) -> dict[str, str]:
    """`LD.Editor=editor,LD.Admin=admin` as a mapping; a pair naming none of our roles is left out."""
    pairs = (item.split("=", 1) for item in text.split(",") if "=" in item)
    return {theirs.strip(): ours.strip() for theirs, ours in pairs if ours.strip() in ROLES}


def identity_from_claims(claims: Mapping[str, Any], rules: ClaimRules) -> Identity | None:
    """The identity an ID token's claims give, or None when they give no role here."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        return None
    role = _role(claims.get(rules.role_claim), rules)
    if role is None:
        return None
    name = claims.get(rules.name_claim)
    shown = (name if isinstance(name, str) and name.strip() else subject).strip()[:100]
    areas = frozenset(a for a in _strings(claims.get(rules.areas_claim)) if AREA_CODE.match(a))
    services = frozenset(s for s in _strings(claims.get(rules.services_claim)) if _is_uuid(s))
    return Identity(
        kind="jwt",
        id=subject.strip()[:200],
        name=shown,
        role=role,  # type: ignore[arg-type]
        areas=areas,
        services=services,
    )


def _role(value: Any, rules: ClaimRules) -> str | None:
    given = _strings(value)
    ours = {rules.role_map.get(v, v) for v in given}
    for role in TRUST:
        if role in ours:
            return role
    return rules.default_role if rules.default_role in ROLES else None


def _strings(value: Any) -> list[str]:
    """A claim as a list of strings: a list, or one string of values separated by spaces or commas."""
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,]+", value) if v][:MOST]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)][:MOST]
    return []


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
