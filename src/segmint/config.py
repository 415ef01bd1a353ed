"""Settings from ``segmint.toml`` and ``SEGMINT_*`` environment variables.

Precedence: an explicit argument (``--db``) beats ``SEGMINT_DB``, which beats
``segmint.toml``, which beats the defaults.  The file is looked for in the
current directory unless ``SEGMINT_CONFIG`` names it.

```toml
[store]
url = "segmint.duckdb"          # or postgresql://..., spark://local[2]?warehouse=DIR

[load]
timezone = "Europe/Helsinki"    # zone of timestamps written without one
rejects_dir = "rejects"

[properties.contact]            # declare custom properties instead of inferring them
plan = { type = "string", description = "Subscription plan" }
```
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from segmint.errors import ConfigError, Problem
from segmint.model.fields import CustomField
from segmint.model.types import FieldType

DEFAULT_DB = "segmint.duckdb"
CONFIG_FILE = "segmint.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreSettings(_Section):
    url: str = DEFAULT_DB
    memory_limit: str | None = Field(None, description="DuckDB memory limit, e.g. '8GB'.")
    temp_directory: str | None = Field(None, description="Where DuckDB spills when memory runs short.")
    threads: int | None = None


class LoadSettings(_Section):
    timezone: str = "UTC"
    rejects_dir: str = "rejects"
    batch_rows: int = Field(1_000_000, gt=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone '{value}'") from exc
        return value


class ServerSettings(_Section):
    """``[server]``: the HTTP server (``segmint serve``)."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    max_pending_events: int = Field(100_000, gt=0, description="Events waiting to be stored before 429 answers.")
    commit_interval_ms: int = Field(50, gt=0, description="How long events gather into one group commit.")
    fresh_interval_seconds: float = Field(1.0, gt=0, description="How often touched contacts' segments refresh.")
    max_custom_properties: int = Field(
        200,
        ge=0,
        description="Custom properties per entity that tracked traits may create; further new traits are dropped.",
    )
    #: Segment spec event names (``Order Completed``) to segmint's; merged over the shipped map
    event_names: dict[str, str] = {}


class PropertySetting(_Section):
    type: FieldType
    description: str = ""


class Settings(_Section):
    """Everything configurable, with the defaults segmint ships."""

    store: StoreSettings = StoreSettings()
    load: LoadSettings = LoadSettings()
    server: ServerSettings = ServerSettings()
    properties: dict[str, dict[str, PropertySetting]] = {}
    #: ``[traits.<model>]``: each traits model's settings (checked by the model: segmint.traits)
    traits: dict[str, dict[str, Any]] = {}
    #: ``[lint]``: the health checks' thresholds (checked by segmint.insights.lint)
    lint: dict[str, Any] = {}

    @field_validator("properties")
    @classmethod
    def _known_entities(cls, value: dict[str, dict[str, PropertySetting]]) -> dict[str, dict[str, PropertySetting]]:
        for entity in value:
            if entity not in ("contact", "company", "deal"):
                raise ValueError(f"properties.{entity}: custom properties belong to contact, company or deal")
        return value

    def declared_properties(self) -> list[CustomField]:
        return [
            CustomField(entity, name, prop.type, prop.description)
            for entity, props in sorted(self.properties.items())
            for name, prop in sorted(props.items())
        ]


def load_settings(path: str | Path | None = None, *, db: str | None = None) -> Settings:
    """Read settings; ``db`` (from ``--db``) overrides the store URL."""
    path = Path(path or os.environ.get("SEGMINT_CONFIG") or CONFIG_FILE)
    data: dict[str, object] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        settings = Settings.model_validate(data)
    except PydanticValidationError as exc:
        problems = [Problem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        raise ConfigError(f"{path}: invalid settings", problems=problems) from exc
    url = db or os.environ.get("SEGMINT_DB")
    if url:
        settings.store.url = url
    return settings
