"""Domain errors. Each boundary translates what it catches into one of these, once, with ``from exc``.

The API maps these classes (never their message text) to HTTP status codes in one place.
"""

from __future__ import annotations


class MusterError(Exception):
    """Base of every error the product raises on purpose."""


class InvalidInputError(MusterError):
    """The caller sent something malformed or out of range (HTTP 400, CLI exit 2)."""


class NotFoundError(MusterError):
    """A named thing (agent, connection, price) does not exist (HTTP 404)."""


class ConflictError(MusterError):
    """A change would break an invariant, e.g. attribute one dollar to two agents (HTTP 409 / CLI exit 2)."""


class ConfigurationError(MusterError):
    """The deployment or environment is misconfigured (missing secret, bad env value)."""


class SourceError(MusterError):
    """An external source (Langfuse, Cost Explorer, a central bank) failed or answered garbage."""


class SourceNotFoundError(SourceError):
    """The source answered 404 for the requested resource (e.g. Langfuse v2 on self-hosted v3)."""


class StorageError(MusterError):
    """DynamoDB (or its emulator) failed."""


class UnsupportedCurrencyError(InvalidInputError):
    """A currency code Muster does not convert to."""


class RateUnavailableError(MusterError):
    """No stored exchange rate can serve the request (none yet, or all too stale)."""
