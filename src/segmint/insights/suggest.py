"""Suggested segments: clusters of contacts, each written as an editable SEGMENTS.md definition.

Seed 001 says modern platforms suggest segments; this finds groups in the
store's own data and hands them back as definitions a marketer can read,
edit and ``segment apply``.

1. **Features**, one row per contact, pulled in one query: the traits and
   fields the registry knows (:data:`FEATURES`: behaviour -- clicks, human
   opens and page views of the last 365 days, lead score, engagement tier;
   value -- orders, revenue, predicted lifetime value, relationship;
   firmographics -- industry, employees, country, persona, lifecycle stage).
   Fields that are missing from the registry, or the same for everyone, are
   left out.
2. **Clusters**: a scikit-learn ``ColumnTransformer`` -- money and counts
   imputed with 0 (an unset revenue is no revenue), put on a log scale
   (``log1p``: they are skewed) and standardised; other numbers imputed with
   the median and scaled robustly; categories one-hot encoded with the rare
   ones (under 2 % of contacts) grouped -- then k-means.  Without ``k``, k
   runs over 3..8 and the k with the best silhouette (on a sample of at most
   2,000 contacts) wins; 2 is not tried, since two clusters are nearly always
   the buyers and the rest, which every list has already.  k-means is fitted
   on a sample of at most 20,000 contacts and then assigns everyone.
3. **Definitions**: per cluster, a shallow decision tree (depth 3,
   cluster against the rest) on the *original* fields -- numbers as they are
   (unset stays unset: the tree routes missing values itself), categories
   ordered by how often they fall in the cluster (for a yes/no target that
   ordering gives the best split into two sets, so a split is an ``in``
   list).  The leaves that are mostly the cluster are added while the F1
   score improves; each leaf's path becomes an ``all`` of field conditions
   (thresholds on numbers, ``in`` lists on categories, event counts with
   ``within: 365d``), several leaves an ``any`` of them.
4. **Figures that hold**: each definition is written as YAML, read back with
   the project's own parser, validated against the store's fields, and
   evaluated by segmint's engine (:func:`segmint.segments.evaluate.segment_members`)
   at ``as_of``: precision (its members that are in the cluster) and recall
   (the cluster's contacts it finds) are what the user gets after applying.

>>> _nice_threshold(12.3456, left_max=12.2, right_min=13.0)   # the split between 12.2 and 13 is x <= 12.3
12.3
>>> _slug("Manufacturing & Marine")
'manufacturing-marine'
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import silhouette_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    RobustScaler,
    StandardScaler,
)
from sklearn.tree import DecisionTreeClassifier
from sqlglot import exp
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # a dependency of scikit-learn

from segmint.compile import MEMBER_ID, MEMBER_KEY
from segmint.dsl import (
    AllOf,
    AnyOf,
    Condition,
    Count,
    EventCondition,
    FieldCondition,
    Segment,
    Within,
    dump_yaml,
    load_segment,
    validate_segment,
)
from segmint.errors import InsufficientDataError, UsageError
from segmint.insights.charts import new_figure, save_figure
from segmint.model.fields import Field
from segmint.model.tables import CONTACTS, SEGMENT_REFRESHES, SEGMENTS
from segmint.model.types import FieldType
from segmint.segments.evaluate import compiler, now_utc, segment_members
from segmint.store.store import Store
from segmint.traits.base import TABLE_PREFIX, TraitContext

Array = NDArray[np.float64]

#: event counts are taken over this window before ``as_of`` (definitions say ``within: 365d``)
EVENT_WINDOW = timedelta(days=365)
#: fewer contacts than this cannot be clustered meaningfully
MIN_CONTACTS = 20
#: a cluster should hold at least this many contacts on average (bounds k)
MIN_CLUSTER_SIZE = 5
#: k tried when none is given, and the largest k accepted
K_RANGE = (3, 8)
MAX_K = 12
#: k-means is fitted on at most this many contacts, then assigns everyone
FIT_SAMPLE = 20_000
#: the silhouette that picks k is computed on at most this many contacts
SILHOUETTE_SAMPLE = 2_000
#: categories held by fewer contacts than this share are grouped (one-hot and trees)
RARE_SHARE = 0.02
#: depth of the decision tree that writes a cluster's definition
TREE_DEPTH = 3
#: the tag every suggested definition carries (an extension of SEGMENTS.md: tags)
TAG = "suggested"
#: a numeric feature whose cluster mean is this many standard deviations from everyone's is named
NOTABLE_SHIFT = 0.5

_UNSET = "\x00unset"
_RARE = "\x00rare"


@dataclass(frozen=True)
class Feature:
    """One column the clustering reads: a registry field, or a count of events of the window."""

    key: str
    kind: Literal["number", "category"]
    group: Literal["behaviour", "value", "firmographics"]
    #: the plain words for it ("email clicks in the last 365 days")
    words: str
    #: the word in a suggested name ("clicks")
    short: str = ""
    #: money and counts: unset means 0, and they are put on a log scale
    amount: bool = False
    #: a count (reads "many"/"few"/"no") rather than a level ("high"/"low")
    count: bool = False
    #: an event count: these events within EVENT_WINDOW (not a registry field)
    events: tuple[str, ...] = ()
    #: opens by a person: machine opens (privacy proxies, scanners) are not counted
    human_only: bool = False
    #: for an amount: unset means 0 (revenue); else unset is unknown (a company's size), imputed with the median
    #: and marked by an indicator column
    unset_zero: bool = True
    #: what an unset value is not known of ("company size")
    unset_words: str = ""


#: the candidate features; those the store's registry lacks are skipped
FEATURES: tuple[Feature, ...] = (
    Feature("email_clicks", "number", "behaviour", "email clicks (365 days)", "clicks", True, True, ("email_click",)),
    Feature(
        "email_opens", "number", "behaviour", "human email opens (365 days)", "opens", True, True, ("email_open",), True
    ),
    Feature("page_views", "number", "behaviour", "page views (365 days)", "visits", True, True, ("page_view",)),
    Feature("lead_score", "number", "behaviour", "lead score", "lead score"),
    Feature("engagement_tier", "category", "behaviour", "engagement"),
    Feature("orders", "number", "value", "orders", "orders", True, True),
    Feature("revenue", "number", "value", "revenue", "revenue", True),
    Feature("predicted_clv", "number", "value", "predicted lifetime value", "lifetime value", True),
    Feature("relationship_status", "category", "value", "relationship"),
    Feature("company.industry", "category", "firmographics", "industry"),
    Feature(
        "company.employees",
        "number",
        "firmographics",
        "employees",
        "employees",
        True,
        True,
        unset_zero=False,
        unset_words="company size",
    ),
    Feature("country", "category", "firmographics", "country"),
    Feature("persona", "category", "firmographics", "persona"),
    Feature("lifecycle_stage", "category", "firmographics", "lifecycle stage"),
)


@dataclass
class Trait:
    """What sets a cluster apart on one feature."""

    feature: str
    #: a category's value the cluster is mostly of; None for a number
    value: str | None
    #: categories: the value's share in the cluster; numbers: the cluster's median (or mean, as the phrase
    #: says); a number mostly unset in the cluster ("employees unknown"): the unset share
    cluster: float
    #: the same among all contacts
    everyone: float
    #: categories and unset numbers: the lift (cluster share / overall share); numbers: the shift of the
    #: cluster's mean in standard deviations (on the log scale for amounts)
    score: float
    #: in a name: "manufacturing", "high revenue"
    label: str
    #: in a description: "industry Manufacturing (97% vs 29% of all contacts)"
    phrase: str


@dataclass
class Suggestion:
    """One suggested segment: a cluster and the definition that finds it."""

    name: str
    title: str
    description: str
    #: contacts in the cluster
    size: int
    #: contacts the definition matches (evaluated by the engine at ``as_of``)
    members: int
    #: share of the definition's members that are in the cluster
    precision: float
    #: share of the cluster that the definition matches
    recall: float
    #: the SEGMENTS.md document (``segment apply`` accepts its YAML)
    definition: dict[str, Any]
    traits: list[Trait] = field(default_factory=list)
    #: every numeric feature's shift from all contacts, in standard deviations (log scale for amounts)
    profile: dict[str, float] = field(default_factory=dict)
    cluster: int = 0
    #: ids of the cluster's contacts (not in to_dict: a cluster may be large)
    cluster_ids: list[str] = field(default_factory=list, repr=False)

    @property
    def yaml(self) -> str:
        """The definition as YAML, as written to files."""
        return dump_yaml(self.definition)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("cluster_ids")
        data["yaml"] = self.yaml
        return data


@dataclass
class SuggestReport:
    """Suggestions with how they were found."""

    as_of: datetime
    contacts: int
    k: int
    #: silhouette per k tried (only k itself when it was given)
    silhouette: dict[int, float]
    features: list[str]
    suggestions: list[Suggestion]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "contacts": self.contacts,
            "k": self.k,
            "silhouette": {str(k): v for k, v in self.silhouette.items()},
            "features": self.features,
            "suggestions": [s.to_dict() for s in self.suggestions],
        }


# ---- the public entry points -------------------------------------------------------------------------------


def suggest(
    store: Store, k: int | None = None, as_of: datetime | None = None, random_state: int = 0
) -> list[Suggestion]:
    """Suggested segments for the store's contacts, largest cluster first (see the module doc)."""
    return suggest_report(store, k=k, as_of=as_of, random_state=random_state).suggestions


def suggest_report(
    store: Store, k: int | None = None, as_of: datetime | None = None, random_state: int = 0
) -> SuggestReport:
    """:func:`suggest` with the k chosen, the silhouettes and the features used.

    ``as_of`` defaults to the latest refresh (the instant the traits were
    computed at), else now.
    """
    if k is not None and not 2 <= k <= MAX_K:
        raise UsageError(f"--k {k}: ask for between 2 and {MAX_K} segments")
    when = (as_of or latest_refresh(store) or now_utc()).astimezone(UTC)
    frame = contact_features(store, when)
    n = len(frame.ids)
    if n < MIN_CONTACTS:
        raise InsufficientDataError(
            f"{n} contacts in the store: suggestions need at least {MIN_CONTACTS}; load contacts first"
        )
    if k is not None and k > n // MIN_CLUSTER_SIZE:
        raise UsageError(f"--k {k}: too many segments for {n} contacts (at most {n // MIN_CLUSTER_SIZE})")
    rng = np.random.default_rng(random_state)
    labels, k, silhouettes = cluster_contacts(frame, k, rng, random_state)
    taken = stored_names(store)
    suggestions = []
    for cluster in range(k):
        in_cluster = labels == cluster
        if not in_cluster.any():
            continue
        suggestion = _describe_cluster(store, frame, in_cluster, cluster, k, when, taken, random_state)
        taken.add(suggestion.name)
        suggestions.append(suggestion)
    return SuggestReport(when, n, k, silhouettes, [f.key for f in frame.features], suggestions)


def latest_refresh(store: Store) -> datetime | None:
    """The ``as_of`` of the latest refresh, if any."""
    rows = store.engine.query(
        exp.select(exp.Max(this=exp.column("as_of")).as_("as_of")).from_(SEGMENT_REFRESHES.name)
    ).to_pylist()
    value = rows[0]["as_of"] if rows else None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def stored_names(store: Store) -> set[str]:
    """The names of the stored segments (a suggestion never takes one)."""
    return {r["name"] for r in store.engine.query(exp.select("name").from_(SEGMENTS.name)).to_pylist()}


# ---- features -----------------------------------------------------------------------------------------------


@dataclass
class Frame:
    """The contacts' features as arrays: numbers as float (NaN unset), categories as lower-case text."""

    keys: NDArray[np.int64]
    ids: list[str]
    features: list[Feature]
    #: feature key -> float array (numbers) or object array of str / None (categories)
    columns: dict[str, NDArray[Any]]
    #: category feature key -> lower-case value -> the spelling most contacts have
    spelling: dict[str, dict[str, str]]
    #: registry fields by feature key (not for event counts)
    fields: dict[str, Field]


def _everyone() -> Segment:
    # every contact: a segment whose one condition always holds (an empty `all` is not a definition)
    everyone = AnyOf((FieldCondition("contact_id", "is_set"), FieldCondition("contact_id", "is_not_set")))
    return Segment("suggest-features", conditions=(everyone,))


def _traits_computed(store: Store) -> bool:
    engine = store.engine
    table = TABLE_PREFIX + "engagement"
    if not engine.table_exists(table):
        return False
    rows = engine.query(exp.select(exp.Count(this=exp.Star()).as_("n")).from_(table)).to_pylist()
    return bool(rows and rows[0]["n"])


def contact_features(store: Store, as_of: datetime) -> Frame:
    """Every contact's features, in one query: traits and fields joined as segments join them, plus event counts."""
    contacts = store.engine.query(exp.select(exp.Count(this=exp.Star()).as_("n")).from_(CONTACTS.name)).to_pylist()
    if not contacts or not contacts[0]["n"]:
        raise InsufficientDataError("the store has no contacts: load some (segmint load) before asking for suggestions")
    if not _traits_computed(store):
        raise InsufficientDataError("no traits computed yet: run segmint refresh, then segmint suggest")
    registry = store.registry()
    features = [f for f in FEATURES if f.events or registry.find("contact", f.key) is not None]
    fields = {f.key: registry.get("contact", f.key) for f in features if not f.events}
    everyone = _everyone()
    comp = compiler(store, as_of=as_of, extra=everyone)
    field_list = list(fields.values())
    members = comp.compile(everyone, fields=field_list)
    counted = [f for f in features if f.events]
    select: list[exp.Expr] = [exp.column(MEMBER_KEY, table="m"), exp.column(MEMBER_ID, table="m")]
    select += [exp.column(f"f_{i}", table="m").as_(f"x_{i}") for i in range(1, len(field_list) + 1)]
    query = exp.select(*select).from_(members.subquery("m"))
    if counted:
        ctx = TraitContext(store, comp, as_of)
        query = query.select(
            *(exp.func("COALESCE", exp.column(f"n_{i}", table="ev"), 0).as_(f"n_{i}") for i in range(len(counted))),
        ).join(
            _event_counts(ctx, counted).subquery("ev"),
            on=exp.column("k", table="ev").eq(exp.column(MEMBER_KEY, table="m")),
            join_type="left",
        )
    table = store.engine.query(query.order_by(exp.column(MEMBER_ID, table="m")))
    keys = np.asarray(table.column(MEMBER_KEY).to_pylist(), dtype=np.int64)
    ids = [str(v) for v in table.column(MEMBER_ID).to_pylist()]
    columns: dict[str, NDArray[Any]] = {}
    spelling: dict[str, dict[str, str]] = {}
    kinds = {f.key: f.kind for f in features}
    for i, key in enumerate(fields, start=1):
        values = table.column(f"x_{i}").to_pylist()
        if kinds[key] == "number":
            columns[key] = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        else:
            # string comparisons ignore case (SEGMENTS.md): so do the clusters and the `in` lists
            lowered = np.array([None if v is None else str(v).lower() for v in values], dtype=object)
            counts: dict[str, Counter[str]] = {}
            for v in values:
                if v is not None:
                    counts.setdefault(str(v).lower(), Counter())[str(v)] += 1
            spelling[key] = {low: c.most_common(1)[0][0] for low, c in counts.items()}
            columns[key] = lowered
    for i, feature in enumerate(counted):
        columns[feature.key] = np.asarray(table.column(f"n_{i}").to_pylist(), dtype=np.float64)
    kept = [f for f in features if _varies(columns[f.key])]
    if not kept:
        raise InsufficientDataError("every contact has the same traits: there is nothing to cluster on")
    return Frame(keys, ids, kept, {f.key: columns[f.key] for f in kept}, spelling, fields)


def _event_counts(ctx: TraitContext, counted: list[Feature]) -> exp.Query:
    """Per contact, one count per feature of its events within the window (the definitions' ``within``)."""
    measures = []
    values: dict[str, Any] = {"since": EVENT_WINDOW}
    names: set[str] = set()
    for i, feature in enumerate(counted):
        values[f"events_{i}"] = list(feature.events)
        names.update(feature.events)
        human = " AND NOT COALESCE(e.machine_open, FALSE)" if feature.human_only else ""
        measures.append(f"COUNT(*) FILTER (WHERE e.event IN (:events_{i}){human}) AS n_{i}")
    values["all_events"] = sorted(names)
    template = (
        f"SELECT e.contact_key AS k, {', '.join(measures)} FROM events e "
        "WHERE e.ts >= :since AND e.ts <= :as_of AND e.event IN (:all_events) AND e.contact_key IS NOT NULL "
        "GROUP BY e.contact_key"
    )
    return ctx.parse(template, **values)


def _varies(column: NDArray[Any]) -> bool:
    if column.dtype == object:
        return len(set(column.tolist())) > 1
    finite = column[~np.isnan(column)]
    return len(finite) > 0 and (len(np.unique(finite)) > 1 or len(finite) < len(column))


# ---- clustering ---------------------------------------------------------------------------------------------


def _signed_log1p(x: Array) -> Array:
    # money can be negative (refunds): log1p of the size, with the sign kept
    return np.sign(x) * np.log1p(np.abs(x))


def _as_float(x: NDArray[Any]) -> Array:
    return np.asarray(x, dtype=np.float64)


def _preprocessor(frame: Frame, n: int) -> ColumnTransformer:
    """Mixed data: amounts and counts 0-imputed, log1p, standardised; other numbers median, robust; categories one-hot."""
    transformers = []
    for i, feature in enumerate(frame.features):
        if feature.kind == "category":
            encoder = OneHotEncoder(
                handle_unknown="infrequent_if_exist",
                min_frequency=max(2, math.ceil(RARE_SHARE * n)),
                sparse_output=False,
            )
            transformers.append((feature.key, encoder, [i]))
        elif feature.amount:
            transformers.append(
                (
                    feature.key,
                    make_pipeline(
                        FunctionTransformer(_as_float),
                        SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True)
                        if feature.unset_zero
                        else SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                        FunctionTransformer(_signed_log1p),
                        StandardScaler(),
                    ),
                    [i],
                )
            )
        else:
            transformers.append(
                (
                    feature.key,
                    make_pipeline(
                        FunctionTransformer(_as_float),
                        SimpleImputer(strategy="median", keep_empty_features=True),
                        RobustScaler(),
                    ),
                    [i],
                )
            )
    return ColumnTransformer(transformers, sparse_threshold=0.0)


def _matrix(frame: Frame) -> NDArray[Any]:
    """The features as one object array (numbers as float, categories as text with unset as its own value)."""
    cols = []
    for feature in frame.features:
        column = frame.columns[feature.key]
        if feature.kind == "category":
            cols.append(np.array([_UNSET if v is None else v for v in column], dtype=object))
        else:
            cols.append(column.astype(object))
    return np.column_stack(cols)


def cluster_contacts(
    frame: Frame, k: int | None, rng: np.random.Generator, random_state: int
) -> tuple[NDArray[np.int64], int, dict[int, float]]:
    """Cluster labels (0 = the largest cluster), k, and the silhouette of each k tried.

    k is chosen on a sample of at most :data:`SILHOUETTE_SAMPLE` contacts
    (k-means and its silhouette per k), then k-means with that k is fitted on
    at most :data:`FIT_SAMPLE` contacts and assigns everyone.
    """
    n = len(frame.ids)
    matrix = _matrix(frame)
    fit_rows = np.sort(rng.choice(n, FIT_SAMPLE, replace=False)) if n > FIT_SAMPLE else np.arange(n)
    prep = _preprocessor(frame, len(fit_rows))
    fitted = prep.fit_transform(matrix[fit_rows])
    # One thread: on a busy machine OpenMP's threads fight the other processes for the cores, and k-means
    # on a few thousand rows took 20 times longer with them than without (7.5 s against 0.4 s).
    with threadpool_limits(1):
        silhouettes: dict[int, float] = {}
        if k is None:
            pick = len(fitted) > SILHOUETTE_SAMPLE
            sample = fitted[np.sort(rng.choice(len(fitted), SILHOUETTE_SAMPLE, replace=False))] if pick else fitted
            for candidate in range(K_RANGE[0], min(K_RANGE[1], n // MIN_CLUSTER_SIZE) + 1):
                found = KMeans(n_clusters=candidate, n_init=4, random_state=random_state).fit_predict(sample)
                score = silhouette_score(sample, found) if len(set(found.tolist())) > 1 else -1.0
                silhouettes[candidate] = round(float(score), 4)
            k = max(silhouettes, key=lambda c: (silhouettes[c], -c))
        model = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit(fitted)
        raw = model.labels_ if n <= FIT_SAMPLE else model.predict(prep.transform(matrix))
        if k not in silhouettes:
            sample_rows = np.sort(rng.choice(len(fitted), min(SILHOUETTE_SAMPLE, len(fitted)), replace=False))
            kept = model.labels_[sample_rows]
            score = silhouette_score(fitted[sample_rows], kept) if len(set(kept.tolist())) > 1 else -1.0
            silhouettes[k] = round(float(score), 4)
    # number clusters by size, largest first (ties: by the first contact id), so output is stable
    sizes = Counter(raw.tolist())
    order = sorted(sizes, key=lambda c: (-sizes[c], int(np.argmax(raw == c))))
    relabel = {old: new for new, old in enumerate(order)}
    return np.asarray([relabel[c] for c in raw.tolist()], dtype=np.int64), k, silhouettes


# ---- definitions from shallow trees -------------------------------------------------------------------------


@dataclass
class _Bounds:
    """What one leaf's path asks of one numeric feature: ``low < x <= high``, unset allowed or not."""

    low: float | None = None
    high: float | None = None
    unset: bool = True
    #: the path holds for unset values only (a split of set against unset values, threshold infinity)
    only_unset: bool = False


def _tree_matrix(frame: Frame, target: NDArray[np.bool_]) -> tuple[Array, dict[str, dict[str, float]]]:
    """The tree's inputs: numbers as they are, each category as the share of its contacts in the cluster."""
    n = len(target)
    cols = []
    encodings: dict[str, dict[str, float]] = {}
    for feature in frame.features:
        column = frame.columns[feature.key]
        if feature.kind == "number":
            cols.append(column)
            continue
        tokens = _tokens(column, n)
        rates: dict[str, float] = {}
        for token in set(tokens):
            mask = tokens == token
            rates[token] = float(target[mask].mean())
        encodings[feature.key] = rates
        cols.append(np.array([rates[t] for t in tokens], dtype=np.float64))
    return np.column_stack(cols), encodings


def _tokens(column: NDArray[Any], n: int) -> NDArray[Any]:
    """Each contact's category as a token: the value, or 'rare' (grouped), or 'unset'."""
    counts = Counter(v for v in column.tolist() if v is not None)
    floor = max(2, math.ceil(RARE_SHARE * n))
    return np.array(
        [_UNSET if v is None else (v if counts[v] >= floor else _RARE) for v in column.tolist()], dtype=object
    )


def _choose_leaves(leaf_of: NDArray[np.int64], target: NDArray[np.bool_]) -> list[int]:
    """The leaves that are mostly the cluster, best first, added while F1 improves (at least one)."""
    leaves = sorted(set(leaf_of.tolist()))
    stats = {leaf: (int(target[leaf_of == leaf].sum()), int((leaf_of == leaf).sum())) for leaf in leaves}
    ranked = sorted(leaves, key=lambda leaf: (-stats[leaf][0] / stats[leaf][1], -stats[leaf][0], leaf))
    total = int(target.sum())
    chosen: list[int] = []
    hits = size = 0
    best_f1 = 0.0
    for leaf in ranked:
        pos, count = stats[leaf]
        if chosen and pos / count < 0.5:
            break
        f1 = 2 * (hits + pos) / (size + count + total)
        if chosen and f1 <= best_f1:
            break
        chosen.append(leaf)
        hits, size, best_f1 = hits + pos, size + count, f1
    return chosen


def _merge_siblings(tree: DecisionTreeClassifier, leaves: list[int]) -> list[int]:
    """Two chosen sibling leaves are their parent: one path instead of two that differ in one split."""
    t = tree.tree_
    chosen = set(leaves)
    changed = True
    while changed:
        changed = False
        for node in range(t.node_count):
            left, right = int(t.children_left[node]), int(t.children_right[node])
            if left != -1 and left in chosen and right in chosen:
                chosen -= {left, right}
                chosen.add(node)
                changed = True
    return sorted(chosen)


def _node_paths(tree: DecisionTreeClassifier, chosen: set[int]) -> dict[int, list[tuple[int, str, float, bool]]]:
    """Per node, the splits from the root that its definition needs.

    When the other side of a split is chosen whole, the split is left out of
    this side's path: ``A or (not A and B)`` is ``A or B``.
    """
    t = tree.tree_
    missing_left = getattr(t, "missing_go_to_left", None)
    paths: dict[int, list[tuple[int, str, float, bool]]] = {0: []}
    for node in range(t.node_count):  # scikit-learn numbers a parent before its children
        left, right = int(t.children_left[node]), int(t.children_right[node])
        if left == -1:
            continue
        feature, threshold = int(t.feature[node]), float(t.threshold[node])
        goes_left = bool(missing_left[node]) if missing_left is not None else False
        to_left = [] if right in chosen else [(feature, "le", threshold, goes_left)]
        to_right = [] if left in chosen else [(feature, "gt", threshold, not goes_left)]
        paths[left] = [*paths[node], *to_left]
        paths[right] = [*paths[node], *to_right]
    return paths


def _nice_threshold(threshold: float, *, left_max: float, right_min: float) -> float | int:
    """The roundest number ``v`` with ``left_max <= v < right_min``: the same split of the data, easier to read."""
    for digits in range(1, 16):
        candidate = float(f"{threshold:.{digits}g}")
        if left_max <= candidate < right_min:
            return int(candidate) if candidate.is_integer() and abs(candidate) < 1e15 else candidate
    return threshold


def _path_conditions(
    frame: Frame,
    path: list[tuple[int, str, float, bool]],
    encodings: dict[str, dict[str, float]],
) -> list[Condition]:
    """One leaf's path as SEGMENTS.md conditions (all of them must hold), in the order the tree asks."""
    order: list[int] = []
    bounds: dict[int, _Bounds] = {}
    allowed: dict[int, set[str]] = {}
    n = len(frame.ids)
    for index, side, threshold, unset_here in path:
        feature = frame.features[index]
        if index not in order:
            order.append(index)
        if feature.kind == "category":
            rates = encodings[feature.key]
            keep = {t for t, r in rates.items() if (r <= threshold if side == "le" else r > threshold)}
            allowed[index] = allowed.get(index, set(rates)) & keep
            continue
        b = bounds.setdefault(index, _Bounds())
        if math.isinf(threshold):
            # scikit-learn splits set values (x <= inf) from unset ones (the other side)
            if side == "gt":
                b.only_unset = True
        elif side == "le":
            b.high = threshold if b.high is None else min(b.high, threshold)
        else:
            b.low = threshold if b.low is None else max(b.low, threshold)
        b.unset = b.unset and unset_here
    conditions: list[Condition] = []
    for index in order:
        feature = frame.features[index]
        if feature.kind == "category":
            tokens = _tokens(frame.columns[feature.key], n)
            conditions += _category_conditions(frame, feature, allowed[index], set(tokens.tolist()))
        else:
            conditions += _number_conditions(frame, feature, bounds[index])
    return conditions


def _category_conditions(frame: Frame, feature: Feature, allowed: set[str], present: set[str]) -> list[Condition]:
    spell = frame.spelling.get(feature.key, {})
    values = sorted(t for t in present if t not in (_RARE, _UNSET))
    inside = tuple(spell.get(t, t) for t in values if t in allowed)
    outside = tuple(spell.get(t, t) for t in values if t not in allowed)
    unset_ok = _UNSET in allowed or _UNSET not in present
    if _RARE in allowed:
        # rare values are in: name the frequent values that are out (`not_in` also matches unset)
        if not outside:
            return [] if unset_ok else [FieldCondition(feature.key, "is_set")]
        test: Condition = FieldCondition(feature.key, "not_in", outside)
        return [test] if unset_ok and _UNSET in present else [FieldCondition(feature.key, "is_set"), test]
    listed: Condition = (
        FieldCondition(feature.key, "eq", inside[0]) if len(inside) == 1 else FieldCondition(feature.key, "in", inside)
    )
    if _UNSET in allowed and _UNSET in present:
        if not inside:
            return [FieldCondition(feature.key, "is_not_set")]
        return [AnyOf((listed, FieldCondition(feature.key, "is_not_set")))]
    if not inside:
        # nothing frequent is in: the path holds for rare values only -- an `in` list of the frequent ones, negated
        return [FieldCondition(feature.key, "is_set"), FieldCondition(feature.key, "not_in", outside)]
    return [listed]


def _number_conditions(frame: Frame, feature: Feature, bounds: _Bounds) -> list[Condition]:
    column = frame.columns[feature.key]
    finite = column[~np.isnan(column)]
    integer = feature.events != () or (
        frame.fields.get(feature.key) is not None and frame.fields[feature.key].type is FieldType.INTEGER
    )
    has_unset = bool(np.isnan(column).any())
    if bounds.only_unset:
        return [FieldCondition(feature.key, "is_not_set")]
    tests: list[tuple[str, float | int]] = []
    if bounds.low is not None:
        tests.append(_bound(finite, bounds.low, "gt", integer))
    if bounds.high is not None:
        tests.append(_bound(finite, bounds.high, "le", integer))
    if feature.events:
        return [_event_condition(feature, op, value) for op, value in tests]
    parts: list[Condition] = [FieldCondition(feature.key, op, value) for op, value in tests]
    if integer and len(tests) == 2 and tests[0][0] == "gte" and tests[1][0] == "lte":
        parts = [FieldCondition(feature.key, "between", (tests[0][1], tests[1][1]))]
    if not parts:
        return [FieldCondition(feature.key, "is_set")] if has_unset and not bounds.unset else []
    if bounds.unset and has_unset:
        body: Condition = parts[0] if len(parts) == 1 else AllOf(tuple(parts))
        return [AnyOf((body, FieldCondition(feature.key, "is_not_set")))]
    return parts


def _bound(finite: Array, threshold: float, side: str, integer: bool) -> tuple[str, float | int]:
    """``x <= t`` or ``x > t`` as the operator and a readable value giving the same split of the data."""
    if integer:
        # on whole numbers, x <= 2.5 is x <= 2 and x > 2.5 is x >= 3
        whole = math.floor(threshold)
        if side == "le":
            return ("eq", 0) if whole == 0 and finite.min(initial=0) >= 0 else ("lte", whole)
        return ("gte", whole + 1)
    below = finite[finite <= threshold]
    above = finite[finite > threshold]
    left_max = float(below.max()) if len(below) else threshold
    right_min = float(above.min()) if len(above) else math.inf
    value = _nice_threshold(threshold, left_max=left_max, right_min=right_min)
    return ("lte", value) if side == "le" else ("gt", value)


def _event_condition(feature: Feature, op: str, value: float | int) -> EventCondition:
    where = (FieldCondition("machine_open", "neq", True),) if feature.human_only else ()
    return EventCondition(events=feature.events, where=where, window=Within(EVENT_WINDOW), count=Count(op, int(value)))


def cluster_definition(frame: Frame, target: NDArray[np.bool_], random_state: int) -> tuple[str, tuple[Condition, ...]]:
    """``match`` and conditions that find the cluster ``target`` marks (see the module doc, step 3)."""
    n = len(target)
    matrix, encodings = _tree_matrix(frame, target)
    tree = DecisionTreeClassifier(
        max_depth=TREE_DEPTH,
        min_samples_leaf=max(3, math.ceil(0.01 * n)),
        class_weight="balanced",
        random_state=random_state,
    ).fit(matrix, target)
    leaf_of = tree.apply(matrix)
    chosen = _merge_siblings(tree, _choose_leaves(leaf_of, target))
    paths = _node_paths(tree, set(chosen))
    blocks = [_path_conditions(frame, paths[node], encodings) for node in chosen]
    blocks = [b for b in blocks if b]
    if not blocks:
        raise InsufficientDataError("the traits do not tell the clusters apart: no definition found")
    if len(blocks) == 1:
        return "all", tuple(blocks[0])
    # conditions every path asks (the splits near the root) are said once, before the `any`
    common = [c for c in blocks[0] if all(c in b for b in blocks[1:])]
    rests = [[c for c in b if c not in common] for b in blocks]
    if any(not rest for rest in rests):  # one path is the common part alone: it holds whenever any other does
        return "all", tuple(common)
    either = tuple(r[0] if len(r) == 1 else AllOf(tuple(r)) for r in rests)
    if not common:
        return "any", either
    return "all", (*common, AnyOf(either))


# ---- names and words ----------------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _format_number(value: float) -> str:
    if math.isnan(value):
        return "unset"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _shift(
    feature: Feature, column: Array, in_cluster: NDArray[np.bool_]
) -> tuple[Array, NDArray[np.bool_], float | None]:
    """The values as read (amounts: unset is 0), which are set, and how far the cluster's mean is from everyone's.

    The shift is in standard deviations, on the log scale for amounts (as k-means saw them); ``None`` when the
    feature does not vary or the cluster has no value of it.
    """
    values = np.where(np.isnan(column), 0.0, column) if feature.amount and feature.unset_zero else column
    scale = _signed_log1p(values) if feature.amount else values
    finite = ~np.isnan(scale)
    inside = finite & in_cluster
    spread = float(np.std(scale[finite])) if finite.any() else 0.0
    if not spread or not inside.any():
        return values, finite, None
    return values, finite, (float(scale[inside].mean()) - float(scale[finite].mean())) / spread


def cluster_profile(frame: Frame, in_cluster: NDArray[np.bool_]) -> dict[str, float]:
    """Every numeric feature's shift for the cluster, in standard deviations (the chart's row)."""
    profile = {}
    for feature in frame.features:
        if feature.kind == "number":
            shift = _shift(feature, frame.columns[feature.key], in_cluster)[2]
            profile[feature.key] = round(shift, 3) if shift is not None else 0.0
    return profile


def cluster_traits(frame: Frame, in_cluster: NDArray[np.bool_]) -> list[Trait]:
    """What sets the cluster apart, most telling first: categories it is mostly of, numbers far from everyone's."""
    categories: list[Trait] = []
    numbers: list[Trait] = []
    n, size = len(in_cluster), int(in_cluster.sum())
    for feature in frame.features:
        column = frame.columns[feature.key]
        if feature.kind == "category":
            tokens = _tokens(column, n)
            token, hits = Counter(tokens[in_cluster].tolist()).most_common(1)[0]
            if token in (_RARE, _UNSET):
                continue
            share, overall = hits / size, float((tokens == token).mean())
            lift = share / overall
            if share >= 0.6 and lift >= 1.25:
                value = str(frame.spelling[feature.key].get(token, token))
                phrase = f"{feature.words} {value} ({share:.0%} vs {overall:.0%} of all contacts)"
                categories.append(
                    Trait(feature.key, value, round(share, 4), round(overall, 4), round(lift, 3), value, phrase)
                )
            continue
        unset = np.isnan(column)
        if unset.any() and not (feature.amount and feature.unset_zero):
            share, overall = float(unset[in_cluster].mean()), float(unset.mean())
            if share >= 0.6 and share / overall >= 1.25:
                phrase = f"{feature.words} unset ({share:.0%} vs {overall:.0%} of all contacts)"
                label = f"unknown {feature.unset_words or feature.short or feature.words}"
                lift = round(share / overall, 3)
                numbers.append(Trait(feature.key, None, round(share, 4), round(overall, 4), lift, label, phrase))
                continue
        values, finite, shift = _shift(feature, column, in_cluster)
        inside = finite & in_cluster
        if shift is None or abs(shift) < NOTABLE_SHIFT:
            continue
        average = "median"
        mid_in, mid_all = float(np.median(values[inside])), float(np.median(values[finite]))
        if mid_in == mid_all:  # skewed amounts often share a median of 0: the mean shows the difference
            average, mid_in, mid_all = "mean", float(values[inside].mean()), float(values[finite].mean())
        if shift > 0:
            level = "many" if feature.count else "high"
        elif feature.amount and feature.unset_zero and float(np.quantile(values[inside], 0.75)) == 0:
            level = "no"
        else:
            level = "few" if feature.count else "low"
        phrase = f"{level} {feature.words} ({average} {_format_number(mid_in)} vs {_format_number(mid_all)})"
        label = f"{level} {feature.short or feature.words}"
        numbers.append(Trait(feature.key, None, round(mid_in, 4), round(mid_all, 4), round(shift, 3), label, phrase))
    # ties in lift: firmographics first (they make the best nouns for a name), then value, then behaviour
    rank = {"firmographics": 0, "value": 1, "behaviour": 2}
    group = {f.key: rank[f.group] for f in frame.features}
    categories.sort(key=lambda t: (-round(t.score, 2), group[t.feature]))
    numbers.sort(key=lambda t: -abs(t.score))
    return categories[:3] + numbers[:3]


def _name(traits: list[Trait], cluster: int, taken: set[str]) -> tuple[str, str]:
    """A unique slug and a title from the most telling traits (``cluster-N`` when nothing stands out).

    The title reads "Manufacturing, FI contacts with many clicks and high revenue".
    """
    kinds: list[str] = []
    for label in [t.label for t in traits if t.value is not None][:2]:
        if label.lower() not in (w.lower() for w in kinds):  # relationship and lifecycle stage both say "customer"
            kinds.append(label)
    levels = [t.label for t in traits if t.value is None][:2]
    base = _slug(" ".join(kinds + levels))[:56].strip("-") or f"cluster-{cluster + 1}"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}-{i}", i + 1
    title = (", ".join(kinds) + " contacts") if kinds else "Contacts"
    if levels:
        title += " with " + " and ".join(levels)
    if not kinds and not levels:
        title = f"Cluster {cluster + 1}"
    return name, title[:1].upper() + title[1:]


def _describe_cluster(
    store: Store,
    frame: Frame,
    in_cluster: NDArray[np.bool_],
    cluster: int,
    k: int,
    as_of: datetime,
    taken: set[str],
    random_state: int,
) -> Suggestion:
    n, size = len(in_cluster), int(in_cluster.sum())
    match, conditions = cluster_definition(frame, in_cluster, random_state)
    traits = cluster_traits(frame, in_cluster)
    name, title = _name(traits, cluster, taken)
    registry = store.registry()
    draft = Segment(name, match=match, conditions=conditions, title=title, tags=(TAG,))
    checked = validate_segment(draft, registry)
    member_keys = set(segment_members(store, checked, as_of=as_of).column(MEMBER_KEY).to_pylist())
    cluster_keys = set(frame.keys[in_cluster].tolist())
    hits = len(member_keys & cluster_keys)
    precision = round(hits / len(member_keys), 4) if member_keys else 0.0
    recall = round(hits / size, 4)
    apart = "; ".join(t.phrase for t in traits) or "no single trait stands out"
    description = (
        f"{title}: {size} contacts ({size / n:.0%} of {n}), one of {k} clusters found by k-means on behaviour, value and "
        f"firmographics. What sets them apart: {apart}. This definition matches {len(member_keys)} contacts as of "
        f"{as_of.date().isoformat()}: precision {precision:.2f} (share of its members in the cluster), "
        f"recall {recall:.2f} (share of the cluster it finds). Suggested by segmint suggest: edit freely."
    )
    final = replace(checked, description=description)
    document = final.to_dict()
    _check_round_trip(document, final, registry)
    ids = [frame.ids[i] for i in np.flatnonzero(in_cluster)]
    return Suggestion(
        name,
        title,
        description,
        size,
        len(member_keys),
        precision,
        recall,
        document,
        traits,
        cluster_profile(frame, in_cluster),
        cluster,
        ids,
    )


def profile_chart(report: SuggestReport, path: str | Path) -> Path:
    """A heat map: one row per suggestion, one column per numeric feature, coloured by the cluster's shift.

    Red is above all contacts, blue below, in standard deviations (log scale
    for amounts and counts); each row is labelled with the suggestion's name,
    size, precision and recall.  PNG, SVG or HTML by the file's suffix.
    """
    if not report.suggestions:
        raise InsufficientDataError("no suggestions to draw")
    keys = list(report.suggestions[0].profile)
    words = {f.key: f.words for f in FEATURES}
    grid = np.array([[s.profile.get(key, 0.0) for key in keys] for s in report.suggestions], dtype=np.float64)
    rows = len(report.suggestions)
    figure = new_figure(width=max(7.0, 1.0 + 0.9 * len(keys)), height=1.6 + 0.55 * rows)
    axes = figure.add_subplot()
    image = axes.imshow(grid, cmap="RdBu_r", vmin=-2.0, vmax=2.0, aspect="auto")
    axes.set_xticks(range(len(keys)), [words.get(k, k) for k in keys], rotation=35, ha="right", fontsize=8)
    axes.set_yticks(
        range(rows),
        [f"{s.name}\n{s.size:,} contacts, P {s.precision:.2f} R {s.recall:.2f}" for s in report.suggestions],
        fontsize=8,
    )
    for (row, col), value in np.ndenumerate(grid):
        axes.text(
            col,
            row,
            f"{value:+.1f}",
            ha="center",
            va="center",
            fontsize=7,
            color="white" if abs(value) > 1.2 else "black",
        )
    figure.colorbar(image, ax=axes, label="shift from all contacts (standard deviations)")
    title = f"Suggested segments: {rows} clusters of {report.contacts:,} contacts (k={report.k})"
    axes.set_title(title, fontsize=10)
    return save_figure(figure, path, title)


def _check_round_trip(document: dict[str, Any], segment: Segment, registry: Any) -> None:
    """The YAML written must read back, through the project's own parser and validator, as the same definition."""
    again = load_segment(dump_yaml(document), registry, origin=segment.name)
    if again != validate_segment(segment, registry):  # pragma: no cover - a bug, not a user's mistake
        raise AssertionError(f"suggested segment {segment.name} does not read back as written")


__all__ = [
    "FEATURES",
    "Feature",
    "SuggestReport",
    "Suggestion",
    "Trait",
    "cluster_contacts",
    "cluster_definition",
    "cluster_profile",
    "contact_features",
    "profile_chart",
    "suggest",
    "suggest_report",
]
