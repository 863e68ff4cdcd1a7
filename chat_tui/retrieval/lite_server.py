"""The local Milvus Lite server process that chat-tui starts for the embedded knowledge base.

Why it exists: Milvus Lite opened from a client (``MilvusClient("x.db")``) lives as long
as that client and locks its file, so ``chat-tui`` and ``chat-tui ingest`` could not use
the knowledge base at the same time. chat-tui instead runs one Milvus Lite server per
data dir in this small supervisor process, which every chat-tui process shares.

Milvus Lite 2.5 is the C++ Milvus engine (``milvus_lite.server.Server``, its public
class): a binary that serves gRPC on a unix socket and stops by itself when the
lock its parent holds is released, so it never outlives this process, even after a
``kill -9``. This supervisor adds what the engine lacks:

* it writes the socket's uri to a state file once the engine answers there;
* it exits after ``IDLE_SECONDS`` without a client "touch" of the activity file
  (clients touch it when they connect and, at most every few seconds, while they
  work; see ``milvus_server.ensure_local_server``), so nothing is left running long
  after the last chat-tui process went away.

Run as ``python -m chat_tui.retrieval.lite_server DB_FILE STATE_FILE LOCK_FILE IDLE_SECONDS``;
``milvus_server`` does that. SIGTERM / SIGINT stop it cleanly (engine stopped, state removed).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Name of the file clients touch (mtime) to say "I am using the server".
ACTIVITY_FILE = "activity"
#: How long the engine may take to answer on its socket (opening a large db).
READY_TIMEOUT = 120.0


def socket_answers(uri: str) -> bool:
    """Whether something accepts connections at ``unix:PATH`` (the engine is up)."""
    path = uri.removeprefix("unix:")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def engine_pid(parent: int) -> int | None:
    """The pid of the engine binary (our only child), from /proc; None where there is none.

    Every thread's list is read: the engine is started from a thread (see ``serve``),
    and /proc lists a child under the thread that forked it.
    """
    try:
        tasks = sorted(Path(f"/proc/{parent}/task").iterdir())
    except OSError:
        return None
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        if children:
            return int(children[0])
    return None


def engine_class() -> Any:
    """Milvus Lite's ``milvus_lite.server.Server``, loaded without ``milvus_lite/__init__``.

    That ``__init__`` only reads the package's version through ``pkg_resources``, whose
    import scans every installed distribution: 0.2-0.4 s here, most of what starting
    the server cost once the engine's own wait was gone. ``server.py`` imports nothing
    but the standard library, so it is loaded from the package's folder (found without
    running it); where the layout differs, the plain import is used.
    """
    import importlib.util

    package = importlib.util.find_spec("milvus_lite")
    folders = list(package.submodule_search_locations or []) if package else []
    path = Path(folders[0]) / "server.py" if folders else None
    spec = importlib.util.spec_from_file_location("milvus_lite.server", path) if path else None
    if path is None or not path.is_file() or spec is None or spec.loader is None:
        from milvus_lite.server import Server

        return Server
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Server


def _write_state(state_file: Path, uri: str, engine: int | None) -> None:
    tmp = state_file.with_name(f".{state_file.name}.{os.getpid()}.tmp")
    state = {"pid": os.getpid(), "uri": uri, "engine_pid": engine}
    tmp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(tmp, state_file)


def _remove_state_if_ours(state_file: Path) -> None:
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if state.get("pid") == os.getpid():
        state_file.unlink(missing_ok=True)


def _touched_ago(activity_file: Path) -> float:
    try:
        return time.time() - activity_file.stat().st_mtime
    except OSError:
        return float("inf")


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True  # cannot tell (no /proc): trust the socket
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def serve(db_file: Path, state_file: Path, lock_file: Path, idle_seconds: float) -> int:
    """Serve ``db_file`` on a unix socket until idle or signalled; returns the exit status."""
    from chat_tui.retrieval.grpc_quiet import quiet_grpc

    quiet_grpc()
    db_file.parent.mkdir(parents=True, exist_ok=True)
    engine = engine_class()(str(db_file))
    if not engine.init():
        print(f"milvus-lite could not start on {db_file}", flush=True)
        return 1
    # Server.start() spawns the engine and then waits a fixed 0.5 s to see that it did
    # not exit at once; the engine answers on its socket well before that (~20 ms), so
    # start() runs in a thread and the socket, not the wait, says when clients may come.
    # SIGTERM / SIGINT from now on: clients (and ``kb stop``) may come before start()
    # returned, and the engine must be stopped, not orphaned, whenever they arrive.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    started: list[bool] = []
    starter = threading.Thread(
        target=lambda: started.append(engine.start()), name="engine-start", daemon=True
    )
    starter.start()
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not socket_answers(engine.uds_path):
            if stop.is_set():
                return 0
            failed = not starter.is_alive() and started != [True]
            if failed or time.monotonic() > deadline or not _alive(engine_pid(os.getpid())):
                print(f"milvus-lite could not start on {db_file}", flush=True)
                return 1
            time.sleep(0.01)
        child = engine_pid(os.getpid())
        _write_state(state_file, engine.uds_path, child)
        print(
            f"chat-tui milvus-lite server pid {os.getpid()} (engine {child}) "
            f"on {engine.uds_path} for {db_file}",
            flush=True,
        )
        starter.join()  # clients are served meanwhile; stop() must not race start()
        if started != [True]:
            print("milvus-lite exited right after starting", flush=True)
            return 1
        return _run_until_idle(engine.stop, child, state_file, lock_file, idle_seconds, stop)
    finally:
        starter.join()
        engine.stop()
        _remove_state_if_ours(state_file)


def _run_until_idle(
    stop_engine: Callable[[], None],
    child: int | None,
    state_file: Path,
    lock_file: Path,
    idle_seconds: float,
    stop: threading.Event,
) -> int:
    activity_file = state_file.parent / ACTIVITY_FILE
    tick = max(0.05, min(5.0, idle_seconds / 4))
    lock_fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while not stop.wait(tick):
            if not _alive(child):
                print("engine exited", flush=True)
                return 1
            if _touched_ago(activity_file) < idle_seconds:
                continue
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a client is checking on us right now; look again next tick
            try:
                if _touched_ago(activity_file) >= idle_seconds:
                    print("idle: shutting down", flush=True)
                    # Stop while holding the lock, so a client that comes next starts a
                    # new server only once the db is free.
                    stop_engine()
                    _remove_state_if_ours(state_file)
                    return 0
            finally:
                fcntl.flock(lock_fd, fcntl.LOCK_UN)
        print("signalled: shutting down", flush=True)
        return 0
    finally:
        os.close(lock_fd)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 4:
        print(
            "usage: python -m chat_tui.retrieval.lite_server "
            "DB_FILE STATE_FILE LOCK_FILE IDLE_SECONDS",
            file=sys.stderr,
        )
        return 2
    db_file, state_file, lock_file, idle = args
    return serve(Path(db_file), Path(state_file), Path(lock_file), float(idle))


if __name__ == "__main__":
    raise SystemExit(main())
