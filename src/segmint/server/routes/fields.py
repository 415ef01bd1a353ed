"""``/api/fields``: the field registry, for user interfaces that build segments.

Every field a segment can name (built-in, custom property, trait; a
contact's view of its company's fields as ``company.<field>``), with its type,
description, origin and the operators SEGMENTS.md allows on it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from segmint.dsl import operators_for
from segmint.server.deps import CanRead, Conn

router = APIRouter(tags=["fields"])


@router.get("/api/fields")
def fields(
    store: Conn,
    _: CanRead,
    entity: Annotated[
        str | None, Query(pattern="^(contact|company|deal|event)$", description="Only this entity's fields.")
    ] = None,
    origin: Annotated[
        str | None, Query(pattern="^(builtin|custom|trait)$", description="Only fields of this origin.")
    ] = None,
) -> dict[str, Any]:
    """Every field by entity and name: type, description, origin (builtin, custom, trait) and operators.

    Not paged: a user interface wants the whole list, and it is a few hundred fields at most.
    """
    items = [
        {
            "entity": f.entity,
            "name": f.name,
            "type": f.type.value,
            "description": f.description,
            "origin": f.origin,
            "via": f.via,
            "operators": list(operators_for(f.type)),
        }
        for f in store.registry()
        if (entity is None or f.entity == entity) and (origin is None or f.origin == origin)
    ]
    items.sort(key=lambda i: (i["entity"], i["name"]))
    return {"ok": True, "items": items, "total": len(items)}
