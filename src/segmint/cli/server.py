"""``segmint serve`` and ``segmint keys …``: the HTTP server and its API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from segmint.cli.common import DbOption, SegmintTyper, console, store_from

keys_app = SegmintTyper(help="API keys of the HTTP server: create, list, revoke.", no_args_is_help=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    db: DbOption = None,
) -> None:
    """Run the HTTP server: the REST API, the Segment-compatible tracking API, docs at /docs."""
    import uvicorn

    from segmint.config import load_settings
    from segmint.server.app import create_app

    settings = load_settings(db=db)
    host = host or settings.server.host
    port = settings.server.port if port is None else port
    console.print(f"segmint serving {settings.store.url} on http://{host}:{port} (API docs: /docs)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


@keys_app.command("create")
def create(
    scope: Annotated[str, typer.Option(help="ingest (tracking only), read or admin.")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "",
    db: DbOption = None,
) -> None:
    """Make an API key; it is printed once, as the last line, and stored only as a hash."""
    from segmint.server.auth import create_key

    with store_from(db) as store:
        made = create_key(store, scope, name=name)
    console.print(
        f"created {made.key.scope} key {made.key.key_id} ({made.key.name}); keep it now, it is not shown again:"
    )
    print(made.token)


@keys_app.command("list")
def list_(db: DbOption = None) -> None:
    """Every key: id, name, scope, when made and revoked (never secrets)."""
    from segmint.server.auth import list_keys

    with store_from(db) as store:
        keys = list_keys(store)
    table = Table(title="API keys", title_justify="left")
    for col in ("key id", "name", "scope", "created", "revoked"):
        table.add_column(col)
    for k in keys:
        table.add_row(k.key_id, k.name, k.scope, str(k.created_at)[:19], str(k.revoked_at or "")[:19])
    console.print(table if keys else "no API keys: segmint keys create --scope admin")


@keys_app.command("revoke")
def revoke(key: Annotated[str, typer.Argument(help="The key's id (or the whole key).")], db: DbOption = None) -> None:
    """Revoke a key: it stops working at once."""
    from segmint.server.auth import revoke_key

    with store_from(db) as store:
        revoked = revoke_key(store, key)
    console.print(f"revoked {revoked.scope} key {revoked.key_id} ({revoked.name})")


def register(root: typer.Typer) -> None:
    root.command()(serve)
    root.add_typer(keys_app, name="keys")
