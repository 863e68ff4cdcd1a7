"""The ingest pipeline end to end: real Milvus Lite (one local server), the fake Jina server."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from chat_tui.config import Settings
from chat_tui.errors import EmbeddingError, IngestError
from chat_tui.ingest.chunking import chunk_document
from chat_tui.ingest.loaders import load_document
from chat_tui.ingest.pipeline import IngestReport, ingest_paths
from chat_tui.retrieval.milvus_store import KnowledgeStore
from tests.support.corpus import FACTS, INGESTED, SILENTLY_IGNORED, SKIPPED_WITH_REASON, make_corpus
from tests.support.fake_jina import FakeJina
from tests.unit.ingest.conftest import ingest_settings, jina_embedding

TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class RecordingProgress:
    """An ``IngestProgress`` that remembers every call."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.done: dict[str, int] = {}
        self.skipped: dict[str, str] = {}
        self.embedded = 0

    def started(self, total_files: int) -> None:
        self.total = total_files

    def file_done(self, path: str, chunks: int) -> None:
        self.done[path] = chunks

    def file_skipped(self, path: str, reason: str) -> None:
        self.skipped[path] = reason

    def chunks_embedded(self, n: int) -> None:
        self.embedded += n


@pytest.fixture
def corpus(tmp_path: Path) -> dict[str, Path]:
    return make_corpus(tmp_path / "corpus")


@pytest.fixture
def settings(milvus_data_dir: Path, fake_jina: FakeJina) -> Settings:
    return ingest_settings(milvus_data_dir, jina_embedding(fake_jina))


def key(path: Path) -> str:
    return str(path.resolve())


def expected_chunks(path: Path, settings: Settings) -> int:
    data = path.read_bytes()
    document = load_document(path, data, allow_images=False)
    chunks = chunk_document(
        document,
        source=key(path),
        file_hash=hashlib.sha256(data).hexdigest(),
        chunk_tokens=settings.ingest.chunk_tokens,
        overlap=settings.ingest.chunk_overlap,
    )
    return len(chunks)


async def ingest(root: Path, settings: Settings, kb: str, **options: object) -> IngestReport:
    return await ingest_paths([root], settings=settings, knowledge_base=kb, **options)  # type: ignore[arg-type]


async def test_mixed_corpus_goes_in_with_sources_skips_and_exit_code(
    corpus: dict[str, Path],
    settings: Settings,
    kb_name: str,
    store: KnowledgeStore,
    fake_jina: FakeJina,
) -> None:
    progress = RecordingProgress()
    report = await ingest(corpus["english_md"].parents[1], settings, kb_name, progress=progress)

    assert set(report.added) == {key(corpus[name]) for name in INGESTED}
    assert {skip.path: skip.reason.split(" (")[0] for skip in report.skipped} == {
        key(corpus[name]): reason for name, reason in SKIPPED_WITH_REASON.items()
    }
    assert report.exit_code == 0 and report.dense  # every skip is by policy
    assert not any(skip.failed for skip in report.skipped)
    seen = set(report.added) | {skip.path for skip in report.skipped}
    assert not seen & {key(corpus[name]) for name in SILENTLY_IGNORED}

    stored = {source: (file_hash, count) for source, file_hash, count in store.sources()}
    assert set(stored) == set(report.added)
    for name in INGESTED:
        file_hash, count = stored[key(corpus[name])]
        assert file_hash == hashlib.sha256(corpus[name].read_bytes()).hexdigest()
        assert count == expected_chunks(corpus[name], settings), name
    assert report.chunks == sum(count for _, count in stored.values()) == report.embedded
    assert fake_jina.inputs_embedded == report.chunks
    assert fake_jina.embed_calls < len(INGESTED)  # chunks of several files share requests

    assert progress.total == len(INGESTED) + len(SKIPPED_WITH_REASON)
    assert progress.done == {key(corpus[n]): stored[key(corpus[n])][1] for n in INGESTED}
    assert set(progress.skipped) == {key(corpus[n]) for n in SKIPPED_WITH_REASON}
    assert progress.embedded == report.chunks

    hit = store.search_bm25("capybara festival Oslo", 1)[0]
    assert hit.chunk.source == key(corpus["english_md"])
    assert hit.chunk.heading == "Field Guide > Festivals"
    assert (
        hit.chunk.line_start is not None
        and FACTS["english_md"]
        in corpus["english_md"]
        .read_text(encoding="utf-8")
        .split("\n")[hit.chunk.line_start - 1 + 2]
    )
    page = store.search_bm25("penguins pebbles", 1)[0]
    assert (page.chunk.source, page.chunk.page) == (key(corpus["pdf"]), 2)
    gbk = store.search_bm25("西湖 茶馆", 1)[0]
    assert gbk.chunk.source == key(corpus["gbk_txt"]) and FACTS["gbk_txt"] in gbk.chunk.text


async def test_reingest_of_unchanged_files_makes_no_embedding_calls(
    corpus: dict[str, Path],
    settings: Settings,
    kb_name: str,
    store: KnowledgeStore,
    fake_jina: FakeJina,
) -> None:
    root = corpus["english_md"].parents[1]
    first = await ingest(root, settings, kb_name)
    calls, before = fake_jina.embed_calls, store.sources()
    progress = RecordingProgress()
    second = await ingest(root, settings, kb_name, progress=progress)
    assert fake_jina.embed_calls == calls
    assert set(second.unchanged) == set(first.added)
    assert second.added == second.updated == () and second.chunks == second.embedded == 0
    assert store.sources() == before
    assert all(chunks == 0 for chunks in progress.done.values()) and len(progress.done) == len(
        INGESTED
    )


async def test_a_changed_file_has_its_chunks_replaced(
    corpus: dict[str, Path],
    settings: Settings,
    kb_name: str,
    store: KnowledgeStore,
    fake_jina: FakeJina,
) -> None:
    root = corpus["english_md"].parents[1]
    await ingest(root, settings, kb_name)
    guide = corpus["english_md"]
    guide.write_text(
        guide.read_text(encoding="utf-8").replace(
            FACTS["english_md"], "The walrus parade happens in Bergen."
        ),
        encoding="utf-8",
    )
    inputs = fake_jina.inputs_embedded
    report = await ingest(root, settings, kb_name)
    assert report.updated == (key(guide),) and report.added == ()
    assert len(report.unchanged) == len(INGESTED) - 1
    assert fake_jina.inputs_embedded - inputs == report.chunks == expected_chunks(guide, settings)
    assert store.file_hashes()[key(guide)] == hashlib.sha256(guide.read_bytes()).hexdigest()
    assert store.search_bm25("walrus parade Bergen", 1)[0].chunk.source == key(guide)
    # The old sentence is gone (the "Festivals" section itself still matches, stemmed).
    assert not [
        p
        for p in store.search_bm25("capybara festival Oslo", 5)
        if p.chunk.source == key(guide) and "capybara" in p.chunk.text
    ]
    assert dict((s, c) for s, _, c in store.sources())[key(guide)] == expected_chunks(
        guide, settings
    )


async def test_prune_removes_files_that_are_gone_and_only_under_the_given_paths(
    tmp_path: Path, settings: Settings, kb_name: str, store: KnowledgeStore
) -> None:
    docs, other = tmp_path / "docs", tmp_path / "other"
    for folder, names in ((docs, ("a.md", "b.md")), (other, ("c.md",))):
        folder.mkdir()
        for name in names:
            (folder / name).write_text(f"# {name}\n\nAbout {name}.\n", encoding="utf-8")
    await ingest_paths([docs, other], settings=settings, knowledge_base=kb_name)
    (docs / "b.md").unlink()
    (other / "c.md").unlink()

    kept = await ingest(docs, settings, kb_name)
    assert kept.removed == () and key(docs / "b.md") in store.file_hashes()

    pruned = await ingest(docs, settings, kb_name, prune=True)
    assert pruned.removed == (str(docs.resolve() / "b.md"),)
    assert pruned.exit_code == 0
    assert [source for source, _, _ in store.sources()] == [
        key(docs / "a.md"),
        str(other.resolve() / "c.md"),
    ]


async def test_bm25_only_without_a_key(
    corpus: dict[str, Path], milvus_data_dir: Path, kb_name: str, fake_jina: FakeJina
) -> None:
    settings = ingest_settings(milvus_data_dir)  # embedding.provider = "none"
    (corpus["english_md"].parent / "photo.png").write_bytes(TINY_PNG)
    report = await ingest(corpus["english_md"].parents[1], settings, kb_name)
    store = KnowledgeStore(settings, kb_name)
    try:
        assert not report.dense and report.embedded == 0 and fake_jina.embed_calls == 0
        assert set(report.added) == {key(corpus[name]) for name in INGESTED}
        reasons = {skip.path: skip.reason for skip in report.skipped}
        assert (
            reasons[key(corpus["english_md"].parent / "photo.png")]
            == "image (needs a multimodal embedder)"
        )
        assert store.dense_dim is None
        assert store.search_bm25("上海 图书馆", 1)[0].chunk.heading == "城市指南 > 上海"
    finally:
        store.drop()
        store.close()


async def test_images_become_image_chunks_for_a_multimodal_embedder(
    tmp_path: Path, settings: Settings, kb_name: str, store: KnowledgeStore, fake_jina: FakeJina
) -> None:
    (tmp_path / "photo.png").write_bytes(TINY_PNG)
    (tmp_path / "note.md").write_text("# Note\n\nA photo of the harbour.\n", encoding="utf-8")
    report = await ingest(tmp_path, settings, kb_name)
    assert report.exit_code == 0 and len(report.added) == 2
    images = [
        item
        for request in fake_jina.requests
        for item in request.get("input", [])
        if isinstance(item, dict)
    ]
    # Sent as Jina documents it: the file's bare base64.
    assert [item["image"] for item in images if "image" in item] == [
        base64.b64encode(TINY_PNG).decode("ascii")
    ]


async def test_a_bad_key_is_fatal_and_keeps_what_was_stored(
    corpus: dict[str, Path],
    settings: Settings,
    kb_name: str,
    store: KnowledgeStore,
    fake_jina: FakeJina,
) -> None:
    root = corpus["english_md"].parents[1]
    await ingest(root, settings, kb_name)
    before = store.sources()
    corpus["english_md"].write_text("# Changed\n\nNew text.\n", encoding="utf-8")
    bad = ingest_settings(settings.data_dir, jina_embedding(fake_jina, api_key="jina-wrong-key"))
    with pytest.raises(EmbeddingError) as caught:
        await ingest(root, bad, kb_name)
    assert "jina-wrong-key" not in str(caught.value)
    assert store.sources() == before  # the old version of the changed file is still there


async def test_memory_bound_on_unstored_files_does_not_stall_part_batches(
    tmp_path: Path,
    settings: Settings,
    kb_name: str,
    store: KnowledgeStore,
    fake_jina: FakeJina,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chat_tui.ingest import pipeline

    monkeypatch.setattr(pipeline, "UNSTORED_FILES", 2)
    for number in range(7):
        (tmp_path / f"n{number}.md").write_text(f"# Note {number}\n\nShort.\n", encoding="utf-8")
    report = await ingest(tmp_path, settings, kb_name)  # batch size 128 > 7 chunks in all
    assert len(report.added) == 7 and report.chunks == 7
    assert len(store.sources()) == 7
    assert fake_jina.embed_calls >= 3  # part batches went out instead of waiting for 128


async def test_prune_keeps_files_that_exist_but_were_filtered_out(
    tmp_path: Path, settings: Settings, kb_name: str, store: KnowledgeStore
) -> None:
    docs = tmp_path / "docs"
    (docs / "drafts").mkdir(parents=True)
    names = ("a.md", "gone.md", "b.txt", "keep.md", "drafts/c.md")
    for name in names:
        (docs / name).write_text(f"# {name}\n\nAbout {name}.\n", encoding="utf-8")
    first = await ingest(docs, settings, kb_name)
    assert len(first.added) == len(names)
    (docs / "gone.md").unlink()
    (docs / ".gitignore").write_text("drafts/\n", encoding="utf-8")

    pruned = await ingest(docs, settings, kb_name, include=["*.md"], exclude=["keep*"], prune=True)
    # b.txt (not included), keep.md (excluded), drafts/c.md (.gitignore) are still on disk.
    assert pruned.removed == (str(docs.resolve() / "gone.md"),)
    assert sorted(store.file_hashes()) == sorted(
        key(docs / name) for name in names if name != "gone.md"
    )


async def test_prune_of_a_given_path_that_is_gone_removes_its_files(
    tmp_path: Path, settings: Settings, kb_name: str, store: KnowledgeStore
) -> None:
    old, kept = tmp_path / "old", tmp_path / "kept"
    for folder in (old, kept):
        folder.mkdir()
        for name in ("x.md", "y.md"):
            (folder / name).write_text(f"# {name}\n\nAbout {name}.\n", encoding="utf-8")
    await ingest_paths([old, kept], settings=settings, knowledge_base=kb_name)
    stored_old = sorted(key(old / name) for name in ("x.md", "y.md"))
    for name in ("x.md", "y.md"):
        (old / name).unlink()
    old.rmdir()
    (kept / "x.md").unlink()

    report = await ingest_paths(
        [old, kept / "x.md"], settings=settings, knowledge_base=kb_name, prune=True
    )
    assert sorted(report.removed) == sorted([*stored_old, str(kept.resolve() / "x.md")])
    assert report.exit_code == 0
    assert sorted(store.file_hashes()) == [key(kept / "y.md")]


async def test_a_400_for_one_file_skips_that_file_and_stores_the_others(
    tmp_path: Path, settings: Settings, kb_name: str, store: KnowledgeStore, fake_jina: FakeJina
) -> None:
    fake_jina.reject_marker = "UNEMBEDDABLE-INPUT"
    for name in ("a.md", "c.md"):
        (tmp_path / name).write_text(f"# {name}\n\nAbout {name}.\n", encoding="utf-8")
    long_text = "\n\n".join(f"Paragraph {n} about walruses." * 20 for n in range(12))
    (tmp_path / "bad.md").write_text(
        f"# Bad\n\n{long_text}\n\nUNEMBEDDABLE-INPUT here.\n", encoding="utf-8"
    )
    progress = RecordingProgress()
    report = await ingest(tmp_path, settings, kb_name, progress=progress)

    assert report.added == (key(tmp_path / "a.md"), key(tmp_path / "c.md"))
    assert [skip.path for skip in report.skipped] == [key(tmp_path / "bad.md")]
    assert "400" in report.skipped[0].reason and "\n" not in report.skipped[0].reason
    assert report.exit_code == 1
    assert set(progress.skipped) == {key(tmp_path / "bad.md")}
    assert sorted(store.file_hashes()) == [key(tmp_path / "a.md"), key(tmp_path / "c.md")]
    assert store.search_bm25("About a.md", 1)[0].chunk.source == key(tmp_path / "a.md")
    assert not store.search_bm25("walruses", 5)


async def test_a_fatal_error_after_a_400_still_stops_the_ingest(
    tmp_path: Path, settings: Settings, kb_name: str, store: KnowledgeStore, fake_jina: FakeJina
) -> None:
    fake_jina.reject_marker = "UNEMBEDDABLE-INPUT"
    (tmp_path / "a.md").write_text("# A\n\nAlpha.\n", encoding="utf-8")
    (tmp_path / "bad.md").write_text("# B\n\nUNEMBEDDABLE-INPUT.\n", encoding="utf-8")
    fake_jina.fail_next(400)  # the batch is refused ...
    fake_jina.fail_next(401, times=5)  # ... and the retries meet a revoked key
    with pytest.raises(EmbeddingError, match="401"):
        await ingest(tmp_path, settings, kb_name)
    assert store.file_hashes() == {}


async def test_a_400_for_every_file_is_a_fatal_error_not_a_tree_of_skips(
    tmp_path: Path, settings: Settings, kb_name: str, store: KnowledgeStore, fake_jina: FakeJina
) -> None:
    # What a wrong model name or unsupported dimensions look like: every request refused.
    fake_jina.reject_marker = "#"
    for name in ("a.md", "b.md", "c.md"):
        (tmp_path / name).write_text(f"# {name}\n\nAbout {name}.\n", encoding="utf-8")
    with pytest.raises(EmbeddingError, match="400"):
        await ingest(tmp_path, settings, kb_name)
    assert store.file_hashes() == {}
    assert len(fake_jina.requests) <= 4  # the batch, then one file at a time at most


async def test_rebuild_that_finds_no_files_keeps_the_knowledge_base(
    tmp_path: Path, settings: Settings, kb_name: str, store: KnowledgeStore
) -> None:
    (tmp_path / "a.md").write_text("# A\n\nAlpha facts about llamas.\n", encoding="utf-8")
    await ingest(tmp_path, settings, kb_name)
    before = store.file_hashes()
    with pytest.raises(IngestError, match="no files"):
        await ingest_paths(
            [tmp_path], settings=settings, knowledge_base=kb_name, include=["*.rst"], rebuild=True
        )
    assert store.file_hashes() == before


async def test_reingest_with_an_openai_compatible_embedder_makes_no_requests(
    tmp_path: Path, milvus_data_dir: Path, kb_name: str, store: KnowledgeStore, fake_jina: FakeJina
) -> None:
    from chat_tui.config import EmbeddingSettings

    embedding = EmbeddingSettings(
        provider="openai", base_url=fake_jina.url, api_key=fake_jina.api_key, model="nomic"
    )
    settings = ingest_settings(milvus_data_dir, embedding)
    (tmp_path / "a.md").write_text("# A\n\nAlpha facts about llamas.\n", encoding="utf-8")
    first = await ingest(tmp_path, settings, kb_name)
    assert first.added == (key(tmp_path / "a.md"),) and first.dense
    assert store.dense_dim == 1024  # the server's real size, not the configured one
    requests = len(fake_jina.requests)
    second = await ingest(tmp_path, settings, kb_name)
    assert second.unchanged == (key(tmp_path / "a.md"),)
    assert len(fake_jina.requests) == requests


async def test_rebuild_with_an_embedder_that_fails_keeps_the_knowledge_base(
    corpus: dict[str, Path],
    settings: Settings,
    kb_name: str,
    store: KnowledgeStore,
    fake_jina: FakeJina,
) -> None:
    root = corpus["english_md"].parents[1]
    await ingest(root, settings, kb_name)
    before = store.sources()
    bad_key = ingest_settings(settings.data_dir, jina_embedding(fake_jina, api_key="jina-wrong"))
    with pytest.raises(EmbeddingError, match="JINA_API_KEY"):
        await ingest(root, bad_key, kb_name, rebuild=True)
    unreachable = ingest_settings(
        settings.data_dir, jina_embedding(fake_jina, base_url="http://127.0.0.1:9/v1")
    )
    with pytest.raises(EmbeddingError, match="cannot reach"):
        await ingest(root, unreachable, kb_name, rebuild=True)
    assert store.sources() == before


async def test_rebuild_embeds_everything_again_at_the_new_dimension(
    tmp_path: Path, settings: Settings, kb_name: str, store: KnowledgeStore, fake_jina: FakeJina
) -> None:
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text(f"# {name}\n\nAbout {name}.\n", encoding="utf-8")
    await ingest(tmp_path, settings, kb_name)
    assert store.dense_dim == settings.embedding.dimensions
    wider = ingest_settings(settings.data_dir, jina_embedding(fake_jina, dimensions=48))
    inputs = fake_jina.inputs_embedded
    report = await ingest(tmp_path, wider, kb_name, rebuild=True)
    assert report.added == (key(tmp_path / "a.md"), key(tmp_path / "b.md"))
    assert fake_jina.inputs_embedded - inputs == report.chunks + 1  # + the probe
    reopened = KnowledgeStore(wider, kb_name)
    try:
        assert reopened.dense_dim == 48 and len(reopened.sources()) == 2
    finally:
        reopened.close()


async def test_a_sphinx_build_goes_in_without_its_generated_files_and_sources_locate(
    tmp_path: Path, milvus_data_dir: Path, kb_name: str
) -> None:
    import io
    from dataclasses import replace

    from rich.console import Console

    from chat_tui.ingest.progress import render_summary

    build = tmp_path / "html"
    (build / "_sources").mkdir(parents=True)
    (build / "_static").mkdir()
    (build / "_sources" / "os.rst.txt").write_text("os\n==\n\nThe walrus module.\n")
    (build / "_static" / "basic.css").write_text("body { color: red }\n")
    (build / "searchindex.js").write_text("Search.setIndex({docnames:['os'], 449, 452})\n")
    (build / "genindex.html").write_text("<html><body><main>walrus, 1</main></body></html>")
    (build / "os.html").write_text(
        '<html><body><div role="navigation">next | previous</div><div class="body"'
        ' role="main"><section id="walrus-api"><h1>Walrus API<a class="headerlink"'
        ' href="#walrus-api">¶</a></h1><p>The walrus module counts tusks.</p></section>'
        "</div></body></html>"
    )
    settings = ingest_settings(milvus_data_dir)
    report = await ingest(build, settings, kb_name)
    store = KnowledgeStore(settings, kb_name)
    try:
        assert report.added == (key(build / "os.html"),) and report.skipped == ()
        assert sum(count for _, count in report.generated) == 4
        hits = store.search_bm25("walrus tusks", 5)
        assert [hit.chunk.source for hit in hits] == [key(build / "os.html")]
        assert hits[0].citation().label() == "os.html#walrus-api > Walrus API"
        shown = Console(file=io.StringIO(), width=200)
        shown.print(render_summary(report))
        assert "generated (left out)" in shown.file.getvalue()  # type: ignore[attr-defined]
        # Emptying the default list reads the generated files too.
        everything = replace(settings, ingest=replace(settings.ingest, default_excludes=()))
        again = await ingest(build, everything, kb_name)
        assert key(build / "searchindex.js") in again.added and again.generated == ()
    finally:
        store.drop()
        store.close()
