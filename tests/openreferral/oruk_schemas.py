"""The Open Referral UK 3.0 schemas, for checking what the project publishes: the compiled HSDS 3.0 schemas from
`../shared/openreferral/` with the UK profile's JSON Merge Patches (RFC 7386) applied to each entity they describe,
at the top and wherever the compiled schema nests one (a sub-schema with that entity's `name`). A profile patch of
`null` (metadata, program, required documents) takes the entity, and every property holding it, out.

The schemas are read from `../shared` and never copied into the project (they are CC BY-SA 4.0; see its
PROVENANCE.md)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema

from tests.conftest import SHARED

OPENREFERRAL = SHARED / "openreferral"
COMPILED = OPENREFERRAL / "hsds-3.0" / "compiled"
PROFILE = OPENREFERRAL / "oruk-profile" / "profile"
EXAMPLES = OPENREFERRAL / "oruk-profile" / "examples"
_DROP = object()


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: an object patch merges key by key (null removes the key); anything else replaces the target."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


@cache
def _patches() -> dict[str, Any]:
    return {p.stem: json.loads(p.read_text()) for p in PROFILE.glob("*.json") if p.stem != "openapi"}


def _patched(node: Any, entity: str | None = None) -> Any:
    if isinstance(node, list):
        return [v for v in (_patched(item) for item in node) if v is not _DROP]
    if not isinstance(node, dict):
        return node
    patches = _patches()
    name = entity or (node.get("name") if "properties" in node else None)
    if isinstance(name, str) and name in patches and "properties" in node:
        if patches[name] is None:
            return _DROP
        node = merge_patch(node, patches[name])
    out = {}
    for key, value in node.items():
        patched = _patched(value)
        if patched is _DROP:
            if key == "items":  # an array of a removed entity goes with it
                return _DROP
            continue
        out[key] = patched
    return out


@cache
def oruk_schema(compiled: str, entity: str) -> dict[str, Any]:
    """The compiled HSDS schema `compiled` (e.g. "service.json") with the UK profile applied, `entity` at its top."""
    schema: dict[str, Any] = _patched(json.loads((COMPILED / compiled).read_text()), entity)
    return schema


def problems(document: Any, compiled: str, entity: str) -> list[str]:
    """Every way `document` breaks the ORUK schema, as "path: message" lines (none: it conforms)."""
    schema = oruk_schema(compiled, entity)
    validator = jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def hsds_problems(document: Any, compiled: str) -> list[str]:
    """Every way `document` breaks the compiled HSDS 3.0 schema itself, without the profile: what checks HSDS's
    `phones` (the profile drops them, and lets them through unchecked)."""
    schema = _compiled(compiled)
    validator = jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


@cache
def _compiled(compiled: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((COMPILED / compiled).read_text())
    return schema


def phone_problems(phone: Any) -> list[str]:
    """Every way `phone` breaks the UK profile's own phone entity (schema/phone.json with the profile's patch)."""
    schema = entity_schema("phone")
    validator = jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(phone)]


SCHEMA = OPENREFERRAL / "hsds-3.0" / "schema"


def _inline(node: Any) -> Any:
    """Relative `$ref`s to other HSDS schema files ("taxonomy_term.json"), replaced by that entity's patched schema
    (or taken out, with the property holding it, when the profile removes the entity)."""
    if isinstance(node, list):
        return [v for v in (_inline(item) for item in node) if v is not _DROP]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.endswith(".json") and "/" not in ref:
        return entity_schema(ref[: -len(".json")])
    out = {}
    for key, value in node.items():
        inlined = _inline(value)
        if inlined is _DROP:
            if key == "items":
                return _DROP
            continue
        out[key] = inlined
    return out


@cache
def entity_schema(entity: str) -> Any:
    """An HSDS entity's own schema file (schema/{entity}.json) with the UK profile's patch, its references inlined."""
    patch = _patches().get(entity)
    if entity in _patches() and patch is None:
        return _DROP
    schema = json.loads((SCHEMA / f"{entity}.json").read_text())
    return _inline(merge_patch(schema, patch) if patch is not None else schema)


def oruk_openapi(path: str = "/openreferral") -> dict[str, Any]:
    """The profile's own openapi30.json, made usable offline: its references to the profile's schemas on GitHub are
    replaced by the same schemas from ../shared (patched as above), its two parameters of the non-type "time" are
    strings of the time format, and its server is `path` (where we mount the API)."""
    document: dict[str, Any] = json.loads((OPENREFERRAL / "oruk-profile" / "openapi30.json").read_text())
    compiled = {
        "compiled/service.json": ("service.json", "service"),
        "compiled/service_list.json": ("service_list.json", "service"),
        "compiled/service_at_location_list.json": ("service_at_location_list.json", "service_at_location"),
    }

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(v) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("https://"):
            tail = ref.split("/schema/", 1)[1]
            if tail in compiled:
                return oruk_schema(*compiled[tail])
            return entity_schema(tail.removesuffix(".json"))
        if node.get("type") == "time":
            return {**node, "type": "string", "format": "time"}
        return {k: resolve(v) for k, v in node.items()}

    resolved: dict[str, Any] = resolve(document)
    resolved["servers"] = [{"url": path}]
    return resolved
