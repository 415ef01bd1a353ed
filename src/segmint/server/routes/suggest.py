"""``/api/suggest``: segments found by clustering the contacts (``segmint suggest``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from segmint.insights.suggest import MAX_K, suggest_report
from segmint.server.deps import CanRead, Conn
from segmint.server.schemas import timestamp_param
from segmint.store.store import Store

router = APIRouter(tags=["suggest"])

K = Annotated[
    int | None,
    Query(description=f"How many segments (2-{MAX_K}); default: the k of 3-8 with the best silhouette."),
]
AsOf = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Count events and evaluate the definitions at this instant (ISO 8601); "
        "default: the latest refresh.",
    ),
]
Seed = Annotated[int, Query(description="Random seed: the same seed gives the same suggestions.")]


def _suggest(store: Store, k: int | None, as_of: str | None, seed: int) -> dict[str, Any]:
    when = timestamp_param(as_of, "as_of")
    return {"ok": True, **suggest_report(store, k=k, as_of=when, random_state=seed).to_dict()}


@router.get("/api/suggest")
def get_suggestions(store: Conn, _: CanRead, k: K = None, as_of: AsOf = None, seed: Seed = 0) -> dict[str, Any]:
    """Clusters of contacts, each as a SEGMENTS.md definition with its precision and recall against the cluster.

    Each suggestion carries its document (``definition``) and the same as
    YAML (``yaml``); PUT either to ``/api/segments/{name}`` to store it.
    """
    return _suggest(store, k, as_of, seed)


@router.post("/api/suggest")
def post_suggestions(store: Conn, _: CanRead, k: K = None, as_of: AsOf = None, seed: Seed = 0) -> dict[str, Any]:
    """The same as GET: suggesting stores nothing, so reading is enough."""
    return _suggest(store, k, as_of, seed)
