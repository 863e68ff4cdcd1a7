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
#: Tokens BM25 should not count: jieba emits spaces and punctuation as tokens of their
#: own (without these, "how to run it?" matches every text with a space or a "?").
_NOT_WORDS = (
    [" ", "\t", "\n"]
    + list(",.;:!?'\"()[]{}<>/\\|-_=+*&^%$#@~`")
    + list("，。；：！？、“”‘’（）【】《》…—·")
)
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
ANALYZERS: dict[str, dict[str, Any]] = {
    "jieba": {
        "tokenizer": "jieba",
        "filter": ["lowercase", {"type": "stop", "stop_words": _NOT_WORDS}],
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
        schema.add_field(
            "text",
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
            index.add_index(field_name="dense", index_type="AUTOINDEX", metric_type="COSINE")
        schema.add_function(
            Function(
                name="text_bm25",
                function_type=FunctionType.BM25,
                input_field_names=["text"],
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
