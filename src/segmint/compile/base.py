"""Segments compiled to SQL: a node tree in, a sqlglot tree out.

The compiler is pure: no connection, no query.  ``as_of`` and every window
cutoff are computed here in Python and enter the SQL as timestamp literals;
user values enter as literals of the tree, never as SQL text.  A subclass per
engine (``compile/postgres.py``, ``compile/spark.py``) overrides only what
its engine spells differently.

Shape of the query for a contact segment::

    WITH ev AS (                      -- one GROUP BY over a narrow scan per event condition
      SELECT k, COUNT(v1) AS m1, SUM(v2) AS m2, ...
      FROM (SELECT e.contact_key AS k, 1 AS v1, CAST(NULL AS DOUBLE) AS v2, ...
            FROM events e WHERE e.ts <= <as_of> AND <match 1>       -- its event, its where, its window
            UNION ALL
            SELECT e.contact_key, CAST(NULL AS BIGINT), e.amount, ...
            FROM events e WHERE e.ts <= <as_of> AND <match 2>) AS u
      GROUP BY k)
    SELECT c.contact_key AS member_key, c.contact_id AS member_id
    FROM contacts c LEFT JOIN companies co ON ... LEFT JOIN ev ON ev.k = c.contact_key
    WHERE <the conditions, each a boolean that is never NULL>

Each branch of the union filters on its own condition's event names and
window at the top level of its WHERE, so the engine prunes by them (zone
maps on ``ts``, the table being in time order): a 7-day condition reads 7
days of events even next to a 365-day one, and rows no condition counts
never reach the GROUP BY.  Conditions with the same filter share a branch.

Every condition compiles to a boolean that is TRUE or FALSE, never NULL, so
``not`` is the exact complement over all contacts (SEGMENTS.md) and an unset
field matches nothing except ``is_not_set`` and the complements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, ClassVar

from sqlglot import exp

from segmint.dsl.nodes import (
    DEFAULT_COUNT,
    Absolute,
    AllOf,
    AnyOf,
    BetweenAgo,
    Condition,
    EventCondition,
    FieldCondition,
    Not,
    Segment,
    SegmentCondition,
    Within,
)
from segmint.errors import Problem, ValidationError
from segmint.model.fields import Field, FieldRegistry
from segmint.model.tables import COMPANIES, CONTACTS, EVENTS
from segmint.model.types import FieldType

MEMBER_KEY = "member_key"
MEMBER_ID = "member_id"
STATIC_MEMBERS = "segment_static_members"

_EVENT_COLUMNS = {c.name: c for c in EVENTS.columns}
NUMBER_PATTERN = r"^\s*[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?\s*$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"


def _table(name: str) -> exp.Table:
    """A table by name, built directly: ``exp.to_table`` parses its text (a tenth of a compile)."""
    return exp.Table(this=exp.to_identifier(name))


def _join(query: exp.Select, source: exp.Expr, on: exp.Expr, join_type: str = "") -> exp.Select:
    """``query`` joined to ``source`` in place (``join_type``: "left", "inner" or a plain join).

    Built directly: ``Select.join`` parses a small statement for its join type on every call.
    """
    join = exp.Join(this=source, on=on)
    if join_type == "left":
        join.set("side", "LEFT")
    elif join_type == "inner":
        join.set("kind", "INNER")
    query.append("joins", join)
    return query


@cache
def _built_type(kind: str) -> exp.DataType:
    return exp.DataType.build(kind)


def _type(kind: str) -> exp.DataType:
    """A type by name, parsed once per name (``DataType.build`` parses its text on every call)."""
    return _built_type(kind).copy()


def _bool(expression: exp.Expr) -> exp.Expr:
    """TRUE or FALSE, never NULL."""
    return exp.func("COALESCE", expression, exp.false(), copy=False)


def _root_conjuncts(node: Condition) -> list[Condition]:
    """The conditions that must all hold for the whole to hold (``all`` flattened)."""
    if isinstance(node, AllOf) or (isinstance(node, AnyOf) and len(node.conditions) == 1):
        return [c for child in node.conditions for c in _root_conjuncts(child)]
    return [node]


_HOLDS = {
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _needs_an_event(node: EventCondition) -> bool:
    """Whether the condition is false for a member without a matching event in its window."""
    if node.aggregate is not None:
        # avg, min and max over no events are unset and match nothing; the sum over no events is 0
        return node.aggregate.fn != "sum" or not _HOLDS[node.aggregate.op](0, node.aggregate.value)
    wanted = node.count or DEFAULT_COUNT
    return not _HOLDS[wanted.op](0, wanted.value)


def _is_presence(node: EventCondition) -> bool:
    """Whether the condition is "at least one matching event in the window", nothing more."""
    if node.first_time or node.aggregate is not None:
        return False
    wanted = node.count or DEFAULT_COUNT
    return (wanted.op, wanted.value) in (("gte", 1), ("gt", 0))


def _event_key(entity: str) -> exp.Column:
    """The member's key on an event row (``e``, joined to its contact ``ct`` for a company)."""
    return exp.column("company_key", table="ct") if entity == "company" else exp.column("contact_key", table="e")


def _reads_outside_subqueries(expression: exp.Expr, table: str) -> bool:
    """Whether ``expression`` (not yet part of a query) reads a column of ``table`` other than in a subquery."""
    return any(
        column.table == table and column.find_ancestor(exp.Select) is None for column in expression.find_all(exp.Column)
    )


def _conjuncts(expression: exp.Expr) -> list[exp.Expr]:
    """``a AND (b AND c)`` as ``[a, b, c]``: top-level conjuncts are what engines prune by."""
    if isinstance(expression, exp.And):
        return [part for child in expression.flatten() for part in _conjuncts(child)]
    if isinstance(expression, exp.Paren):
        return _conjuncts(expression.this)
    return [expression]


@dataclass
class _Measure:
    """One aggregate over the events of a member: ``fn(value)`` over the events where ``where`` holds."""

    alias: str
    fn: type[exp.AggFunc]
    where: exp.Expr
    value: exp.Expr
    kind: str  # the value's SQL type, for the NULLs of the other branches of the union
    label: str = ""


@dataclass
class _EventPass:
    """The event conditions of one query, gathered into one GROUP BY over a union of narrow scans."""

    name: str = "ev"
    measures: dict[tuple[type[exp.AggFunc], exp.Expr, exp.Expr], _Measure] = field(default_factory=dict)
    #: the narrowest filter every member must have an event in (None: no such filter)
    required: exp.Expr | None = None
    required_span: timedelta | None = None
    #: what every member's measures over ``required`` must meet (the condition that set it)
    required_test: exp.Expr | None = None
    #: every member has a row in the pass (a condition that all must meet needs an event)
    needed: bool = False

    def require(self, where: exp.Expr, span: timedelta, test: exp.Expr | None) -> None:
        """Every member has an event passing ``where`` (a window ``span`` long) and meets ``test``
        on its measures there; keep the narrowest window."""
        if self.required_span is None or span < self.required_span:
            self.required, self.required_span, self.required_test = where, span, test

    def measure(
        self, fn: type[exp.AggFunc], where: exp.Expr, value: exp.Expr, kind: str, label: str = ""
    ) -> exp.Column:
        """The column holding this aggregate (identical aggregates share one column)."""
        key = (fn, where, value)  # sqlglot trees compare and hash by structure
        if key not in self.measures:
            self.measures[key] = _Measure(f"m{len(self.measures) + 1}", fn, where, value, kind, label)
        return exp.column(self.measures[key].alias, table=self.name)


class SegmentCompiler:
    """Compile a validated segment for one engine (this base class speaks DuckDB)."""

    dialect: ClassVar[str] = "duckdb"
    #: whether ``WITH name AS MATERIALIZED`` is understood (a CTE read twice is then computed once)
    MATERIALIZE: ClassVar[bool] = True
    #: whether ``key IN (SELECT ...)`` may stand among the alternatives of an OR
    SEMI_JOIN_ANY: ClassVar[bool] = True
    #: field operators: op -> function(compiler, column, value, field type) building the positive test
    OPS: ClassVar[dict[str, Callable[..., exp.Expr]]] = {}

    def __init__(
        self, registry: FieldRegistry, segments: Mapping[str, Segment] | None = None, *, as_of: datetime
    ) -> None:
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=UTC)
        self.registry = registry
        self.segments = dict(segments or {})
        self.as_of = as_of.astimezone(UTC)
        self._depth = 0
        self._nested = [0]  # nested segments compiled so far in this statement (shared with them)

    # ---- entry points -----------------------------------------------------------

    def compile(
        self, segment: Segment, *, keys: Iterable[int] | None = None, fields: Iterable[Field] = ()
    ) -> exp.Select:
        """``SELECT member_key, member_id`` of the segment's members, ordered by id.

        ``keys`` restricts the evaluation to those members (the path that keeps
        touched contacts fresh without re-evaluating everyone); ``fields`` adds
        their values as columns ``f_1``, ``f_2``, … (stored fields and traits alike).
        """
        self._nested = [0]
        query = self._members(segment, keys=list(keys) if keys is not None else None, fields=list(fields))
        return query.order_by(exp.column(MEMBER_ID), copy=False)

    def event_measures(self, segment: Segment, key: int) -> exp.Select:
        """The per-member aggregates the segment's event conditions compute, for one member.

        :attr:`measure_labels` then names each column (``matching events``,
        ``sum(amount)``, ``first matching event``), for explanations.
        """
        self._members(segment, keys=[key])
        return self._event_pass(segment.entity, [key])

    def sql(self, segment: Segment, **kwargs: Any) -> str:
        return self.compile(segment, **kwargs).sql(dialect=self.dialect, pretty=True)

    def text(self, segment: Segment, **kwargs: Any) -> str:
        """The statement to run, as text: its tree is new and dropped after, so generated without a copy."""
        return self.compile(segment, **kwargs).sql(dialect=self.dialect, copy=False)

    # ---- the query --------------------------------------------------------------

    def _main_table(self, entity: str) -> tuple[str, str, str, str]:
        """(table, alias, key column, id column) of the segment's entity."""
        if entity == "company":
            return COMPANIES.name, "co", "company_key", "company_id"
        return CONTACTS.name, "c", "contact_key", "contact_id"

    def _members(
        self, segment: Segment, *, keys: list[int] | None = None, fields: list[Field] | None = None
    ) -> exp.Select:
        table, alias, key, ident = self._main_table(segment.entity)
        self._keys = keys
        self._entity = segment.entity
        self._alias = alias
        self._uses_company = False
        # Spark lifts every CTE to the top of the statement: nested segments need their own names.
        self._events = _EventPass(name="ev" if self._depth == 0 else f"ev{self._depth}")
        self._root_conjuncts = set() if segment.kind == "static" else {id(c) for c in _root_conjuncts(segment.root)}
        self._joins: list[tuple[str, exp.Select]] = []
        self._trait_joins: dict[str, tuple[str, exp.Expr]] = {}  # alias -> (traits table, join condition)
        if segment.kind == "static":
            where: exp.Expr = self._static_members(segment.name)
        else:
            where = self.visit(segment.root)
        # Every tree below is built here and used once: the builders need not copy (a copy per call
        # of the whole statement so far was most of the compile time).
        query = exp.select(
            exp.column(key, table=alias).as_(MEMBER_KEY, copy=False),
            exp.column(ident, table=alias).as_(MEMBER_ID, copy=False),
            copy=False,
        ).from_(_table(table).as_(alias, copy=False), copy=False)
        for i, fld in enumerate(fields or (), start=1):
            query = query.select(self._field_column(fld).as_(f"f_{i}", copy=False), copy=False)
        if self._uses_company and segment.entity == "contact":
            query = _join(
                query,
                _table(COMPANIES.name).as_("co", copy=False),
                on=exp.column("company_key", table="co").eq(exp.column("company_key", table="c")),
                join_type="left",
            )
        for trait_alias, (trait_table, on) in self._trait_joins.items():
            query = _join(query, _table(trait_table).as_(trait_alias, copy=False), on=on, join_type="left")
        if self._events.measures:
            cte = self._events.name
            query = query.with_(cte, as_=self._event_pass(segment.entity, keys, restrict=True), copy=False)
            if _reads_outside_subqueries(where, cte):
                # An inner join when every member needs an event: the engine then starts from the few
                # contacts with events rather than from every contact.
                query = _join(
                    query,
                    _table(cte),
                    on=exp.column("k", table=cte).eq(exp.column(key, table=alias)),
                    join_type="inner" if self._events.needed else "left",
                )
        for join_alias, members in self._joins:
            query = _join(
                query,
                members.subquery(join_alias, copy=False),
                on=exp.column(MEMBER_KEY, table=join_alias).eq(exp.column(key, table=alias)),
                join_type="left",
            )
        if keys is not None:
            where = exp.and_(where, self._key_filter(exp.column(key, table=alias), keys), copy=False)
        return query.where(where, copy=False)

    def _key_filter(self, column: exp.Expr, keys: list[int]) -> exp.Expr:
        if not keys:
            return exp.false()
        return column.isin(*(exp.Literal.number(k) for k in sorted(set(keys))), copy=False)

    def _event_pass(self, entity: str, keys: list[int] | None, *, restrict: bool = False) -> exp.Select:
        """Per member, every measure: one GROUP BY over a UNION ALL of one narrow scan per filter.

        Each branch keeps only the events its measures count (event names, ``where``
        and window as top-level conjuncts, which the engine prunes by), fills its
        measures' value columns and leaves the others NULL (typed: PostgreSQL resolves
        a UNION pairwise and takes an untyped NULL column for text).  The trees are
        built here and used once, so the builders need not copy them.

        With ``restrict``, when every member must have an event in some filter (a
        top-level condition that no member without such an event can meet), that
        filter's scan drives: grouped on its own and kept where the condition holds
        (``<name>_req``, the HAVING of a hand-written query), it is read once, and the
        other branches read only the events of the members it keeps: a 365-day
        condition next to "3 pricing views in 7 days" then counts for the few contacts
        the 7-day one leaves.  When that filter feeds no measure (``first_time``'s
        window), the keys with an event in it restrict the branches (``<name>_keys``).
        The other members' measures become wrong, but they are no members anyway;
        explanations (``event_measures``) do not restrict.
        """
        events = self._events
        measures = list(events.measures.values())

        def scan(select: exp.Select, where: exp.Expr, *extra: exp.Expr) -> exp.Select:
            return self._scan(select, where, entity, keys, *extra)

        branches: dict[exp.Expr, list[int]] = {}  # a filter -> the measures it feeds
        for i, m in enumerate(measures):
            branches.setdefault(m.where, []).append(i)

        def grouped(wheres: list[exp.Expr], members_of: str | None = None) -> exp.Select:
            """Per member, the measures these filters feed; with ``members_of``, of its keys ``k`` only."""
            fed = [i for where in wheres for i in branches[where]]
            union: exp.Query | None = None
            for where in wheres:
                values = [
                    (
                        measures[i].value.copy()
                        if i in branches[where]
                        else exp.cast(exp.null(), _type(measures[i].kind), copy=False)
                    ).as_(f"v{i + 1}", copy=False)
                    for i in fed
                ]
                extra = []
                if members_of is not None:
                    only = exp.select(exp.column("k"), copy=False).from_(_table(members_of), copy=False)
                    extra.append(_event_key(entity).isin(query=only, copy=False))
                branch = scan(exp.select(_event_key(entity).as_("k", copy=False), *values, copy=False), where, *extra)
                union = branch if union is None else exp.union(union, branch, distinct=False, copy=False)
            assert union is not None
            aggregates = [measures[i].fn(this=exp.column(f"v{i + 1}")).as_(measures[i].alias, copy=False) for i in fed]
            return (
                exp.select(exp.column("k"), *aggregates, copy=False)
                .from_(union.subquery("u", copy=False), copy=False)
                .group_by(exp.column("k"), copy=False)
            )

        required = events.required if restrict and len(branches) > 1 else None
        if required is None:
            return grouped(list(branches))
        others = [where for where in branches if where != required]
        if required not in branches:
            # Only a window to start from (first_time's): the keys with an event in it, the rest restricted to them.
            keys_cte = f"{events.name}_keys"
            members_keys = scan(
                exp.select(_event_key(entity).as_("k", copy=False), copy=False).distinct(copy=False), required
            )
            return grouped(others, keys_cte).with_(keys_cte, as_=members_keys, copy=False)
        # One pass over the required window: its measures per member, kept where the condition that requires
        # it holds (as a hand-written HAVING would), drive the other scans, which read only those members'
        # events. The driving set is read twice, so it is materialised where the engine can be told so.
        driving_cte = f"{events.name}_req"
        driving = grouped([required])
        if events.required_test is not None:
            driven = [exp.column("k"), *(exp.column(measures[i].alias) for i in branches[required])]
            driving = (
                exp.select(*driven, copy=False)
                .from_(driving.subquery(events.name, copy=False), copy=False)
                .where(events.required_test.copy(), copy=False)
            )
        rest = grouped(others, driving_cte)
        columns = [exp.column("k", table="d")]
        for i, m in enumerate(measures):
            columns.append(exp.column(m.alias, table="d" if i in branches[required] else "r"))
        joined = _join(
            exp.select(*columns, copy=False).from_(_table(driving_cte).as_("d", copy=False), copy=False),
            rest.subquery("r", copy=False),
            on=exp.column("k", table="r").eq(exp.column("k", table="d")),
            join_type="left",
        )
        return joined.with_(driving_cte, as_=driving, materialized=self.MATERIALIZE or None, copy=False)

    def _scan(
        self, select: exp.Select, where: exp.Expr, entity: str, keys: list[int] | None, *extra: exp.Expr
    ) -> exp.Select:
        """``select`` from the events up to ``as_of`` of members (a contact's, or its company's) where ``where`` holds."""
        select = select.from_(_table(EVENTS.name).as_("e", copy=False), copy=False)
        if entity == "company":
            select = _join(
                select,
                _table(CONTACTS.name).as_("ct", copy=False),
                on=exp.column("contact_key", table="ct").eq(exp.column("contact_key", table="e")),
            )
        conditions: list[exp.Expr] = [
            exp.column("ts", table="e") <= self.timestamp(self.as_of),
            _event_key(entity).is_(exp.null()).not_(),
            *_conjuncts(where.copy()),
            *extra,
        ]
        if keys is not None:
            conditions.append(self._key_filter(_event_key(entity), keys))
        return select.where(exp.and_(*conditions, copy=False), copy=False)

    @property
    def measure_labels(self) -> dict[str, str]:
        """Column alias -> what it measures, for the last compiled segment."""
        return {m.alias: m.label for m in self._events.measures.values()}

    # ---- visitors ---------------------------------------------------------------

    def visit(self, node: Condition) -> exp.Expr:
        method = getattr(self, f"visit_{type(node).__name__}")
        result: exp.Expr = method(node)
        return result

    def visit_AllOf(self, node: AllOf) -> exp.Expr:
        parts = [self.visit(c) for c in node.conditions]
        return exp.paren(exp.and_(*parts, copy=False), copy=False) if len(parts) > 1 else parts[0]

    def visit_AnyOf(self, node: AnyOf) -> exp.Expr:
        if len(node.conditions) == 1:
            return self.visit(node.conditions[0])
        # "At least one matching event in the window" needs no count: the keys of such events are the members,
        # as in a hand-written union of key sets. Those alternatives ask for them directly (one semi-join over
        # a UNION ALL of their scans), and the event pass does not count them for every contact.
        present: list[EventCondition] = []
        rest: list[Condition] = []
        for c in node.conditions:
            if self.SEMI_JOIN_ANY and isinstance(c, EventCondition) and _is_presence(c):
                present.append(c)
            else:
                rest.append(c)
        parts = [self.visit(c) for c in rest]
        if present:
            parts.append(self._present_in_any(present))
        if len(parts) == 1:
            return parts[0]
        eventful = [i for i, c in enumerate(rest) if isinstance(c, EventCondition) and _needs_an_event(c)]
        if self.SEMI_JOIN_ANY and eventful:
            # The alternatives that need an event hold only for keys of the event pass: ask for those keys
            # (a semi-join) instead of joining the pass to every contact and testing each. When nothing else
            # reads the pass, the query then never joins it (see _members): "a partner, or a download in
            # 30 days, or a demo request in 90" costs what a union of three key sets costs.
            _, alias, key, _ = self._main_table(self._entity)
            members = (
                exp.select(exp.column("k"), copy=False)
                .from_(_table(self._events.name), copy=False)
                .where(exp.or_(*(parts[i] for i in eventful), copy=False), copy=False)
            )
            semi = exp.column(key, table=alias).isin(query=members, copy=False)
            parts = [p for i, p in enumerate(parts) if i not in eventful] + [semi]
            if len(parts) == 1:
                return semi
        return exp.paren(exp.or_(*parts, copy=False), copy=False)

    def _present_in_any(self, conditions: list[EventCondition]) -> exp.Expr:
        """``key IN`` the keys with a matching event in the window of any of ``conditions``."""
        _, alias, key, _ = self._main_table(self._entity)
        union: exp.Query | None = None
        for node in conditions:
            window = self._window(node)
            where = exp.and_(
                self.event_match(node), *self._window_test(exp.column("ts", table="e"), window), copy=False
            )
            select = exp.select(_event_key(self._entity).as_("k", copy=False), copy=False)
            scan = self._scan(select, where, self._entity, self._keys)
            union = scan if union is None else exp.union(union, scan, distinct=False, copy=False)
        return exp.column(key, table=alias).isin(query=union, copy=False)

    def visit_Not(self, node: Not) -> exp.Expr:
        return exp.not_(exp.paren(self.visit(node.condition), copy=False), copy=False)

    def visit_FieldCondition(self, node: FieldCondition) -> exp.Expr:
        fld = self._field(node)
        column = self._field_column(fld)
        return self.field_test(node.op, column, node.value, fld.type)

    def visit_SegmentCondition(self, node: SegmentCondition) -> exp.Expr:
        other = self.segments.get(node.segment)
        if other is None:
            raise ValidationError(
                f"unknown segment '{node.segment}'", problems=[Problem(node.path, f"unknown segment '{node.segment}'")]
            )
        if other.kind == "static":
            return self._static_members(other.name)
        inner = type(self)(self.registry, self.segments, as_of=self.as_of)
        self._nested[0] += 1
        inner._depth, inner._nested = self._nested[0], self._nested  # one numbering for the whole statement
        nested = inner._members(other, keys=self._keys)  # the same members only: no wasted work
        return self._member_of(
            exp.select(exp.column(MEMBER_KEY), copy=False).from_(nested.subquery("nested", copy=False), copy=False)
        )

    def _static_members(self, name: str) -> exp.Expr:
        return self._member_of(
            exp.select(exp.column(MEMBER_KEY))
            .from_(STATIC_MEMBERS)
            .where(exp.column("segment").eq(exp.Literal.string(name)))
        )

    def _member_of(self, members: exp.Select) -> exp.Expr:
        """Membership of another member set, as a LEFT JOIN (Spark allows no IN-subquery inside expressions)."""
        alias = f"s{len(self._joins) + 1}"
        self._joins.append((alias, members.distinct()))
        return exp.column(MEMBER_KEY, table=alias).is_(exp.null()).not_()

    def visit_EventCondition(self, node: EventCondition) -> exp.Expr:
        events = self._events
        matches = self.event_match(node)
        window = self._window(node)
        in_window = exp.and_(matches, *self._window_test(exp.column("ts", table="e"), window), copy=False)
        tests: list[exp.Expr] = []
        if node.first_time:
            first = events.measure(exp.Min, matches, exp.column("ts", table="e"), "timestamptz", "first matching event")
            tests.append(
                _bool(
                    exp.and_(*self._window_test(first, window), copy=False) if window else first.is_(exp.null()).not_()
                )
            )
        if node.aggregate is not None:
            agg = node.aggregate
            value = self._event_value(agg.field, numeric=True)
            fn = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[agg.fn]
            measured: exp.Expr = events.measure(fn, in_window, value, "double", f"{agg.fn}({agg.field})")
            if agg.fn == "sum":  # the sum over no events is 0; avg, min and max are unset and match nothing
                measured = exp.func("COALESCE", measured, exp.Literal.number(0), copy=False)
            tests.append(_bool(self.compare(agg.op, measured, exp.Literal.number(agg.value))))
        elif node.first_time and node.count is None:
            pass  # the first matching event is in the window: the default "at least one there" holds already
        else:
            count = events.measure(exp.Count, in_window, exp.Literal.number(1), "bigint", "matching events")
            wanted = node.count or DEFAULT_COUNT
            total = exp.func("COALESCE", count, exp.Literal.number(0), copy=False)
            tests.append(_bool(self.compare(wanted.op, total, exp.Literal.number(wanted.value))))
        test = exp.and_(*tests, copy=False) if len(tests) > 1 else tests[0]
        if id(node) in self._root_conjuncts and _needs_an_event(node):
            events.needed = True
            if window is not None and window[0] is not None:
                # first_time's measure reads every matching event, not the window's: no test on the window's
                events.require(in_window, window[1] - window[0], None if node.first_time else test)
        return test

    # ---- events -------------------------------------------------------------------

    def event_match(self, node: EventCondition) -> exp.Expr:
        """The condition on an event row ``e`` of what ``node`` counts (names, properties; no window)."""
        parts: list[exp.Expr] = []
        if node.events is not None:
            names = [exp.Literal.string(n) for n in node.events]
            column = exp.column("event", table="e")
            parts.append(column.eq(names[0]) if len(names) == 1 else column.isin(*names))
        for where in node.where:
            known = _EVENT_COLUMNS.get(where.field)
            if known is not None and known.type is not FieldType.JSON:
                parts.append(self.field_test(where.op, exp.column(known.name, table="e"), where.value, known.type))
            else:
                parts.append(self.property_test(where))
        return exp.and_(*parts, copy=False) if parts else exp.true()

    def _event_value(self, name: str, *, numeric: bool) -> exp.Expr:
        known = _EVENT_COLUMNS.get(name)
        if known is not None and known.type is not FieldType.JSON:
            return exp.column(known.name, table="e")
        text = self.json_text(exp.column("properties", table="e"), name.split("."))
        return self.to_number(text) if numeric else text

    def property_test(self, node: FieldCondition) -> exp.Expr:
        """A test on a JSON property: its type is read off the value the segment compares with."""
        text = self.json_text(exp.column("properties", table="e"), node.field.split("."))
        value = node.value
        sample = value[0] if isinstance(value, tuple | list) and value else value
        if node.op in ("within_last", "older_than") or isinstance(sample, datetime):
            return self.field_test(node.op, self.to_timestamp(text), value, FieldType.TIMESTAMP)
        if isinstance(sample, bool):
            # JSON true/false read as text: compare with the text of the values, lists included
            words = tuple(_text(v) for v in value) if isinstance(value, tuple) else _text(value)
            return self.field_test(node.op, text, words, FieldType.STRING)
        if isinstance(sample, int | float) and node.op not in ("contains", "not_contains", "starts_with", "ends_with"):
            return self.field_test(node.op, self.to_number(text), value, FieldType.FLOAT)
        return self.field_test(node.op, text, value, FieldType.STRING)

    # ---- windows --------------------------------------------------------------------

    def _window(self, node: EventCondition) -> tuple[datetime | None, datetime] | None:
        """(lower, upper) bounds of the event window, both capped at as_of; None when unbounded."""
        window = node.window
        if window is None:
            return None
        if isinstance(window, Within):
            return self.as_of - window.duration, self.as_of
        if isinstance(window, BetweenAgo):
            return self.as_of - window.older, self.as_of - window.newer
        assert isinstance(window, Absolute)
        upper = min(window.until, self.as_of) if window.until else self.as_of
        return window.since, upper

    def _window_test(self, ts: exp.Expr, window: tuple[datetime | None, datetime] | None) -> list[exp.Expr]:
        if window is None:
            return []
        lower, upper = window
        tests: list[exp.Expr] = [ts <= self.timestamp(upper)]
        if lower is not None:
            tests.insert(0, ts >= self.timestamp(lower))
        return tests

    # ---- fields ---------------------------------------------------------------------

    def _field(self, node: FieldCondition) -> Field:
        return self.registry.get(self._entity, node.field, path=node.path)

    def _field_column(self, fld: Field) -> exp.Expr:
        if fld.origin == "trait":
            return self._trait_column(fld)
        if self._entity == "contact" and fld.via == "company":
            self._uses_company = True
            return exp.column(fld.column, table="co")
        return exp.column(fld.column, table=self._alias)

    def _trait_column(self, fld: Field) -> exp.Expr:
        """A trait: a column of its model's table, joined once per statement by the member's key."""
        company_trait = fld.via == "company" or self._entity == "company"
        alias = ("tc_" if company_trait else "t_") + fld.table.removeprefix("traits_")
        if alias not in self._trait_joins:
            if self._entity == "contact" and fld.via == "company":
                on = exp.column("company_key", table=alias).eq(exp.column("company_key", table="c"))
            elif self._entity == "company":
                on = exp.column("company_key", table=alias).eq(exp.column("company_key", table="co"))
            else:
                on = exp.column("contact_key", table=alias).eq(exp.column("contact_key", table="c"))
            self._trait_joins[alias] = (fld.table, on)
        if fld.explicit_column is not None:  # the stored value wins, else the inferred one
            return exp.func(
                "COALESCE", exp.column(fld.explicit_column, table=self._alias), exp.column(fld.column, table=alias)
            )
        return exp.column(fld.column, table=alias)

    # ---- literals and operators ---------------------------------------------------------

    def timestamp(self, value: datetime) -> exp.Expr:
        """A UTC instant as a literal of this engine."""
        text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
        return exp.cast(exp.Literal.string(text), _type("timestamptz"), copy=False)

    def literal(self, value: Any, kind: FieldType) -> exp.Expr:
        if isinstance(value, bool):
            return exp.true() if value else exp.false()
        if isinstance(value, datetime):
            return self.timestamp(value)
        if isinstance(value, int | float) and kind is not FieldType.STRING:
            return exp.Literal.number(value)
        text = str(value)
        return exp.Literal.string(text.lower() if kind is FieldType.STRING else text)

    def json_text(self, column: exp.Expr, path: list[str]) -> exp.Expr:
        """A JSON property as text (``$.a.b``)."""
        return exp.JSONExtractScalar(
            this=column,
            expression=exp.JSONPath(expressions=[exp.JSONPathRoot(), *(exp.JSONPathKey(this=p) for p in path)]),
        )

    def to_number(self, text: exp.Expr) -> exp.Expr:
        """Text to a number, NULL when it is not one.

        A regular expression guards the cast instead of TRY_CAST: PostgreSQL has
        no TRY_CAST and Spark's ANSI mode fails a bad cast, and the pattern reads
        the same in POSIX, Java and RE2 regular expressions.
        """
        return exp.case().when(
            exp.RegexpLike(this=text, expression=exp.Literal.string(NUMBER_PATTERN)),
            exp.cast(text, _type("double")),
        )

    def to_timestamp(self, text: exp.Expr) -> exp.Expr:
        """Text to a timestamp, NULL unless it starts like an ISO 8601 date."""
        return exp.case().when(
            exp.RegexpLike(this=text, expression=exp.Literal.string(DATE_PATTERN)),
            exp.cast(text, _type("timestamptz")),
        )

    def compare(self, op: str, left: exp.Expr, right: exp.Expr) -> exp.Expr:
        cls = {"eq": exp.EQ, "neq": exp.NEQ, "gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}[op]
        return cls(this=left, expression=right)

    def field_test(self, op: str, column: exp.Expr, value: Any, kind: FieldType) -> exp.Expr:
        """The never-NULL test of one field operator (SEGMENTS.md's table and null rules)."""
        if op in COMPLEMENTS:
            return exp.not_(self.field_test(COMPLEMENTS[op], column, value, kind))
        x = exp.Lower(this=column) if kind is FieldType.STRING else column
        return _bool(OPERATORS[op](self, x, value, kind))


# op -> its positive form; the complement is exactly NOT of it, so it matches unset fields (SEGMENTS.md)
COMPLEMENTS = {"neq": "eq", "not_in": "in", "not_contains": "contains"}


def _text(value: Any) -> str:
    return str(value).lower()


# Each operator is one line: how its test is built from the (lower-cased, for text) column and the value.
OPERATORS: dict[str, Callable[[SegmentCompiler, exp.Expr, Any, FieldType], exp.Expr]] = {
    "eq": lambda c, x, v, k: x.eq(c.literal(v, k)),
    "in": lambda c, x, v, k: x.isin(*(c.literal(item, k) for item in v)),
    "gt": lambda c, x, v, k: x > c.literal(v, k),
    "gte": lambda c, x, v, k: x >= c.literal(v, k),
    "lt": lambda c, x, v, k: x < c.literal(v, k),
    "lte": lambda c, x, v, k: x <= c.literal(v, k),
    "between": lambda c, x, v, k: exp.Between(this=x, low=c.literal(v[0], k), high=c.literal(v[1], k)),
    "contains": lambda c, x, v, k: exp.StrPosition(this=x, substr=exp.Literal.string(_text(v))) > exp.Literal.number(0),
    "starts_with": lambda c, x, v, k: exp.Substring(
        this=x, start=exp.Literal.number(1), length=exp.Literal.number(len(str(v)))
    ).eq(exp.Literal.string(_text(v))),
    "ends_with": lambda c, x, v, k: exp.Right(this=x, expression=exp.Literal.number(len(str(v)))).eq(
        exp.Literal.string(_text(v))
    ),
    "is_set": lambda c, x, v, k: x.is_(exp.null()).not_(),
    "is_not_set": lambda c, x, v, k: x.is_(exp.null()),
    "within_last": lambda c, x, v, k: exp.Between(this=x, low=c.timestamp(c.as_of - v), high=c.timestamp(c.as_of)),
    "older_than": lambda c, x, v, k: x < c.timestamp(c.as_of - v),
}

__all__ = ["MEMBER_ID", "MEMBER_KEY", "OPERATORS", "SegmentCompiler"]
