"""DATA.md as code: tables, columns and the field registry."""

from segmint.model.fields import CustomField, Field, FieldRegistry, build_registry
from segmint.model.tables import DATA_TABLES, ENTITY_TABLES, Column, Table
from segmint.model.types import FieldType

__all__ = [
    "DATA_TABLES",
    "ENTITY_TABLES",
    "Column",
    "CustomField",
    "Field",
    "FieldRegistry",
    "FieldType",
    "Table",
    "build_registry",
]
