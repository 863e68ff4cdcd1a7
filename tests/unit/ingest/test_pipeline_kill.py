"""A SIGKILL mid-ingest leaves no half-stored file, and the next run finishes the job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from chat_tui.ingest.pipeline import ingest_paths
from chat_tui.retrieval.milvus_store import KnowledgeStore
from tests.support.fake_jina import FakeJina
from tests.unit.ingest.conftest import DIMENSIONS, ingest_settings, jina_embedding

FILES = 16

CHILD = """
import asyncio, json, sys
from dataclasses import replace
from pathlib import Path
from chat_tui.config import EmbeddingSettings, IngestSettings, ProviderSettings, Settings
from chat_tui.ingest.pipeline import ingest_paths

args = json.loads(sys.argv[1])
provider = ProviderSettings(name="openai", base_url="http://127.0.0.1:9/v1", model="fake")
settings = replace(
    Settings(provider=provider, providers={"openai": provider}, data_dir=Path(args["data_dir"])),
    embedding=EmbeddingSettings(
        provider="jina", base_url=args["url"], api_key=args["key"], dimensions=args["dimensions"],
        batch_size=4, concurrency=1, max_retries=0,
    ),
    ingest=IngestSettings(chunk_tokens=120, chunk_overlap=20),
)

class Report:
    def started(self, total_files): pass
    def file_skipped(self, path, reason): pass
    def chunks_embedded(self, n): pass
    def file_done(self, path, chunks):
        print("done", path, chunks, flush=True)

root = Path(args["root"])
asyncio.run(ingest_paths([root], settings=settings, knowledge_base=args["kb"], progress=Report()))
print("finished", flush=True)
"""


def marker(number: int) -> str:
    return f"zebrafile{number:02d}"


def write_files(root: Path) -> list[Path]:
    root.mkdir()
    paths = []
    for number in range(FILES):
        sections = "\n\n".join(
            f"## Part {part}\n\n{marker(number)} section {part}: "
            + "words about rivers and hills. " * 12
            for part in range(3)
        )
        path = root / f"doc{number:02d}.md"
        path.write_text(f"# Document {number}\n\n{sections}\n", encoding="utf-8")
        paths.append(path)
    return paths


def hits_for(store: KnowledgeStore, number: int) -> list[str]:
    return [
        p.chunk.text
        for p in store.search_bm25(marker(number), 50)
        if marker(number) in p.chunk.text
    ]


async def test_sigkill_mid_ingest_leaves_no_half_stored_file(
    tmp_path: Path, milvus_data_dir: Path, fake_jina: FakeJina, kb_name: str
) -> None:
    paths = write_files(tmp_path / "docs")
    settings = ingest_settings(milvus_data_dir, jina_embedding(fake_jina))
    args = {
        "data_dir": str(milvus_data_dir),
        "url": fake_jina.url,
        "key": fake_jina.api_key,
        "dimensions": DIMENSIONS,
        "root": str(tmp_path / "docs"),
        "kb": kb_name,
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = child.stdout.readline() if child.stdout else ""  # the first file is stored
        assert first.startswith("done "), child.stderr.read() if child.stderr else first
        os.kill(child.pid, signal.SIGKILL)  # the next file's write is under way now
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL

    store = KnowledgeStore(settings, kb_name)
    try:
        store.ensure()  # also cleans up after the dead writer
        stored = {source: count for source, _, count in store.sources()}
        assert 1 <= len(stored) < FILES, "the kill should land mid-run"
        for number, path in enumerate(paths):
            found = hits_for(store, number)
            if str(path.resolve()) in stored:
                assert len(found) == stored[str(path.resolve())] == 3  # complete
            else:
                assert found == []  # absent, not half there

        report = await ingest_paths([tmp_path / "docs"], settings=settings, knowledge_base=kb_name)
        assert set(report.unchanged) == set(stored)
        assert len(report.added) == FILES - len(stored)
        sources = store.sources()
        assert len(sources) == FILES and all(count == 3 for _, _, count in sources)
        for number in range(FILES):
            assert len(hits_for(store, number)) == 3
    finally:
        store.drop()
        store.close()
