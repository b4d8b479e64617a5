"""Finishing touches to the generated OpenAPI document that litestar cannot infer from the handlers."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
from litestar.enums import ParamType
from litestar.openapi.spec import (
    Discriminator,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIType,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)

from service.search.entry import SearchQuery

_SITE_LIST = Schema(
    type=OpenAPIType.OBJECT,
    additional_properties=False,
    required=["sites"],
    properties={"sites": Schema(type=OpenAPIType.ARRAY, items=Reference(ref="#/components/schemas/SiteRecord"))},
)
_AREA_LIST = Schema(
    type=OpenAPIType.OBJECT,
    additional_properties=False,
    required=["areas"],
    properties={"areas": Schema(type=OpenAPIType.ARRAY, items=Reference(ref="#/components/schemas/Area"))},
)
_FEATURE_COLLECTION = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "features"],
    description="A GeoJSON FeatureCollection of Polygon/MultiPolygon features; properties hold code and name.",
    properties={
        "type": Schema(type=OpenAPIType.STRING, const="FeatureCollection"),
        "features": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["type", "geometry", "properties"],
                properties={
                    "type": Schema(type=OpenAPIType.STRING, const="Feature"),
                    "geometry": Schema(
                        one_of=[
                            Reference(ref="#/components/schemas/Polygon"),
                            Reference(ref="#/components/schemas/MultiPolygon"),
                        ]
                    ),
                    "properties": Schema(
                        type=OpenAPIType.OBJECT,
                        description="Holds the area's code and name, under code_property and name_property.",
                    ),
                },
            ),
        ),
    },
)

# Import endpoints read the raw body so that every bad record can be reported; their bodies are documented here.
RAW_BODIES: dict[str, tuple[Schema | Reference, str]] = {
    "importDirectory": (
        Reference(ref="#/components/schemas/DirectoryDocument"),
        "A directory document, as described by schema/directory.schema.json.",
    ),
    "importSites": (_SITE_LIST, '{"sites": [Site, ...]}; a site with a known id or slug is replaced.'),
    "importAreas": (
        Schema(one_of=[_AREA_LIST, _FEATURE_COLLECTION]),
        '{"areas": [Area, ...]}, or a GeoJSON FeatureCollection (see code_property and name_property).',
    ),
}


def _nodes(node: Any, seen: set[int] | None = None) -> Iterator[Any]:
    """Every object of the document once, each before its children (so that a change made to it is what is walked)."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    yield node
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        children: Iterable[Any] = (getattr(node, field.name) for field in dataclasses.fields(node))
    elif isinstance(node, dict):
        children = node.values()
    elif isinstance(node, list | tuple):
        children = node
    else:
        return
    for child in children:
        yield from _nodes(child, seen)


def _any_of(document: Any) -> None:
    """litestar renders msgspec tagged unions, and constrained tuples, as `oneOf` lists whose alternatives overlap
    (or include an empty schema), so a valid value can match two of them and fail `oneOf`. `anyOf` without the
    empty alternatives describes the same values correctly."""
    for node in _nodes(document):
        if isinstance(node, Schema) and node.one_of:
            options = [o for o in node.one_of if not (isinstance(o, Schema) and o.to_schema() == {})]
            node.one_of = None
            node.any_of = [*(node.any_of or []), *options]


def _service_structs() -> dict[str, list[type[msgspec.Struct]]]:
    """The service's Structs by class name (two capabilities may use one name: Open Referral's and FHIR's Location)."""
    found: dict[str, list[type[msgspec.Struct]]] = {}
    stack: list[type[msgspec.Struct]] = list(msgspec.Struct.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("service.") and cls not in found.setdefault(cls.__name__, []):
            found[cls.__name__].append(cls)
    return found


def _the_struct(candidates: list[type[msgspec.Struct]], schema: Schema | Reference) -> type[msgspec.Struct]:
    """Of the Structs that share a component's name, the one whose fields are the component's properties."""
    if len(candidates) > 1 and isinstance(schema, Schema) and schema.properties is not None:
        named = set(schema.properties)
        for cls in candidates:
            if {f.encode_name for f in msgspec.structs.fields(cls)} == named:
                return cls
    return candidates[0]


_SCHEMA_FIELDS = {f.name for f in dataclasses.fields(Schema)}
_RENAMED = {"not": "schema_not", "if": "schema_if", "else": "schema_else"}


def _snake(key: str) -> str:
    return _RENAMED.get(key) or "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def to_schema(node: Any) -> Any:
    """msgspec's JSON Schema (a dict) as litestar's Schema objects."""
    if isinstance(node, list):
        return [to_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return Reference(ref=node["$ref"])
    values: dict[str, Any] = {}
    for key, value in node.items():
        name = _snake(key)
        if name == "discriminator":
            values[name] = Discriminator(property_name=value["propertyName"], mapping=value.get("mapping"))
        elif name in ("properties", "pattern_properties", "dependent_schemas"):
            values[name] = {k: to_schema(v) for k, v in value.items()}
        elif name in ("enum", "const", "default", "examples", "required", "type"):
            values[name] = OpenAPIType(value) if name == "type" and isinstance(value, str) else value
        elif name in _SCHEMA_FIELDS:
            values[name] = to_schema(value)
    return Schema(**values)


def _any_value(kind: type) -> dict[str, Any]:
    """msgspec's schema hook: a schema for a type msgspec cannot describe itself, or NotImplementedError, which is
    how the hook protocol says "not one of mine" (msgspec then reports the type)."""
    if kind is object:
        return {"description": "Any JSON value."}  # a change record's old and new
    raise NotImplementedError(kind)


def _msgspec_components(schemas: dict[str, Schema | Reference]) -> None:
    """Every component that is one of the service's Structs, as msgspec itself describes it. litestar drops the
    constraints of values nested in containers (the pattern of each area code in a list, a ring's four positions)
    and never says additionalProperties: false; msgspec's schema is what msgspec enforces, so it is the truth."""
    structs = _service_structs()
    wanted = [_the_struct(structs[name], schema) for name, schema in schemas.items() if name in structs]
    _, components = msgspec.json.schema_components(
        wanted, schema_hook=_any_value, ref_template="#/components/schemas/{name}"
    )
    for name, definition in components.items():
        schemas[name] = to_schema(definition)


QUERY_STRUCTS: dict[str, type[msgspec.Struct]] = {"findReferralOptionsByQuery": SearchQuery}
"""Routes that decode their query parameters into a Struct themselves: the parameters are its fields."""


def _query_parameters(struct: type[msgspec.Struct]) -> list[Parameter]:
    _, components = msgspec.json.schema_components([struct], ref_template="#/components/schemas/{name}")
    definition = components[struct.__name__]
    required = set(definition.get("required", ()))
    out = []
    for name, prop in definition["properties"].items():
        description = prop.pop("description", None) if isinstance(prop, dict) else None
        if "anyOf" in prop and {"type": "null"} in prop["anyOf"]:
            prop = next(p for p in prop["anyOf"] if p != {"type": "null"}) | (
                {"default": prop["default"]} if "default" in prop else {}
            )
        out.append(
            Parameter(
                name=name,
                param_in=ParamType.QUERY,
                required=name in required,
                schema=to_schema(prop),
                description=description,
                explode=True if prop.get("type") == "array" else None,
            )
        )
    return out


PUBLISHED_NAMES: dict[str, tuple[str, str | None]] = {
    "service.openreferral.hsds.Address": ("hsds_Address", "service.domain.hsds.Address"),
    "service.openreferral.hsds.Schedule": ("hsds_Schedule", "service.domain.hsds.Schedule"),
    "service.openreferral.hsds.Service": ("hsds_Service", None),
    "service.openreferral.hsds.Taxonomy": ("hsds_Taxonomy", None),
    "service.openreferral.hsds.TaxonomyTerm": ("hsds_TaxonomyTerm", None),
    "service.domain.model.Address": ("model_Address", "service.domain.model.Address"),
    "service.domain.model.Schedule": ("model_Schedule", "service.domain.model.Schedule"),
    "service.domain.model.Service": ("model_Service", None),
    "service.domain.model.Taxonomy": ("model_Taxonomy", None),
    "service.domain.model.TaxonomyTerm": ("model_TaxonomyTerm", None),
    "service.domain.model.Referral": ("model_Referral", "service.domain.model.Referral"),
    "service.outcomes.records.Referral": ("outcomes_Referral", "service.domain.outcomes.Referral"),
    "service.openreferral.routes.ServicePage": ("openreferral_ServicePage", None),
    "service.server.schemas.ServicePage": ("schemas_ServicePage", None),
}
"""The names under which components whose class names are shared were first published. litestar names such a
component after the shortest distinct ends of the modules' paths, and msgspec names its nested references by the
whole path, so moving code would rename them; a component's name is part of the API (clients generate types from
it), so these keep the names they were published under (the second: msgspec's, where one was published)."""


def _published_name(key: str) -> str:
    """The name a component is published under: its own, unless PUBLISHED_NAMES pins it (a class's own name is never
    renamed: only the names made from module paths)."""
    if "_" not in key.lstrip("_") and "." not in key:
        return key
    for qualified, (litestar_name, msgspec_name) in PUBLISHED_NAMES.items():
        if key == qualified and msgspec_name is not None:
            return msgspec_name
        if "_" + key == qualified.replace(".", "_")[-len(key) - 1 :]:
            return litestar_name
    return key


def _rename_components(document: OpenAPI) -> None:
    """Every component (and every reference to it) under its published name."""
    if document.components is None or not document.components.schemas:
        return
    schemas = document.components.schemas
    renamed = {key: _published_name(key) for key in schemas}
    if all(key == name for key, name in renamed.items()):
        return
    document.components.schemas = {renamed[key]: value for key, value in schemas.items()}
    prefix = "#/components/schemas/"
    refs = {prefix + key: prefix + name for key, name in renamed.items() if key != name}
    for node in _nodes(document):
        if isinstance(node, Reference):
            node.ref = refs.get(node.ref, node.ref)


def finish_openapi(document: OpenAPI) -> None:
    """Docstring first lines become summaries; raw-body imports get their request body documented; overlapping
    oneOf lists become anyOf."""
    if document.components is not None and document.components.schemas:
        _msgspec_components(document.components.schemas)  # type: ignore[arg-type]
    _any_of(document)
    for item in (document.paths or {}).values():
        for operation in (item.get, item.put, item.post, item.patch, item.delete):
            if operation is None:
                continue
            if operation.description:
                operation.summary = operation.description.strip().splitlines()[0]
            if operation.operation_id in QUERY_STRUCTS:
                operation.parameters = [
                    *(operation.parameters or []),
                    *_query_parameters(QUERY_STRUCTS[operation.operation_id]),
                ]
            if operation.operation_id in RAW_BODIES:
                schema, description = RAW_BODIES[operation.operation_id]
                operation.request_body = RequestBody(
                    content={"application/json": OpenAPIMediaType(schema=schema)},
                    description=description,
                    required=True,
                )
    _rename_components(document)
