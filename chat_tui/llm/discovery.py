"""Finding a local model server to offer on first run (no key, no config)."""

from __future__ import annotations

import socket


def ollama_listening(host: str = "127.0.0.1", port: int = 11434, timeout: float = 0.3) -> bool:
    """Whether something accepts connections where Ollama usually listens."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


__all__ = ["ollama_listening"]
