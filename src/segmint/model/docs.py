"""Render the data model as Markdown: ``python -m segmint.model.docs > docs/data-model.md``.

A test keeps ``docs/data-model.md`` equal to this output, so the docs never
drift from the code.
"""

from __future__ import annotations

from segmint.model.tables import DATA_TABLES

HEADER = """# The data model

Generated from `segmint.model.tables` by `python -m segmint.model.docs`; do not edit by hand.

Every loader takes CSV, JSON Lines and Parquet. Column names are
case-insensitive (`First Name` is `first_name`). A column the model does not
know becomes a custom property of contacts, companies or deals (its type
inferred, or declared in `segmint.toml`), and a property of events (kept in
their `properties` JSON). An empty cell is an unset value. Internal columns
(surrogate keys, `updated_at`) are never read from a file.
"""


def render_data_model() -> str:
    parts = [HEADER]
    for table in DATA_TABLES:
        parts.append(f"\n## {table.name}\n\n{table.description}\n")
        if table.id_column:
            parts.append(f"\nIdentified by `{table.id_column}`.\n")
        if table.references:
            refs = ", ".join(f"`{r}`" for r in table.references)
            parts.append(
                f"\nRefers to other entities by {refs} (a contact may also be named by `email`); an id the store "
                "does not know yet creates that contact or company, to be filled in by a later load.\n"
            )
        parts.append("\n| column | type | description |\n| --- | --- | --- |\n")
        for column in table.columns:
            note = " *(internal)*" if column.internal else ""
            parts.append(f"| `{column.name}` | {column.type.value} | {column.description}{note} |\n")
    return "".join(parts)


if __name__ == "__main__":
    print(render_data_model(), end="")
