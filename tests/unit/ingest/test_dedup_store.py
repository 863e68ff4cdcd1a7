"""Passages stored once per knowledge base, every copy's file kept: real Milvus Lite, real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_tui.config import Settings
from chat_tui.domain.models import Citation
from chat_tui.ingest.pipeline import ingest_paths
from chat_tui.retrieval.milvus_store import KnowledgeStore
from chat_tui.retrieval.types import Passage
from tests.support.fake_jina import FakeJina
from tests.unit.ingest.conftest import DIMENSIONS, ingest_settings, jina_embedding

SHARED = (
    "## Licence\n\nPermission is granted to copy the walrus almanac freely, "
    "provided this notice stays.\n\n"
)
QUERY = "walrus almanac permission notice"


def write(path: Path, title: str, body: str, shared: bool = True) -> Path:
    path.write_text(f"# {title}\n\n{body}\n\n" + (SHARED if shared else ""), encoding="utf-8")
    return path


def key(path: Path) -> str:
    return str(path.resolve())


def shared_hits(store: KnowledgeStore) -> list[Passage]:
    return [p for p in store.search_bm25(QUERY, 10) if "walrus almanac" in p.chunk.text]


@pytest.fixture
def settings(milvus_data_dir: Path) -> Settings:
    return ingest_settings(milvus_data_dir)


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "docs"
    folder.mkdir()
    return {
        "a": write(folder / "a.md", "Alpha", "Capybaras hold a festival in Oslo every spring."),
        "b": write(folder / "b.md", "Beta", "Penguins collect pebbles on the beach in Bergen."),
        "c": write(folder / "c.md", "Gamma", "Otters juggle stones at the harbour of Tromsø."),
    }


async def test_copies_are_stored_once_and_the_hit_names_the_other_files(
    settings: Settings, store: KnowledgeStore, kb_name: str, tree: dict[str, Path]
) -> None:
    report = await ingest_paths(
        [tree["a"].parent], settings=settings, knowledge_base=kb_name, embedder=None
    )
    assert len(report.added) == 3
    hits = shared_hits(store)
    assert len(hits) == 1
    owner = hits[0].chunk.source
    others = {key(p) for p in tree.values()} - {owner}
    assert set(hits[0].also_in) == others
    label = hits[0].citation().label()
    assert "(also in: " in label and all(Path(o).name in label for o in others)
    # Distinct passages are all still there.
    assert store.search_bm25("penguins pebbles Bergen", 1)[0].chunk.source == key(tree["b"])


async def test_removing_the_file_that_stores_a_passage_keeps_it_under_a_copy(
    settings: Settings, store: KnowledgeStore, kb_name: str, tree: dict[str, Path]
) -> None:
    await ingest_paths([tree["a"].parent], settings=settings, knowledge_base=kb_name, embedder=None)
    owner = shared_hits(store)[0].chunk.source
    store.remove_file(owner)
    hits = shared_hits(store)
    assert len(hits) == 1
    assert hits[0].chunk.source != owner
    remaining = {key(p) for p in tree.values()} - {owner}
    assert {hits[0].chunk.source, *hits[0].also_in} == remaining
    assert hits[0].chunk.heading.endswith("Licence")
    # Remove every other file: the passage goes with the last one.
    for source in sorted(remaining):
        store.remove_file(source)
    assert shared_hits(store) == []


async def test_a_changed_owner_hands_the_passage_over_and_unchanged_reingest_is_a_no_op(
    settings: Settings, store: KnowledgeStore, kb_name: str, tree: dict[str, Path]
) -> None:
    folder = tree["a"].parent
    await ingest_paths([folder], settings=settings, knowledge_base=kb_name, embedder=None)
    before = shared_hits(store)
    again = await ingest_paths([folder], settings=settings, knowledge_base=kb_name, embedder=None)
    assert len(again.unchanged) == 3 and not again.added and not again.updated
    after = shared_hits(store)
    assert [(p.chunk.source, p.also_in) for p in after] == [
        (p.chunk.source, p.also_in) for p in before
    ]
    owner = Path(before[0].chunk.source)
    write(owner, "Changed", "Owls read maps by moonlight in Narvik.", shared=False)
    changed = await ingest_paths([folder], settings=settings, knowledge_base=kb_name, embedder=None)
    assert changed.updated == (str(owner),)
    hits = shared_hits(store)
    assert len(hits) == 1 and hits[0].chunk.source != str(owner)
    assert str(owner) not in hits[0].also_in and len(hits[0].also_in) == 1
    assert store.search_bm25("owls moonlight Narvik", 1)[0].chunk.source == str(owner)
    # The changed file takes the passage back: it is a copy again, not a second row.
    write(owner, "Back", "Owls read maps by moonlight in Narvik.")
    await ingest_paths([folder], settings=settings, knowledge_base=kb_name, embedder=None)
    hits = shared_hits(store)
    assert len(hits) == 1 and str(owner) in hits[0].also_in


async def test_prune_and_hostile_file_names(
    settings: Settings, store: KnowledgeStore, kb_name: str, tmp_path: Path
) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    names = ["x'] or key not in ['.md", 'q"uote\\back.md', "new\nline.md", "\x1b[31mred.md"]
    paths = [
        # Bodies over 40 characters: a shorter one is merged into the next chunk (the
        # shared section), which then differs per file.
        write(folder / n, f"T{i}", f"Unique body number {i} about kites and their strings.")
        for i, n in enumerate(names)
    ]
    await ingest_paths([folder], settings=settings, knowledge_base=kb_name, embedder=None)
    hits = shared_hits(store)
    assert len(hits) == 1 and len(hits[0].also_in) == len(paths) - 1
    label = hits[0].citation().label()
    assert "\x1b" not in label and "\n" not in label
    owner = Path(hits[0].chunk.source)
    owner.unlink()
    report = await ingest_paths(
        [folder], settings=settings, knowledge_base=kb_name, embedder=None, prune=True
    )
    assert report.removed == (str(owner),)
    hits = shared_hits(store)
    assert len(hits) == 1 and hits[0].chunk.source != str(owner)
    assert len(hits[0].also_in) == len(paths) - 2


async def test_a_dense_passage_keeps_its_vector_when_handed_over(
    milvus_data_dir: Path, fake_jina: FakeJina, kb_name: str, tree: dict[str, Path]
) -> None:
    settings = ingest_settings(milvus_data_dir, jina_embedding(fake_jina))
    store = KnowledgeStore(settings, kb_name)
    try:
        await ingest_paths([tree["a"].parent], settings=settings, knowledge_base=kb_name)
        owner = shared_hits(store)[0].chunk.source
        store.remove_file(owner)
        found = [
            p
            for p in store.search_dense([1.0] + [0.0] * (DIMENSIONS - 1), 10)
            if "walrus almanac" in p.chunk.text
        ]
        assert len(found) == 1 and found[0].chunk.source != owner
    finally:
        store.drop()
        store.close()


async def test_rebuild_stores_the_passage_once_again(
    settings: Settings, store: KnowledgeStore, kb_name: str, tree: dict[str, Path]
) -> None:
    folder = tree["a"].parent
    await ingest_paths([folder], settings=settings, knowledge_base=kb_name, embedder=None)
    await ingest_paths(
        [folder], settings=settings, knowledge_base=kb_name, embedder=None, rebuild=True
    )
    hits = shared_hits(store)
    assert len(hits) == 1 and len(hits[0].also_in) == 2


def test_citations_show_the_other_files_and_old_ones_load() -> None:
    old = Citation.from_dict({"source": "/d/a.md", "heading": "Licence"})
    assert old.also_in == () and "also in" not in old.label()
    many = Citation(
        source="/d/a.md", root="/d", also_in=("/d/b.md", "/d/sub/c.md", "/d/e.md", "/d/f.md")
    )
    assert many.label() == "a.md (also in: b.md, sub/c.md +2)"
    assert Citation.from_dict(many.to_dict()) == many
    hostile = Citation(source="/d/a.md", also_in=("/d/\x1b]0;pwn\x07.md",))
    assert "\x1b" not in hostile.label() and "\x07" not in hostile.label()


class RemoveOnFirstEmbedding:
    """Progress that removes a file from the KB when the first vectors arrive (a race)."""

    def __init__(self, settings: Settings, kb_name: str, source: str) -> None:
        self.store = KnowledgeStore(settings, kb_name)
        self.source = source
        self.removed = False

    def started(self, total_files: int) -> None: ...

    def file_done(self, path: str, chunks: int) -> None: ...

    def file_skipped(self, path: str, reason: str) -> None: ...

    def chunks_embedded(self, n: int) -> None:
        if not self.removed:
            self.removed = True
            self.store.remove_file(self.source)
            self.store.close()


async def test_copies_are_not_embedded_and_a_passage_gone_meanwhile_is_embedded_after_all(
    milvus_data_dir: Path, fake_jina: FakeJina, kb_name: str, tree: dict[str, Path]
) -> None:
    settings = ingest_settings(milvus_data_dir, jina_embedding(fake_jina))
    store = KnowledgeStore(settings, kb_name)
    try:
        report = await ingest_paths([tree["a"]], settings=settings, knowledge_base=kb_name)
        assert report.embedded == 2
        # b.md and c.md: each has its own chunk and the licence stored by a.md.
        report = await ingest_paths(
            [tree["b"], tree["c"]], settings=settings, knowledge_base=kb_name
        )
        assert report.chunks == 4 and report.embedded == 2
        assert set(shared_hits(store)[0].also_in) == {key(tree["b"]), key(tree["c"])}
        # a.md is removed by someone else after d.md was found to need no vector for
        # the licence: the write finds out and embeds it.
        d = write(tree["a"].parent / "d.md", "Delta", "Herons fish in the fjord at dawn.")
        for source in (key(tree["b"]), key(tree["c"])):
            store.remove_file(source)
        race = RemoveOnFirstEmbedding(settings, kb_name, key(tree["a"]))
        report = await ingest_paths([d], settings=settings, knowledge_base=kb_name, progress=race)
        assert race.removed and report.added == (key(d),) and report.embedded == 2
        hits = shared_hits(store)
        assert [(h.chunk.source, h.also_in) for h in hits] == [(key(d), ())]
        found = [
            p
            for p in store.search_dense([1.0] + [0.0] * (DIMENSIONS - 1), 10)
            if "walrus almanac" in p.chunk.text
        ]
        assert [p.chunk.source for p in found] == [key(d)]
    finally:
        store.drop()
        store.close()


def test_a_dense_write_without_the_vectors_it_needs_writes_nothing(
    milvus_data_dir: Path, kb_name: str
) -> None:
    from chat_tui.retrieval.milvus_copies import MissingVectors
    from chat_tui.retrieval.types import Chunk

    store = KnowledgeStore(ingest_settings(milvus_data_dir), kb_name, dense_dim=4)
    try:
        store.ensure()
        chunks = [Chunk(id=f"c{i}", source="/x'.md", text=f"text {i}", index=i) for i in range(2)]
        with pytest.raises(MissingVectors) as raised:
            store.replace_files([("/x'.md", "h", chunks, [[1.0, 0.0, 0.0, 0.0], None])])
        assert raised.value.needed == [(0, 1)]
        assert store.sources() == []
        # The same write with its vectors goes in whole.
        store.replace_files([("/x'.md", "h", chunks, [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])])
        assert store.sources() == [("/x'.md", "h", 2)]
        assert sorted(p.chunk.text for p in store.search_bm25("text", 5)) == ["text 0", "text 1"]
    finally:
        store.drop()
        store.close()
