"""A service's partial update (PATCH): only the fields present change."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, UnsetType

from service.domain.model import (
    Capacity,
    Catchment,
    Contacts,
    Eligibility,
    ExternalIds,
    Model,
    Point,
    Referral,
    Schedule,
    Verification,
)
from service.domain.types import (
    AccessMode,
    Code,
    Context,
    LongText,
    Name,
    PathwayRole,
    Priority,
    ServiceKind,
    ServiceStatus,
    Slug,
)


class ServicePatch(Model, frozen=True, kw_only=True):
    """PATCH body: only the fields present change; an object field is replaced whole."""

    slug: Slug | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    organisation: Name | UnsetType = UNSET
    description: LongText | UnsetType = UNSET
    kind: ServiceKind | UnsetType = UNSET
    contexts: Annotated[tuple[Context, ...], Meta(min_length=1)] | UnsetType = UNSET
    access_modes: Annotated[tuple[AccessMode, ...], Meta(min_length=1)] | UnsetType = UNSET
    location: Point | UnsetType | None = UNSET
    catchment: Catchment | UnsetType = UNSET
    eligibility: Eligibility | UnsetType = UNSET
    schedule: Schedule | UnsetType = UNSET
    referral: Referral | UnsetType = UNSET
    contacts: Contacts | UnsetType = UNSET
    capacity: Capacity | UnsetType = UNSET
    pathway_priority: Priority | UnsetType | None = UNSET
    pathway_role: PathwayRole | UnsetType | None = UNSET
    verification: Verification | UnsetType | None = UNSET
    status: ServiceStatus | UnsetType = UNSET
    external_ids: ExternalIds | UnsetType = UNSET
    police_station: bool | UnsetType = UNSET
    general_entry_for: tuple[Context, ...] | UnsetType = UNSET
    fallback_for_needs: tuple[Code, ...] | UnsetType = UNSET
    fallback_for_steps: tuple[PathwayRole, ...] | UnsetType = UNSET
    group_pathway: bool | UnsetType = UNSET
    finds_needs: bool | UnsetType | None = UNSET
