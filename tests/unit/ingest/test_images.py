"""Images in the knowledge base: embedded by a multimodal model, found by a text question.

Against the fake Jina server (Jina's documented v4 image inputs: bare base64) and
real Milvus Lite. The fake embeds an image as the caption the test gives it, which
stands in for what a real multimodal model sees in the picture.
"""

from __future__ import annotations

import base64
from pathlib import Path

from chat_tui.ingest.pipeline import ingest_paths
from chat_tui.retrieval.jina import JinaEmbedder
from chat_tui.retrieval.milvus_store import KnowledgeStore
from tests.support.fake_jina import FakeJina
from tests.support.images import JPEG_HEAD, png_bytes
from tests.unit.ingest.conftest import ingest_settings, jina_embedding


def _folder(tmp_path: Path, fake: FakeJina) -> dict[str, Path]:
    folder = tmp_path / "docs"
    folder.mkdir()
    chart = folder / "revenue chart.png"
    chart.write_bytes(png_bytes(rgb=(10, 120, 200)))
    fake.caption(chart.read_bytes(), "bar chart of quarterly revenue by region")
    cat = folder / "cat.jpg"
    cat.write_bytes(JPEG_HEAD + b"\x00" * 64)
    fake.caption(cat.read_bytes(), "a sleeping cat on a sofa")
    fake_png = folder / "photo.png"
    fake_png.write_text("this is text, not a picture", encoding="utf-8")
    note = folder / "groceries.md"
    note.write_text("# Groceries\n\nEggs, milk and bread.\n", encoding="utf-8")
    return {"chart": chart, "cat": cat, "fake": fake_png, "note": note}


async def test_images_are_found_by_a_text_question_and_cited_by_path(
    tmp_path: Path, milvus_data_dir: Path, fake_jina: FakeJina, kb_name: str
) -> None:
    files = _folder(tmp_path, fake_jina)
    settings = ingest_settings(milvus_data_dir, jina_embedding(fake_jina))
    report = await ingest_paths([tmp_path / "docs"], settings=settings, knowledge_base=kb_name)
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons == {"photo.png": "not an image (the content is not PNG, JPEG or WebP)"}
    assert fake_jina.images_embedded == 2
    sent = [
        item["image"]
        for request in fake_jina.requests
        for item in request.get("input", [])
        if isinstance(item, dict) and "image" in item
    ]
    assert sorted(sent) == sorted(
        base64.b64encode(files[name].read_bytes()).decode("ascii") for name in ("chart", "cat")
    )
    embedder = JinaEmbedder(settings.embedding)
    store = KnowledgeStore(settings, kb_name)
    try:
        question = await embedder.embed_query("which chart shows revenue by region?")
        best = store.search_dense(question, 3)[0]
        assert best.chunk.source == str(files["chart"].resolve())
        citation = best.citation()  # shown relative to the folder ingested
        assert citation.source == str(files["chart"].resolve())
        assert citation.label() == "revenue chart.png"
        cat = store.search_dense(await embedder.embed_query("a cat sleeping"), 1)[0]
        assert cat.chunk.source == str(files["cat"].resolve())
    finally:
        await embedder.aclose()
        store.drop()
        store.close()


async def test_a_text_only_embedder_skips_images_and_says_why(
    tmp_path: Path, milvus_data_dir: Path, fake_jina: FakeJina, kb_name: str
) -> None:
    _folder(tmp_path, fake_jina)
    for embedding in (jina_embedding(fake_jina, model="jina-embeddings-v3"), None):
        settings = ingest_settings(milvus_data_dir, embedding)  # v3, then BM25 only
        report = await ingest_paths([tmp_path / "docs"], settings=settings, knowledge_base=kb_name)
        reasons = {Path(s.path).name: s.reason for s in report.skipped}
        assert reasons["revenue chart.png"] == "image (needs a multimodal embedder)"
        assert reasons["cat.jpg"] == "image (needs a multimodal embedder)"
        assert [Path(p).name for p in report.added] in (["groceries.md"], [])
        store = KnowledgeStore(settings, kb_name)
        try:
            store.drop()
        finally:
            store.close()
    assert fake_jina.images_embedded == 0
    assert not any(
        isinstance(item, dict) and "image" in item
        for request in fake_jina.requests
        for item in request.get("input", [])
    )


async def test_the_fake_refuses_what_jina_refuses(fake_jina: FakeJina) -> None:
    """Image inputs only for multimodal models, and only as a URL or bare base64."""
    from chat_tui.errors import EmbeddingError
    from chat_tui.retrieval.types import Chunk

    image = Chunk(id="1", source="/a.png", text="", image="data:image/png;base64,AAAA")
    v4 = JinaEmbedder(jina_embedding(fake_jina))
    try:
        await v4.embed_documents([image])
    except EmbeddingError as error:
        assert "400" in str(error)
    else:  # "AAAA" is not an image: the fake, like Jina, refuses it
        raise AssertionError("a bad image was embedded")
    finally:
        await v4.aclose()
