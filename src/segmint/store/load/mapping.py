"""Column mappings: make an export from another tool loadable without editing it.

```yaml
# mapping.yaml
entity: contacts                 # optional: refuse to map another entity
columns:                         # source column -> segmint field
  "Email Address": email
  "Create Date": created_at
ignore: ["Marketing emails delivered"]   # columns to drop
constants:                       # a field the file lacks, the same on every row
  source: hubspot_import
values:                          # per field: source value -> stored value (case-insensitive)
  lifecycle_stage: {"Marketing Qualified Lead": mql, "Sales Qualified Lead": sql}
date_formats:                    # per field: strptime format for its timestamps
  created_at: "%Y-%m-%d %H:%M"
timezone: Europe/Helsinki        # zone of timestamps written without one
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, field_validator
from pydantic import ValidationError as PydanticValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from segmint.errors import MappingError, Problem
from segmint.store.load.readers import normalize_name

ENTITIES = ("contacts", "companies", "events", "deals", "consents")


class Mapping(BaseModel):
    """A mapping file, validated."""

    model_config = ConfigDict(extra="forbid")

    entity: str | None = None
    columns: dict[str, str] = {}
    ignore: list[str] = []
    constants: dict[str, str | int | float | bool] = {}
    values: dict[str, dict[str, str | int | float | bool | None]] = {}
    date_formats: dict[str, str] = {}
    timezone: str | None = None

    @field_validator("entity")
    @classmethod
    def _entity(cls, value: str | None) -> str | None:
        if value is not None and value not in ENTITIES:
            raise ValueError(f"unknown entity '{value}' (expected one of {', '.join(ENTITIES)})")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone '{value}'") from exc
        return value

    @field_validator("columns")
    @classmethod
    def _targets(cls, value: dict[str, str]) -> dict[str, str]:
        return {source: normalize_name(target) for source, target in value.items()}

    def field_format(self, field: str) -> str | None:
        return {normalize_name(k): v for k, v in self.date_formats.items()}.get(field)

    def apply(self, table: pa.Table, *, source: str) -> pa.Table:
        """Rename, drop, add constants and translate values; names come out normalised."""
        by_lower = {name.strip().lower(): name for name in table.column_names}
        renames = {by_lower[s.strip().lower()]: t for s, t in self.columns.items() if s.strip().lower() in by_lower}
        ignored = {i.strip().lower() for i in self.ignore}
        names, arrays = [], []
        for name, column in zip(table.column_names, table.columns, strict=True):
            if name.strip().lower() in ignored:
                continue
            names.append(renames.get(name, name) if name == "_row" else normalize_name(renames.get(name, name)))
            arrays.append(column)
        table = (
            pa.table(dict(zip(names, arrays, strict=True)))
            if len(set(names)) == len(names)
            else _duplicate(names, source)
        )
        for field, value in self.constants.items():
            field = normalize_name(field)
            constant = pa.array([value] * table.num_rows)
            if field in table.column_names:
                merged = pc.coalesce(table.column(field), constant.cast(table.column(field).type))
                table = table.set_column(table.column_names.index(field), field, merged)
            else:
                table = table.append_column(field, constant)
        for field, mapping in self.values.items():
            field = normalize_name(field)
            if field in table.column_names:
                table = table.set_column(
                    table.column_names.index(field), field, _map_values(table.column(field), mapping)
                )
        return table


def _duplicate(names: list[str], source: str) -> pa.Table:
    dupes = sorted({n for n in names if names.count(n) > 1})
    raise MappingError(f"{source}: two columns map to the same field: {', '.join(dupes)}")


def _map_values(column: pa.ChunkedArray, mapping: dict[str, Any]) -> pa.ChunkedArray:
    """Translate values case-insensitively; values not in the map are kept."""
    text = column.cast(pa.string())
    keys = pa.array([str(k).lower() for k in mapping])
    targets = pa.array([None if v is None else str(v) for v in mapping.values()], pa.string())
    index = pc.index_in(pc.utf8_lower(text), value_set=keys)
    mapped = pc.take(targets, index)
    return pc.if_else(pc.is_null(index), text, mapped)


def read_mapping(path: str | Path, *, entity: str | None = None) -> Mapping:
    """Read and validate a mapping file; every problem is reported with its path."""
    path = Path(path)
    if not path.exists():
        raise MappingError(f"{path}: no such mapping file")
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise MappingError(f"{path}: a mapping file is a YAML mapping with keys such as columns, constants, values")
    try:
        mapping = Mapping.model_validate(data)
    except PydanticValidationError as exc:
        problems = [
            Problem(
                ".".join(str(p) for p in e["loc"]),
                e["msg"].removeprefix("Value error, "),
                _suggest_key(e) if e["type"] == "extra_forbidden" else [],
            )
            for e in exc.errors()
        ]
        raise MappingError(f"{path}: invalid mapping", problems=problems) from exc
    if entity and mapping.entity and mapping.entity != entity:
        raise MappingError(f"{path}: this mapping is for {mapping.entity}, not {entity}")
    return mapping


def _suggest_key(error: Any) -> list[str]:
    import difflib

    return difflib.get_close_matches(str(error["loc"][-1]), list(Mapping.model_fields), n=2)
