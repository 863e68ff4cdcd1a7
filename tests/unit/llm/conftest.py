"""Helpers for the llm tests: provider profiles pointed at the fake server, delta collection."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable

import pytest

from chat_tui.config import ProviderSettings
from chat_tui.llm.client import ChatClient
from chat_tui.llm.deltas import ContentDelta, Delta, ReasoningDelta
from tests.support.fake_openai import FakeOpenAI

SECRET = "sk-test-SECRET123"
QUESTION = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}]


def make_provider(
    base_url: str,
    *,
    api_key: str | None = SECRET,
    timeout: float = 5.0,
    max_retries: int = 2,
    name: str = "openai",
) -> ProviderSettings:
    return ProviderSettings(
        name=name,
        base_url=base_url,
        model="fake-model",
        api_key=api_key,
        timeout=timeout,
        max_retries=max_retries,
    )


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def collect(client: ChatClient, **kwargs: object) -> list[Delta]:
    return [delta async for delta in client.stream_reply(list(QUESTION), **kwargs)]  # type: ignore[arg-type]


def text_of(deltas: list[Delta]) -> str:
    return "".join(d.text for d in deltas if isinstance(d, ContentDelta))


def reasoning_of(deltas: list[Delta]) -> str:
    return "".join(d.text for d in deltas if isinstance(d, ReasoningDelta))


ClientFactory = Callable[..., ChatClient]


@pytest.fixture
async def make_client(fake_openai: FakeOpenAI) -> AsyncIterator[ClientFactory]:
    """Builds ChatClients (tiny backoff) against the fake server; closes them afterwards."""
    made: list[ChatClient] = []

    def factory(base_url: str | None = None, **settings: object) -> ChatClient:
        backoff = float(settings.pop("backoff_base", 0.001))  # type: ignore[arg-type]
        max_wait = float(settings.pop("max_retry_wait", 20.0))  # type: ignore[arg-type]
        provider = make_provider(base_url or fake_openai.url, **settings)  # type: ignore[arg-type]
        client = ChatClient(provider, backoff_base=backoff, max_retry_wait=max_wait)
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.aclose()
