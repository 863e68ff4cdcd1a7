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
#: Fields added for citations that locate (HTML anchor, ingested folder); collections made
#: before them lack them and are read and written without them.
LOCATION_FIELDS = ["anchor", "root"]
_PUNCTUATION = list(",.;:!?'\"()[]{}<>/\\|-_=+*&^%$#@~`") + list(
    "，。；：！？、“”‘’（）【】《》…—·"
)
JIEBA_ANALYZER: dict[str, Any] = {
    "tokenizer": "jieba",
    "filter": ["lowercase", {"type": "stop", "stop_words": _PUNCTUATION}],
}
STANDARD_ANALYZER: dict[str, Any] = {"tokenizer": "standard"}
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
_HNSW_PARAMS = {"M": 16, "efConstruction": 200}


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
    """Create the chunks collection with the ``analyzer`` ("jieba" or "standard") for BM25.

    jieba falls back to standard when the server lacks it.
    """
    from pymilvus import DataType, Function, FunctionType

    candidates = (
        (JIEBA_ANALYZER, STANDARD_ANALYZER) if analyzer == "jieba" else (STANDARD_ANALYZER,)
    )
    for analyzer_params in candidates:
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("source", DataType.VARCHAR, max_length=SOURCE_MAX_BYTES)
        schema.add_field("file_hash", DataType.VARCHAR, max_length=HASH_MAX_BYTES)
        schema.add_field("version", DataType.VARCHAR, max_length=64)
        schema.add_field("heading", DataType.VARCHAR, max_length=HEADING_MAX_BYTES)
        schema.add_field("anchor", DataType.VARCHAR, max_length=ANCHOR_MAX_BYTES)
        schema.add_field("root", DataType.VARCHAR, max_length=SOURCE_MAX_BYTES)
        schema.add_field(
            "text",
            DataType.VARCHAR,
            max_length=TEXT_MAX_BYTES,
            enable_analyzer=True,
            analyzer_params=analyzer_params,
        )
        for number_field in ("line_start", "line_end", "page", "idx"):
            schema.add_field(number_field, DataType.INT64)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        index = client.prepare_index_params()
        index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        # replace_file / remove_file delete and look up rows by source.
        index.add_index(field_name="source", index_type="INVERTED")
        if dense_dim:
            schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dense_dim)
            index.add_index(
                field_name="dense", index_type="HNSW", metric_type="COSINE", params=_HNSW_PARAMS
            )
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
            if analyzer_params is JIEBA_ANALYZER and "jieba" in str(error).lower():
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


def has_location_fields(client: Any, name: str) -> bool:
    """Whether the chunks collection ``name`` has the ``anchor`` and ``root`` fields."""
    names = {field.get("name") for field in client.describe_collection(name).get("fields", [])}
    return all(field in names for field in LOCATION_FIELDS)


def read_schema(client: Any, name: str) -> tuple[int | None, str]:
    """``(dense dimension or None, analyzer tokenizer)`` of an existing chunks collection."""
    description = client.describe_collection(name)
    found_dim: int | None = None
    analyzer = ""
    for field in description.get("fields", []):
        params = field.get("params") or {}
        if field.get("name") == "dense":
            found_dim = int(params.get("dim") or 0)
        if field.get("name") == "text":
            raw = params.get("analyzer_params") or "{}"
            parsed = json.loads(raw) if isinstance(raw, str) else raw
            tokenizer = parsed.get("tokenizer", "standard")
            analyzer = tokenizer if isinstance(tokenizer, str) else str(tokenizer.get("type"))
    return found_dim, analyzer
