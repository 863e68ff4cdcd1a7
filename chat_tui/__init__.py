"""chat-tui: a terminal AI chat client with retrieval over your own documents.

Importing this package does nothing but define the version: no I/O, no Textual.
"""

__version__ = "0.1.0"
