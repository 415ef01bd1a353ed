"""Interests: how strongly each contact is interested in each topic, from every kind of signal at once.

Seed 002 says to build a product-interest segment by adding people "in as
many ways as possible": the search terms they use, the links they click in
emails, the pages they visit, the content they download (its example is an
interest in a high level of service: service searches, service links, service
pages).  It also calls a link click "a direct action that is very accurate and
reveals a specific interest", which is why clicks outweigh page views, and
why email opens (a false positive) are no signal at all.  Seed 000 adds the
shop: what a customer bought (fishing gear) says what they care about.

So every topic has a table of the ways it shows in events (clicked link
topics, page url substrings, downloaded content topics, search substrings,
shop categories of carts and purchases, support ticket topics), each kind of
signal is worth some points, and old signals fade: a signal counts
``points * 0.5 ** (age / half_life)``, so an interest is current, not a
label a contact is stuck with (seed 000's fourth mistake).  ``interest.<topic>``
is that sum; a topic is one of the contact's interests when it reaches
``min_score`` (one download, or a click and a search, within weeks).

The defaults are the demo company's topics (see :mod:`segmint.demo.catalog`),
found by its page slugs, blog posts, asset topics, sv/fi/en search terms and
shop categories.  Setting ``topics`` in ``[traits.interests]`` replaces the
whole table.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import Field, field_validator
from sqlglot import exp

from segmint.model.types import FieldType
from segmint.traits.base import TraitContext, TraitField, TraitModel, TraitSettings

SECONDS_PER_DAY = 86400.0
#: Topic names become field names (``interest.<topic>``) and columns (``interest__<topic>``).
TOPIC_NAME = re.compile(r"[a-z][a-z0-9_]{0,40}")

NonEmpty = Annotated[str, Field(min_length=1)]


class SignalKind(NamedTuple):
    """One kind of interest signal: which event, which column, and how a topic's values match it."""

    name: str
    event: str
    column: str
    match: Literal["equals", "contains"]
    #: the :class:`TopicSignals` list holding the topic's values for this kind
    values: str


#: The kinds of signal, declared as data: equals is case-insensitive equality, contains a substring test.
SIGNAL_KINDS = (
    SignalKind("click", "email_click", "topic", "equals", "link_topics"),
    SignalKind("page_view", "page_view", "url", "contains", "url_patterns"),
    SignalKind("download", "content_download", "topic", "equals", "download_topics"),
    SignalKind("search", "search", "query", "contains", "search_terms"),
    SignalKind("cart", "cart_add", "category", "equals", "categories"),
    SignalKind("purchase", "purchase", "category", "equals", "categories"),
    SignalKind("ticket", "support_ticket", "topic", "equals", "ticket_topics"),
)


class TopicSignals(TraitSettings):
    """How one topic shows in events.  Every value is matched ignoring case."""

    link_topics: list[NonEmpty] | None = Field(
        None, description="email_click topic values (default: the topic's own name)."
    )
    url_patterns: list[NonEmpty] = Field([], description="Substrings of page_view urls.")
    download_topics: list[NonEmpty] | None = Field(
        None, description="content_download topic values (default: the topic's own name)."
    )
    search_terms: list[NonEmpty] = Field([], description="Substrings of search queries.")
    categories: list[NonEmpty] = Field([], description="Shop categories of cart_add and purchase events.")
    ticket_topics: list[NonEmpty] | None = Field(
        None, description="support_ticket topic values (default: the topic's own name)."
    )

    def values(self, kind: SignalKind, topic: str) -> list[str]:
        """The values that show ``topic`` in ``kind``'s column (topic columns default to the topic's name)."""
        values: list[str] | None = getattr(self, kind.values)
        return [topic] if values is None else values


class SignalPoints(TraitSettings):
    """Points per signal kind: a click is a direct, accurate sign of interest (seed 002), a purchase more so."""

    click: float = Field(3.0, ge=0, description="An email link click on the topic.")
    page_view: float = Field(1.0, ge=0, description="A view of one of the topic's pages.")
    download: float = Field(5.0, ge=0, description="A download of the topic's content.")
    search: float = Field(2.0, ge=0, description="A search for one of the topic's terms.")
    cart: float = Field(4.0, ge=0, description="A product of the topic's category added to the cart.")
    purchase: float = Field(8.0, ge=0, description="A purchase in the topic's category.")
    ticket: float = Field(2.0, ge=0, description="A support ticket about the topic.")


def _outdoor(topic: str, url: str, terms: list[str]) -> TopicSignals:
    """A web-shop topic: its category pages and products, its searches, its shop category."""
    return TopicSignals(url_patterns=[url], search_terms=terms, categories=[topic])


#: The demo company's topics: three industrial product areas, three web-shop categories, service and delivery.
DEFAULT_TOPICS: dict[str, TopicSignals] = {
    "hydraulics": TopicSignals(
        url_patterns=[
            "/products/hydraulics/",
            "/blog/choosing-the-right-hydraulic-cylinder",
            "/blog/hydraulic-oil-contamination",
            "/blog/energy-efficient-power-units",
        ],
        search_terms=["hydraul", "slangkoppling", "proportional valve"],
    ),
    "pneumatics": TopicSignals(
        url_patterns=[
            "/products/pneumatics/",
            "/blog/reducing-compressed-air-leaks",
            "/blog/pneumatics-in-food-processing",
            "/blog/valve-terminals-explained",
        ],
        search_terms=[
            "pneumat",
            "tryckluft",
            "paineilma",
            "compressed air",
            "valve terminal",
            "kompressor",
            "luftfilter",
        ],
    ),
    "electrical": TopicSignals(
        url_patterns=[
            "/products/electrical/",
            "/blog/retrofitting-control-cabinets",
            "/blog/variable-speed-drives-save-energy",
            "/blog/iec-61439-in-practice",
        ],
        search_terms=[
            "ställverk",
            "sähkökeskus",
            "frekvensomriktare",
            "taajuusmuuttaja",
            "motor drive",
            "plc",
            "givare",
        ],
    ),
    "fishing": _outdoor(
        "fishing",
        "/shop/fishing",
        ["fiske", "kalastus", "fishing", "spinnspö", "gäddwobbler", "pilkki", "vadarbyxor", "fly rod"],
    ),
    "camping": _outdoor("camping", "/shop/camping", ["camping", "tält", "teltta", "sovsäck", "makuupussi", "stormkök"]),
    "running": _outdoor("running", "/shop/running", ["löpar", "juoksu", "running", "pulsklocka"]),
    "service": TopicSignals(
        url_patterns=["/service"],
        search_terms=["service", "huolto", "underhåll", "kunnossapito", "maintenance", "reservdel", "varaosa"],
    ),
    "delivery": TopicSignals(
        url_patterns=["/delivery", "/leverans", "/toimitus", "/shipping"],
        search_terms=["leverans", "toimitus", "delivery", "frakt", "rahti", "shipping"],
    ),
}


class InterestsSettings(TraitSettings):
    topics: dict[str, TopicSignals] = Field(
        default_factory=lambda: dict(DEFAULT_TOPICS),
        min_length=1,
        description="Topic name -> how it shows in events (replaces the default topics).",
    )
    points: SignalPoints = Field(default_factory=SignalPoints, description="Points per kind of signal.")
    half_life_days: float = Field(60.0, gt=0, description="A signal counts half as much after this many days.")
    min_score: float = Field(3.0, gt=0, description="A topic with at least this score is one of the interests.")

    @field_validator("topics")
    @classmethod
    def _topic_names(cls, topics: dict[str, TopicSignals]) -> dict[str, TopicSignals]:
        bad = [t for t in topics if not TOPIC_NAME.fullmatch(t)]
        if bad:
            raise ValueError(f"topic names must be lower-case letters, digits and _ (from a letter): {bad}")
        return topics


def interest_column(topic: str) -> str:
    """The column of ``interest.<topic>`` in ``traits_interests`` (read by the affinity model)."""
    return f"interest__{topic}"


class Interests(TraitModel):
    name = "interests"
    summary = "Interest score per topic from clicks, visits, downloads, searches, carts and purchases; top interest."
    Settings = InterestsSettings
    settings: InterestsSettings

    def fields(self) -> list[TraitField]:
        s = self.settings
        fade = f"halved every {s.half_life_days:g} days"
        return [
            *(
                TraitField(
                    f"interest.{topic}",
                    FieldType.FLOAT,
                    f"Interest in {topic}: points of clicks, page views, downloads, searches, carts, purchases "
                    f"and tickets on the topic, each {fade}; 0 when none.",
                )
                for topic in s.topics
            ),
            TraitField(
                "top_interest",
                FieldType.STRING,
                f"The topic of the highest interest score of at least {s.min_score:g} (ties: first by name); "
                "unset when none.",
            ),
            TraitField(
                "interests",
                FieldType.INTEGER,
                f"How many topics the contact is interested in (score of at least {s.min_score:g}).",
            ),
        ]

    def _score(self, t: int, topic: str, values: dict[str, Any]) -> str:
        """The SQL sum of topic number ``t``'s faded points (its match values go into ``values``)."""
        s = self.settings
        whens: list[str] = []
        for k, kind in enumerate(SIGNAL_KINDS):
            names = []
            for v, value in enumerate(s.topics[topic].values(kind, topic)):
                values[f"v{t}_{k}_{v}"] = value.lower()  # the columns are lower-cased once, in ev
                names.append(f":v{t}_{k}_{v}")
            if not names:
                continue
            values[f"points_{k}"] = getattr(s.points, kind.name)
            if kind.match == "equals":
                test = f"e.{kind.column} IN ({', '.join(names)})"
            else:
                test = " OR ".join(f"STRPOS(e.{kind.column}, {n}) > 0" for n in names)
            whens.append(f"WHEN e.event = '{kind.event}' AND ({test}) THEN :points_{k}")
        return f"SUM(e.decay * CASE {' '.join(whens)} ELSE 0 END)" if whens else "0"

    def query(self, ctx: TraitContext) -> exp.Query:
        s = self.settings
        topics = list(s.topics)
        columns = [interest_column(topic) for topic in topics]
        values: dict[str, Any] = {f"topic_{t}": topic for t, topic in enumerate(topics)}
        sums = [f"CAST({self._score(t, topic, values)} AS DOUBLE) AS {columns[t]}" for t, topic in enumerate(topics)]
        events = {k.event for topic, signals in s.topics.items() for k in SIGNAL_KINDS if signals.values(k, topic)}
        best = columns[0] if len(columns) == 1 else f"GREATEST({', '.join(columns)})"
        # the first topic by name whose score is the best one
        top = " ".join(
            f"WHEN {columns[t]} = {best} THEN :topic_{t}" for t in sorted(range(len(topics)), key=topics.__getitem__)
        )
        count = " + ".join(f"CASE WHEN {c} >= :min_score THEN 1 ELSE 0 END" for c in columns)
        return ctx.parse(
            f"""
            WITH ev AS (
              -- lower-cased once here, not once per topic and pattern (that was most of the model's time)
              SELECT e.contact_key, e.event, LOWER(e.topic) AS topic, LOWER(e.url) AS url, LOWER(e.query) AS query,
                     LOWER(e.category) AS category,
                     POWER(0.5, (:as_of_epoch - EPOCH(e.ts)) / :half_life) AS decay
              FROM events e
              WHERE e.ts <= :as_of AND e.event IN (:events) AND e.contact_key IS NOT NULL
                AND KEYS(e.contact_key)),
            sig AS (
              SELECT e.contact_key, {", ".join(sums)}
              FROM ev e
              GROUP BY e.contact_key),
            scored AS (
              SELECT c.contact_key, {", ".join(f"COALESCE(s.{c}, 0.0) AS {c}" for c in columns)}
              FROM contacts c LEFT JOIN sig s ON s.contact_key = c.contact_key
              WHERE KEYS(c.contact_key))
            SELECT contact_key, {", ".join(columns)},
                   CASE WHEN {best} >= :min_score THEN CASE {top} END END AS top_interest,
                   {count} AS interests
            FROM scored
            """,
            **values,
            events=sorted(events),
            half_life=s.half_life_days * SECONDS_PER_DAY,
            min_score=s.min_score,
        )


MODEL = Interests
