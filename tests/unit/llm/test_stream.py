"""Streaming answers from the real fake server: content, reasoning, usage, request shape."""

from __future__ import annotations

import math

import pytest

from chat_tui.llm.deltas import ContentDelta, ReasoningDelta, StreamEnded, Usage
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.unit.llm.conftest import QUESTION, SECRET, collect, reasoning_of, text_of

MARKDOWN = "# Title\n\nSome **bold** text, ünïcödé and 中文.\n\n```python\nprint('hi')\n```\n"


async def test_content_is_streamed_in_pieces_and_assembles_to_the_script(
    fake_openai, make_client
) -> None:
    fake_openai.script(Reply(content=MARKDOWN, chunk_chars=3))
    deltas = await collect(make_client())
    pieces = [d.text for d in deltas if isinstance(d, ContentDelta)]
    assert "".join(pieces) == MARKDOWN
    assert len(pieces) == math.ceil(len(MARKDOWN) / 3)
    assert deltas[-1] == StreamEnded("stop")


async def test_usage_is_reported_once_before_the_end(fake_openai, make_client) -> None:
    fake_openai.script(Reply(content="short", usage=(7, 3)))
    deltas = await collect(make_client())
    assert deltas[-2:] == [Usage(7, 3, 10), StreamEnded("stop")]
    assert sum(isinstance(d, Usage) for d in deltas) == 1


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_deltas_come_first_under_either_field_name(
    fake_openai, make_client, field
) -> None:
    fake_openai.script(
        Reply(reasoning="Think: 7 has no divisors.", reasoning_field=field, content="Prime.")
    )
    deltas = await collect(make_client())
    assert reasoning_of(deltas) == "Think: 7 has no divisors."
    assert text_of(deltas) == "Prime."
    kinds = [type(d) for d in deltas if isinstance(d, ContentDelta | ReasoningDelta)]
    assert kinds.index(ContentDelta) > max(i for i, k in enumerate(kinds) if k is ReasoningDelta)


async def test_request_carries_model_messages_stream_options_and_key(
    fake_openai, make_client
) -> None:
    fake_openai.script(Reply(content="ok"))
    await collect(make_client(), model="fake-model-2", temperature=0.2, max_tokens=50)
    body = fake_openai.requests[0]
    assert body["model"] == "fake-model-2"
    assert body["messages"] == QUESTION
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.2 and body["max_tokens"] == 50
    assert fake_openai.headers[0]["Authorization"] == f"Bearer {SECRET}"


async def test_unset_options_are_not_sent_and_default_model_is_used(
    fake_openai, make_client
) -> None:
    await collect(make_client())
    body = fake_openai.requests[0]
    assert body["model"] == "fake-model"
    assert "temperature" not in body and "max_tokens" not in body


async def test_provider_without_key_sends_a_placeholder(fake_openai, make_client) -> None:
    await collect(make_client(api_key=None))
    assert fake_openai.headers[0]["Authorization"] == "Bearer not-needed"


async def test_environment_cannot_redirect_the_key_or_leak_org_ids(
    fake_openai, make_client, monkeypatch
) -> None:
    monkeypatch.setenv("OPENAI_CUSTOM_HEADERS", "Authorization: Bearer sk-from-env-LEAK")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-private")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-private")
    await collect(make_client())
    headers = fake_openai.headers[0]
    assert headers["Authorization"] == f"Bearer {SECRET}"
    assert "OpenAI-Organization" not in headers and "OpenAI-Project" not in headers


async def test_server_rejecting_stream_options_gets_a_plain_request_from_then_on(
    make_client,
) -> None:
    with FakeOpenAI(reject_stream_options=True) as fake:
        fake.script(Reply(content="first"), Reply(content="second"))
        client = make_client(fake.url)
        first = await collect(client)
        second = await collect(client)
        assert text_of(first) == "first" and text_of(second) == "second"
        assert not any(isinstance(d, Usage) for d in first)  # usage was not asked for
        assert ["stream_options" in body for body in fake.requests] == [True, False, False]


async def test_finish_reason_length_is_passed_on(fake_openai, make_client) -> None:
    fake_openai.script(Reply(content="trunc", finish_reason="length"))
    deltas = await collect(make_client())
    assert deltas[-1] == StreamEnded("length")
