"""Versions, ETags, If-Match, and partial updates."""

from __future__ import annotations

from msgspec import UNSET, structs

from service.domain.model import ServiceBody
from service.domain.patch import ServicePatch


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_allows(header: str | None, version: int) -> bool:
    """RFC 9110 If-Match: absent or * allows; otherwise one listed strong tag must equal the current one."""
    if header is None or header.strip() == "*":
        return True
    for tag in header.split(","):
        tag = tag.strip()
        if tag.startswith("W/"):
            continue  # weak tags never match If-Match
        if tag.strip('"') == str(version):
            return True
    return False


def apply_patch(body: ServiceBody, patch: ServicePatch) -> ServiceBody:
    present = {name: value for name in patch.__struct_fields__ if (value := getattr(patch, name)) is not UNSET}
    return structs.replace(body, **present)
