"""Finding or starting the local Milvus Lite server that holds the embedded knowledge base.

Why: Milvus Lite opened in-process locks its data dir (a second process gets
``DataDirLockedError``) and runs every search under the caller's GIL. So when
``milvus.uri`` is empty, chat-tui runs Milvus Lite as a separate local server
process (``chat_tui.retrieval.lite_server``) and every chat-tui process (the
TUI, ``chat-tui ingest``, ``chat-tui kb ...``) talks to it over gRPC on a unix
socket that only this user can open. When ``milvus.uri`` is set (a Milvus server, cluster or Zilliz
Cloud), chat-tui connects there directly with ``milvus.token``.

Lifetime (the choice made here): the server is started on demand, detached
(its own session, output to ``<knowledge_dir>/server/server.log``), and exits
by itself after ``idle_seconds`` (default 15 minutes) with no client check-in.
Each ``ensure_local_server`` call "touches" an activity file, and so does a store
at most every ``TOUCH_EVERY`` seconds while it is used (``touch_activity``), so a
server in use stays up. A client whose
server went away meanwhile calls ``ensure_local_server`` again and gets a new one
(``KnowledgeStore`` does this on a connection error). ``stop_local_server`` stops
it at once (``chat-tui kb stop``).

Races: a ``fcntl.flock`` on ``<knowledge_dir>/server/lock`` serialises "check,
maybe start" across processes, so two processes racing start exactly one
server; the server takes the same lock before its idle shutdown, and only
releases it once the data dir is free again. POSIX only (fcntl).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from chat_tui.errors import RetrievalError
from chat_tui.retrieval.lite_server import ACTIVITY_FILE, socket_answers

#: Seconds without any client activity after which the local server exits.
DEFAULT_IDLE_SECONDS = 900.0
#: How long to wait for a new server to answer (imports + opening a large db).
DEFAULT_START_TIMEOUT = 90.0
#: A store in use tells the server so at most this often (seconds).
TOUCH_EVERY = 10.0
#: The Milvus Lite database file, inside ``data_dir``.
DB_FILE = "knowledge.db"

_children: list[subprocess.Popen[bytes]] = []


@dataclass(frozen=True)
class LocalServer:
    """A running local server: the supervisor's pid, the uri to connect to, the engine's pid."""

    pid: int
    uri: str
    engine_pid: int | None = None


def server_dir(knowledge_dir: Path) -> Path:
    """Where the server's state, lock, activity and log files live."""
    return knowledge_dir / "server"


def data_dir(knowledge_dir: Path) -> Path:
    """The Milvus Lite data directory (``lite``; Milvus Lite 3 kept its data in ``milvus``)."""
    return knowledge_dir / "lite"


def legacy_data_dir(knowledge_dir: Path) -> Path:
    """Where Milvus Lite 3 (chat-tui before 0.2) kept the data; not read by Milvus Lite 2.5."""
    return knowledge_dir / "milvus"


def _reap_children() -> None:
    for child in list(_children):
        if child.poll() is not None:
            _children.remove(child)


def _pid_alive(pid: int) -> bool:
    _reap_children()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return False
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        return b"chat_tui.retrieval.lite_server" in cmdline
    except OSError:
        return True  # no /proc (macOS): trust kill(0)


def _read_state(state_file: Path) -> LocalServer | None:
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        engine = state.get("engine_pid")
        return LocalServer(
            int(state["pid"]), str(state["uri"]), int(engine) if engine is not None else None
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _touch(path: Path) -> None:
    path.touch()
    os.utime(path)


def touch_activity(knowledge_dir: Path) -> None:
    """Tell the local server it is in use (it exits after ``idle_seconds`` without this)."""
    with contextlib.suppress(OSError):
        _touch(server_dir(knowledge_dir) / ACTIVITY_FILE)


def _log_tail(log_file: Path) -> str:
    try:
        lines = [
            line.strip()
            for line in log_file.read_text(errors="replace").splitlines()
            if line.strip()
        ]
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "no output"


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.05)
    return not _pid_alive(pid)


def _kill(server: LocalServer, timeout: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(server.pid, signal.SIGTERM)
    if not _wait_gone(server.pid, timeout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.pid, signal.SIGKILL)
        _wait_gone(server.pid, 5.0)


def running_local_server(knowledge_dir: Path) -> LocalServer | None:
    """The local server for ``knowledge_dir`` if one is running and answering, else None."""
    server = _read_state(server_dir(knowledge_dir) / "state.json")
    if server and _pid_alive(server.pid) and socket_answers(server.uri):
        return server
    return None


def ensure_local_server(
    knowledge_dir: Path,
    *,
    idle_seconds: float = DEFAULT_IDLE_SECONDS,
    start_timeout: float = DEFAULT_START_TIMEOUT,
) -> str:
    """Return the uri of the local Milvus Lite server for ``knowledge_dir``, starting it if needed.

    Blocking (imports nothing heavy, but may wait for a new server to come up):
    call it from a thread in async code.

    Args:
        knowledge_dir: ``settings.knowledge_dir``; the db lives in ``<it>/milvus``.
        idle_seconds: a server started now exits after this long without clients.
        start_timeout: how long to wait for a new server to answer.

    Raises:
        RetrievalError: the server could not be started (the message points at its log).
    """
    folder = server_dir(knowledge_dir)
    folder.mkdir(parents=True, exist_ok=True)
    data_dir(knowledge_dir).mkdir(parents=True, exist_ok=True)
    state_file, lock_file = folder / "state.json", folder / "lock"
    log_file, activity_file = folder / "server.log", folder / ACTIVITY_FILE
    with _locked(lock_file):
        server = _read_state(state_file)
        if server and _pid_alive(server.pid):
            if socket_answers(server.uri):
                _touch(activity_file)
                return server.uri
            _kill(server, 5.0)  # alive but deaf: hung; replace it
        state_file.unlink(missing_ok=True)
        _touch(activity_file)
        with open(log_file, "ab") as log:
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "chat_tui.retrieval.lite_server",
                    str(data_dir(knowledge_dir) / DB_FILE),
                    str(state_file),
                    str(lock_file),
                    repr(float(idle_seconds)),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        _children.append(child)
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            if child.poll() is not None:
                raise RetrievalError(
                    f"the local Milvus Lite server did not start "
                    f"({_log_tail(log_file)}; log: {log_file})"
                )
            server = _read_state(state_file)
            if server and server.pid == child.pid and socket_answers(server.uri):
                return server.uri
            time.sleep(0.01)  # a state file read: cheap, and the server is up in ~0.3 s
        child.kill()
        raise RetrievalError(
            f"the local Milvus Lite server did not answer within {start_timeout:.0f} s "
            f"(log: {log_file})"
        )


def stop_local_server(knowledge_dir: Path, *, timeout: float = 15.0) -> bool:
    """Stop the local server for ``knowledge_dir``; returns whether one was running.

    Clients still connected get a connection error on their next call and start
    a new server if they need one.
    """
    folder = server_dir(knowledge_dir)
    if not folder.is_dir():
        return False
    state_file = folder / "state.json"
    with _locked(folder / "lock"):
        server = _read_state(state_file)
        if server is None or not _pid_alive(server.pid):
            state_file.unlink(missing_ok=True)
            return False
        _kill(server, timeout)
        state_file.unlink(missing_ok=True)
        return True


def milvus_connection(knowledge_dir: Path, uri: str, token: str | None) -> tuple[str, str]:
    """The (uri, token) to hand to ``MilvusClient``: the configured server, or the local one."""
    if uri:
        return uri, token or ""
    return ensure_local_server(knowledge_dir), ""
