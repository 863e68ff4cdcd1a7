"""Logging to a file in the data dir, with every configured secret scrubbed.

Records pass :func:`chat_tui.domain.text.clean_line` too, so an escape sequence in a
server's error message or a file name cannot act on the terminal of whoever reads
the log with ``cat`` or ``tail -f``.

Textual owns the terminal, so nothing is logged to it; the log file is where a
user looks after a failure. Set ``CHAT_TUI_LOG=debug`` for more detail.
"""

from __future__ import annotations

import logging
import os
import re

from chat_tui.config import Settings
from chat_tui.domain.text import clean_line

_KEYLIKE = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|jina_[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9._\-]+)")


class SecretFilter(logging.Filter):
    """Replaces configured secrets and key-shaped strings in log records with ***."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 4]

    def scrub(self, text: str) -> str:
        """``text`` without secrets and with its control characters made visible."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return clean_line(_KEYLIKE.sub("***", text), keep_newlines=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
            record.msg = f"{record.msg}\n{self.scrub(text)}"
        return True


def setup_logging(settings: Settings) -> None:
    """Send chat_tui's logs to ``settings.log_file`` in the data dir (created on demand)."""
    level = logging.DEBUG if os.environ.get("CHAT_TUI_LOG", "").lower() == "debug" else logging.INFO
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(settings.log_file, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(settings.secrets()))
    logger = logging.getLogger("chat_tui")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
