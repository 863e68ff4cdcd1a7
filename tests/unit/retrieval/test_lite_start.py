"""Starting the local Milvus Lite server: the engine started from a thread, failures seen.

``lite_server.serve`` runs ``Server.start()`` (which waits a fixed 0.5 s) in a thread and
lets clients in as soon as the engine answers on its socket; these check that the
engine's pid is still found and that an engine that cannot start is an error at once.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chat_tui.errors import RetrievalError
from chat_tui.retrieval.milvus_server import (
    DB_FILE,
    data_dir,
    ensure_local_server,
    running_local_server,
    stop_local_server,
)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")
def test_the_engine_started_in_a_thread_is_named_and_stops_with_the_server(tmp_path: Path) -> None:
    knowledge_dir = tmp_path / "knowledge"
    try:
        ensure_local_server(knowledge_dir)
        running = running_local_server(knowledge_dir)
        assert running is not None and running.engine_pid is not None
        stat = Path(f"/proc/{running.engine_pid}/stat").read_text()
        parent = int(stat.rsplit(")", 1)[-1].split()[1])
        assert parent == running.pid  # the supervisor's child...
        command = Path(f"/proc/{running.engine_pid}/cmdline").read_bytes().split(b"\0")
        assert Path(command[0].decode()).name == "milvus"  # ...and the engine binary
    finally:
        # At once, while the supervisor may still be inside start()'s 0.5 s wait: the
        # engine must be stopped with it, not left running without its supervisor.
        stop_local_server(knowledge_dir)
    assert not Path(f"/proc/{running.engine_pid}").exists() or _zombie(running.engine_pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True


def test_an_engine_that_cannot_start_is_an_error_at_once(tmp_path: Path) -> None:
    knowledge_dir = tmp_path / "knowledge"
    lite = data_dir(knowledge_dir)
    lite.mkdir(parents=True)
    # The lock Milvus Lite's engine takes on its database: held here, its start() fails.
    with open(lite / f".{DB_FILE}.lock", "a") as held:
        fcntl.lockf(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        start = time.monotonic()
        with pytest.raises(RetrievalError, match="did not start"):
            ensure_local_server(knowledge_dir, start_timeout=60)
        assert time.monotonic() - start < 30  # seen when start() fails, not at the timeout
    assert running_local_server(knowledge_dir) is None
    assert not (knowledge_dir / "server" / "state.json").exists()


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_the_engine_class_is_milvus_lites_own_without_pkg_resources() -> None:
    # In fresh processes, as the supervisor runs: its start-up must not pay for
    # pkg_resources (the package's __init__ imports it only to read its version).
    real = _run("import milvus_lite.server as m; print(m.Server.start.__code__.co_filename)")
    loaded = _run(
        "import sys\n"
        "from chat_tui.retrieval.lite_server import engine_class\n"
        "server = engine_class()\n"
        "assert server.__name__ == 'Server' and callable(server.start)\n"
        "print(server.start.__code__.co_filename)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pkg_resources'))\n"
    )
    assert loaded.splitlines() == [real, "[]"]
