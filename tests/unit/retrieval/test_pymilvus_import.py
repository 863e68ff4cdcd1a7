"""pymilvus imported without pandas still stores and searches; pandas works when touched.

Each check runs in a fresh process (this one may have imported pandas or pymilvus long
ago), against the session's real Milvus Lite server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

ROUND_TRIP = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])

def pandas_loaded():
    return any(m.split(".")[0] in ("pandas", "requests") for m in sys.modules)

from tests.support.fake_jina import embed_text
from tests.unit.retrieval.conftest import base_settings
from chat_tui.retrieval.milvus_store import KnowledgeStore
from chat_tui.retrieval.types import Chunk

texts = [
    "Wombats dig burrows with their claws.",
    "使用 pip 安装向量数据库，然后启动服务器。",
    "The weather in Lisbon is mild in winter.",
]
store = KnowledgeStore(base_settings(Path(sys.argv[1])), sys.argv[2], dense_dim=8)
report = {}
try:
    store.ensure()
    report["pandas after create"] = pandas_loaded()
    chunks = [Chunk(id=f"a.md#{i}", source="a.md", text=t, index=i) for i, t in enumerate(texts)]
    store.replace_file("a.md", "hash", chunks, [embed_text(t, 8) for t in texts])
    report["pandas after insert"] = pandas_loaded()
    store.close()
    store = KnowledgeStore(base_settings(Path(sys.argv[1])), sys.argv[2])
    report["bm25"] = store.search_bm25("wombats burrows", 2)[0].chunk.text
    report["bm25 zh"] = store.search_bm25("安装 数据库", 2)[0].chunk.text
    report["dense"] = store.search_dense(embed_text(texts[2], 8), 2)[0].chunk.text
    hybrid = store.search_hybrid("Lisbon winter", embed_text(texts[2], 8), 2, candidates=3)
    report["hybrid"] = hybrid[0].chunk.text
    report["files"] = [source for source, _, _ in store.sources()]
    report["pandas after search"] = pandas_loaded()
finally:
    store.drop()
    store.close()
print(json.dumps(report))
"""


def _run(code: str, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_the_store_writes_and_searches_without_pandas(milvus_data_dir: Path) -> None:
    report = json.loads(_run(ROUND_TRIP, str(milvus_data_dir), "no_pandas_round_trip", str(ROOT)))
    assert report["bm25"].startswith("Wombats")
    assert report["bm25 zh"].startswith("使用 pip")
    assert report["dense"].startswith("The weather") and report["hybrid"].startswith("The weather")
    assert report["files"] == ["a.md"]
    # kb search and ask only search: pandas (0.24 s) and requests (0.1 s) must never be
    # imported for them.
    assert report["pandas after search"] is False
    assert report["pandas after create"] is False and report["pandas after insert"] is False


def test_pandas_is_real_when_touched_after_the_import() -> None:
    code = (
        "import sys\n"
        "from chat_tui.retrieval.pymilvus_import import import_pymilvus\n"
        "pymilvus = import_pymilvus()\n"
        "assert not {'pandas', 'pandas.api.types', 'requests'} & set(sys.modules)\n"
        "import pandas\n"
        "from pymilvus.orm import schema, types\n"
        "frame = pandas.DataFrame({'a': [1, 2]})\n"
        "assert type(pandas.DataFrame).__name__ == 'type' and len(frame) == 2\n"
        "assert schema.is_valid_insert_data(frame) and not schema.is_valid_insert_data(3)\n"
        "assert schema.check_is_row_based([{'a': 1}]) and not schema.check_is_row_based(frame)\n"
        "print(types.infer_dtype_bydata([1.5, 2.5]).name, types.infer_dtype_bydata(7).name)\n"
        "import requests\n"
        "from pymilvus.client import global_topology\n"
        "assert global_topology.requests.get is requests.get\n"
        "assert 'requests' in sys.modules and 'pandas' in sys.modules\n"
    )
    assert _run(code) == "FLOAT_VECTOR INT64"


@pytest.mark.parametrize(
    ("first", "printed"),
    [
        ("pandas", "False True True"),
        ("pymilvus", "False False True"),
        ("requests", "True False False"),
    ],
)
def test_an_earlier_import_is_used_as_it_is(first: str, printed: str) -> None:
    # Printed: pymilvus's pandas is a stand-in, its requests is, pandas was imported.
    code = (
        f"import {first}, sys\n"
        "from chat_tui.retrieval.pymilvus_import import DeferredModule, import_pymilvus\n"
        "import_pymilvus()\n"
        "from pymilvus.orm import schema\n"
        "from pymilvus.client import global_topology\n"
        "print(isinstance(schema.pd, DeferredModule),\n"
        "      isinstance(global_topology.requests, DeferredModule),\n"
        "      'pandas' in sys.modules)\n"
    )
    assert _run(code) == printed


def test_kb_search_on_a_real_knowledge_base_imports_only_what_it_needs(
    milvus_data_dir: Path, tmp_path: Path
) -> None:
    from chat_tui.retrieval.milvus_store import KnowledgeStore
    from chat_tui.retrieval.types import Chunk
    from tests.unit.retrieval.conftest import base_settings

    store = KnowledgeStore(base_settings(milvus_data_dir), "cli_imports")
    try:
        store.ensure()
        text = "Wombats dig burrows with their claws."
        store.replace_file(
            "w.md", "h", [Chunk(id="w.md#0", source="w.md", text=text, index=0)], None
        )
        code = (
            "import atexit, json, sys\n"
            "atexit.register(lambda: print('MODULES ' + json.dumps(sorted(sys.modules))))\n"
            "sys.argv = ['chat-tui', 'kb', 'search', '--kb', 'cli_imports', 'wombats']\n"
            "from chat_tui.launch import main\n"
            "main()\n"
        )
        env = {
            "CHAT_TUI_DATA_DIR": str(milvus_data_dir),
            "CHAT_TUI_CONFIG_DIR": str(tmp_path / "config"),
            "PATH": "",
        }
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
        )
    finally:
        store.drop()
        store.close()
    assert out.returncode == 0, out.stderr
    assert "Wombats dig burrows" in out.stdout  # it searched the real store
    line = next(x for x in out.stdout.splitlines() if x.startswith("MODULES "))
    modules = {m.split(".", 1)[0] for m in json.loads(line.removeprefix("MODULES "))}
    assert "pymilvus" in modules
    for unneeded in ("pandas", "requests", "openai", "textual", "typer", "pydantic", "rich"):
        assert unneeded not in modules, f"chat-tui kb search imports {unneeded}"
