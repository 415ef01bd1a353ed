"""The SegmintError tree: every error a user can see.

Each error carries a stable snake_case ``code``, the HTTP status an API answers
with, the exit code the CLI ends with, and a list of :class:`Problem` (a path
into the user's input, a message and suggestions).  Every layer (loaders,
segment validator, API, CLI) raises these and nothing else at a user.

>>> err = ValidationError("segment is invalid", problems=[Problem("conditions[0].op", "unknown operator 'eqq'", ["eq"])])
>>> err.to_dict()["errors"][0]["suggestions"]
['eq']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input, found at ``path``."""

    path: str
    message: str
    suggestions: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        if self.suggestions:
            text += f" (did you mean {', '.join(self.suggestions)}?)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message, "suggestions": list(self.suggestions)}


class SegmintError(Exception):
    """Base of every error segmint shows to a user."""

    code = "segmint_error"
    status = 500
    exit_code = 1

    def __init__(self, message: str, *, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        return self.message + "\n" + "\n".join(f"  {p}" for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        """The one error shape of the HTTP API."""
        return {
            "ok": False,
            "code": self.code,
            "error": self.message,
            "errors": [p.to_dict() for p in self.problems],
            "status": self.status,
        }


class ConfigError(SegmintError):
    """segmint.toml or a SEGMINT_* variable is wrong."""

    code = "config_error"
    status = 500
    exit_code = 2


class UsageError(SegmintError):
    """A command or request was called the wrong way."""

    code = "usage_error"
    status = 400
    exit_code = 2


class ValidationError(SegmintError):
    """The user's input (a file, a mapping, a definition) is invalid."""

    code = "validation_error"
    status = 422
    exit_code = 3


class MappingError(ValidationError):
    """A column-mapping file is invalid."""

    code = "mapping_error"


class LoadError(SegmintError):
    """A load could not run at all; nothing was stored."""

    code = "load_error"
    status = 422
    exit_code = 4


class NotFoundError(SegmintError):
    """A contact, company, segment or file that does not exist."""

    code = "not_found"
    status = 404
    exit_code = 5


class StoreError(SegmintError):
    """The store cannot be opened or used (bad URL, unreachable server, newer schema)."""

    code = "store_error"
    status = 503
    exit_code = 6


class EngineNotInstalledError(StoreError):
    """The engine named by the store URL needs a package or program that is missing."""

    code = "engine_not_installed"


class ConflictError(SegmintError):
    """The request conflicts with what is stored: an id or name that exists, a refresh already running."""

    code = "conflict"
    status = 409
    exit_code = 2


class UnauthorizedError(SegmintError):
    """No API key, or one that is unknown or revoked."""

    code = "unauthorized"
    status = 401
    exit_code = 8


class ForbiddenError(SegmintError):
    """A valid API key whose scope does not allow the request."""

    code = "forbidden"
    status = 403
    exit_code = 8


class PayloadTooLargeError(SegmintError):
    """A request body over its size limit."""

    code = "payload_too_large"
    status = 413
    exit_code = 2


class OverloadedError(SegmintError):
    """The server cannot take more work now; retry after ``retry_after`` seconds."""

    code = "overloaded"
    status = 429
    exit_code = 9

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InsufficientDataError(SegmintError):
    """The store's data cannot support what was asked (a model fitted on no purchases)."""

    code = "insufficient_data"
    status = 422
    exit_code = 10


class UnsupportedError(SegmintError):
    """An engine lacks an operation; raised, never silently skipped."""

    code = "unsupported"
    status = 501
    exit_code = 7
