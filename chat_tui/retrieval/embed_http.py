"""What the HTTP embedders share: batching, bounded concurrency, retries, error messages.

Why: Jina and OpenAI-compatible ``/embeddings`` endpoints differ only in the
request body; splitting inputs into requests, running a few at once, backing off
on 429/5xx and turning failures into one-line ``EmbeddingError`` messages that
never contain the key is the same for both.

Batching rule: a request carries at most ``min(batch_size, max_inputs)`` inputs
and at most ``max_request_tokens`` estimated tokens (``chat_tui.domain.tokens``, the
estimate the chunker sizes chunks with; 1,000 per image). One input is cut to
``max_input_tokens`` estimated tokens (8,192 by default, the smallest context among the supported
Jina models) so a huge chunk cannot make the service reject the whole batch.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chat_tui.domain.retry_after import parse_retry_after
from chat_tui.errors import EmbeddingError

if TYPE_CHECKING:
    import httpx

    from chat_tui.config import EmbeddingSettings

IMAGE_TOKENS = 1_000
MAX_RETRY_AFTER = 60.0


def plan_batches(costs: Sequence[int], max_inputs: int, max_tokens: int) -> list[range]:
    """Split inputs (by estimated cost) into consecutive index ranges within both limits."""
    batches: list[range] = []
    start, used = 0, 0
    for i, cost in enumerate(costs):
        if i > start and (i - start >= max_inputs or used + cost > max_tokens):
            batches.append(range(start, i))
            start, used = i, 0
        used += cost
    if start < len(costs):
        batches.append(range(start, len(costs)))
    return batches


def _detail(response: httpx.Response, secret: str | None) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("error") or body.get("message") or body
        if isinstance(detail, dict):
            detail = detail.get("message") or detail
    else:
        detail = body
    text = " ".join(str(detail).split())[:300] or response.reason_phrase
    if secret:
        text = text.replace(secret, "***")
    return text


class HttpEmbeddingClient:
    """Posts JSON to an embedding service with retries and maps failures to ``EmbeddingError``.

    Args:
        settings: the embedding settings (base_url, key, timeout, retries, concurrency).
        service: the name used in messages ("Jina", "the embedding server").
        key_env: the environment variable named when the key is refused.
        backoff_base: first retry delay in seconds (doubles each retry).
    """

    def __init__(
        self, settings: EmbeddingSettings, *, service: str, key_env: str, backoff_base: float
    ) -> None:
        self.settings = settings
        self.service = service
        self.key_env = key_env
        self.backoff_base = backoff_base
        self._client: httpx.AsyncClient | None = None
        self._semaphore = asyncio.Semaphore(max(1, settings.concurrency))

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            headers = {"Content-Type": "application/json", "Accept": "application/json"}
            if self.settings.api_key:
                headers["Authorization"] = f"Bearer {self.settings.api_key}"
            self._client = httpx.AsyncClient(
                base_url=self.settings.base_url.rstrip("/") + "/",
                headers=headers,
                timeout=self.settings.timeout,
            )
        return self._client

    def _error(self, response: httpx.Response, retries: int) -> EmbeddingError:
        status = response.status_code
        detail = _detail(response, self.settings.api_key)
        if status == 400:
            return EmbeddingError(
                f"{self.service} rejected the input (400): {detail}", status=status
            )
        if status == 401:
            return EmbeddingError(
                f"{self.service} refused the API key (401): check {self.key_env}", status=status
            )
        if status == 403:
            return EmbeddingError(
                f"{self.service} refused the request (403): no balance left on the key, "
                "or access forbidden",
                status=status,
            )
        if status == 429:
            return EmbeddingError(
                f"{self.service} rate limit (429) still hit after {retries} retries; "
                "try later or lower embedding.concurrency",
                status=status,
                retryable=True,
            )
        if status >= 500:
            return EmbeddingError(
                f"{self.service} server error ({status}) after {retries} retries: {detail}",
                status=status,
                retryable=True,
            )
        return EmbeddingError(f"{self.service} request failed ({status}): {detail}", status=status)

    async def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload`` to ``path``, retrying 429/5xx/network errors; returns the JSON body."""
        import httpx

        retries = self.settings.max_retries
        async with self._semaphore:
            for attempt in range(retries + 1):
                delay = self.backoff_base * (2**attempt) * (1 + random.random() / 10)
                try:
                    response = await self._http().post(path, json=payload)
                except httpx.TransportError as error:
                    if attempt < retries:
                        await asyncio.sleep(delay)
                        continue
                    raise EmbeddingError(
                        f"cannot reach {self.service} at {self.settings.base_url} "
                        f"({type(error).__name__})",
                        retryable=True,
                    ) from None
                status = response.status_code
                if status == 429 or status >= 500:
                    if attempt < retries:
                        wait = parse_retry_after(response.headers.get("retry-after"))
                        await asyncio.sleep(delay if wait is None else min(MAX_RETRY_AFTER, wait))
                        continue
                    raise self._error(response, retries)
                if status >= 400:
                    raise self._error(response, retries)
                try:
                    body = response.json()
                except ValueError:
                    raise EmbeddingError(
                        f"{self.service} sent a response that is not JSON"
                    ) from None
                if not isinstance(body, dict):
                    raise EmbeddingError(f"{self.service} sent an unexpected response")
                return body
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def vectors_from(body: dict[str, Any], expected: int, service: str) -> list[list[float]]:
    """The ``data[].embedding`` vectors of an embeddings response, ordered by ``index``."""
    data = body.get("data")
    if not isinstance(data, list) or len(data) != expected:
        got = len(data) if isinstance(data, list) else 0
        raise EmbeddingError(f"{service} returned {got} embeddings for {expected} inputs")
    try:
        ordered = sorted(data, key=lambda item: int(item.get("index", 0)))
        return [[float(x) for x in item["embedding"]] for item in ordered]
    except (KeyError, TypeError, ValueError):
        raise EmbeddingError(f"{service} sent embeddings in an unexpected format") from None
