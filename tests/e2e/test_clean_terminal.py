"""Nothing but the app draws on the terminal during a knowledge-base query.

gRPC, absl and pymilvus write to stderr from threads the app does not own; in a
terminal that is text drawn over the app's frames. This test runs the installed
binary in tmux against a real Milvus Lite knowledge base (filled by ``chat-tui
ingest``), asks two questions that search it, and reads every byte the pane
received (``pipe-pane``): with the escape sequences of the app's frames taken out,
none of the text may look like a log line or a traceback.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import BINARY, needs_binary, needs_tmux
from tests.e2e.tmux import Tmux
from tests.support.fake_openai import FakeOpenAI

pytestmark = [pytest.mark.e2e, needs_tmux, needs_binary]

#: Escape sequences a terminal app writes: CSI, OSC (BEL or ST ended), DCS/APC, 2-byte.
ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]"
    rb"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    rb"|\x1b[P_^][^\x1b]*\x1b\\"
    rb"|\x1b[@-Z\\-_]"
    rb"|\x1b[()][0-9A-Za-z]"
)
#: What foreign output looks like: glog/absl prefixes, gRPC sources, Python tracebacks.
FOREIGN = re.compile(
    r"\b[EWIF]\d{4} \d\d:\d\d:\d\d\.\d+"  # absl / glog: E1202 12:00:00.123456
    r"|chttp2|grpc|GOAWAY|too_many_pings|absl::"
    r"|Traceback \(most recent call last\)|pymilvus|WARNING: All log messages"
    r"|\bDeprecationWarning\b|\bUserWarning\b",
    re.IGNORECASE,
)


def frame_text(raw: bytes) -> str:
    """The printable text in the raw pane output, escape sequences removed."""
    return ESCAPES.sub(b"", raw).decode("utf-8", "replace")


def test_frame_text_finds_a_log_line_written_between_frames() -> None:
    # The detector itself: a gRPC line written raw between two frames is found,
    # the app's own escapes and text are not taken for one.
    frames = b"\x1b[?2026h\x1b[1;1H\x1b[38;2;1;2;3mchat-tui\x1b[0m\x1b[?2026l"
    log = b"E1202 12:00:00.123456 1 chttp2_transport.cc:1 GOAWAY too_many_pings\n"
    assert not FOREIGN.search(frame_text(frames * 3))
    assert FOREIGN.search(frame_text(frames + log + frames))


def config_with_knowledge_base(home: Path, base_url: str) -> Path:
    config = home / "config" / "chat-tui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        'provider = "openai"\n[providers.openai]\nmodel = "fake-model"\n'
        "timeout = 10\nmax_retries = 1\n"
        '[embedding]\nprovider = "none"\n'
        '[retrieval]\nenabled = true\nanalyzer = "standard"\n',
        encoding="utf-8",
    )
    return config


def test_no_foreign_text_reaches_the_pane_during_a_knowledge_base_query(
    chat_tui_in_tmux: Callable[..., Tmux], fake_server: FakeOpenAI, tmp_path: Path
) -> None:
    from tests.e2e.conftest import app_env

    home = tmp_path / "home"
    config_with_knowledge_base(home, fake_server.url)
    env = app_env(home, fake_server.url)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "handbook.md").write_text(
        "# On-call\n\nThe on-call rotation changes every Tuesday at 09:00.\n"
        "The primary is paged first, the secondary after ten minutes.\n",
        encoding="utf-8",
    )
    ingest = subprocess.run(
        [str(BINARY), "ingest", str(docs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    try:
        tmux = chat_tui_in_tmux((100, 30), env=env)
        for question in ("When does the on-call rotation change?", "Who is paged first?"):
            before = len(fake_server.requests)
            tmux.type(question)
            tmux.send_bytes("\r")
            fake_server.wait_for_requests(before + 1, timeout=120)
            # The fake echoes the whole user turn (context block included).
            tmux.wait(
                lambda s, n=before + 1, q=question: (
                    fake_server.completed_streams >= n
                    and f"Question: {q}" in s
                    and "tokens" in s.split(f"Question: {q}")[-1]
                ),
                "the answer to finish",
                timeout=120,
            )
        # The knowledge base really was searched: the passage went to the model.
        sent = str(fake_server.requests[-1]["messages"])
        assert "every Tuesday at 09:00" in sent
        tmux.send_bytes("\x11")  # ctrl+q
        tmux.wait_exited()
        text = frame_text(tmux.raw())
        found = FOREIGN.search(text)
        assert found is None, (
            f"foreign text in the pane: {text[max(0, found.start() - 80) : found.end() + 120]!r}"
        )
        assert "handbook.md" in text  # the sources were drawn (the stream is the app's)
    finally:
        subprocess.run(
            [str(BINARY), "kb", "stop"], env=env, capture_output=True, timeout=60, check=False
        )
