"""The OpenAI-compatible streaming client: messages in, typed deltas out.

It wraps ``openai.AsyncOpenAI`` so the rest of chat-tui sees only small frozen deltas
(``ContentDelta``, ``ReasoningDelta``, ``Usage``, ``StreamEnded``) and one-line
``ProviderError``s. Retries are ours (the SDK's are off) so they are observable and
never happen once part of an answer was shown. ``openai`` is imported when a client is
built, not when this module is imported: it takes ~0.7 s, and the UI must start faster.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from chat_tui.config import ProviderSettings, require_key
from chat_tui.domain.text import clean_line
from chat_tui.llm.deltas import ContentDelta, Delta, ReasoningDelta, StreamEnded, Usage
from chat_tui.llm.failures import (
    AUTO_RETRY_KINDS,
    NotAStream,
    Situation,
    StreamCut,
    sample,
    to_provider_error,
)
from chat_tui.llm.redaction import scrub

log = logging.getLogger(__name__)

NO_KEY_PLACEHOLDER = "not-needed"
"""Sent as the key to servers configured without one (Ollama, vLLM, llama.cpp)."""

REASONING_FIELDS = ("reasoning_content", "reasoning")
"""Delta fields carrying reasoning: DeepSeek/Qwen/llama.cpp, then vLLM/OpenRouter."""

_OPENAI_HOSTS = {"api.openai.com"}

#: Content types that are certainly not an event stream. Anything else (including a
#: missing or odd type from a small server) goes to the SSE parser, which would accept it.
_NOT_A_STREAM = ("text/html", "application/json", "application/xml", "text/xml")
_PEEK_BYTES = 2_048


class _StreamState:
    """Turns SDK chunks into deltas and remembers how the stream ended."""

    def __init__(self) -> None:
        self.finish_reason: str | None = None
        self.usage: Usage | None = None

    def feed(self, chunk: Any) -> list[Delta]:
        given = getattr(chunk, "model_fields_set", None)
        if isinstance(given, set) and not given & {"choices", "usage"}:
            raise NotAStream(f"the server sent an event that is not a chat chunk: {_dump(chunk)}")
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
            completion = int(getattr(usage, "completion_tokens", 0) or 0)
            total = int(getattr(usage, "total_tokens", 0) or prompt + completion)
            self.usage = Usage(prompt, completion, total)
        deltas: list[Delta] = []
        for choice in getattr(chunk, "choices", None) or ():
            if getattr(choice, "index", 0) not in (0, None):
                continue  # n > 1 is never requested; ignore stray choices
            delta = getattr(choice, "delta", None)
            if delta is not None:
                reasoning = _reasoning_text(delta)
                if reasoning:
                    deltas.append(ReasoningDelta(reasoning))
                content = getattr(delta, "content", None)
                if isinstance(content, str) and content:
                    deltas.append(ContentDelta(content))
            if getattr(choice, "finish_reason", None):
                self.finish_reason = str(choice.finish_reason)
        return deltas

    def finish(self) -> list[Delta]:
        """The closing deltas; raises ``StreamCut`` when the server never said it was done."""
        if self.finish_reason is None:
            raise StreamCut("stream ended without a finish_reason")
        closing: list[Delta] = [self.usage] if self.usage is not None else []
        closing.append(StreamEnded(self.finish_reason))
        return closing


def _dump(chunk: Any) -> str:
    try:
        return sample(
            json.dumps(chunk.model_dump(exclude_unset=True), default=str, ensure_ascii=False)
        )
    except Exception:  # noqa: BLE001 - only for the message; the type is enough then
        return type(chunk).__name__


async def _check_is_stream(stream: Any) -> None:
    """Raise ``NotAStream`` when a 200 answer is an HTML page or a JSON document.

    Proxies, captive portals and a base_url missing its ``/v1`` answer 200 with a web
    page; the SSE parser would skip every line of it and report a cut stream.
    """
    response = getattr(stream, "response", None)
    if response is None:
        return
    content_type = str(response.headers.get("content-type", "")).split(";", 1)[0].strip().lower()
    if content_type not in _NOT_A_STREAM:
        return
    head = b""
    try:
        async for piece in response.aiter_bytes():
            head += piece
            if len(head) >= _PEEK_BYTES:
                break
    except Exception:  # noqa: BLE001 - what came back is reported either way
        log.debug("reading a non-stream body failed", exc_info=True)
    raise NotAStream(
        f"the server answered {clean_line(content_type)}, not an OpenAI stream: "
        f"{sample(head) or '(empty body)'}"
    )


def _reasoning_text(delta: Any) -> str:
    """Reasoning text of a delta; the SDK keeps these non-standard fields as pydantic extras."""
    extra: Mapping[str, Any] = getattr(delta, "model_extra", None) or {}
    for name in REASONING_FIELDS:
        value = extra.get(name) if name in extra else getattr(delta, name, None)
        if isinstance(value, str) and value:
            return value
    return ""


def _rejects_stream_options(error: BaseException) -> bool:
    """A 400/422 that complains about ``stream_options`` (older compatible servers)."""
    if getattr(error, "status_code", None) not in (400, 422):
        return False
    return "stream_options" in f"{error} {getattr(error, 'body', '')}"


class ChatClient:
    """Streams chat answers from one OpenAI-compatible provider profile.

    Args:
        provider: the endpoint profile (base_url, model, key, timeout, max_retries).
        secrets: every configured secret, scrubbed from error messages (the provider's
            own key is always added).
        backoff_base: first retry wait in seconds; doubles per attempt. A server's
            ``Retry-After`` takes precedence.
        max_retry_wait: cap on any single wait between attempts, in seconds.
    """

    def __init__(
        self,
        provider: ProviderSettings,
        *,
        secrets: Sequence[str] = (),
        backoff_base: float = 0.5,
        max_retry_wait: float = 20.0,
    ) -> None:
        import openai

        self.provider = provider
        self.backoff_base = backoff_base
        self.max_retry_wait = max_retry_wait
        self._secrets = tuple(dict.fromkeys(s for s in (*secrets, provider.api_key) if s))
        self._send_stream_options = True
        key = provider.api_key or NO_KEY_PLACEHOLDER
        # Our key wins over OPENAI_CUSTOM_HEADERS, and OPENAI_ORG_ID / OPENAI_PROJECT_ID
        # are only sent to OpenAI itself: the SDK reads them from the environment and
        # would otherwise hand them to every endpoint.
        headers: dict[str, Any] = {"Authorization": f"Bearer {key}"}
        if (urlsplit(provider.base_url).hostname or "") not in _OPENAI_HOSTS:
            headers["OpenAI-Organization"] = openai.Omit()
            headers["OpenAI-Project"] = openai.Omit()
        self._sdk = openai.AsyncOpenAI(
            api_key=key,
            base_url=provider.base_url,
            timeout=provider.timeout,
            max_retries=0,
            default_headers=headers,
        )

    async def stream_reply(
        self,
        messages: list[dict[str, Any]],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> AsyncGenerator[Delta, None]:
        """Send ``messages`` and yield the answer as it streams in.

        Failures before the first delta (429, 5xx, connection errors, a stream that dies
        before saying anything) are retried up to ``provider.max_retries`` times with
        exponential backoff; after the first delta nothing is retried. Closing the
        generator or cancelling the task closes the HTTP response at once.

        Args:
            messages: OpenAI-style ``{"role", "content"}`` dicts (content: text or parts).
            model: the model to ask (default: the provider's model).
            temperature: sampling temperature, or None for the server's default.
            max_tokens: answer length cap, or None for the server's default.

        Yields:
            ``ReasoningDelta`` / ``ContentDelta`` pieces in arrival order, then at most one
            ``Usage``, then ``StreamEnded``.

        Raises:
            MissingKeyError: the provider needs a key and has none; nothing was sent.
            ContextTooLongError: the conversation does not fit the model's window.
            ProviderError: one line naming the cause (``kind`` says which), never a key.
        """
        require_key(self.provider)
        model_name = model or self.provider.model
        attempt = 0
        while True:
            attempt += 1
            stream: Any = None
            yielded = False
            try:
                stream = await self._open(messages, model_name, temperature, max_tokens)
                await _check_is_stream(stream)
                state = _StreamState()
                try:
                    async for chunk in stream:
                        for delta in state.feed(chunk):
                            yielded = True
                            yield delta
                except json.JSONDecodeError as error:
                    raise NotAStream(
                        f"the server sent a stream line that is not JSON: {sample(error.doc)}"
                    ) from None
                for delta in state.finish():
                    yield delta
                return
            except Exception as error:
                failure = to_provider_error(
                    error,
                    Situation(
                        provider=self.provider,
                        model=model_name,
                        attempts=attempt,
                        response_started=stream is not None,
                        answer_started=yielded,
                        secrets=self._secrets,
                    ),
                )
                if failure is None:
                    raise
                if (
                    not yielded
                    and failure.kind in AUTO_RETRY_KINDS
                    and attempt <= self.provider.max_retries
                ):
                    wait = self._backoff(attempt, error)
                    log.info("attempt %d failed (%s); retrying in %.2f s", attempt, failure, wait)
                    await asyncio.sleep(wait)
                    continue
                log.warning("chat request failed: %s", failure)
                raise failure from None
            finally:
                if stream is not None:
                    await _close_quietly(stream)

    async def _open(
        self,
        messages: list[dict[str, Any]],
        model: str,
        temperature: float | None,
        max_tokens: int | None,
    ) -> Any:
        """Start the streaming request; falls back once if the server refuses ``stream_options``."""
        kwargs: dict[str, Any] = {"model": model, "messages": messages, "stream": True}
        if temperature is not None:
            kwargs["temperature"] = temperature
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if self._send_stream_options:
            try:
                return await self._sdk.chat.completions.create(
                    **kwargs, stream_options={"include_usage": True}
                )
            except Exception as error:
                if not _rejects_stream_options(error):
                    raise
                self._send_stream_options = False
                log.info("%s refuses stream_options; asking without usage", self.provider.name)
        return await self._sdk.chat.completions.create(**kwargs)

    def _backoff(self, attempt: int, error: BaseException) -> float:
        from chat_tui.llm.failures import retry_after_seconds

        wait = retry_after_seconds(error)
        if wait is None:
            wait = self.backoff_base * 2 ** (attempt - 1) * random.uniform(1.0, 1.25)
        return min(wait, self.max_retry_wait)

    async def list_models(self) -> list[str]:
        """The model ids the server offers (sorted); ``[]`` if it has no ``/models``.

        Raises:
            MissingKeyError: the provider needs a key and has none; nothing was sent.
            ProviderError: the server refused (bad key...) or could not be reached.
        """
        require_key(self.provider)
        try:
            page = await self._sdk.models.list()
        except Exception as error:
            if getattr(error, "status_code", None) in (404, 405):
                return []
            failure = to_provider_error(
                error,
                Situation(self.provider, self.provider.model, 1, False, False, self._secrets),
            )
            if failure is None:
                raise
            raise failure from None
        ids = {str(getattr(item, "id", "")) for item in getattr(page, "data", None) or ()}
        return sorted(i for i in ids if i)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._sdk.close()

    def scrub(self, text: str) -> str:
        """``text`` with this client's secrets masked."""
        return scrub(text, self._secrets)


async def _close_quietly(stream: Any) -> None:
    """Close the SDK stream's HTTP response; a failure to close must not hide the real error."""
    try:
        await stream.close()
    except Exception:  # noqa: BLE001 - best effort: the connection is being dropped anyway
        log.debug("closing the stream failed", exc_info=True)


__all__ = [
    "ChatClient",
    "ContentDelta",
    "Delta",
    "NO_KEY_PLACEHOLDER",
    "ReasoningDelta",
    "StreamEnded",
    "Usage",
    "scrub",
]
