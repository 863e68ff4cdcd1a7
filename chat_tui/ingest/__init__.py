"""Document ingestion: walk folders, load files by type, chunk them, embed and store the chunks.

The modules are imported on demand (``chat_tui.ingest.pipeline`` for ``chat-tui ingest``);
parsers such as pypdf, python-docx and lxml are imported only when a file needs them.
"""
