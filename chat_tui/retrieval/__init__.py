"""Knowledge-base retrieval: embedders (Jina, OpenAI-compatible), Milvus store, retriever."""
