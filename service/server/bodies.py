"""JSON request bodies decoded by msgspec straight into their Struct, strictly.

litestar's default decodes a body to plain Python values and then converts them leniently: `"18"` becomes 18 and
`0` a datetime in 1970, JSON nested 1,000 deep overflows the untyped decoder, and invalid UTF-8 escapes as an
exception nobody maps. This serialization plugin gives every Struct body a DTO whose `decode_bytes` is one strict
typed `msgspec.json.decode`, so each of those is a 400 problem naming the field. The OpenAPI schema is the
Struct's own, as before.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Generic, TypeVar

import msgspec
from litestar.dto import AbstractDTO, DTOFieldDefinition
from litestar.openapi.spec import Reference, Schema
from litestar.plugins import SerializationPlugin
from litestar.typing import FieldDefinition

from service.domain.decoding import convert, decode

T = TypeVar("T")


class StrictBody(AbstractDTO[T], Generic[T]):
    """Decodes request bodies only; responses are encoded by litestar as usual."""

    def decode_bytes(self, value: bytes) -> Any:
        return decode(value, self.model_type)

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        return convert(value, self.model_type)

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()  # no transfer model: the Struct itself is decoded

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def is_supported_model_type_field(cls, field_definition: FieldDefinition) -> bool:
        return False  # litestar asks this only of return types: never encode responses through this DTO

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        return None  # nothing to generate

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any
    ) -> Reference | Schema:
        annotation = FieldDefinition.from_annotation(cls.model_type, kwarg_definition=field_definition.kwarg_definition)
        schema: Reference | Schema = schema_creator.for_field_definition(annotation)
        return schema


class StrictBodies(SerializationPlugin):
    """Every msgspec Struct request body is decoded by StrictBody."""

    def supports_type(self, field_definition: FieldDefinition) -> bool:
        return field_definition.is_subclass_of(msgspec.Struct)

    def create_dto_for_type(self, field_definition: FieldDefinition) -> type[AbstractDTO[Any]]:
        annotation = field_definition.annotation
        if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
            dto: type[AbstractDTO[Any]] = StrictBody[annotation]  # type: ignore[valid-type]
            return dto
        return StrictBody  # a return type (litestar asks for those too); it is never used for them
