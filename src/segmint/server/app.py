"""The HTTP server: ``create_app(settings)`` builds the FastAPI application.

One process holds the store.  Every request gets its own connection to it
(:meth:`Store.connection`), so reads are answered while a refresh or a group
commit of tracked events runs on theirs; changes made through the API are
serialised by one lock, and the refreshes (full and fresh) by another.  Every
error has one shape, ``{"ok": false, "code", "error", "errors": [{"path",
"message", "suggestions"}], "status"}``, and a client's mistake is never a 500.

Routers live in :mod:`segmint.server.routes`, one module per noun, each with a
``router``; they are found by walking the package.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from segmint import __version__
from segmint.config import Settings, load_settings
from segmint.errors import OverloadedError, Problem, SegmintError
from segmint.store.store import Store, open_store

log = logging.getLogger("segmint.server")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "overloaded",
}


@dataclass
class ServerState:
    """What the application holds while it runs."""

    settings: Settings
    store: Store
    #: changes made through the API, one at a time
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    #: full refreshes and the fresh path's flushes, one at a time
    refresh_lock: threading.Lock = field(default_factory=threading.Lock)
    #: the shared connection, for engines with no second connection (Spark)
    shared_lock: threading.Lock = field(default_factory=threading.Lock)
    extras: dict[str, Any] = field(default_factory=dict)


def error_response(error: SegmintError) -> JSONResponse:
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, OverloadedError) else None
    return JSONResponse(error.to_dict(), status_code=error.status, headers=headers)


def _shape(status: int, message: str, problems: list[Problem] | None = None) -> JSONResponse:
    return JSONResponse(
        {
            "ok": False,
            "code": HTTP_CODES.get(status, "error"),
            "error": message,
            "errors": [p.to_dict() for p in problems or []],
            "status": status,
        },
        status_code=status,
    )


def _path(loc: tuple[Any, ...]) -> str:
    """``("body", "batch", 3, "type")`` as ``batch[3].type``; the request part (body, query) is named."""
    where, *rest = loc or ("body",)
    text = ""
    for part in rest:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text if where == "body" else f"{where}.{text}" if text else str(where)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SegmintError)
    async def _segmint(request: Request, exc: SegmintError) -> JSONResponse:
        if exc.status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [Problem(_path(tuple(e.get("loc", ()))), str(e.get("msg", "invalid"))) for e in exc.errors()]
        return _shape(400, "invalid request: " + "; ".join(str(p) for p in problems[:3]), problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = _shape(exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return _shape(500, "internal error: the server failed; nothing about your request was wrong")


def _routers() -> list[Any]:
    from segmint.server import routes

    found = []
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            found.append(router)
    return found


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """The application for the store ``settings`` name (or an open ``store``, which the caller closes)."""
    settings = settings or (store.settings if store is not None else load_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = store if store is not None else open_store(settings.store.url, settings)
        state = ServerState(settings, opened)
        app.state.segmint = state
        from segmint.server import lifecycle  # services that run beside the requests (tracking, refresh)

        lifecycle.start(state)
        try:
            yield
        finally:
            lifecycle.stop(state)
            if store is None:
                opened.close()

    app = FastAPI(
        title="segmint",
        version=__version__,
        description="Segments for CRM and marketing automation: contacts, events, segments, traits, and a "
        "Segment-compatible tracking API.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for router in _routers():
        app.include_router(router)
    return app


__all__ = ["ServerState", "create_app", "error_response"]
