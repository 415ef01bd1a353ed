"""The value types a field can have, shared by every layer."""

from __future__ import annotations

from enum import StrEnum


class FieldType(StrEnum):
    """A field's type, as the field registry, validator and engines see it."""

    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    JSON = "json"

    @property
    def is_numeric(self) -> bool:
        return self in (FieldType.INTEGER, FieldType.FLOAT)
