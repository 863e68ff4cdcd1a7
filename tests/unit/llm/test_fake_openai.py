"""The fake server itself: the parts other tests rely on (and the lead's e2e runs)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from chat_tui.errors import ProviderError
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.unit.llm.conftest import QUESTION, SECRET, collect, free_port, text_of

ROOT = Path(__file__).resolve().parents[3]


def post(url: str, body: dict[str, object], key: str = SECRET) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        f"{url}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_non_streaming_completion_has_the_openai_shape(fake_openai) -> None:
    fake_openai.script(Reply(content="Hello!", reasoning="hm", usage=(5, 2)))
    status, body = post(fake_openai.url, {"model": "fake-model", "messages": QUESTION})
    assert status == 200
    assert body["object"] == "chat.completion"
    choice = body["choices"][0]  # type: ignore[index]
    assert choice["message"] == {
        "role": "assistant",
        "content": "Hello!",
        "refusal": None,
        "reasoning_content": "hm",
    }
    assert choice["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}


def test_error_bodies_are_openai_shaped_with_retry_after(fake_openai) -> None:
    fake_openai.script(Reply(status=429, error_message="slow down", retry_after=2))
    status, body = post(fake_openai.url, {"model": "fake-model", "messages": QUESTION})
    assert status == 429
    assert body == {
        "error": {
            "message": "slow down",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }


def test_required_key_is_enforced_and_headers_are_case_insensitive(fake_openai) -> None:
    fake_openai.api_key = SECRET
    assert post(fake_openai.url, {"model": "m", "messages": QUESTION}, key="wrong")[0] == 401
    assert post(fake_openai.url, {"model": "m", "messages": QUESTION})[0] == 200
    assert fake_openai.headers[1]["authorization"] == f"Bearer {SECRET}"
    assert "AUTHORIZATION" in fake_openai.headers[1]


def test_default_reply_is_markdown_with_a_code_block_echoing_the_question(fake_openai) -> None:
    _, body = post(fake_openai.url, {"model": "m", "messages": QUESTION})
    content = body["choices"][0]["message"]["content"]  # type: ignore[index]
    assert "```python" in content and "You asked: Hi?" in content


def test_wait_for_requests_raises_when_nothing_arrives(fake_openai) -> None:
    with pytest.raises(TimeoutError):
        fake_openai.wait_for_requests(1, timeout=0.05)


async def test_stop_releases_a_held_stream_without_hanging(make_client) -> None:
    gate = threading.Event()  # never set: stop() must not depend on it
    fake = FakeOpenAI().start()
    fake.script(Reply(content="never finishes", hold=gate, hold_after=1))
    client = make_client(fake.url, max_retries=0)
    task = asyncio.create_task(collect(client))
    await asyncio.to_thread(fake.wait_for_requests, 1)
    started = time.monotonic()
    await asyncio.to_thread(fake.stop)
    with pytest.raises(ProviderError) as caught:
        await asyncio.wait_for(task, 5)
    assert time.monotonic() - started < 2
    assert caught.value.kind == "cut"
    assert not gate.is_set()


async def test_command_line_server_serves_until_terminated(make_client) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_openai", "--port", str(port), "--delay", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = await asyncio.to_thread(process.stdout.readline)
        assert f"http://127.0.0.1:{port}/v1" in banner
        client = make_client(f"http://127.0.0.1:{port}/v1")
        deltas = await collect(client)
        assert "```python" in text_of(deltas)
        assert await client.list_models() == ["fake-model", "fake-model-2"]
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0
