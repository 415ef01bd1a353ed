"""The playbook: every segment the seeds name, ready to use, one YAML file each.

Each segment has a title, a description saying which advice it implements and
what to send to it, and a tag naming its theme (relationship, engagement,
interests, leads, persona, journey, deliverability, value, sales, source,
cohorts, firmographics).  They are built on the traits (``segmint.traits``),
so they are true after a ``segmint refresh``.

>>> themes = playbook_themes()
>>> [s.name for s in themes["relationship"]][:4]
['customers', 'former-customers', 'never-bought-subscribers', 'partners-tech']
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources

from segmint.dsl import Segment, parse_segment
from segmint.errors import Problem, ValidationError
from segmint.segments import ApplyResult, apply_segments
from segmint.store.store import Store


def playbook_segments(tags: Iterable[str] | None = None) -> dict[str, Segment]:
    """The playbook's segments (parsed, not yet validated against a store), by name; ``tags`` filters."""
    wanted = {t.lower() for t in tags} if tags is not None else None
    found: dict[str, Segment] = {}
    for path in sorted(resources.files(__name__).iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".yaml"):
            continue
        segment = parse_segment(path.read_text(encoding="utf-8"), origin=f"playbook/{path.name}")
        if wanted is None or wanted & set(segment.tags):
            found[segment.name] = segment
    if wanted is not None:
        known = {t for s in playbook_segments().values() for t in s.tags}
        unknown = sorted(wanted - known)
        if unknown:
            raise ValidationError(
                f"unknown playbook theme '{unknown[0]}'",
                problems=[Problem("--tag", f"unknown playbook theme '{t}'", sorted(known)) for t in unknown],
            )
    return found


#: The order themes are shown in: from who a contact is to what to send them.
THEMES = (
    "relationship",
    "engagement",
    "interests",
    "leads",
    "journey",
    "value",
    "sales",
    "persona",
    "source",
    "cohorts",
    "firmographics",
    "deliverability",
)


def playbook_themes() -> dict[str, list[Segment]]:
    """The playbook's segments grouped by their theme (first tag), themes in :data:`THEMES` order."""
    themes: dict[str, list[Segment]] = {}
    for segment in playbook_segments().values():
        themes.setdefault(segment.tags[0] if segment.tags else "other", []).append(segment)
    rank = {t: i for i, t in enumerate(THEMES)}
    return dict(sorted(themes.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))


def install_playbook(store: Store, tags: Iterable[str] | None = None) -> ApplyResult:
    """Validate the playbook against the store and store every segment (all or nothing).

    With ``tags``, the segments of those themes and every playbook segment they nest.
    """
    everything = playbook_segments()
    chosen = playbook_segments(tags) if tags is not None else everything
    todo = list(chosen)
    while todo:
        for needed in everything[todo.pop()].dependencies():
            if needed in everything and needed not in chosen:
                chosen[needed] = everything[needed]
                todo.append(needed)
    return apply_segments(store, chosen)


__all__ = ["install_playbook", "playbook_segments", "playbook_themes"]
