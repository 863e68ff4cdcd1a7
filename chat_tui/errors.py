"""The small family of errors chat-tui raises.

Each carries a one-line message a user can act on; the UI and the CLI show
``str(error)`` and never a traceback. Secrets must never be put in a message.
"""

from __future__ import annotations


class ChatTuiError(Exception):
    """Base of every error chat-tui shows to a user."""


class ConfigError(ChatTuiError):
    """A setting is missing or has a bad value (names the key and the file)."""


class StorageError(ChatTuiError):
    """The history database could not be read or written."""


class ProviderError(ChatTuiError):
    """The model endpoint failed: bad key, unknown model, rate limit, outage, cut stream.

    Attributes:
        kind: a short machine-readable cause ("auth", "no_key", "not_found",
            "rate_limit", "server", "bad_response", "timeout", "connection", "cut",
            "context_length", "bad_request", "no_vision", "unknown").
        retryable: whether sending the same request again may succeed.
    """

    def __init__(self, message: str, *, kind: str = "unknown", retryable: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.retryable = retryable


class ContextTooLongError(ProviderError):
    """The request did not fit the model's context window (``kind == "context_length"``).

    The user can act on it: start a new session, lower ``history.context_tokens``, or
    send the same question again with fewer earlier turns (a front end may offer that
    as one key).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="context_length", retryable=False)


class MissingKeyError(ProviderError):
    """The active provider needs an API key and none is set (``kind == "no_key"``).

    Raised before any HTTP request, so nothing is sent to a hosted endpoint without a key.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="no_key", retryable=False)


class RetrievalError(ChatTuiError):
    """The knowledge base could not be searched or written (embedder or vector store)."""


class EmbeddingError(RetrievalError):
    """The embedding service refused or failed (bad input, bad key, no balance, outage)."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class IngestError(ChatTuiError):
    """A file could not be ingested (binary, empty, too large, unreadable)."""
