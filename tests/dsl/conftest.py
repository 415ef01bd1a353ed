"""Fixtures for the segment language tests: the built-in field registry plus two traits."""

from __future__ import annotations

import pytest

from segmint.model.fields import Field, FieldRegistry, build_registry
from segmint.model.types import FieldType


@pytest.fixture(scope="session")
def registry() -> FieldRegistry:
    """Built-in fields plus the traits SEGMENTS.md's examples use."""
    traits = [
        Field("contact", "relationship_status", FieldType.STRING, "Prospect, customer, ...", "trait", "traits", "x"),
        Field("contact", "lead_score", FieldType.INTEGER, "Lead score.", "trait", "traits", "lead_score"),
    ]
    return build_registry(traits=traits)
