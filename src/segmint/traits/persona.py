"""Persona: the buyer persona a contact's normalised role or free-text job title points to.

Seed 003 ("Köparens personas"): buyer personas are identified in the CRM from
contact properties, usually the person's role in their organisation, so that
outreach and communication can be tailored per persona.  CRMs hold that role
two ways: a normalised ``role`` (``cfo``, ``it_manager``) where someone kept
one, and a ``job_title`` typed in any language.  The role is trusted first;
otherwise the title is searched for keywords in Swedish, Finnish, Danish and
English (``Ekonomichef``, ``Talousjohtaja``, ``Økonomichef``, ``CFO`` are all
finance).

Matching a title: it is lower-cased, Nordic capitals are folded explicitly
(a PostgreSQL database with the C locale lower-cases ASCII only), punctuation
(``-/,.()&:;``) becomes a space and the result is padded with spaces.  A
keyword of up to ``whole_word_length`` characters (``VD``, ``HR``, ``IT``,
``CFO``) must then appear as a whole word (`` vd ``), so *avdelningschef* is
not an executive and *kvalitet* is not IT; a longer keyword is a substring
(``ekonomi`` finds *Ekonomichef* and *Ekonomidirektör*).  Personas are tried
in the order of the ``keywords`` setting and the first that matches wins;
executives come first so that *Verkställande direktör* is not read as
anything else, and finance comes before the rest so *Ekonomidirektör* is
finance.  Nothing matching leaves the persona unset (NULL), which
``is_not_set`` segments can find and enrichment can fill (seed 003,
"Berikning").
"""

from __future__ import annotations

from pydantic import Field, field_validator
from sqlglot import exp

from segmint.model.types import FieldType
from segmint.traits.base import TraitContext, TraitField, TraitModel, TraitSettings

#: Normalised roles (DATA.md ``role``) and the persona each belongs to; covers the demo's roles.
DEFAULT_ROLES: dict[str, str] = {
    "ceo": "executive",
    "managing_director": "executive",
    "owner": "executive",
    "cfo": "finance",
    "controller": "finance",
    "finance_manager": "finance",
    "cio": "it",
    "it_manager": "it",
    "purchaser": "purchasing",
    "buyer": "purchasing",
    "purchasing_manager": "purchasing",
    "cto": "technical",
    "engineer": "technical",
    "technician": "technical",
    "marketing_manager": "marketing",
    "cmo": "marketing",
    "sales_manager": "sales",
    "account_manager": "sales",
    "coo": "operations",
    "production_manager": "operations",
    "maintenance_manager": "operations",
    "project_manager": "operations",
    "hr_manager": "hr",
}

#: Persona -> keywords (sv, fi, da, en), in order of priority: the first persona with a matching keyword wins.
DEFAULT_KEYWORDS: dict[str, list[str]] = {
    "executive": [
        "vd",
        "ceo",
        "verkställande direktör",
        "koncernchef",
        "toimitusjohtaja",
        "administrerende direktør",
        "adm. dir",
        "managing director",
        "chief executive",
        "general manager",
    ],
    "finance": [
        "cfo",
        "ekonomi",
        "talous",
        "økonomi",
        "controller",
        "finance",
        "financial",
        "redovisning",
        "kirjanpito",
        "regnskab",
        "accounting",
    ],
    "it": ["it", "cio", "ict", "tietohallinto", "tietotekniikka", "it-manager", "informationsteknik"],
    "purchasing": [
        "inköp",
        "hankinta",
        "ostaja",
        "ostopäällikkö",
        "indkøb",
        "purchasing",
        "procurement",
        "buyer",
        "sourcing",
    ],
    "technical": [
        "cto",
        "ingenjör",
        "insinööri",
        "ingeniør",
        "engineer",
        "tekniker",
        "teknikko",
        "technician",
        "konstrukt",
        "suunnittelija",
        "montör",
        "asentaja",
        "tekninen",
        "teknisk",
        "technical",
    ],
    "marketing": ["cmo", "marknad", "markkinointi", "marked", "marketing", "kommunikation", "viestintä"],
    "sales": ["sälj", "försäljning", "myynti", "salg", "sales", "account manager", "key account"],
    "operations": [
        "coo",
        "produktion",
        "tuotanto",
        "production",
        "operations",
        "drift",
        "logistik",
        "logistiikka",
        "logistics",
        "supply chain",
        "fabrik",
        "tehdas",
        "tehtaan",
        "plant",
        "underhåll",
        "kunnossapito",
        "vedligehold",
        "maintenance",
        "projekt",
        "project",
    ],
    "hr": ["hr", "human resources", "personalchef", "personalansvarig", "personale", "henkilöstö", "rekry"],
}

#: Upper-case letters folded by hand, and characters read as word breaks, in titles and keywords alike.
FOLD = {"Å": "å", "Ä": "ä", "Ö": "ö", "Ø": "ø", "Æ": "æ"}
BREAKS = "-/,.()&:;"


def normalise(text: str) -> str:
    """A keyword as titles are normalised in SQL: lower case, punctuation as spaces, single spaces.

    >>> normalise("Adm. Dir")
    'adm dir'
    """
    text = text.lower()
    for char in BREAKS:
        text = text.replace(char, " ")
    return " ".join(text.split())


class PersonaSettings(TraitSettings):
    roles: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_ROLES),
        description="Normalised role (any case) -> persona; a known role wins over the job title.",
    )
    keywords: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_KEYWORDS.items()},
        description="Persona -> job-title keywords (any language, any case); personas are tried in this order.",
    )
    whole_word_length: int = Field(
        3, ge=0, description="Keywords of at most this many characters (VD, HR, IT) match whole words only."
    )

    @field_validator("keywords")
    @classmethod
    def _keywords_are_words(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for persona, words in value.items():
            if any(not normalise(w) for w in words):
                raise ValueError(f"persona '{persona}' has an empty keyword")
        return value


class Persona(TraitModel):
    name = "persona"
    summary = "The buyer persona (executive, finance, it, purchasing, ...) from the role or the job title."
    Settings = PersonaSettings
    settings: PersonaSettings

    def fields(self) -> list[TraitField]:
        personas = dict.fromkeys([*self.settings.keywords, *self.settings.roles.values()])
        return [
            TraitField(
                "persona",
                FieldType.STRING,
                f"Buyer persona: {', '.join(personas)}; unset when neither the role nor the job title matches.",
            ),
            TraitField(
                "persona_source",
                FieldType.STRING,
                "Where the persona came from: role (the normalised role) or job_title (a keyword in the title).",
            ),
        ]

    def query(self, ctx: TraitContext) -> exp.Query:
        return ctx.parse(
            """
            WITH t AS (
              SELECT c.contact_key, LOWER(TRIM(c.role)) AS role, :title AS title
              FROM contacts c
              WHERE KEYS(c.contact_key)),
            m AS (
              SELECT contact_key, :by_role AS by_role, :by_title AS by_title FROM t)
            SELECT contact_key,
                   COALESCE(by_role, by_title) AS persona,
                   CASE WHEN by_role IS NOT NULL THEN 'role'
                        WHEN by_title IS NOT NULL THEN 'job_title' END AS persona_source
            FROM m
            """,
            title=self.title_expression(exp.column("job_title", table="c")),
            by_role=self.role_case(exp.column("role", table="t")),
            by_title=self.title_case(exp.column("title", table="t")),
        )

    @staticmethod
    def title_expression(job_title: exp.Expr) -> exp.Expr:
        """`` <title> `` lower-cased, Nordic capitals folded, punctuation as single spaces (see the module doc)."""
        text: exp.Expr = exp.Lower(this=job_title)
        for old, new in [*FOLD.items(), *((c, " ") for c in BREAKS), ("  ", " "), ("  ", " ")]:
            text = exp.func("REPLACE", text, exp.Literal.string(old), exp.Literal.string(new))
        return exp.DPipe(
            this=exp.DPipe(this=exp.Literal.string(" "), expression=text), expression=exp.Literal.string(" ")
        )

    def role_case(self, role: exp.Expr) -> exp.Expr:
        """The persona of the (lower-cased) role, or NULL."""
        by_persona: dict[str, list[str]] = {}
        for role_name, persona in self.settings.roles.items():
            by_persona.setdefault(persona, []).append(role_name.strip().lower())
        return _case(
            [(role.isin(*(exp.Literal.string(r) for r in roles)), persona) for persona, roles in by_persona.items()]
        )

    def title_case(self, title: exp.Expr) -> exp.Expr:
        """The first persona (in settings order) with a keyword in the normalised title, or NULL."""
        whens: list[tuple[exp.Expr, str]] = []
        for persona, words in self.settings.keywords.items():
            tests = [
                exp.StrPosition(this=title, substr=exp.Literal.string(self._pattern(w))) > exp.Literal.number(0)
                for w in words
            ]
            if tests:
                whens.append((exp.or_(*tests), persona))
        return _case(whens)

    def _pattern(self, keyword: str) -> str:
        word = normalise(keyword)
        return f" {word} " if len(word) <= self.settings.whole_word_length else word


def _case(whens: list[tuple[exp.Expr, str]]) -> exp.Expr:
    """``CASE WHEN test THEN 'value' ... END`` (a typed NULL when there is nothing to test)."""
    if not whens:
        return exp.cast(exp.null(), exp.DataType.build("text"))
    case = exp.case()
    for test, value in whens:
        case = case.when(test, exp.Literal.string(value))
    return case


MODEL = Persona
