"""Finishing touches to the generated OpenAPI document that litestar cannot infer from the handlers."""

from __future__ import annotations

import dataclasses
from typing import Any

from litestar.openapi.spec import OpenAPI, OpenAPIMediaType, OpenAPIType, Reference, RequestBody, Schema

_SITE_LIST = Schema(
    type=OpenAPIType.OBJECT,
    required=["sites"],
    properties={"sites": Schema(type=OpenAPIType.ARRAY, items=Reference(ref="#/components/schemas/SiteRecord"))},
)
_AREA_LIST = Schema(
    type=OpenAPIType.OBJECT,
    required=["areas"],
    properties={"areas": Schema(type=OpenAPIType.ARRAY, items=Reference(ref="#/components/schemas/Area"))},
)
_FEATURE_COLLECTION = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "features"],
    description="A GeoJSON FeatureCollection of Polygon/MultiPolygon features; properties hold code and name.",
    properties={
        "type": Schema(type=OpenAPIType.STRING, const="FeatureCollection"),
        "features": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.OBJECT)),
    },
)

# litestar drops the constraints of tuples nested in tuples, so GeoJSON coordinates are spelled out here as msgspec
# checks them: a position is (lon, lat) in degrees, and a linear ring has at least four positions.
_POSITION = Schema(
    type=OpenAPIType.ARRAY,
    prefix_items=[
        Schema(type=OpenAPIType.NUMBER, minimum=-180, maximum=180, description="Longitude, WGS84 degrees."),
        Schema(type=OpenAPIType.NUMBER, minimum=-90, maximum=90, description="Latitude, WGS84 degrees."),
    ],
    min_items=2,
    max_items=2,
)
_RING = Schema(
    type=OpenAPIType.ARRAY, items=_POSITION, min_items=4, description="A closed linear ring: first == last."
)
_POLYGON_RINGS = Schema(type=OpenAPIType.ARRAY, items=_RING, min_items=1)
COORDINATES = {
    "Polygon": _POLYGON_RINGS,
    "MultiPolygon": Schema(type=OpenAPIType.ARRAY, items=_POLYGON_RINGS, min_items=1),
}

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


def _any_of(node: Any, seen: set[int]) -> None:
    """litestar renders msgspec tagged unions, and constrained tuples, as `oneOf` lists whose alternatives overlap
    (or include an empty schema), so a valid value can match two of them and fail `oneOf`. `anyOf` without the
    empty alternatives describes the same values correctly."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, Schema) and node.one_of:
        options = [o for o in node.one_of if not (isinstance(o, Schema) and o.to_schema() == {})]
        node.one_of = None
        node.any_of = [*(node.any_of or []), *options]
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for field in dataclasses.fields(node):
            _any_of(getattr(node, field.name), seen)
    elif isinstance(node, dict):
        for value in node.values():
            _any_of(value, seen)
    elif isinstance(node, list | tuple):
        for value in node:
            _any_of(value, seen)


def finish_openapi(document: OpenAPI) -> None:
    """Docstring first lines become summaries; raw-body imports get their request body documented; overlapping
    oneOf lists become anyOf."""
    _any_of(document, set())
    schemas = document.components.schemas if document.components else {}
    for name, coordinates in COORDINATES.items():
        geometry = schemas.get(name)
        if isinstance(geometry, Schema) and geometry.properties:
            geometry.properties["coordinates"] = coordinates
    for item in (document.paths or {}).values():
        for operation in (item.get, item.put, item.post, item.patch, item.delete):
            if operation is None:
                continue
            if operation.description:
                operation.summary = operation.description.strip().splitlines()[0]
            if operation.operation_id in RAW_BODIES:
                schema, description = RAW_BODIES[operation.operation_id]
                operation.request_body = RequestBody(
                    content={"application/json": OpenAPIMediaType(schema=schema)},
                    description=description,
                    required=True,
                )
