"""Segment's HTTP Tracking API: ``POST /v1/batch``, ``/v1/identify``, ``/v1/track``, ``/v1/page``,
``/v1/screen``, ``/v1/group`` and ``/v1/alias``, as Segment documents them.

- The write key is the HTTP Basic user (what Segment's libraries send), a
  Bearer token, or ``writeKey`` in the body; a key of scope ``ingest`` or
  ``admin`` may track (401 without a valid key, 403 for a ``read`` key).
- Bodies may be gzip-encoded (``Content-Encoding: gzip``).  A call is at most
  32 KB of JSON, a batch at most 500 KB and each of its messages 32 KB: larger
  is answered 413 (Segment answers 400; 413 says what is wrong).
- Malformed JSON or a field of the wrong type is answered 400 with the field's
  path (``batch[3].type``), and nothing of the request is stored: a batch is
  all or nothing, as at Segment.  Values that are well-formed but unusable (a
  trait email that is not an address) are dropped and named in ``warnings``.
- 200 ``{"success": true}`` only once the messages are committed to the store
  (:mod:`segmint.server.ingest`); 429 with ``Retry-After`` when too many wait.

The handlers are ``async``: they parse on the event loop and await the group
commit's future, so waiting requests hold no thread.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from segmint.errors import PayloadTooLargeError, Problem, UnauthorizedError
from segmint.server.deps import check_key, state_of, token_of
from segmint.server.ingest import Ingestor, ingestor_of
from segmint.server.segment_spec import (
    EVENT_NAMES,
    MESSAGE_TYPES,
    Batch,
    InvalidPayloadError,
    Message,
    Translator,
    finite_float,
    request_schema,
    validated,
)

router = APIRouter(prefix="/v1", tags=["tracking"])

#: Segment's limits: a single call, one message of a batch, a whole batch (bytes of JSON)
CALL_LIMIT = 32 * 1024
BATCH_LIMIT = 500 * 1024

_OK = b'{"success":true}'
_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "ok": {"type": "boolean"},
        "code": {"type": "string"},
        "error": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "message": {"type": "string"},
                    "suggestions": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "status": {"type": "integer"},
    },
}
_OK_SCHEMA = {
    "type": "object",
    "properties": {"success": {"type": "boolean"}, "warnings": _ERROR_SCHEMA["properties"]["errors"]},  # type: ignore[index]
    "required": ["success"],
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}


RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Stored.", "content": {"application/json": {"schema": _OK_SCHEMA}}},
    400: _error("Not JSON of Segment's shape; the errors name the fields. Nothing was stored."),
    401: _error("No write key, or an unknown or revoked one."),
    403: _error("The key may not track (scope read)."),
    413: _error("Over 32 KB a call or a batch's message, or 500 KB a batch."),
    415: _error("A Content-Encoding other than gzip."),
    429: _error("Too many messages wait to be stored; send again after Retry-After seconds."),
    503: _error("Shutting down, or the store is slow: send again (messageIds make it safe)."),
}


# ---- the body ---------------------------------------------------------------------------------------------


async def read_body(request: Request, limit: int) -> bytes:
    """The request's JSON bytes, gunzipped, refused (413) as soon as it passes ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"the body is {declared} bytes; the limit is {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"the body passes the limit of {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise HTTPException(415, f"Content-Encoding '{encoding[:40]}' is not supported (send gzip or nothing)")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise _unreadable(f"the body is not valid gzip: {exc}") from None
    if len(data) > limit:
        raise PayloadTooLargeError(f"the body passes the limit of {limit} bytes once decompressed")
    if not inflater.eof or inflater.unused_data:
        raise _unreadable("the body is not one complete gzip stream")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _unreadable(message: str) -> InvalidPayloadError:
    return InvalidPayloadError(message, problems=[Problem("body", message)])


def parse_json(body: bytes) -> Any:
    """UTF-8 JSON, strictly: no NaN or Infinity, no number beyond a double, no NUL, no unpaired surrogate."""
    try:
        text = body.decode("utf-8")
        data = json.loads(text, parse_constant=_no_constant, parse_float=finite_float)
    except RecursionError:
        raise _unreadable("the JSON is nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise _unreadable(f"the body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    except ValueError as exc:
        raise _unreadable(f"the body is not valid JSON: {exc}") from None
    # Escapes can make strings no store takes (PostgreSQL refuses NUL, UTF-8 has no lone surrogate);
    # look for them only when the text has such an escape, which is rare.
    if "\\u0000" in text or "\\ud" in text or "\\uD" in text:
        problem = _unstorable(data, "")
        if problem is not None:
            raise InvalidPayloadError(f"invalid payload: {problem}", problems=[problem])
    return data


def _unstorable(node: Any, path: str) -> Problem | None:
    """The first string (key or value) holding a NUL or an unpaired surrogate."""
    stack = [(node, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return Problem(where or "body", "a string may not contain the NUL character")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return Problem(where or "body", "a string may not contain an unpaired surrogate (\\ud800-\\udfff)")
        elif isinstance(value, dict):
            for key, item in value.items():
                name = key.encode("utf-8", "backslashreplace").decode("utf-8")  # a path must be printable
                here = f"{where}.{name}" if where else name
                stack.append((key, here))
                stack.append((item, here))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(value))
    return None


def _check_sizes(data: dict[str, Any]) -> None:
    """Segment's 32 KB a message inside a batch (only a body over 32 KB can hold such a message)."""
    items = data.get("batch")
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        size = len(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        if size > CALL_LIMIT:
            raise PayloadTooLargeError(
                f"batch[{i}] is {size} bytes; a message may be at most {CALL_LIMIT} bytes",
                problems=[Problem(f"batch[{i}]", f"{size} bytes; at most {CALL_LIMIT}")],
            )


def _authorize(request: Request, ingestor: Ingestor, token: str | None) -> None:
    with ingestor.auth_lock, ingestor.auth.lock:
        check_key(request, ingestor.auth.store, token, "track")


# ---- the calls --------------------------------------------------------------------------------------------


async def track_request(request: Request, kind: str) -> Response:
    """One tracking call (``kind`` a message type, or ``batch``): check, translate, store, answer."""
    received = datetime.now(UTC)
    state = state_of(request)
    ingestor = ingestor_of(state)
    token = token_of(request)
    if token is not None:
        _authorize(request, ingestor, token)  # before reading a body a stranger sent
    ingestor.check_room()
    body = await read_body(request, BATCH_LIMIT if kind == "batch" else CALL_LIMIT)
    data = parse_json(body)
    if not isinstance(data, dict):
        raise InvalidPayloadError("the body must be a JSON object", problems=[Problem("body", "expected an object")])
    if token is None:
        key = data.get("writeKey")
        if not isinstance(key, str) or not key:
            raise UnauthorizedError("a write key is required: the HTTP Basic user, a Bearer token, or writeKey")
        _authorize(request, ingestor, key)
    translator = Translator(received, EVENT_NAMES | state.settings.server.event_names)
    if kind == "batch":
        if len(body) > CALL_LIMIT:
            _check_sizes(data)
        batch: Batch = validated(Batch, data)
        for i, message in enumerate(batch.batch):
            translator.add(message, f"batch[{i}]", sent_at=batch.sentAt, context=batch.context)
    else:
        single: Message = validated(Message, data)
        translator.add(single, "", kind=kind, sent_at=single.sentAt)
    rows = translator.result()
    if rows.stores_anything:
        await ingestor.store(rows)
    if not rows.warnings:
        return Response(_OK, media_type="application/json")
    return JSONResponse({"success": True, "warnings": [w.to_dict() for w in rows.warnings]})


_DOCS = {
    "batch": "Many messages of any type in one request (at most 500 KB, 32 KB each): all stored, or none.",
    "identify": "The contact `userId` and its traits (email, firstName, title, company, ...); links an anonymousId.",
    "track": "An event (`event`, `properties`): Segment's spec names map to segmint's (Order Completed → purchase).",
    "page": "A page view (`page_view`): url, title, referrer, path; UTM fields from context.campaign.",
    "screen": "A screen view (`screen_view`) of a mobile app.",
    "group": "The company `groupId` and its traits (name, industry, employees, ...), linked to the contact `userId`.",
    "alias": "`previousId` is another id of `userId`: the events of that anonymous id join the contact.",
}


def _endpoint(kind: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await track_request(request, kind)

    endpoint.__name__ = f"track_{kind}"
    endpoint.__doc__ = _DOCS[kind]
    return endpoint


for _kind in ("batch", *MESSAGE_TYPES):
    router.add_api_route(
        f"/{_kind}",
        _endpoint(_kind),
        methods=["POST"],
        summary=f"Segment {_kind}",
        response_class=Response,
        responses=RESPONSES,
        openapi_extra={"requestBody": request_schema(Batch if _kind == "batch" else Message)},
    )

__all__ = ["BATCH_LIMIT", "CALL_LIMIT", "parse_json", "read_body", "router", "track_request"]
