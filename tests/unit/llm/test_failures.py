"""Failures against the real fake server: one readable line, the right kind, sane retries."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from chat_tui.errors import ProviderError
from chat_tui.llm.deltas import ContentDelta
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.unit.llm.conftest import QUESTION, SECRET, collect, free_port


def assert_one_clean_line(error: ProviderError) -> None:
    text = str(error)
    assert "\n" not in text and "Traceback" not in text
    assert SECRET not in text and "SECRET123" not in text


async def test_401_is_an_auth_error_that_never_shows_the_key(fake_openai, make_client) -> None:
    fake_openai.script(Reply(status=401, error_message=f"Incorrect API key provided: {SECRET}."))
    with pytest.raises(ProviderError) as caught:
        await collect(make_client())
    error = caught.value
    assert error.kind == "auth" and not error.retryable
    assert "401" in str(error) and "OPENAI_API_KEY" in str(error)
    assert_one_clean_line(error)
    assert len(fake_openai.requests) == 1  # a bad key is not retried


async def test_401_without_any_key_says_to_set_one(fake_openai, make_client) -> None:
    fake_openai.script(Reply(status=401))
    with pytest.raises(ProviderError, match="none is set") as caught:
        await collect(make_client(api_key=None, name="deepseek"))
    assert "DEEPSEEK_API_KEY" in str(caught.value)


async def test_404_unknown_model_names_the_model(make_client) -> None:
    with FakeOpenAI(strict_models=True) as fake:
        with pytest.raises(ProviderError) as caught:
            await collect(make_client(fake.url), model="no-such-model")
        assert caught.value.kind == "not_found"
        assert "404" in str(caught.value) and "no-such-model" in str(caught.value)
        assert len(fake.requests) == 1


async def test_429_before_the_first_delta_is_retried_then_succeeds(
    fake_openai, make_client
) -> None:
    fake_openai.script(Reply(status=429, retry_after=0.01), Reply(content="after retry"))
    deltas = await collect(make_client())
    assert "".join(d.text for d in deltas if isinstance(d, ContentDelta)) == "after retry"
    assert len(fake_openai.requests) == 2


async def test_retry_after_is_respected_and_capped(fake_openai, make_client) -> None:
    fake_openai.script(Reply(status=429, retry_after=0.3), Reply(content="a"))
    started = time.monotonic()
    await collect(make_client())
    assert time.monotonic() - started >= 0.3
    fake_openai.script(Reply(status=429, retry_after=600), Reply(content="b"))
    started = time.monotonic()
    await collect(make_client(max_retry_wait=0.05))
    assert time.monotonic() - started < 3


async def test_500_is_retried_then_fails_as_a_server_error(fake_openai, make_client) -> None:
    fake_openai.script(*[Reply(status=500, error_message="internal error")] * 3)
    with pytest.raises(ProviderError) as caught:
        await collect(make_client(max_retries=2))
    assert caught.value.kind == "server" and caught.value.retryable
    assert "500" in str(caught.value) and "3 attempts" in str(caught.value)
    assert len(fake_openai.requests) == 3
    assert_one_clean_line(caught.value)


async def test_other_4xx_is_a_bad_request_and_not_retried(fake_openai, make_client) -> None:
    fake_openai.script(Reply(status=400, error_message="messages: too long"))
    with pytest.raises(ProviderError, match="too long") as caught:
        await collect(make_client())
    assert caught.value.kind == "bad_request"
    assert len(fake_openai.requests) == 1


async def test_connection_refused_names_the_base_url(make_client) -> None:
    port = free_port()
    with pytest.raises(ProviderError) as caught:
        await collect(make_client(f"http://127.0.0.1:{port}/v1", max_retries=1))
    assert caught.value.kind == "connection"
    assert f"127.0.0.1:{port}" in str(caught.value) and "refused" in str(caught.value)
    assert_one_clean_line(caught.value)


async def test_slow_server_times_out_quickly_and_is_not_retried(fake_openai, make_client) -> None:
    fake_openai.script(Reply(content="too late", delay=3.0))
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        await collect(make_client(timeout=0.3))
    assert caught.value.kind == "timeout" and "0.3 s" in str(caught.value)
    assert time.monotonic() - started < 2.5
    assert len(fake_openai.requests) == 1


async def test_cut_mid_answer_keeps_what_arrived_and_is_not_retried(
    fake_openai, make_client
) -> None:
    fake_openai.script(Reply(content="abcdefghijklmnop", chunk_chars=4, cut_after=2))
    received: list[str] = []
    with pytest.raises(ProviderError) as caught:
        async for delta in make_client().stream_reply(list(QUESTION)):
            if isinstance(delta, ContentDelta):
                received.append(delta.text)
    assert received == ["abcd", "efgh"]
    assert caught.value.kind == "cut" and "cut off" in str(caught.value)
    assert len(fake_openai.requests) == 1


async def test_cut_before_any_delta_is_retried(fake_openai, make_client) -> None:
    fake_openai.script(Reply(content="lost", cut_after=0), Reply(content="whole"))
    deltas = await collect(make_client())
    assert "".join(d.text for d in deltas if isinstance(d, ContentDelta)) == "whole"
    assert len(fake_openai.requests) == 2


async def test_error_chunk_mid_stream_is_a_cut_with_the_server_message(
    fake_openai, make_client
) -> None:
    fake_openai.script(
        Reply(content="abcdefgh", chunk_chars=4, stream_error_after=1, error_message="overloaded")
    )
    received: list[str] = []
    with pytest.raises(ProviderError, match="overloaded") as caught:
        async for delta in make_client().stream_reply(list(QUESTION)):
            if isinstance(delta, ContentDelta):
                received.append(delta.text)
    assert received == ["abcd"] and caught.value.kind == "cut"


async def test_stream_ending_without_finish_reason_is_a_cut(fake_openai, make_client) -> None:
    fake_openai.script(Reply(content="half an answ", finish_reason=None))
    with pytest.raises(ProviderError) as caught:
        await collect(make_client(max_retries=0))
    assert caught.value.kind == "cut"


async def test_closing_the_generator_closes_the_connection(fake_openai, make_client) -> None:
    gate = threading.Event()
    fake_openai.script(Reply(content="one two three four", chunk_chars=4, hold=gate, hold_after=2))
    try:
        stream = make_client().stream_reply(list(QUESTION))
        received = []
        async for delta in stream:
            received.append(delta)
            if len(received) == 2:
                break
        await stream.aclose()
        await asyncio.to_thread(fake_openai.wait_for_disconnects, 1, 5)
        assert [d.text for d in received] == ["one ", "two "]  # type: ignore[union-attr]
        assert fake_openai.completed_streams == 0
    finally:
        gate.set()


async def test_cancelling_the_task_closes_the_connection_promptly(fake_openai, make_client) -> None:
    gate = threading.Event()
    fake_openai.script(Reply(content="one two three four", chunk_chars=4, hold=gate, hold_after=1))
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in make_client().stream_reply(list(QUESTION)):
            first.set()

    task = asyncio.create_task(consume())
    try:
        await asyncio.wait_for(first.wait(), 5)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 1
        await asyncio.to_thread(fake_openai.wait_for_disconnects, 1, 5)
    finally:
        gate.set()


async def test_list_models(fake_openai, make_client) -> None:
    fake_openai.models = ["zeta", "alpha"]
    assert await make_client().list_models() == ["alpha", "zeta"]
    fake_openai.serve_models = False
    assert await make_client().list_models() == []


async def test_list_models_unreachable_is_a_connection_error(make_client) -> None:
    with pytest.raises(ProviderError) as caught:
        await make_client(f"http://127.0.0.1:{free_port()}/v1").list_models()
    assert caught.value.kind == "connection"
