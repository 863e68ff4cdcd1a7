"""Provider faults named right: non-OpenAI bodies, garbage stream lines, context length,
hostile error texts and a missing key, each against the real fake server."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from chat_tui.config import ProviderSettings
from chat_tui.errors import ContextTooLongError, MissingKeyError, ProviderError
from chat_tui.llm.client import ChatClient
from chat_tui.llm.deltas import ContentDelta
from chat_tui.logs import SecretFilter
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.unit.llm.conftest import QUESTION, collect, text_of

HTML = "<!DOCTYPE html>\n<html><head><title>Sign in to the Wi-Fi</title></head><body>" + ("x" * 500)
CONTROL_BYTES = ("\x1b", "\x07", "\x9b", "\x08", "\r", "\u202e")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            Reply(raw_body=HTML, content_type="text/html; charset=utf-8"),
            "the server answered text/html, not an OpenAI stream: <!DOCTYPE html> <html><head>",
        ),
        (
            Reply(raw_body='{"status": "ok", "version": 3}', content_type="application/json"),
            'answered application/json, not an OpenAI stream: {"status": "ok", "version": 3}',
        ),
        (
            Reply(garbage="<html>502 Bad Gateway</html>"),
            "a stream line that is not JSON: <html>502 Bad Gateway</html>",
        ),
        (
            Reply(garbage='{"hello": "world"}'),
            'an event that is not a chat chunk: {"hello": "world"}',
        ),
    ],
    ids=["html-200", "json-200", "garbage-line", "json-not-a-chunk"],
)
async def test_non_openai_answers_are_named_and_retried_like_a_5xx(
    fake_openai: FakeOpenAI, make_client, reply: Reply, expected: str
) -> None:
    fake_openai.script(reply, reply, reply)
    with pytest.raises(ProviderError) as caught:
        await collect(make_client(max_retries=2))
    error = caught.value
    assert error.kind == "bad_response" and error.retryable
    assert expected in str(error)
    assert "after 3 attempts" in str(error) and "\n" not in str(error)
    assert len(fake_openai.requests) == 3  # retried before the first token


async def test_a_bad_answer_then_a_good_one_succeeds(fake_openai: FakeOpenAI, make_client) -> None:
    fake_openai.script(Reply(raw_body=HTML), Reply(garbage="oops"), Reply(content="Fine."))
    deltas = await collect(make_client(max_retries=2))
    assert text_of(deltas) == "Fine." and len(fake_openai.requests) == 3


async def test_html_body_sample_is_cut_to_80_characters(
    fake_openai: FakeOpenAI, make_client
) -> None:
    fake_openai.script(Reply(raw_body=HTML))
    with pytest.raises(ProviderError) as caught:
        await collect(make_client(max_retries=0))
    sampled = str(caught.value).split("not an OpenAI stream: ", 1)[1]
    assert sampled.startswith("<!DOCTYPE html>") and "x" * 81 not in sampled


async def test_garbage_after_the_first_token_is_reported_not_retried(
    fake_openai: FakeOpenAI, make_client
) -> None:
    fake_openai.script(Reply(content="abcdefgh", chunk_chars=4, garbage="}{", garbage_after=1))
    received: list[str] = []
    with pytest.raises(ProviderError) as caught:
        async for delta in make_client(max_retries=2).stream_reply(list(QUESTION)):  # type: ignore[arg-type]
            if isinstance(delta, ContentDelta):
                received.append(delta.text)
    assert received == ["abcd"]
    assert caught.value.kind == "cut" and "not JSON" in str(caught.value)
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (
            "This model's maximum context length is 4096 tokens. However, your messages "
            "resulted in 9000 tokens. Please reduce the length of the messages.",
            "context_length_exceeded",
        ),
        (
            "This model's maximum context length is 2048 tokens. However, you requested "
            "3000 tokens (2000 in the messages, 1000 in the completion).",
            None,
        ),  # vLLM
        ("the request exceeds the available context size, try increasing it", None),  # llama.cpp
        ("input (5000 tokens) exceeds the context window of 4096 tokens", None),
    ],
    ids=["openai", "vllm", "llama.cpp", "generic"],
)
async def test_context_length_is_its_own_error_with_the_fixes(
    fake_openai: FakeOpenAI, make_client, message: str, code: str | None
) -> None:
    fake_openai.script(Reply(status=400, error_message=message, error_code=code))
    client = make_client()
    with pytest.raises(ContextTooLongError) as caught:
        await collect(client)
    error = caught.value
    assert error.kind == "context_length" and not error.retryable
    text = str(error)
    assert "new session" in text and "history.context_tokens" in text and "fewer" in text
    assert len(fake_openai.requests) == 1


async def test_context_length_message_names_the_config_file(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    config = tmp_path / "my-config.toml"
    provider = ProviderSettings(
        name="local", base_url=fake_openai.url, model="fake-model", config_file=config
    )
    fake_openai.script(Reply(status=400, error_code="context_length_exceeded"))
    client = ChatClient(provider, backoff_base=0.001)
    try:
        with pytest.raises(ContextTooLongError) as caught:
            await collect(client)
    finally:
        await client.aclose()
    assert str(config) in str(caught.value)


async def test_a_plain_400_is_still_a_bad_request(fake_openai: FakeOpenAI, make_client) -> None:
    fake_openai.script(Reply(status=400, error_message="temperature must be <= 2"))
    with pytest.raises(ProviderError) as caught:
        await collect(make_client())
    assert caught.value.kind == "bad_request"
    assert not isinstance(caught.value, ContextTooLongError)


HOSTILE_SERVER_MESSAGE = "\x1b]0;PWNED\x07\x1b[2J\x9b31m bad\rnews\x08\u202eevil [red]x[/]"


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500])
async def test_a_hostile_server_message_reaches_neither_error_nor_log_raw(
    fake_openai: FakeOpenAI, make_client, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    fake_openai.script(*[Reply(status=status, error_message=HOSTILE_SERVER_MESSAGE)] * 3)
    with caplog.at_level(logging.INFO, logger="chat_tui"):
        with pytest.raises(ProviderError) as caught:
            await collect(make_client(max_retries=2))
    text = str(caught.value)
    assert not any(byte in text for byte in CONTROL_BYTES), repr(text)
    assert "\\x1b]0;PWNED\\x07" in text or status == 401  # visible, not acted on
    for record in caplog.records:
        # What the file handler writes: the record after the app's log filter.
        written = SecretFilter([]).scrub(record.getMessage())
        assert not any(byte in written for byte in CONTROL_BYTES), repr(written)
        assert not any(byte in record.getMessage() for byte in CONTROL_BYTES)


async def test_hostile_mid_stream_error_chunk_is_cleaned(
    fake_openai: FakeOpenAI, make_client
) -> None:
    fake_openai.script(
        Reply(content="abcdefgh", stream_error_after=1, error_message=HOSTILE_SERVER_MESSAGE)
    )
    with pytest.raises(ProviderError) as caught:
        await collect(make_client())
    assert not any(byte in str(caught.value) for byte in CONTROL_BYTES)


async def test_no_key_for_a_hosted_url_sends_nothing(fake_openai: FakeOpenAI) -> None:
    # A hosted-looking URL whose host resolves nowhere: if anything were sent it would
    # fail as a connection error, not as MissingKeyError. The fake server sees nothing.
    provider = ProviderSettings(
        name="openai",
        base_url="https://api.openai.invalid/v1",
        model="gpt-4o-mini",
        api_key_env="OPENAI_API_KEY",
        config_file=Path("/home/me/.config/chat-tui/config.toml"),
    )
    client = ChatClient(provider)
    try:
        with pytest.raises(MissingKeyError) as caught:
            await collect(client)
        with pytest.raises(MissingKeyError):
            await client.list_models()
    finally:
        await client.aclose()
    text = str(caught.value)
    assert caught.value.kind == "no_key"
    assert "OPENAI_API_KEY" in text and "providers.openai.api_key_env" in text
    assert "/home/me/.config/chat-tui/config.toml" in text
    assert fake_openai.requests == []


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:{port}/v1", "http://localhost:{port}/v1", "http://[::1]:{port}/v1"]
)
async def test_local_servers_need_no_key(url: str) -> None:
    with FakeOpenAI(host="::1" if "[::1]" in url else "127.0.0.1") as fake:
        fake.script(Reply(content="local ok"))
        provider = ProviderSettings(
            name="openai",
            base_url=url.format(port=fake.port),
            model="fake-model",
            api_key_env="OPENAI_API_KEY",
        )
        assert provider.is_local and not provider.needs_key
        client = ChatClient(provider, backoff_base=0.001)
        try:
            assert text_of(await collect(client)) == "local ok"
        finally:
            await client.aclose()
        assert len(fake.requests) == 1


class _CountingListener:
    """A TCP listener that counts connections: stands in for "any server" as a proxy."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()  # the client sees a dead connection: fine, it was counted

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.mark.parametrize("with_key", [False, True], ids=["no-key", "control-with-key"])
async def test_no_key_means_no_connection_at_all_through_the_service(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, with_key: bool
) -> None:
    """Every request is routed to a counting proxy: with no key nothing connects (with a
    key, the control case, the request does reach it, so the proxy would have seen it)."""
    from chat_tui.domain.models import MessageStatus
    from chat_tui.services.bootstrap import open_services
    from tests.conftest import make_settings

    listener = _CountingListener()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, listener.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    settings = make_settings(
        "http://api.hosted.example/v1",
        api_key="sk-control-123456" if with_key else None,
        home=isolated_home,
    )
    services = open_services(settings, context=None)
    events: list[object] = []

    async def on_event(event: object) -> None:
        events.append(event)

    try:
        session = services.repository.create_session("assistant")
        answer = await services.chat.send(session.id, "hello?", on_event)  # type: ignore[arg-type]
        await services.chat.aclose()
    finally:
        services.close()
        listener.close()
    assert answer.status is MessageStatus.FAILED
    if with_key:
        assert listener.connections >= 1
    else:
        assert listener.connections == 0
        assert answer.error is not None and "OPENAI_API_KEY" in answer.error
        assert "providers.openai.api_key_env" in answer.error
        assert str(settings.config_file) in answer.error
