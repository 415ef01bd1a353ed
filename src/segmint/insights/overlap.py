"""Overlap between segments: the Jaccard matrix, the contacts in many segments, a heatmap.

Seed 000's third mistake is too many segments: lists that are nearly the
same people, and contacts who get a message from every list they are on.
This report reads the members of each segment as of its last refresh
(``segment_members`` for dynamic segments, ``segment_static_members`` for
static ones) and measures

- for every pair of segments of the same entity, the Jaccard index
  ``|A ∩ B| / |A ∪ B|`` (1: the same members, 0: none shared), counted in the
  store's SQL with one self-join of the membership rows (a pair sharing no
  member has no row and an index of 0);
- how many segments each contact is in, as a distribution, and the contacts
  in the most segments.

>>> pair = Pair("a", "b", size_a=10, size_b=8, both=6, jaccard=0.5)
>>> pair.union
12
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from segmint.errors import InsufficientDataError, NotFoundError
from segmint.insights.charts import new_figure, save_figure
from segmint.model.tables import SEGMENT_MEMBERS, SEGMENTS, STATIC_MEMBERS
from segmint.store.store import Store

#: the membership rows of every stored segment: dynamic ones as of their last refresh, static ones as stored
MEMBERSHIP = f"""
SELECT s.name AS segment, s.entity AS entity, m.member_key AS member_key
FROM {SEGMENT_MEMBERS.name} m JOIN {SEGMENTS.name} s ON s.name = m.segment
WHERE s.kind = 'dynamic'
UNION ALL
SELECT s.name, s.entity, m.member_key
FROM {STATIC_MEMBERS.name} m JOIN {SEGMENTS.name} s ON s.name = m.segment
WHERE s.kind = 'static'
"""


@dataclass(frozen=True)
class SegmentSize:
    """One segment of the report: its name, entity and members."""

    name: str
    entity: str
    size: int


@dataclass(frozen=True)
class Pair:
    """Two segments of the same entity and the members they share."""

    a: str
    b: str
    size_a: int
    size_b: int
    both: int
    #: ``|A ∩ B| / |A ∪ B|``, as the store's SQL computed it
    jaccard: float

    @property
    def union(self) -> int:
        return self.size_a + self.size_b - self.both

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "size_a": self.size_a,
            "size_b": self.size_b,
            "both": self.both,
            "union": self.union,
            "jaccard": round(self.jaccard, 4),
        }


@dataclass(frozen=True)
class BusyContact:
    """A contact in many segments."""

    contact_id: str
    email: str | None
    segments: int


@dataclass
class Overlap:
    """What :func:`overlap` measured (see the module doc)."""

    segments: list[SegmentSize]
    #: every pair sharing at least one member, highest Jaccard first
    pairs: list[Pair]
    #: number of segments -> contacts in exactly that many (contacts in none included, under 0)
    distribution: dict[int, int]
    #: the contacts in the most segments, most first
    busiest: list[BusyContact] = field(default_factory=list)
    contacts: int = 0

    def jaccard(self, a: str, b: str) -> float:
        """The Jaccard index of two segments of the report (1 for a segment with itself, unless empty)."""
        sizes = {s.name: s for s in self.segments}
        if a not in sizes or b not in sizes:
            raise NotFoundError(f"segment '{a if a not in sizes else b}' is not in this overlap report")
        if a == b:
            return 1.0 if sizes[a].size else 0.0
        for pair in self.pairs:
            if {pair.a, pair.b} == {a, b}:
                return pair.jaccard
        return 0.0

    def matrix(self) -> list[list[float]]:
        """The Jaccard index of every two segments, in the order of :attr:`segments`."""
        index = {(p.a, p.b): p.jaccard for p in self.pairs}
        index.update({(p.b, p.a): p.jaccard for p in self.pairs})
        rows = []
        for x in self.segments:
            rows.append(
                [
                    (1.0 if x.size else 0.0) if x.name == y.name else index.get((x.name, y.name), 0.0)
                    for y in self.segments
                ]
            )
        return rows

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """JSON-ready: sizes, the pairs (the ``top`` first), the matrix, the distribution, the busiest contacts."""
        return {
            "contacts": self.contacts,
            "segments": [{"name": s.name, "entity": s.entity, "size": s.size} for s in self.segments],
            "pairs": [p.to_dict() for p in (self.pairs if top is None else self.pairs[:top])],
            "matrix": [[round(v, 4) for v in row] for row in self.matrix()],
            "distribution": [{"segments": k, "contacts": v} for k, v in sorted(self.distribution.items())],
            "busiest": [
                {"contact_id": c.contact_id, "email": c.email, "segments": c.segments}
                for c in (self.busiest if top is None else self.busiest[:top])
            ],
        }


def _query(store: Store, template: str, **lists: Sequence[str]) -> list[dict[str, Any]]:
    """Run a template (DuckDB's dialect, parsed by sqlglot); ``x IN (:name)`` takes a list of literals."""
    tree = sqlglot.parse_one(template, read="duckdb")

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.In) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Placeholder):
            values = lists[node.expressions[0].name]
            node.set("expressions", [exp.Literal.string(v) for v in values] or [exp.null()])
        return node

    rows: list[dict[str, Any]] = store.engine.query(tree.transform(replace, copy=False)).to_pylist()
    return rows


def _chosen(store: Store, names: Iterable[str] | None) -> list[SegmentSize]:
    """The segments of the report with their sizes: all stored ones, or ``names`` (each must exist)."""
    rows = _query(
        store,
        f"""
        SELECT s.name AS name, s.entity AS entity, COUNT(m.member_key) AS size
        FROM {SEGMENTS.name} s LEFT JOIN ({MEMBERSHIP}) m ON m.segment = s.name
        GROUP BY s.name, s.entity
        ORDER BY s.name
        """,
    )
    every = {r["name"]: SegmentSize(r["name"], r["entity"], int(r["size"])) for r in rows}
    if names is None:
        if not every:
            raise InsufficientDataError(
                "the store has no segments: apply some (segmint segment apply, segmint playbook install) "
                "and run segmint refresh, then compare them"
            )
        return list(every.values())
    wanted = list(dict.fromkeys(names))
    unknown = [n for n in wanted if n not in every]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(every), n=3)
            hints.append(f"'{name}'" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        raise NotFoundError(f"no segment named {', '.join(hints)}")
    return [every[n] for n in wanted]


def overlap(store: Store, names: Iterable[str] | None = None, *, top: int = 10) -> Overlap:
    """How the segments (all, or ``names``) overlap, from their members as of the last refresh.

    Raises :class:`InsufficientDataError` when the store has no segments, or
    none with members (not refreshed yet), and :class:`NotFoundError` for a
    name it does not know.
    """
    segments = _chosen(store, names)
    if not any(s.size for s in segments):
        raise InsufficientDataError(
            f"{'the segments have' if len(segments) > 1 else 'the segment has'} no members yet: "
            "run segmint refresh, then compare them"
        )
    chosen = [s.name for s in segments]
    # One self-join of the membership rows: a contact in k of the chosen segments gives k(k-1)/2 rows;
    # a pair has a row when it shares someone, so |A ∪ B| = |A| + |B| - |A ∩ B| is never 0.
    shared = _query(
        store,
        f"""
        WITH m AS (SELECT * FROM ({MEMBERSHIP}) AS membership WHERE segment IN (:names)),
        sizes AS (SELECT segment, COUNT(*) AS size FROM m GROUP BY segment),
        pairs AS (
          SELECT a.segment AS a, b.segment AS b, COUNT(*) AS both_
          FROM m a JOIN m b ON b.member_key = a.member_key AND b.entity = a.entity AND b.segment > a.segment
          GROUP BY a.segment, b.segment)
        SELECT p.a, p.b, sa.size AS size_a, sb.size AS size_b, p.both_,
               CAST(p.both_ AS DOUBLE) / (sa.size + sb.size - p.both_) AS jaccard
        FROM pairs p JOIN sizes sa ON sa.segment = p.a JOIN sizes sb ON sb.segment = p.b
        """,
        names=chosen,
    )
    pairs = [
        Pair(r["a"], r["b"], int(r["size_a"]), int(r["size_b"]), int(r["both_"]), float(r["jaccard"])) for r in shared
    ]
    pairs.sort(key=lambda p: (-p.jaccard, -p.both, p.a, p.b))
    contact_segments = [s.name for s in segments if s.entity == "contact"]
    counts = _query(
        store,
        f"""
        WITH m AS (SELECT * FROM ({MEMBERSHIP}) AS membership WHERE segment IN (:names)),
        per AS (SELECT member_key, COUNT(*) AS n FROM m GROUP BY member_key)
        SELECT COALESCE(per.n, 0) AS segments, COUNT(*) AS contacts
        FROM contacts c LEFT JOIN per ON per.member_key = c.contact_key
        GROUP BY COALESCE(per.n, 0)
        """,
        names=contact_segments,
    )
    distribution = {int(r["segments"]): int(r["contacts"]) for r in counts}
    busiest = _query(
        store,
        f"""
        WITH m AS (SELECT * FROM ({MEMBERSHIP}) AS membership WHERE segment IN (:names)),
        per AS (SELECT member_key, COUNT(*) AS n FROM m GROUP BY member_key)
        SELECT c.contact_id AS contact_id, c.email AS email, per.n AS segments
        FROM per JOIN contacts c ON c.contact_key = per.member_key
        ORDER BY per.n DESC, c.contact_id
        LIMIT {max(int(top), 0)}
        """,
        names=contact_segments,
    )
    return Overlap(
        segments=segments,
        pairs=pairs,
        distribution=distribution,
        busiest=[BusyContact(r["contact_id"], r["email"], int(r["segments"])) for r in busiest],
        contacts=sum(distribution.values()),
    )


#: beyond this many segments the heatmap drops the numbers in its cells (they would not fit)
ANNOTATE_UP_TO = 16


def overlap_chart(report: Overlap, path: str | Path) -> Path:
    """The Jaccard matrix as a heatmap, written as PNG, SVG or HTML by ``path``'s suffix."""
    names = [s.name for s in report.segments]
    n = len(names)
    side = min(max(4.0, 0.32 * n + 2.5), 30.0)
    figure = new_figure(side + 1.5, side)
    axes = figure.add_subplot()
    image = axes.imshow(report.matrix(), vmin=0.0, vmax=1.0, cmap="viridis")
    axes.set_xticks(range(n), labels=names, rotation=90, fontsize=8 if n > 20 else 9)
    axes.set_yticks(range(n), labels=names, fontsize=8 if n > 20 else 9)
    if n <= ANNOTATE_UP_TO:
        for i, row in enumerate(report.matrix()):
            for j, value in enumerate(row):
                axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color="w" if value < 0.6 else "k")
    figure.colorbar(image, ax=axes, label="Jaccard |A∩B| / |A∪B|")
    title = "Segment overlap (Jaccard index)"
    axes.set_title(title)
    return save_figure(figure, path, title)


__all__ = ["BusyContact", "Overlap", "Pair", "SegmentSize", "overlap", "overlap_chart"]
