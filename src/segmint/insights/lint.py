"""``segmint lint``: health checks of a store's segments, after seed 000's four mistakes.

Seed 000 names four common mistakes: (1) not using the data you have,
(2) asking for too much at once, (3) too many and too complicated segments,
(4) contacts stuck in segments built on historical data.  The second is
about forms and cannot be seen in the store; the others can, and each check
below gives one :class:`Finding` per problem with a fix in words:

========================  =============================================================
check                     finds
========================  =============================================================
``unused-field``          a well-filled, varied field no segment uses (mistake 1)
``unused-traits``         a traits model whose fields no segment uses (mistake 1)
``empty-segment``         a segment that has never had a member
``small-segment``         a segment too small for the list (mistake 3)
``near-duplicate``        two segments with (almost) the same members (mistake 3)
``never-changes``         a segment no one entered or left over many refreshes
``unused-segment``        a segment no one sends to or builds on (mistake 3)
``too-many-segments``     more segments than the list can carry (mistake 3)
``stuck-contacts``        members for long without recent activity backing it (mistake 4)
========================  =============================================================

The thresholds are :class:`LintSettings`, whose defaults are the seed's
values; docs/lint.md explains each check, its threshold and its fix.  The
aggregate work runs in the store's SQL (templates parsed by sqlglot, as the
traits do); only a few numbers per segment come back to Python.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from sqlglot import exp

from segmint.dsl import Segment
from segmint.dsl.nodes import Condition, EventCondition, FieldCondition, Not, SegmentCondition
from segmint.errors import ConfigError, InsufficientDataError, Problem, UsageError
from segmint.insights.overlap import MEMBERSHIP, overlap
from segmint.model.tables import SEGMENT_MEMBERS, SEGMENT_REFRESHES, SEGMENTS
from segmint.segments.definitions import stored_segments
from segmint.segments.evaluate import compiler
from segmint.store.store import Store
from segmint.traits import TABLE_PREFIX, model_settings, trait_models
from segmint.traits.base import TraitContext
from segmint.traits.interests import SIGNAL_KINDS, Interests, InterestsSettings

#: every check, in the order findings are listed
CHECKS = (
    "unused-field",
    "unused-traits",
    "empty-segment",
    "small-segment",
    "near-duplicate",
    "never-changes",
    "unused-segment",
    "too-many-segments",
    "stuck-contacts",
)

#: fields that identify or address a contact or company: nobody segments on a name or an id
IDENTITY_FIELDS = (
    "contact_id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "company_id",
    "company.company_id",
    "company.name",
    "company.domain",
    # free text in any language; the persona trait reads it and segments use persona and role
    "job_title",
)


class LintSettings(BaseModel):
    """The checks' thresholds (``[lint]`` in segmint.toml), with seed 000's values as defaults."""

    model_config = ConfigDict(extra="forbid")

    min_fill_rate: float = Field(
        0.5,
        ge=0,
        le=1,
        description="unused-field/unused-traits: a field filled for at least this share is data you have.",
    )
    ignore_fields: list[str] = Field(
        list(IDENTITY_FIELDS), description="unused-field: fields never reported (ids, names, addresses, free text)."
    )
    min_segment_contacts: int = Field(
        50, ge=0, description="small-segment: a segment needs this many members (at most a tenth of the list)."
    )
    min_segment_share: float = Field(
        0.01, ge=0, le=1, description="small-segment: ...and at least this share of the list."
    )
    near_duplicate_jaccard: float = Field(
        0.9, gt=0, le=1, description="near-duplicate: two segments sharing this Jaccard index or more."
    )
    frozen_min_refreshes: int = Field(
        4, ge=2, description="never-changes: refreshes (since the definition last changed) before judging."
    )
    frozen_min_days: int = Field(28, ge=0, description="never-changes: ...spanning at least this many days.")
    unused_days: int = Field(90, gt=0, description="unused-segment: no member was sent an email in this many days.")
    contacts_per_segment: int = Field(
        200, gt=0, description="too-many-segments: one segment per this many contacts (a few hundred: one newsletter)."
    )
    stuck_member_days: int = Field(180, gt=0, description="stuck-contacts: member for longer than this many days...")
    stuck_activity_days: int = Field(
        180, gt=0, description="stuck-contacts: ...with no supporting event in this many days."
    )
    stuck_min_contacts: int = Field(10, ge=1, description="stuck-contacts: report a segment with at least this many.")


@dataclass(frozen=True)
class Finding:
    """One problem: which check found it, how serious, about what, what is wrong and how to fix it."""

    check: str
    severity: str  # warning (act on it) or info (worth a look)
    subject: str  # the segment(s), field or model concerned
    message: str
    fix: str
    #: the numbers behind the message, for JSON and tests
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.check} [{self.severity}] {self.subject}: {self.message} Fix: {self.fix}"


def lint_settings(store: Store) -> LintSettings:
    """The ``[lint]`` settings of the store's configuration, or the defaults."""
    data = store.settings.lint
    try:
        return LintSettings.model_validate(data)
    except PydanticValidationError as exc:
        problems = [Problem(".".join(["lint", *(str(p) for p in e["loc"])]), e["msg"]) for e in exc.errors()]
        raise ConfigError("segmint.toml: invalid [lint] settings", problems=problems) from exc


def check_names(names: Iterable[str] | None) -> list[str]:
    """The checks asked for (all by default); an unknown name is a :class:`UsageError` with suggestions."""
    if names is None:
        return list(CHECKS)
    wanted = list(dict.fromkeys(names))
    unknown = [n for n in wanted if n not in CHECKS]
    if unknown:
        raise UsageError(
            f"unknown lint check {', '.join(repr(n) for n in unknown)} (expected one of {', '.join(CHECKS)})",
            problems=[Problem("check", f"unknown check '{n}'", difflib.get_close_matches(n, CHECKS)) for n in unknown],
        )
    return wanted


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "0 %"


@dataclass
class _Segment:
    """What the checks know of one stored segment."""

    name: str
    entity: str
    kind: str
    definition: Segment
    size: int = 0
    refreshes: int = 0
    max_size: int = 0
    moves: int = 0
    first_as_of: datetime | None = None
    last_as_of: datetime | None = None
    used_by: list[str] = field(default_factory=list)


class _Linter:
    def __init__(self, store: Store, settings: LintSettings, as_of: datetime | None) -> None:
        self.store = store
        self.settings = settings
        engine = store.engine
        self.contacts = int(engine.scalar(exp.select(exp.Count(this=exp.Star())).from_("contacts")) or 0)
        self.companies = int(engine.scalar(exp.select(exp.Count(this=exp.Star())).from_("companies")) or 0)
        if not self.contacts:
            raise InsufficientDataError(
                "the store holds no contacts: load your data (segmint load, or segmint demo), apply segments and "
                "run segmint refresh, then lint"
            )
        last = engine.scalar(exp.select(exp.Max(this=exp.column("as_of"))).from_(SEGMENT_REFRESHES.name))
        # the checks look back from the last refresh: membership is as of then
        when = as_of or last or datetime.now(UTC)
        self.as_of = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
        longest = max(settings.unused_days, settings.stuck_member_days, settings.stuck_activity_days)
        try:
            self.as_of - timedelta(days=longest)
        except OverflowError as exc:
            raise UsageError(f"as_of {self.as_of.isoformat()}: the checks' windows reach before the year 1") from exc
        self.definitions = stored_segments(store)
        self.ctx = TraitContext(store, compiler(store, as_of=self.as_of), self.as_of)
        self.segments = self._segments()

    # ---- what is stored ----------------------------------------------------------------

    def _segments(self) -> dict[str, _Segment]:
        rows = self.ctx.query(
            f"""
            WITH m AS ({MEMBERSHIP}),
            sizes AS (SELECT segment, COUNT(*) AS size FROM m GROUP BY segment),
            r AS (
              SELECT r.segment, r.refresh_id, r.as_of, r.size, r.entered + r.exited AS moved,
                     MIN(r.refresh_id) OVER (PARTITION BY r.segment) AS first_id
              FROM {SEGMENT_REFRESHES.name} r JOIN {SEGMENTS.name} s ON s.name = r.segment
              WHERE r.ran_at >= s.updated_at),
            hist AS (
              SELECT segment, COUNT(*) AS refreshes, MIN(as_of) AS first_as_of, MAX(as_of) AS last_as_of,
                     MAX(size) AS max_size, SUM(CASE WHEN refresh_id > first_id THEN moved ELSE 0 END) AS moves
              FROM r GROUP BY segment)
            SELECT s.name, s.entity, s.kind, COALESCE(z.size, 0) AS size, COALESCE(h.refreshes, 0) AS refreshes,
                   COALESCE(h.max_size, 0) AS max_size, COALESCE(h.moves, 0) AS moves, h.first_as_of, h.last_as_of
            FROM {SEGMENTS.name} s
            LEFT JOIN sizes z ON z.segment = s.name
            LEFT JOIN hist h ON h.segment = s.name
            ORDER BY s.name
            """
        )
        found: dict[str, _Segment] = {}
        for r in rows:
            if r["name"] not in self.definitions:
                continue
            found[r["name"]] = _Segment(
                r["name"],
                r["entity"],
                r["kind"],
                self.definitions[r["name"]],
                size=int(r["size"]),
                refreshes=int(r["refreshes"]),
                max_size=int(r["max_size"]),
                moves=int(r["moves"]),
                first_as_of=r["first_as_of"],
                last_as_of=r["last_as_of"],
            )
        for name, seg in found.items():
            for other in seg.definition.dependencies():
                if other in found:
                    found[other].used_by.append(name)
        return found

    def list_size(self, entity: str) -> int:
        return self.companies if entity == "company" else self.contacts

    # ---- mistake 1: the data you have ---------------------------------------------------

    def used_fields(self) -> set[tuple[str, str]]:
        """(entity, field) of every field a stored definition names outside event conditions."""
        used: set[tuple[str, str]] = set()

        def visit(node: Condition, entity: str) -> None:
            if isinstance(node, FieldCondition):
                used.add((entity, node.field))
                if entity == "contact" and node.field.startswith("company."):
                    used.add(("company", node.field.removeprefix("company.")))
            elif not isinstance(node, EventCondition):  # an event's where names event properties
                for child in node.children():
                    visit(child, entity)

        for seg in self.definitions.values():
            for condition in seg.conditions:
                visit(condition, seg.entity)
        return used

    def _fills(self, table: str, columns: list[str], entity_rows: int) -> dict[str, tuple[float, int]]:
        """column -> (share of the entity's rows where it is set, distinct values)."""
        if not columns:
            return {}
        select = []
        for i, column in enumerate(columns):
            col = exp.column(column, quoted=True)
            select += [exp.Count(this=col).as_(f"f{i}"), exp.Count(this=exp.Distinct(expressions=[col])).as_(f"d{i}")]
        row = self.store.engine.query(exp.select(*select).from_(exp.to_table(table))).to_pylist()[0]
        return {
            c: (int(row[f"f{i}"] or 0) / entity_rows if entity_rows else 0.0, int(row[f"d{i}"] or 0))
            for i, c in enumerate(columns)
        }

    def _top_value(self, table: str, column: str) -> tuple[Any, int]:
        col = exp.column(column, quoted=True)
        rows = self.store.engine.query(
            exp.select(col.as_("v"), exp.Count(this=exp.Star()).as_("n"))
            .from_(exp.to_table(table))
            .where(col.is_(exp.null()).not_())
            .group_by(col)
            .order_by(exp.column("n").desc(), col)
            .limit(1)
        ).to_pylist()
        return (rows[0]["v"], int(rows[0]["n"])) if rows else (None, 0)

    def used_trait_tables(self) -> set[str]:
        """The tables of the traits models whose fields a segment names, and of the models they read."""
        registry = self.store.registry()
        models = {m.name: m for m in trait_models(self.store.settings)}
        todo = []
        for entity, name in self.used_fields():
            f = registry.find(entity, name)
            if f is not None and f.origin == "trait":
                todo += [m for m in models.values() if m.table == f.table]
        used: set[str] = set()
        while todo:
            model = todo.pop()
            if model.table not in used:
                used.add(model.table)
                todo += [models[r] for r in model.requires if r in models]
        return used

    def read_by_traits(self, tables: set[str]) -> set[str]:
        """Column names the queries of these traits models read (a field behind a used trait is used too).

        A model computed in Python (a fitted model) shows no query and reads nothing here.
        """
        names: set[str] = set()
        for model in trait_models(self.store.settings):
            if model.table not in tables:
                continue
            try:
                query = model.query(self.ctx)
            except NotImplementedError:
                continue
            names |= {column.name for column in query.find_all(exp.Column)}
        return names

    def _example(self, table: str, column: str, distinct: int) -> tuple[str, str]:
        """An example condition on a column (its commonest value, or a range) and how many rows it takes."""
        value, count = self._top_value(table, column)
        if isinstance(value, datetime):
            return "op: within_last, value: 365d", ""
        if isinstance(value, int | float) and not isinstance(value, bool) and distinct > 12:
            median = self.store.engine.scalar(
                self.ctx.parse(f"SELECT MEDIAN({self.store.engine.quote(column)}) FROM {table}")
            )
            return f"op: gte, value: {median:g}", " (the upper half)"
        shown = str(value).lower() if isinstance(value, bool) else value
        return f"op: eq, value: {shown}", f" ({count} of them)"

    def unused_fields(self) -> list[Finding]:
        s = self.settings
        used = self.used_fields()
        read = self.read_by_traits(self.used_trait_tables())
        registry = self.store.registry()
        findings = []
        for entity, table, rows in (("contact", "contacts", self.contacts), ("company", "companies", self.companies)):
            ignored = {
                f.removeprefix("company.") for f in s.ignore_fields if f.startswith("company.") == (entity == "company")
            }
            candidates = [
                f
                for f in registry.for_entity(entity)
                if f.via is None
                and f.origin != "trait"
                and f.table == table
                and f.name not in ignored
                and (entity, f.name) not in used  # a trait refining a stored field (lifecycle_stage) counts
                and f.column not in read
            ]
            fills = self._fills(table, [f.column for f in candidates], rows)
            for f in candidates:
                rate, distinct = fills[f.column]
                if rate < s.min_fill_rate or distinct < 2:
                    continue
                name = f.name if entity == "contact" else f"company.{f.name}"
                condition, takes = self._example(table, f.column, distinct)
                findings.append(
                    Finding(
                        "unused-field",
                        "info",
                        name,
                        f"{name} is filled for {_pct(rate * rows, rows)} of {rows} {table} ({distinct} different "
                        "values) but no segment or trait a segment uses reads it.",
                        f"segment on it, e.g. {{field: {name}, {condition}}}{takes}, or stop collecting it "
                        "(seed 000: collect the data you will use).",
                        {"entity": entity, "field": name, "fill_rate": round(rate, 4), "distinct": distinct},
                    )
                )
        return findings

    def unused_traits(self) -> list[Finding]:
        s = self.settings
        if len(self.segments) >= self.allowed_segments():
            # Traits are free to compute; suggesting more segments to a list that has all it can carry would
            # contradict too-many-segments (seed 000: a few thousand contacts and up have room for many).
            return []
        used_tables = self.used_trait_tables()
        findings = []
        for model in trait_models(self.store.settings):
            if model.table in used_tables or not self.store.engine.table_exists(model.table):
                continue
            fields = model.fields()
            fills = self._fills(model.table, [f.column_name for f in fields], self.list_size(model.entity))
            varied = [f for f in fields if fills[f.column_name][0] >= s.min_fill_rate and fills[f.column_name][1] >= 2]
            if not varied:
                continue  # computed, but nothing to tell contacts apart by (no data of its kind)
            best = max(varied, key=lambda f: (fills[f.column_name][0], -fields.index(f)))
            rate = fills[best.column_name][0]
            names = ", ".join(f.name for f in varied)
            prefix = "company." if model.entity == "company" else ""
            condition, _ = self._example(model.table, best.column_name, fills[best.column_name][1])
            findings.append(
                Finding(
                    "unused-traits",
                    "info",
                    model.name,
                    f"the {model.name} traits ({names}) tell {model.entity}s apart ({best.name} is set for "
                    f"{_pct(rate, 1)}) but no segment uses any of them.",
                    f"build a segment on them, e.g. {{field: {prefix}{best.name}, {condition}}}"
                    + "; they are computed at every refresh whether used or not.",
                    {"model": model.name, "fields": [f.name for f in varied], "fill_rate": round(rate, 4)},
                )
            )
        return findings

    # ---- mistake 3: too many, too small, the same twice --------------------------------------

    def empty_segments(self) -> list[Finding]:
        findings = []
        for seg in self.segments.values():
            if seg.size or seg.max_size:
                continue  # members now or before: a trigger segment may be empty between its moments
            if seg.kind == "dynamic" and not seg.refreshes:
                what = "has not been refreshed since it was last applied"
                fix = "run segmint refresh; if it is still empty, check its conditions with segmint segment explain"
            else:
                what = (
                    f"has had no member in any of its {seg.refreshes} refreshes"
                    if seg.kind == "dynamic"
                    else "is a static list with no member"
                )
                fix = (
                    f"check its conditions (segmint segment explain {seg.name}) against the data, "
                    f"or delete it (segmint segment delete {seg.name})"
                )
            findings.append(
                Finding("empty-segment", "warning", seg.name, f"{seg.name} {what}.", fix, {"refreshes": seg.refreshes})
            )
        return findings

    def min_size(self, entity: str) -> int:
        """The smallest segment worth its own message: max(min(N, a tenth of the list), a share of the list)."""
        n = self.list_size(entity)
        return max(min(self.settings.min_segment_contacts, n // 10), int(self.settings.min_segment_share * n))

    def small_segments(self) -> list[Finding]:
        findings = []
        for seg in self.segments.values():
            floor = self.min_size(seg.entity)
            # a building block of other segments (a suppression list, say) may be small
            if seg.size == 0 or seg.size >= floor or seg.used_by:
                continue
            n = self.list_size(seg.entity)
            who = "this one" if seg.size == 1 else f"these {seg.size}"
            findings.append(
                Finding(
                    "small-segment",
                    "warning",
                    seg.name,
                    f"{seg.name} has {_count(seg.size, 'member')}, {_pct(seg.size, n)} of {n} {seg.entity}s: below the "
                    f"{floor} a segment of this list needs to be worth its own message.",
                    f"merge it into a broader segment (widen its conditions or windows) or send {who} a personal "
                    "message instead of a campaign.",
                    {"size": seg.size, "min_size": floor},
                )
            )
        return findings

    def near_duplicates(self) -> list[Finding]:
        findings = []
        if not any(seg.size for seg in self.segments.values()):
            return []  # nothing to compare (overlap would ask for a refresh)
        report = overlap(self.store, list(self.segments))
        for pair in report.pairs:
            if pair.jaccard < self.settings.near_duplicate_jaccard:
                break
            # keep the one other segments build on (deleting it would break them), else the larger
            keep, drop = sorted(
                ((pair.a, pair.size_a), (pair.b, pair.size_b)),
                key=lambda s: (-len(self.segments[s[0]].used_by), -s[1], s[0]),
            )
            big, small = keep[0], drop[0]
            users = self.segments[big].used_by
            because = f" ({', '.join(sorted(users)[:3])} build on it)" if users else ""
            findings.append(
                Finding(
                    "near-duplicate",
                    "warning",
                    f"{pair.a}, {pair.b}",
                    f"{pair.a} ({pair.size_a}) and {pair.b} ({pair.size_b}) share {pair.both} members: "
                    f"{_pct(pair.jaccard, 1)} of the {pair.union} in either.",
                    f"merge '{small}' into '{big}'{because} or delete one: they share {_pct(pair.jaccard, 1)} of "
                    "their members.",
                    {
                        "a": pair.a,
                        "b": pair.b,
                        "both": pair.both,
                        "union": pair.union,
                        "jaccard": round(pair.jaccard, 4),
                    },
                )
            )
        return findings

    def never_changes(self) -> list[Finding]:
        s = self.settings
        findings = []
        for seg in self.segments.values():
            if seg.kind != "dynamic" or not seg.size or seg.moves or seg.refreshes < s.frozen_min_refreshes:
                continue
            assert seg.first_as_of is not None
            assert seg.last_as_of is not None
            days = (seg.last_as_of - seg.first_as_of).total_seconds() / 86400
            if days < s.frozen_min_days:
                continue
            findings.append(
                Finding(
                    "never-changes",
                    "info",
                    seg.name,
                    f"no one entered or left {seg.name} ({seg.size} members) in {seg.refreshes} refreshes over "
                    f"{days:.0f} days.",
                    "if it is meant to be a fixed list, make it static (segmint segment snapshot); otherwise its "
                    "conditions rest on data that no longer moves: add a time window (within: 365d) or a recent "
                    "behaviour, so members who moved on leave it.",
                    {"refreshes": seg.refreshes, "days": round(days, 1), "size": seg.size},
                )
            )
        return findings

    def unused_segments(self) -> list[Finding]:
        days = self.settings.unused_days
        sent = int(
            self.store.engine.scalar(
                self.ctx.parse("SELECT COUNT(*) FROM events WHERE event = 'email_sent' AND ts <= :as_of")
            )
            or 0
        )
        if not sent:
            return []  # no sends in the store at all: nothing to judge use by
        rows = self.ctx.query(
            f"""
            WITH m AS ({MEMBERSHIP}),
            people AS (
              SELECT segment, member_key AS contact_key FROM m WHERE entity = 'contact'
              UNION ALL
              SELECT m.segment, c.contact_key FROM m JOIN contacts c ON c.company_key = m.member_key
              WHERE m.entity = 'company'),
            reached AS (
              SELECT DISTINCT contact_key FROM events
              WHERE event = 'email_sent' AND ts > :since AND ts <= :as_of)
            SELECT p.segment, COUNT(r.contact_key) AS reached
            FROM people p LEFT JOIN reached r ON r.contact_key = p.contact_key
            GROUP BY p.segment
            """,
            since=timedelta(days=days),
        )
        reached = {r["segment"]: int(r["reached"]) for r in rows}
        findings = []
        for seg in self.segments.values():
            if not seg.size or seg.used_by or reached.get(seg.name, 0):
                continue
            findings.append(
                Finding(
                    "unused-segment",
                    "info",
                    seg.name,
                    f"none of the {seg.size} members of {seg.name} was sent an email in the last {days} days, "
                    "and no other segment builds on it.",
                    f"send to it or build on it, or delete it (segmint segment delete {seg.name}): a segment "
                    "nobody uses is one more to keep right (seed 000).",
                    {"size": seg.size, "days": days},
                )
            )
        return findings

    def allowed_segments(self) -> int:
        """How many segments the list carries: one per ``contacts_per_segment`` contacts, at least one."""
        return max(1, self.contacts // self.settings.contacts_per_segment)

    def too_many(self) -> list[Finding]:
        per = self.settings.contacts_per_segment
        allowed = self.allowed_segments()
        count = len(self.segments)
        if count <= allowed:
            return []
        if self.contacts < 1000:
            advice = "with a few hundred contacts one newsletter, the same to all, is often enough (seed 000)"
        else:
            advice = "every segment is a message to write, check and send; fewer done well beat many done hastily"
        return [
            Finding(
                "too-many-segments",
                "warning",
                "segments",
                f"{count} segments for {self.contacts} contacts: a list this size carries about {allowed} "
                f"(one per {per} contacts).",
                f"keep the segments you send to and build on (see unused-segment, near-duplicate and small-segment) "
                f"and delete the rest; {advice}.",
                {"segments": count, "contacts": self.contacts, "allowed": allowed},
            )
        ]

    # ---- mistake 4: stuck in segments built on old data -------------------------------------

    def _interest_topics(self, seg: Segment) -> list[str]:
        settings = model_settings(Interests, self.store.settings)
        assert isinstance(settings, InterestsSettings)
        return [
            node.field.removeprefix("interest.")
            for node in _positive_nodes(seg)
            if isinstance(node, FieldCondition)
            and node.field.startswith("interest.")
            and node.field.removeprefix("interest.") in settings.topics
        ]

    def _support(self, seg: Segment) -> list[EventCondition]:
        """Event conditions (no window) any of which, met recently, backs a member's place in ``seg``.

        The segment's own event conditions that need an event (not those
        under ``not``, nor ``count: 0``), and for an ``interest.<topic>``
        field, the events that show the topic (see segmint.traits.interests).
        """
        support = []
        for node in _positive_nodes(seg):
            if isinstance(node, EventCondition) and _needs_event(node):
                support.append(EventCondition(node.events, node.where, path=node.path))
        settings = model_settings(Interests, self.store.settings)
        assert isinstance(settings, InterestsSettings)
        for topic in self._interest_topics(seg):
            signals = settings.topics[topic]
            for kind in SIGNAL_KINDS:
                op = "eq" if kind.match == "equals" else "contains"
                for value in signals.values(kind, topic):
                    support.append(EventCondition((kind.event,), (FieldCondition(kind.column, op, value),)))
        return support

    def stuck_contacts(self) -> list[Finding]:
        s = self.settings
        findings = []
        has_affinity = self.store.engine.table_exists(f"{TABLE_PREFIX}affinity")
        topic_segments = self._topic_segments()
        suggestion = "a.suggested_interest" if has_affinity else "CAST(NULL AS VARCHAR)"
        affinity = f"LEFT JOIN {TABLE_PREFIX}affinity a ON a.contact_key = m.member_key" if has_affinity else ""
        # Member for long: entered before the cutoff, or (the refresh log being younger than the data) in it
        # on evidence all older than the cutoff.  Stuck: besides, no supporting event in the recent window.
        template = f"""
            WITH backing AS (
              SELECT e.contact_key, MAX(e.ts) AS last_ts FROM events e
              WHERE e.ts <= :as_of AND e.contact_key IS NOT NULL AND SUPPORT()
              GROUP BY e.contact_key)
            SELECT {suggestion} AS topic, COUNT(*) AS n
            FROM {SEGMENT_MEMBERS.name} m
            LEFT JOIN backing b ON b.contact_key = m.member_key
            {affinity}
            WHERE m.segment = :segment
              AND (b.last_ts IS NULL OR b.last_ts < :recent)
              AND (m.since < :cutoff OR b.last_ts < :cutoff)
            GROUP BY {suggestion}
            """
        for seg in self.segments.values():
            if seg.kind != "dynamic" or seg.entity != "contact" or not seg.size:
                continue
            support = self._support(seg.definition)
            if not support:
                continue  # built on fields, not on behaviour: nothing to go stale
            # the compiler's own test of an event against a condition's names and where (alias e)
            match = exp.or_(*(self.ctx.compiler.event_match(node) for node in support))
            query = self.ctx.parse(
                template,
                segment=seg.name,
                recent=timedelta(days=s.stuck_activity_days),
                cutoff=timedelta(days=s.stuck_member_days),
            )
            query = query.transform(
                lambda node, m=match: (
                    m.copy() if isinstance(node, exp.Anonymous) and str(node.this).upper() == "SUPPORT" else node
                )
            )
            rows = self.store.engine.query(query).to_pylist()
            total = sum(int(r["n"]) for r in rows)
            if total < s.stuck_min_contacts:
                continue
            own = set(self._interest_topics(seg.definition))
            leans = sorted(
                ((r["topic"], int(r["n"])) for r in rows if r["topic"] is not None and r["topic"] not in own),
                key=lambda t: (-t[1], t[0]),
            )
            what = _describe_support(seg.definition, own)
            message = (
                f"{total} contacts have been in {seg.name} for over {s.stuck_member_days} days without {what} in "
                f"the last {s.stuck_activity_days} days"
            )
            if leans:
                parts = []
                for topic, n in leans[:2]:
                    where = f" ({', '.join(topic_segments[topic])})" if topic_segments.get(topic) else ""
                    parts.append(f"{n} of them lean to {topic}{where}")
                message += "; " + " and ".join(parts)
                top_topic, top_n = leans[0]
                target = topic_segments.get(top_topic, [])
                fix = (
                    f"try the {top_n} who lean to {top_topic} in "
                    + (f"'{target[0]}'" if target else f"a segment on interest.{top_topic}")
                    + f" too (seed 000: think of their next step); and give {seg.name} a time window "
                    f"(within: {s.stuck_activity_days}d) so members without recent activity leave it."
                )
            else:
                fix = (
                    f"give {seg.name} a time window (within: {s.stuck_activity_days}d) so members without recent "
                    "activity leave it, and think where else they may belong (seed 000), e.g. by their interests."
                )
            findings.append(
                Finding(
                    "stuck-contacts",
                    "warning",
                    seg.name,
                    message + ".",
                    fix,
                    {"stuck": total, "leans": dict(leans), "member_days": s.stuck_member_days},
                )
            )
        return findings

    def _topic_segments(self) -> dict[str, list[str]]:
        """topic -> the segments built on ``interest.<topic>`` (where a suggested interest may go)."""
        found: dict[str, list[str]] = {}
        for seg in self.segments.values():
            for topic in self._interest_topics(seg.definition):
                found.setdefault(topic, []).append(seg.name)
        return found


def _positive_nodes(seg: Segment) -> list[Condition]:
    """The nodes of a definition not under a ``not`` (those whose truth puts a contact in)."""
    found: list[Condition] = []

    def visit(node: Condition) -> None:
        if isinstance(node, Not):
            return
        found.append(node)
        if not isinstance(node, EventCondition | SegmentCondition):
            for child in node.children():
                visit(child)

    for condition in seg.conditions:
        visit(condition)
    return found


_HOLDS_AT_ZERO = {
    "eq": lambda v: v == 0,
    "neq": lambda v: v != 0,
    "gt": lambda v: v < 0,
    "gte": lambda v: v <= 0,
    "lt": lambda v: v > 0,
    "lte": lambda v: v >= 0,
}


def _needs_event(node: EventCondition) -> bool:
    """Whether a contact without a matching event fails the condition (a count of 0 does not pass)."""
    if node.aggregate is not None:
        return node.aggregate.fn != "sum" or not _HOLDS_AT_ZERO[node.aggregate.op](node.aggregate.value)
    count = node.effective_count
    return count is None or not _HOLDS_AT_ZERO[count.op](count.value)


def _describe_support(seg: Segment, topics: set[str]) -> str:
    """'a purchase (category eq fishing) or a fishing click, view, search, cart or purchase', for messages."""
    parts = []
    for node in _positive_nodes(seg):
        if isinstance(node, EventCondition) and _needs_event(node):
            names = " or ".join(node.events) if node.events else "any event"
            where = ", ".join(f"{w.field} {w.op} {w.value}" for w in node.where)
            parts.append(f"a {names}" + (f" ({where})" if where else ""))
    parts += [f"a {t} click, visit, download, search, cart or purchase" for t in sorted(topics)]
    return " or ".join(dict.fromkeys(parts)) or "supporting activity"


_RUNNERS = {
    "unused-field": _Linter.unused_fields,
    "unused-traits": _Linter.unused_traits,
    "empty-segment": _Linter.empty_segments,
    "small-segment": _Linter.small_segments,
    "near-duplicate": _Linter.near_duplicates,
    "never-changes": _Linter.never_changes,
    "unused-segment": _Linter.unused_segments,
    "too-many-segments": _Linter.too_many,
    "stuck-contacts": _Linter.stuck_contacts,
}


def lint(
    store: Store,
    settings: LintSettings | None = None,
    *,
    checks: Iterable[str] | None = None,
    as_of: datetime | None = None,
) -> list[Finding]:
    """Every finding of the checks (all, or ``checks``), in the order of :data:`CHECKS`.

    ``as_of`` is the instant the checks look back from (default: the last
    refresh's, since membership is as of it).  A store without contacts is
    an :class:`InsufficientDataError`; an unknown check a :class:`UsageError`.
    """
    wanted = check_names(checks)
    linter = _Linter(store, settings or lint_settings(store), as_of)
    findings: list[Finding] = []
    for name in CHECKS:
        if name in wanted:
            findings += _RUNNERS[name](linter)
    return findings


__all__ = ["CHECKS", "Finding", "LintSettings", "check_names", "lint", "lint_settings"]
