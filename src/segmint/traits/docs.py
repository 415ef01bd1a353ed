"""Render the traits models as Markdown: ``python -m segmint.traits.docs > docs/traits.md``.

A test keeps ``docs/traits.md`` equal to this output, so the fields, their
descriptions and every setting's default are documented exactly as shipped.
"""

from __future__ import annotations

import inspect
import json
import sys

from segmint.traits import trait_models
from segmint.traits.base import TraitModel

HEADER = """# Traits

Generated from `segmint.traits` by `python -m segmint.traits.docs`; do not edit by hand.

`segmint refresh` computes every model below at one `as_of`, in SQL on the
store's engine, then refreshes the segments; the HTTP tracking path recomputes
the traits of the contacts whose events just arrived. Each field is usable in
segments like any stored field (`{field: engagement_tier, op: eq, value:
lapsing}`); a company model's fields are also visible to contacts as
`company.<field>`. Every setting can be changed in `segmint.toml`:

```toml
[traits.engagement]
active_days = 14
```
"""


def _doc(model: TraitModel) -> str:
    module = sys.modules[type(model).__module__]
    return inspect.cleandoc(module.__doc__ or model.summary)


def _default(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def render_traits() -> str:
    parts = [HEADER]
    for model in trait_models():
        requires = f" Reads: {', '.join(f'`{r}`' for r in model.requires)}." if model.requires else ""
        parts.append(f"\n## {model.name} ({model.entity})\n\n{_doc(model)}\n\nTable `{model.table}`.{requires}\n")
        parts.append("\n| field | type | description |\n| --- | --- | --- |\n")
        for f in model.fields():
            parts.append(f"| `{f.name}` | {f.type.value} | {f.description} |\n")
        settings = type(model.settings).model_fields
        if settings:
            parts.append(
                f"\nSettings (`[traits.{model.name}]`):\n\n| setting | default | meaning |\n| --- | --- | --- |\n"
            )
            for name, info in settings.items():
                default = getattr(model.settings, name)
                if hasattr(default, "model_dump"):
                    default = default.model_dump()
                elif isinstance(default, list | tuple):
                    default = [d.model_dump() if hasattr(d, "model_dump") else d for d in default]
                elif isinstance(default, dict):
                    default = {k: v.model_dump() if hasattr(v, "model_dump") else v for k, v in default.items()}
                text = _default(default).replace("|", "\\|")
                parts.append(f"| `{name}` | `{text}` | {info.description or ''} |\n")
    return "".join(parts)


if __name__ == "__main__":
    print(render_traits(), end="")
