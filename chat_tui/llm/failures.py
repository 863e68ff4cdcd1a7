"""Turns whatever the ``openai`` SDK (or the HTTP stack under it) raised into a ``ProviderError``.

The SDK's exceptions carry multi-line text, URLs and sometimes echoed keys; users need
one line that says what went wrong and which setting to check. This module knows the
SDK's exception family by duck typing (status codes, class names), so it works with
openai 1.x (httpx) and 3.x (httpx2) without importing either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from chat_tui.config import ProviderSettings, key_env_of
from chat_tui.domain.retry_after import parse_retry_after
from chat_tui.domain.text import clean_line
from chat_tui.errors import ContextTooLongError, ProviderError
from chat_tui.llm.redaction import scrub

AUTO_RETRY_KINDS = frozenset({"rate_limit", "server", "bad_response", "connection", "cut"})
"""Kinds the client resends by itself, and only while no delta was yielded yet."""

TRANSIENT_KINDS = frozenset(
    {"rate_limit", "server", "bad_response", "connection", "cut", "timeout"}
)
"""Kinds where the user sending the same request again may well succeed."""

_CONTEXT_CODES = frozenset({"context_length_exceeded", "context_window_exceeded"})
_CONTEXT_TEXTS = (
    "maximum context length",  # OpenAI, vLLM
    "context length",  # vLLM "... exceeds the model's context length"
    "context window",  # llama.cpp "exceeds the context window", Anthropic-style proxies
    "context_length_exceeded",
    "context size",  # llama.cpp "the request exceeds the available context size"
    "prompt is too long",
)

#: How servers refuse image parts for a model without vision (OpenAI, vLLM, llama.cpp,
#: Ollama, LM Studio), lower-cased.
_NO_VISION_TEXTS = (
    "image_url is only supported",  # OpenAI: "Invalid content type. image_url is only ..."
    "not a multimodal model",  # vLLM
    "at most 0 image",  # vLLM: "At most 0 image(s) may be provided in one request"
    "image input is not supported",  # llama.cpp without an mmproj
    "does not support image",  # LM Studio, Ollama
    "does not support vision",
    "images are not supported",
    "vision is not supported",
)

_HTTP_STACK = ("httpx", "httpx2", "httpcore", "httpcore2", "h11", "h2", "anyio")


class StreamCut(Exception):
    """The stream ended cleanly on the wire but without a finish_reason (or [DONE])."""


class NotAStream(Exception):
    """A 200 answer that is not an OpenAI chat stream (an HTML page, a JSON document,
    an SSE line that is not JSON, a JSON event that is not a chat chunk).

    The message says what came back, e.g. "the server answered text/html, not an
    OpenAI stream: <!DOCTYPE html>...".
    """


def sample(text: str | bytes, limit: int = 80) -> str:
    """The first ``limit`` characters of what a server sent, on one line, controls visible."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    flat = " ".join(text.split())
    cut = flat[:limit] + ("..." if len(flat) > limit else "")
    return clean_line(cut)


@dataclass(frozen=True)
class Situation:
    """Where the request was when it failed, for the message and the retry decision."""

    provider: ProviderSettings
    model: str
    attempts: int
    response_started: bool
    """The server answered 200 and the stream was open."""
    answer_started: bool
    """At least one delta was already handed to the caller."""
    secrets: Sequence[str]


def public_url(url: str) -> str:
    """``url`` without credentials, query or trailing slash, to name an endpoint in a message."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
    except ValueError:
        return url


def _is_http_stack_error(error: BaseException) -> bool:
    return any(cls.__module__.split(".", 1)[0] in _HTTP_STACK for cls in type(error).__mro__[:-2])


def _is_timeout(error: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TimeoutError) or "Timeout" in type(current).__name__:
            return True
        current = current.__cause__ or current.__context__
    return False


def _connection_reason(error: BaseException) -> str:
    """A short human reason from the deepest cause ("connection refused", "unknown host")."""
    seen: set[int] = set()
    current: BaseException | None = error
    last = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        name = type(current).__name__
        text = str(current).lower()
        if name == "gaierror" or "name or service not known" in text or "nodename" in text:
            return "unknown host"
        if "ssl" in name.lower() or "certificate" in text:
            return "TLS/certificate error"
        last = current
        current = current.__cause__ or current.__context__
    return str(last).splitlines()[0][:120] if str(last).strip() else type(last).__name__


def _server_message(error: Any) -> str:
    """The ``error.message`` of an OpenAI-shaped body, else the SDK's own message."""
    body = getattr(error, "body", None)
    message: object = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
    if not isinstance(message, str) or not message.strip():
        message = getattr(error, "message", None) or str(error)
    # The server's text is data: escape sequences in it must not act on a terminal.
    text = clean_line(" ".join(str(message).split()))
    return text if len(text) <= 200 else text[:197] + "..."


def _error_code(error: Any) -> str:
    body = getattr(error, "body", None)
    inner = body.get("error", body) if isinstance(body, dict) else None
    code = inner.get("code") if isinstance(inner, dict) else getattr(error, "code", None)
    return str(code) if code else ""


def is_context_length(error: Any) -> bool:
    """A refusal because the request does not fit the model's context window.

    OpenAI says so with ``code: context_length_exceeded``; vLLM, llama.cpp and others
    only in the message ("maximum context length is 4096 tokens", "exceeds the context
    window", "exceeds the available context size").
    """
    if _error_code(error) in _CONTEXT_CODES:
        return True
    text = f"{_server_message(error)} {getattr(error, 'message', '')}".lower()
    return any(phrase in text for phrase in _CONTEXT_TEXTS)


def is_no_vision(error: Any) -> bool:
    """A refusal because the model cannot read the image parts it was sent."""
    text = f"{_server_message(error)} {getattr(error, 'message', '')}".lower()
    return any(phrase in text for phrase in _NO_VISION_TEXTS)


def context_too_long(provider: ProviderSettings, detail: str) -> ContextTooLongError:
    """The error for a request the model's context window cannot hold, with the fixes."""
    where = clean_line(provider.config_file) if provider.config_file else "config.toml"
    return ContextTooLongError(
        " ".join(
            f"The conversation is too long for the model's context window ({detail}). "
            f"Start a new session, lower history.context_tokens in {where}, "
            "or retry with fewer earlier turns.".split()
        )
    )


def key_hint(provider: ProviderSettings) -> str:
    """Where the key of ``provider`` is set: "OPENAI_API_KEY or providers.openai.api_key"."""
    setting = f"providers.{provider.name}.api_key"
    env = key_env_of(provider)
    return clean_line(f"{env} or {setting}" if env else setting)


def retry_after_seconds(error: BaseException) -> float | None:
    """The server's requested wait (``retry-after-ms`` or ``Retry-After``), if any."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    millis = parse_retry_after(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000  # OpenAI's own header: a number, never a date
    return parse_retry_after(headers.get("retry-after"))


def to_provider_error(error: BaseException, situation: Situation) -> ProviderError | None:
    """Classify ``error``; None when it is not a provider failure (a bug to re-raise).

    Args:
        error: what the SDK or the HTTP stack raised.
        situation: the provider, model, attempts so far and whether the response had begun.

    Returns:
        A one-line, secret-free ``ProviderError``, or None for foreign exceptions.
    """
    provider = situation.provider
    url = public_url(provider.base_url)
    status = getattr(error, "status_code", None)
    tries = "" if situation.attempts <= 1 else f" after {situation.attempts} attempts"
    kind: str
    message: str
    if isinstance(error, StreamCut):
        kind = "cut"
        message = "The answer was cut off: the stream ended before the server finished it."
    elif isinstance(error, NotAStream):
        if situation.answer_started:
            kind = "cut"
            message = f"The answer was cut off: {error}"
        else:
            kind = "bad_response"
            message = (
                f"{url}{tries}: {error} (check that providers.{provider.name}.base_url is "
                "an OpenAI-compatible endpoint, usually ending in /v1)"
            )
    elif isinstance(status, int) and getattr(error, "response", None) is not None:
        detail = _server_message(error)
        if status in (400, 413, 422) and is_context_length(error):
            return context_too_long(provider, scrub(detail, situation.secrets))
        if status in (400, 415, 422, 500) and is_no_vision(error):
            kind = "no_vision"
            message = (
                f"The model {situation.model!r} cannot read images (no vision support): "
                f"{detail} Pick a vision model, or send the message without the image."
            )
        elif status in (401, 403):
            kind = "auth"
            if provider.has_key:
                message = (
                    f"The server rejected the API key ({status}). Check {key_hint(provider)}. "
                    f"Server said: {detail}"
                )
            else:
                message = (
                    f"The server at {url} needs an API key ({status}) and none is set. "
                    f"Set {key_hint(provider)}."
                )
        elif status == 404:
            kind = "not_found"
            message = (
                f"Not found (404): {detail} Check the model name {situation.model!r} "
                f"and providers.{provider.name}.base_url ({url})."
            )
        elif status == 429:
            kind = "rate_limit"
            message = f"Rate limited by the server (429){tries}: {detail} Wait a moment and retry."
        elif status >= 500:
            kind = "server"
            message = f"The server at {url} failed ({status}){tries}: {detail}"
        elif status == 408:
            kind = "timeout"
            message = f"The server at {url} timed out the request (408){tries}."
        else:
            kind = "bad_request"
            message = f"The server refused the request ({status}): {detail}"
    elif _is_timeout(error) and (_is_http_stack_error(error) or _is_sdk_error(error)):
        kind = "timeout"
        if situation.answer_started:
            message = (
                f"The answer stalled: no data from {url} for {provider.timeout:g} s "
                f"(timeout). Try again, or raise providers.{provider.name}.timeout."
            )
        else:
            message = (
                f"No answer from {url} within {provider.timeout:g} s (timeout). "
                f"Check the server, or raise providers.{provider.name}.timeout."
            )
    elif _is_connection_error(error) or _is_http_stack_error(error):
        if situation.response_started:
            kind = "cut"
            message = "The answer was cut off: the connection closed before the answer finished."
        else:
            kind = "connection"
            message = (
                f"Cannot connect to {url} ({_connection_reason(error)}){tries}. "
                f"Is the server running, and is providers.{provider.name}.base_url right?"
            )
    elif _is_sdk_error(error):
        # An error chunk in the middle of the stream, or an unparsable response.
        detail = _server_message(error)
        if is_context_length(error) and not situation.answer_started:
            return context_too_long(provider, scrub(detail, situation.secrets))
        if situation.answer_started:
            kind = "cut"
            message = f"The answer was cut off by a server error: {detail}"
        elif situation.response_started:
            kind = "server"
            message = f"The server at {url} reported an error{tries}: {detail}"
        else:
            kind = "unknown"
            message = f"The server at {url} sent something unexpected: {detail}"
    else:
        return None
    one_line = clean_line(" ".join(scrub(message, situation.secrets).split()))
    return ProviderError(one_line, kind=kind, retryable=kind in TRANSIENT_KINDS)


def _is_sdk_error(error: BaseException) -> bool:
    return any(cls.__module__.split(".", 1)[0] == "openai" for cls in type(error).__mro__[:-2])


def _is_connection_error(error: BaseException) -> bool:
    return _is_sdk_error(error) and any(
        cls.__name__ == "APIConnectionError" for cls in type(error).__mro__
    )
