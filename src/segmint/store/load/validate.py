"""Turn raw rows into typed rows, or into rejects with the reason why.

Validation runs as one vectorised DuckDB query per batch (the loader's
workspace): each target column gets a typed expression and, where a value can
be wrong, a reason expression; a row with any reason is rejected whole and
every reason is reported.  Emails are the exception: they are checked in
Python by ``email-validator`` (a real RFC 5321/5322 parser, which no SQL
pattern matches), once per distinct address, except the plain ASCII
addresses of :data:`PLAIN_EMAIL`, which it would accept unchanged (a test
checks that) and which are recognised in one vectorised pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from sqlglot import exp

from segmint.errors import LoadError
from segmint.model.fields import CustomField
from segmint.model.tables import (
    BOUNCE_TYPES,
    COMPANIES,
    CONSENT_CHANNELS,
    CONSENT_STATUSES,
    CONSENTS,
    CONTACTS,
    DEAL_STATUSES,
    DEALS,
    EVENTS,
    LIFECYCLE_STAGES,
    Column,
    Table,
)
from segmint.model.types import FieldType
from segmint.store.load.mapping import Mapping
from segmint.store.load.readers import ROW

EMAIL = "_email"
EMAIL_ERROR = "_email_error"
REASON = "_reason"


def ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def lit(value: str) -> str:
    """A string literal, escaped by sqlglot: user text never becomes SQL."""
    return exp.Literal.string(value).sql("duckdb")


def _enum_check(values: tuple[str, ...]) -> Callable[[str, str], tuple[str, str]]:
    allowed = "[" + ", ".join(lit(v) for v in values) + "]"

    def check(col: str, typed: str) -> tuple[str, str]:
        normal = f"lower({typed})"
        reason = (
            f"CASE WHEN {normal} IS NOT NULL AND NOT list_contains({allowed}, {normal}) THEN "
            f"{lit(col + ': ')} || {lit(chr(39))} || {typed} || {lit(chr(39) + ' is not one of ' + ', '.join(values))} END"
        )
        return normal, reason

    return check


def _code_check(length: int, upper: bool, what: str) -> Callable[[str, str], tuple[str, str]]:
    def check(col: str, typed: str) -> tuple[str, str]:
        normal = f"{'upper' if upper else 'lower'}({typed})"
        pattern = lit(f"^[A-Za-z]{{{length}}}$")
        reason = (
            f"CASE WHEN {typed} IS NOT NULL AND NOT regexp_matches({typed}, {pattern}) THEN "
            f"{lit(col + ': ')} || {lit(chr(39))} || {typed} || {lit(chr(39) + ' is not ' + what)} END"
        )
        return normal, reason

    return check


_COUNTRY = _code_check(2, True, "an ISO 3166-1 alpha-2 country code such as FI or SE")
_LANGUAGE = _code_check(2, False, "an ISO 639-1 language code such as sv or fi")

# Value rules of DATA.md beyond the column's type.
CHECKS: dict[tuple[str, str], Callable[[str, str], tuple[str, str]]] = {
    ("contacts", "country"): _COUNTRY,
    ("companies", "country"): _COUNTRY,
    ("contacts", "language"): _LANGUAGE,
    ("contacts", "lifecycle_stage"): _enum_check(LIFECYCLE_STAGES),
    ("deals", "status"): _enum_check(DEAL_STATUSES),
    ("consents", "status"): _enum_check(CONSENT_STATUSES),
    ("consents", "channel"): _enum_check(CONSENT_CHANNELS),
    ("events", "bounce_type"): _enum_check(BOUNCE_TYPES),
}


@dataclass(frozen=True)
class EntitySpec:
    """How one entity's file is read: its table, required fields and references."""

    name: str
    table: Table
    refs: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    custom_entity: str | None = None  # unknown columns become custom properties of this entity


SPECS: dict[str, EntitySpec] = {
    "contacts": EntitySpec("contacts", CONTACTS, refs=CONTACTS.references, custom_entity="contact"),
    "companies": EntitySpec("companies", COMPANIES, required=("company_id",), custom_entity="company"),
    "events": EntitySpec("events", EVENTS, refs=EVENTS.references, required=("event", "ts")),
    "deals": EntitySpec("deals", DEALS, refs=DEALS.references, required=("deal_id",), custom_entity="deal"),
    "consents": EntitySpec("consents", CONSENTS, refs=CONSENTS.references, required=("channel", "status", "ts")),
}

_BOOL_TRUE = "['true', 't', 'yes', 'y', '1']"
_BOOL_FALSE = "['false', 'f', 'no', 'n', '0']"
SQL_TYPES = {
    FieldType.STRING: "VARCHAR",
    FieldType.INTEGER: "BIGINT",
    FieldType.FLOAT: "DOUBLE",
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.TIMESTAMP: "TIMESTAMPTZ",
    FieldType.JSON: "JSON",
}


def _fits(raw_type: pa.DataType, target: FieldType) -> bool:
    """Whether every value of an Arrow type converts to the target type (so no row can fail)."""
    if target is FieldType.INTEGER:
        return pa.types.is_integer(raw_type)
    if target is FieldType.FLOAT:
        return pa.types.is_integer(raw_type) or pa.types.is_floating(raw_type) or pa.types.is_decimal(raw_type)
    if target is FieldType.BOOLEAN:
        return pa.types.is_boolean(raw_type)
    if target is FieldType.TIMESTAMP:
        return pa.types.is_timestamp(raw_type) or pa.types.is_date(raw_type)
    return False


def typed_expression(col: str, raw_type: pa.DataType, target: FieldType, date_format: str | None) -> tuple[str, str]:
    """(typed value, reason when the raw value cannot become that type)."""
    x = ident(col)
    is_text = pa.types.is_string(raw_type) or pa.types.is_large_string(raw_type)
    raw_text = f"NULLIF(trim({x}), '')" if is_text else f"CAST({x} AS VARCHAR)"
    if target is FieldType.STRING:
        return raw_text, ""
    if not is_text and _fits(raw_type, target):
        return f"CAST({x} AS {SQL_TYPES[target]})", ""
    if target is FieldType.BOOLEAN and is_text:
        low = f"lower({raw_text})"
        typed = f"CASE WHEN list_contains({_BOOL_TRUE}, {low}) THEN TRUE WHEN list_contains({_BOOL_FALSE}, {low}) THEN FALSE END"
        what = "not a boolean (true/false, yes/no, 1/0)"
    elif target is FieldType.TIMESTAMP and is_text and date_format:
        typed = f"TRY_CAST(try_strptime({raw_text}, {lit(date_format)}) AS TIMESTAMPTZ)"
        what = f"not a timestamp in the format {date_format}"
    elif target is FieldType.TIMESTAMP:
        typed = f"TRY_CAST({raw_text if is_text else x} AS TIMESTAMPTZ)"
        what = "not an ISO 8601 timestamp"
    elif target is FieldType.JSON:
        if pa.types.is_struct(raw_type) or pa.types.is_map(raw_type):
            return f"to_json({x})", ""
        typed = f"CASE WHEN json_type(TRY_CAST({raw_text} AS JSON)) = 'OBJECT' THEN TRY_CAST({raw_text} AS JSON) END"
        what = "not a JSON object"
    elif target is FieldType.INTEGER and is_text:
        # DuckDB casts '0.5' to 1; an integer field takes whole numbers only
        typed = f"CASE WHEN regexp_full_match({raw_text}, '[+-]?[0-9]+') THEN TRY_CAST({raw_text} AS BIGINT) END"
        what = "not an integer"
    else:
        typed = f"TRY_CAST({raw_text if is_text else x} AS {SQL_TYPES[target]})"
        what = {FieldType.INTEGER: "not an integer", FieldType.FLOAT: "not a number"}.get(target, f"not {target.value}")
    present = f"{raw_text} IS NOT NULL" if is_text else f"{x} IS NOT NULL"
    reason = (
        f"CASE WHEN {present} AND ({typed}) IS NULL THEN "
        f"{lit(col + ': ')} || {lit(chr(39))} || {raw_text} || {lit(chr(39) + ' is ' + what)} END"
    )
    return typed, reason


def infer_type(con: duckdb.DuckDBPyConnection, batch: pa.Table, col: str) -> FieldType:
    """The type a custom property's values fit: integer, float, boolean, timestamp, else string."""
    raw_type = batch.schema.field(col).type
    if pa.types.is_boolean(raw_type):
        return FieldType.BOOLEAN
    if pa.types.is_integer(raw_type):
        return FieldType.INTEGER
    if pa.types.is_floating(raw_type) or pa.types.is_decimal(raw_type):
        return FieldType.FLOAT
    if pa.types.is_timestamp(raw_type) or pa.types.is_date(raw_type):
        return FieldType.TIMESTAMP
    if not (pa.types.is_string(raw_type) or pa.types.is_large_string(raw_type)):
        return FieldType.STRING
    x = f"NULLIF(trim({ident(col)}), '')"
    low = f"lower({x})"
    # a relation for this query only (register() would hold the batch until the load commits)
    counted = con.from_arrow(batch.select([col])).query(
        "_segmint_infer",
        f"SELECT count({x}), count(CASE WHEN regexp_full_match({x}, '[+-]?[0-9]+') THEN 1 END), "
        f"count(TRY_CAST({x} AS DOUBLE)), "
        f"count(CASE WHEN list_contains(['true', 'false', 'yes', 'no'], {low}) THEN 1 END), "
        f"count(TRY_CAST({x} AS TIMESTAMPTZ)) FROM _segmint_infer",
    )
    assert counted is not None
    row = counted.fetchall()[0]
    total, ints, floats, bools, stamps = row
    if total == 0:
        return FieldType.STRING
    for count, kind in (
        (ints, FieldType.INTEGER),
        (floats, FieldType.FLOAT),
        (bools, FieldType.BOOLEAN),
        (stamps, FieldType.TIMESTAMP),
    ):
        if count == total:
            return kind
    return FieldType.STRING


PLAIN_EMAIL = (
    r"^[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*"  # a dot-atom local part of the commonest characters
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"  # domain labels: no hyphen at either end
    r"[A-Za-z]{2,63}$"  # a letters-only top-level domain
)
"""Addresses ``email-validator`` accepts as they are, lower-cased (``tests/store/test_emails.py``): up to
64 characters before the ``@``, 254 in all, and no special-use top-level domain (``.test``, ``.local``...)."""

_SPECIAL_TLDS = pa.array(sorted(SPECIAL_USE_DOMAIN_NAMES))


def plain_emails(texts: pa.Array) -> pa.Array:
    """Whether each (stripped) address is a :data:`PLAIN_EMAIL`, vectorised: Python never sees these rows.

    email-validator's parser costs about 40 µs an address, most of a contacts file's load.
    """
    plain = pc.match_substring_regex(texts, PLAIN_EMAIL)
    local = pc.utf8_length(pc.list_element(pc.split_pattern(texts, "@"), 0))
    tld = pc.utf8_lower(pc.replace_substring_regex(texts, r"^.*\.", ""))  # after the last dot
    fits = pc.and_(pc.less_equal(local, 64), pc.less_equal(pc.utf8_length(texts), 254))
    return pc.fill_null(pc.and_(pc.and_(plain, fits), pc.invert(pc.is_in(tld, _SPECIAL_TLDS))), False)


def check_emails(batch: pa.Table, column: str = "email") -> pa.Table:
    """Add the normalised address and the validator's complaint for each row's email."""
    stripped = pc.utf8_trim_whitespace(batch.column(column).cast(pa.string()).combine_chunks())
    plain = plain_emails(stripped)
    if pc.all(pc.or_(plain, pc.is_null(stripped))).as_py():
        lowered = pc.utf8_lower(stripped)
        normal_array = pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.string()), lowered)
        return batch.append_column(EMAIL, normal_array).append_column(EMAIL_ERROR, pa.nulls(len(batch), pa.string()))
    values = stripped.to_pylist()
    quick = plain.to_pylist()
    cache: dict[str, tuple[str | None, str | None]] = {}
    normal: list[str | None] = []
    errors: list[str | None] = []
    for value, is_plain in zip(values, quick, strict=True):
        text = value or ""
        if not text:
            normal.append(None)
            errors.append(None)
            continue
        if is_plain:
            normal.append(text.lower())
            errors.append(None)
            continue
        if text not in cache:
            try:
                checked = validate_email(text, check_deliverability=False)
                cache[text] = (checked.normalized.lower(), None)
            except EmailNotValidError as exc:
                cache[text] = (None, f"email: '{text}' is not a valid address: {exc}")
        n, e = cache[text]
        normal.append(n)
        errors.append(e)
    return batch.append_column(EMAIL, pa.array(normal, pa.string())).append_column(
        EMAIL_ERROR, pa.array(errors, pa.string())
    )


@dataclass
class Plan:
    """What one file loads: the staged columns and their SQL, decided from its first batch."""

    spec: EntitySpec
    columns: list[Column]  # staged columns, id/refs first
    select: list[str]  # typed SQL per staged column
    reasons: list[str]  # reason SQL expressions
    new_fields: list[CustomField] = field(default_factory=list)
    raw_columns: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def query(self, source: str) -> str:
        """SQL over a registered raw batch: typed columns, ``_row`` and ``_reason``."""
        cols = [f"{expr} AS {ident(col.name)}" for col, expr in zip(self.columns, self.select, strict=True)]
        reason = "concat_ws('; ', " + ", ".join(self.reasons) + ")" if self.reasons else "''"
        return f"SELECT {', '.join(cols)}, {ident(ROW)}, NULLIF({reason}, '') AS {REASON} FROM {source}"


def plan_file(
    spec: EntitySpec,
    batch: pa.Table,
    *,
    mapping: Mapping,
    custom: dict[str, CustomField],
    con: duckdb.DuckDBPyConnection,
    source: str,
) -> Plan:
    """Decide, from the first batch, which columns load and how each is typed and checked."""
    table = spec.table
    present = [c for c in batch.column_names if c not in (ROW, EMAIL, EMAIL_ERROR)]
    known = {c.name for c in table.input_columns}
    columns: list[Column] = []
    select: list[str] = []
    reasons: list[str] = []
    new_fields: list[CustomField] = []

    def add(col: Column, expr: str, reason: str = "") -> None:
        columns.append(col)
        select.append(expr)
        if reason:
            reasons.append(reason)

    def typed(col: str, target: FieldType) -> tuple[str, str]:
        return typed_expression(col, batch.schema.field(col).type, target, mapping.field_format(col))

    if spec.name == "contacts":
        if "contact_id" not in present and "email" not in present:
            raise LoadError(
                f"{source}: a contacts file needs a contact_id or an email column (columns: {', '.join(present)})"
            )
        cid = typed("contact_id", FieldType.STRING)[0] if "contact_id" in present else "NULL"
        email = EMAIL if "email" in present else "NULL"
        add(
            CONTACTS.column("contact_id"),
            f"COALESCE({cid}, {email})",
            f"CASE WHEN COALESCE({cid}, {email}) IS NULL AND {EMAIL_ERROR if 'email' in present else 'NULL'} IS NULL "
            "THEN 'contact_id: missing, and no email to use as the id' END",
        )
        if "email" in present:
            add(CONTACTS.column("email"), EMAIL, EMAIL_ERROR)
    elif spec.name in ("events", "consents", "deals"):
        if "contact_id" in present or "email" in present:
            cid = typed("contact_id", FieldType.STRING)[0] if "contact_id" in present else "NULL"
            email = "lower(NULLIF(trim(CAST(\"email\" AS VARCHAR)), ''))" if "email" in present else "NULL"
            contact = f"COALESCE({cid}, {email})"
        else:
            contact = "NULL"
        if spec.name == "events":
            anon = typed("anonymous_id", FieldType.STRING)[0] if "anonymous_id" in present else "NULL"
            add(
                Column("contact_id", FieldType.STRING, ""),
                contact,
                f"CASE WHEN {contact} IS NULL AND {anon} IS NULL THEN 'contact_id: missing (and no anonymous_id)' END",
            )
        elif spec.name == "consents":
            add(
                Column("contact_id", FieldType.STRING, ""),
                contact,
                f"CASE WHEN {contact} IS NULL THEN 'contact_id: missing' END",
            )
        else:
            add(Column("contact_id", FieldType.STRING, ""), contact)
    if "company_id" in spec.refs and "company_id" in present:
        add(Column("company_id", FieldType.STRING, ""), typed("company_id", FieldType.STRING)[0])

    handled = {c.name for c in columns}
    if spec.name != "companies":
        handled |= {"contact_id", "email"}  # consumed above as the contact's id or reference
    if "company_id" in spec.refs:
        handled.add("company_id")
    extras: list[str] = []
    for col in present:
        if col in handled:
            continue
        if col in known:
            target = table.column(col)
            if target.type is FieldType.JSON:
                continue  # properties are merged below
            expr, reason = typed(col, target.type)
            check = CHECKS.get((spec.name, col))
            if check:
                expr, check_reason = check(col, expr)
                reason = f"COALESCE({reason}, {check_reason})" if reason else check_reason
            add(target, expr, reason)
        elif spec.custom_entity is None:
            extras.append(col)  # an event property without a column of its own
        else:
            if not col or col[0].isdigit():
                raise LoadError(f"{source}: column '{col}' cannot name a custom property (start it with a letter)")
            prop = custom.get(col)
            if prop is None:
                prop = CustomField(spec.custom_entity, col, infer_type(con, batch, col), "")
                new_fields.append(prop)
            expr, reason = typed(col, prop.type)
            add(Column(col, prop.type, prop.description), expr, reason)

    for required in spec.required:
        if required not in present:
            raise LoadError(f"{source}: a {spec.name} file needs a '{required}' column (columns: {', '.join(present)})")
        position = [c.name for c in columns].index(required)
        reasons.append(
            f"CASE WHEN ({select[position]}) IS NULL AND {ident(required)} IS NULL THEN {lit(required + ': missing')} END"
        )

    if spec.name == "events":
        props = _properties_expression(batch, extras, present)
        add(EVENTS.column("properties"), props[0], props[1])
        # the id: given, or derived from the row's content (the same row always gets the same id)
        given = typed("event_id", FieldType.STRING)[0] if "event_id" in present else "NULL"
        if "event_id" in present:
            index = [c.name for c in columns].index("event_id")
            columns.pop(index)
            select.pop(index)
        # timestamps enter the hash as epoch microseconds, so the load's time zone cannot change the id
        content = ", ".join(
            f"COALESCE(CAST(({'epoch_us(' + expr + ')' if col.type is FieldType.TIMESTAMP else expr}) AS VARCHAR), '\u2205')"
            for col, expr in zip(columns, select, strict=True)
        )
        # CASE, not COALESCE: the hash is computed only for rows without an id
        add(
            EVENTS.column("event_id"),
            f"CASE WHEN {given} IS NOT NULL THEN {given} ELSE 'h' || md5(concat_ws('\u241f', {content})) END",
        )
        # anonymous_id, if absent, keeps the staged shape fixed
        if "anonymous_id" not in [c.name for c in columns]:
            add(EVENTS.column("anonymous_id"), "CAST(NULL AS VARCHAR)")

    return Plan(spec, columns, select, reasons, new_fields, present)


def _properties_expression(batch: pa.Table, extras: list[str], present: list[str]) -> tuple[str, str]:
    """Merge the `properties` object with every column that has no column of its own; nulls dropped."""
    parts = []
    reason = ""
    if "properties" in present:
        expr, reason = typed_expression("properties", batch.schema.field("properties").type, FieldType.JSON, None)
        parts.append(expr)
    if extras:
        parts.append("to_json(struct_pack(" + ", ".join(f"{ident(c)} := {ident(c)}" for c in sorted(extras)) + "))")
    if not parts:
        return "CAST(NULL AS JSON)", ""
    if len(parts) == 1 and "properties" in present and not pa.types.is_struct(batch.schema.field("properties").type):
        # a JSON text object and nothing to merge: keep it as given (merging costs a parse per row)
        return f"NULLIF(CAST({parts[0]} AS JSON), '{{}}')", reason
    merged = "'{}'"
    for part in parts:
        # Patching onto {} first drops the part's null members: a null column must not
        # delete the same key given inside `properties` (a merge patch's null means delete).
        merged = f"json_merge_patch({merged}, json_merge_patch('{{}}', COALESCE({part}, '{{}}')))"
    return f"NULLIF({merged}, '{{}}')::JSON", reason
