"""An identity provider's ID token claims, mapped to a role and a scope by configuration: pure.

By default the `role` claim names one of our roles and the `areas` and `services` claims give an editor's (or
analyst's, or referrer's) area codes and a provider's service ids. A deployment whose provider says it otherwise
names its claims (PATHWAYS_OIDC_ROLE_CLAIM, …) and maps its values to ours (PATHWAYS_OIDC_ROLE_MAP, for example
`LD.Editor=editor,LD.Admin=admin` for Entra ID app roles): with a map, only the values it names count, so a groups
claim that happens to hold a group called "admin" gives nothing. A claim's string is one value, never split. A claim
holding several roles gives the most trusted one. No role, and no default role (PATHWAYS_OIDC_DEFAULT_ROLE, empty by
default): no entry."""

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
    """The provider's role values to ours. Empty: the claim's values must be our role names. Set: only the values it
    names count (map our own names too, `admin=admin`, if the provider also uses them)."""
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
    shown = _line(name if isinstance(name, str) and _line(name) else subject)[:100]
    areas = frozenset(a for a in _strings(claims.get(rules.areas_claim)) if AREA_CODE.match(a))
    services = frozenset(_uuid(s) for s in _strings(claims.get(rules.services_claim)) if _uuid(s))
    return Identity(
        kind="oidc",
        id=_line(subject)[:200],
        name=shown,
        role=role,  # type: ignore[arg-type]
        areas=areas,
        services=services,
    )


def _role(value: Any, rules: ClaimRules) -> str | None:
    given = _strings(value)
    # With a map, only its values count: a claim that also holds other words (groups, free text) never gives a
    # role by happening to hold one of our role names.
    ours = {rules.role_map[v] for v in given if v in rules.role_map} if rules.role_map else set(given)
    for role in TRUST:
        if role in ours:
            return role
    return rules.default_role if rules.default_role in ROLES else None


def _strings(value: Any) -> list[str]:
    """A claim as a list of strings: a list of them, or one string as one value (never split: "Ward admin" is not
    "admin")."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)][:MOST]
    return []


def _uuid(text: str) -> str:
    """A service id as the store writes it (lower case, hyphenated), or "" when it is not one."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return ""


def _line(text: str) -> str:
    """A name as one line of plain text (it is shown on the page and kept in the history)."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())
