"""The Jina and OpenAI-compatible embedders against the fake Jina HTTP server."""

from __future__ import annotations

import asyncio
import base64

import pytest

from chat_tui.config import EmbeddingSettings
from chat_tui.domain.tokens import cut_to_tokens, estimate_tokens
from chat_tui.errors import EmbeddingError
from chat_tui.retrieval.embed_http import plan_batches
from chat_tui.retrieval.jina import JinaEmbedder
from chat_tui.retrieval.openai_embed import OpenAIEmbedder, make_embedder
from chat_tui.retrieval.types import Chunk
from tests.support.fake_jina import FakeJina
from tests.support.images import png_bytes

PNG64 = base64.b64encode(png_bytes()).decode("ascii")


def jina(fake: FakeJina, **overrides: object) -> JinaEmbedder:
    values: dict[str, object] = {
        "provider": "jina",
        "base_url": fake.url,
        "api_key": fake.api_key,
        "dimensions": 32,
        "max_retries": 2,
    }
    values.update(overrides)
    return JinaEmbedder(EmbeddingSettings(**values), backoff_base=0.001)  # type: ignore[arg-type]


def chunks(count: int, text: str = "hello world") -> list[Chunk]:
    return [Chunk(id=str(i), source="/a.md", text=f"{text} {i}", index=i) for i in range(count)]


async def test_request_shape_and_order(fake_jina: FakeJina) -> None:
    embedder = jina(fake_jina)
    vectors = await embedder.embed_documents(chunks(3))
    query = await embedder.embed_query("what is hello?")
    await embedder.aclose()
    first, second = fake_jina.requests
    assert first["path"] == "/v1/embeddings"
    assert first["authorization"] == f"Bearer {fake_jina.api_key}"
    assert {k: first[k] for k in ("model", "task", "dimensions", "embedding_type")} == {
        "model": "jina-embeddings-v4",
        "task": "retrieval.passage",
        "dimensions": 32,
        "embedding_type": "float",
    }
    assert first["input"] == ["hello world 0", "hello world 1", "hello world 2"]
    assert second["task"] == "retrieval.query" and second["input"] == ["what is hello?"]
    # The fake answers in reverse index order: the client must reorder.
    from tests.support.fake_jina import embed_text

    assert vectors == [embed_text(f"hello world {i}", 32) for i in range(3)]
    assert len(query) == 32


async def test_batches_respect_512_inputs_and_batch_size(fake_jina: FakeJina) -> None:
    embedder = jina(fake_jina, batch_size=1000)
    vectors = await embedder.embed_documents(chunks(1100))
    assert len(vectors) == 1100
    assert sorted(len(r["input"]) for r in fake_jina.requests) == [76, 512, 512]
    assert fake_jina.inputs_embedded == 1100
    small = jina(fake_jina, batch_size=10)
    await small.embed_documents(chunks(25))
    assert sorted(len(r["input"]) for r in fake_jina.requests[3:]) == [5, 10, 10]
    await embedder.aclose()
    await small.aclose()


def test_token_budget_splits_and_cuts() -> None:
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("向量数据库") == 5
    assert plan_batches([60, 60, 60], max_inputs=10, max_tokens=100) == [
        range(0, 1),
        range(1, 2),
        range(2, 3),
    ]
    assert plan_batches([10] * 5, max_inputs=2, max_tokens=1000) == [
        range(0, 2),
        range(2, 4),
        range(4, 5),
    ]
    assert estimate_tokens(cut_to_tokens("word " * 10_000, 100)) <= 100
    assert estimate_tokens(cut_to_tokens("中文" * 10_000, 100)) <= 100


async def test_concurrency_is_bounded(fake_jina: FakeJina) -> None:
    embedder = jina(fake_jina, batch_size=1, concurrency=2)
    fake_jina.hold.clear()
    task = asyncio.create_task(embedder.embed_documents(chunks(6)))
    assert await asyncio.to_thread(fake_jina.wait_for_in_flight, 2)
    # A third request would arrive now if the bound did not hold.
    assert not await asyncio.to_thread(fake_jina.wait_for_in_flight, 3, 0.3)
    fake_jina.hold.set()
    assert len(await task) == 6
    assert fake_jina.max_in_flight == 2
    await embedder.aclose()


async def test_images_are_sent_as_objects_for_v4_and_dropped_for_v3(fake_jina: FakeJina) -> None:
    batch = [
        Chunk(id="1", source="/a.md", text="caption"),
        Chunk(id="2", source="/a.png", text="a cat", image=f"data:image/png;base64,{PNG64}"),
    ]
    v4 = jina(fake_jina)
    await v4.embed_documents(batch)
    # Jina's documented form: the bare base64, no data: prefix.
    assert fake_jina.requests[-1]["input"] == [{"text": "caption"}, {"image": PNG64}]
    v3 = jina(fake_jina, model="jina-embeddings-v3")
    await v3.embed_documents(batch)
    assert fake_jina.requests[-1]["input"] == ["caption", "a cat"]
    assert fake_jina.requests[-1]["model"] == "jina-embeddings-v3"
    assert fake_jina.requests[-1]["task"] == "retrieval.passage"
    await v4.aclose()
    await v3.aclose()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, "Jina rejected the input (400): bad input near"),
        (401, "JINA_API_KEY"),
        (403, "no balance"),
    ],
)
async def test_client_errors_are_one_line_without_the_key(
    fake_jina: FakeJina, status: int, expected: str
) -> None:
    embedder = jina(fake_jina)
    fake_jina.fail_next(status, body={"detail": f"bad input near {fake_jina.api_key}"})
    with pytest.raises(EmbeddingError) as caught:
        await embedder.embed_query("question")
    message = str(caught.value)
    assert expected in message
    assert fake_jina.api_key not in message and "\n" not in message
    assert caught.value.status == status
    assert len(fake_jina.requests) == 1  # not retried
    await embedder.aclose()


async def test_wrong_key_is_refused(fake_jina: FakeJina) -> None:
    embedder = jina(fake_jina, api_key="jina-WRONG-secret")
    with pytest.raises(EmbeddingError, match="JINA_API_KEY") as caught:
        await embedder.embed_query("question")
    assert "jina-WRONG-secret" not in str(caught.value)
    await embedder.aclose()


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_rate_limits_and_outages_are_retried(fake_jina: FakeJina, status: int) -> None:
    embedder = jina(fake_jina)
    fake_jina.fail_next(status, times=2, retry_after=0 if status == 429 else None)
    assert len(await embedder.embed_query("question")) == 32
    assert len(fake_jina.requests) == 3
    await embedder.aclose()


async def test_persistent_failure_gives_up_after_max_retries(fake_jina: FakeJina) -> None:
    embedder = jina(fake_jina, max_retries=2)
    fake_jina.fail_next(429, times=5, retry_after=0)
    with pytest.raises(EmbeddingError, match=r"rate limit \(429\)") as caught:
        await embedder.embed_query("question")
    assert caught.value.retryable
    assert len(fake_jina.requests) == 3


async def test_retry_after_is_respected(fake_jina: FakeJina) -> None:
    embedder = jina(fake_jina)
    fake_jina.fail_next(429, retry_after=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await embedder.embed_query("question")
    assert loop.time() - started >= 0.3
    await embedder.aclose()


async def test_unreachable_service() -> None:
    settings = EmbeddingSettings(
        base_url="http://127.0.0.1:9/v1", api_key="k-SECRET", max_retries=0
    )
    embedder = JinaEmbedder(settings, backoff_base=0.001)
    with pytest.raises(EmbeddingError, match="cannot reach Jina") as caught:
        await embedder.embed_query("q")
    assert "k-SECRET" not in str(caught.value)
    await embedder.aclose()


async def test_rerank(fake_jina: FakeJina) -> None:
    embedder = jina(fake_jina)
    order = await embedder.rerank(
        "install milvus", ["weather is nice", "how to install milvus", "milvus"], 2
    )
    request = fake_jina.requests[-1]
    assert request["path"] == "/v1/rerank"
    assert request["model"] == "jina-reranker-v2-base-multilingual"
    assert request["top_n"] == 2 and request["return_documents"] is False
    assert [index for index, _ in order] == [1, 2]
    await embedder.aclose()


async def test_openai_compatible_embedder(fake_jina: FakeJina) -> None:
    settings = EmbeddingSettings(
        provider="openai", base_url=fake_jina.url, api_key=fake_jina.api_key, model="nomic"
    )
    embedder = make_embedder(settings)
    assert isinstance(embedder, OpenAIEmbedder)
    vectors = await embedder.embed_documents(chunks(3))
    assert fake_jina.requests[-1]["input"] == ["hello world 0", "hello world 1", "hello world 2"]
    assert set(fake_jina.requests[-1]) == {"model", "input", "path", "authorization"}
    assert len(vectors) == 3 and await embedder.detect_dimensions() == 1024
    fake_jina.fail_next(401)
    with pytest.raises(EmbeddingError, match="CHAT_TUI_EMBEDDING_API_KEY"):
        await embedder.embed_query("q")
    await embedder.aclose()


async def test_embedders_declare_what_they_can_do(fake_jina: FakeJina) -> None:
    v4, v3 = jina(fake_jina, batch_size=7), jina(fake_jina, model="jina-embeddings-v3")
    assert (v4.multimodal, v4.can_rerank, v4.dimensions_known, v4.batch_size) == (
        True,
        True,
        True,
        7,
    )
    assert not v3.multimodal and v3.can_rerank
    local = OpenAIEmbedder(EmbeddingSettings(provider="openai", base_url=fake_jina.url))
    assert (local.multimodal, local.can_rerank, local.dimensions_known) == (False, False, False)
    assert local.batch_size == EmbeddingSettings().batch_size
    with pytest.raises(EmbeddingError, match="no reranker"):
        await local.rerank("q", ["a", "b"], 1)
    assert fake_jina.requests == []
    for embedder in (v4, v3, local):
        await embedder.aclose()


def test_make_embedder_without_key_is_none() -> None:
    assert make_embedder(EmbeddingSettings(api_key=None)) is None
    assert make_embedder(EmbeddingSettings(provider="none", api_key="x")) is None
    assert isinstance(make_embedder(EmbeddingSettings(api_key="x")), JinaEmbedder)
