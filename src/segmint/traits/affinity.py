"""Affinity: which other interest a contact is likely to have, learned from everyone's interests.

Seed 000's fourth mistake is contacts stuck in the segment of what they once
bought: a customer who bought fishing gear goes into the fishing segment, but
"if it has turned out that many who bought fishing gear were also interested
in camping, it may be worth placing that contact in the camping segment too".
That "it has turned out" is an association rule, learned here over all
contacts at every refresh:

- a contact's items are the topics they are interested in: ``interest.<topic>``
  of at least the interests model's ``min_score`` (purchases already count
  there, through the topics' shop categories, so no separate basket is needed);
- a rule ``A -> B`` holds for a pair of topics with support (the share of all
  contacts who have both) of at least ``min_support``, confidence (the share of
  A's contacts who also have B) of at least ``min_confidence`` and lift
  (confidence over B's share of all contacts) above 1: having A makes B more
  likely than it is anyway;
- a contact's ``suggested_interest`` is the consequent of the strongest rule
  (highest lift, then confidence, then name) whose antecedent they have and
  whose consequent they do not have yet: the next step of their journey.

The rules are computed over everyone in the query itself, also when only some
contacts are recomputed; a full refresh stores them in ``affinity_rules`` (one
row per rule, with the ``as_of`` they were learned at) for reports, see
:func:`affinity_rules`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field
from sqlglot import exp

from segmint.model.tables import Column, Table
from segmint.model.types import FieldType
from segmint.traits import model_settings
from segmint.traits.base import TraitContext, TraitField, TraitModel, TraitSettings
from segmint.traits.interests import Interests, InterestsSettings, interest_column

if TYPE_CHECKING:
    from segmint.store.store import Store

RULES = Table(
    name="affinity_rules",
    entity="rule",
    description="Interest association rules A -> B learned by the affinity model at the last full refresh.",
    columns=(
        Column("antecedent", FieldType.STRING, "The topic a contact is interested in (A)."),
        Column("consequent", FieldType.STRING, "The topic it suggests (B)."),
        Column("support", FieldType.FLOAT, "Share of all contacts interested in both A and B."),
        Column("confidence", FieldType.FLOAT, "Share of A's contacts also interested in B."),
        Column("lift", FieldType.FLOAT, "Confidence over B's share of all contacts (above 1: A makes B likelier)."),
        Column("contacts", FieldType.INTEGER, "Contacts interested in both A and B."),
        Column("as_of", FieldType.TIMESTAMP, "When the rule was learned."),
    ),
)


class AffinitySettings(TraitSettings):
    min_support: float = Field(
        0.01, ge=0, le=1, description="A rule needs at least this share of all contacts to have both topics."
    )
    min_confidence: float = Field(
        0.2, ge=0, le=1, description="A rule needs at least this share of A's contacts to also have B."
    )


class Affinity(TraitModel):
    name = "affinity"
    requires = ("interests",)
    summary = "The interest a contact is likely to have next, from rules learned over everyone's interests."
    Settings = AffinitySettings
    settings: AffinitySettings

    def fields(self) -> list[TraitField]:
        return [
            TraitField(
                "suggested_interest",
                FieldType.STRING,
                "A topic the contact is not interested in yet but likely to be: the consequent of the strongest "
                "rule (highest lift) learned from contacts who share one of their interests; unset when none.",
            ),
            TraitField(
                "suggested_interest_lift",
                FieldType.FLOAT,
                "How many times likelier the suggested interest is for the contact than for anyone.",
            ),
        ]

    def _rules(self, ctx: TraitContext) -> tuple[str, dict[str, Any]]:
        """The CTEs ``items`` (contact, topic) and ``rules``, over every contact, and their values.

        ``positive`` compares counts exactly (``|A and B| * N > |A| * |B|``), so
        that independent topics (lift exactly 1) never pass by a rounding error.
        """
        interests = model_settings(Interests, ctx.store.settings)
        assert isinstance(interests, InterestsSettings)
        values: dict[str, Any] = {
            "min_score": interests.min_score,
            "min_support": self.settings.min_support,
            "min_confidence": self.settings.min_confidence,
        }
        selects = []
        for t, topic in enumerate(interests.topics):
            values[f"topic_{t}"] = topic
            selects.append(
                f"SELECT i.contact_key, :topic_{t} AS topic FROM {ctx.table('interests')} i "
                f"WHERE i.{interest_column(topic)} >= :min_score"
            )
        template = f"""
            WITH items AS ({" UNION ALL ".join(selects)}),
            everyone AS (SELECT COUNT(*) AS total FROM contacts),
            item_counts AS (SELECT topic, COUNT(*) AS n FROM items GROUP BY topic),
            pairs AS (
              SELECT a.topic AS antecedent, b.topic AS consequent, COUNT(*) AS n
              FROM items a JOIN items b ON b.contact_key = a.contact_key AND b.topic <> a.topic
              GROUP BY a.topic, b.topic),
            measured AS (
              SELECT p.antecedent, p.consequent, p.n AS contacts,
                     CAST(p.n AS DOUBLE) / w.total AS support,
                     CAST(p.n AS DOUBLE) / ca.n AS confidence,
                     CAST(p.n AS DOUBLE) * w.total / (CAST(ca.n AS DOUBLE) * cb.n) AS lift,
                     p.n * w.total > ca.n * cb.n AS positive
              FROM pairs p
              JOIN item_counts ca ON ca.topic = p.antecedent
              JOIN item_counts cb ON cb.topic = p.consequent
              CROSS JOIN everyone w),
            rules AS (
              SELECT antecedent, consequent, contacts, support, confidence, lift
              FROM measured
              WHERE positive AND support >= :min_support AND confidence >= :min_confidence)
            """
        return template, values

    def query(self, ctx: TraitContext) -> exp.Query:
        rules, values = self._rules(ctx)
        return ctx.parse(
            rules
            + """,
            candidates AS (
              SELECT a.contact_key, r.consequent, r.lift,
                     ROW_NUMBER() OVER (PARTITION BY a.contact_key
                                        ORDER BY r.lift DESC, r.confidence DESC, r.consequent) AS pos
              FROM items a
              JOIN rules r ON r.antecedent = a.topic
              LEFT JOIN items held ON held.contact_key = a.contact_key AND held.topic = r.consequent
              WHERE held.contact_key IS NULL AND KEYS(a.contact_key))
            SELECT c.contact_key, s.consequent AS suggested_interest, s.lift AS suggested_interest_lift
            FROM contacts c LEFT JOIN candidates s ON s.contact_key = c.contact_key AND s.pos = 1
            WHERE KEYS(c.contact_key)
            """,
            **values,
        )

    def after(self, ctx: TraitContext) -> None:
        """On a full refresh, replace ``affinity_rules`` with the rules learned now (the fresh path keeps them)."""
        if ctx.contact_keys is not None:
            return
        engine = ctx.store.engine
        rules, values = self._rules(ctx)
        select = ctx.parse(
            rules + "SELECT antecedent, consequent, support, confidence, lift, contacts, :as_of AS as_of FROM rules",
            **values,
        )
        engine.drop_table(RULES.name)
        engine.create_table(RULES)
        engine.insert_select(RULES.name, RULES.column_names, engine.sql(select))


def affinity_rules(store: Store) -> list[dict[str, Any]]:
    """The rules of the last full refresh, strongest first (``[]`` before any).

    Each is a dict of ``antecedent``, ``consequent``, ``support``,
    ``confidence``, ``lift``, ``contacts`` and ``as_of``.
    """
    engine = store.engine
    if not engine.table_exists(RULES.name):
        return []
    columns = ", ".join(engine.quote(c) for c in RULES.column_names)
    rows: list[dict[str, Any]] = engine.query(
        f"SELECT {columns} FROM {engine.quote(RULES.name)} ORDER BY lift DESC, confidence DESC, antecedent, consequent"
    ).to_pylist()
    return rows


MODEL = Affinity
