"""The local Milvus Lite server process that chat-tui starts for the embedded knowledge base.

Why it exists: Milvus Lite normally runs *inside* the process that opens the db,
which (a) locks the data dir so ``chat-tui`` and ``chat-tui ingest`` cannot use
the knowledge base at the same time and (b) runs searches under the TUI's GIL,
stalling its event loop. Running it here, in its own process, fixes both.

It is milvus-lite's own gRPC server (``milvus_lite.adapter.grpc``) built the way
``milvus-lite server`` builds it, plus two things that command lacks:

* it binds port 0 and writes the port it got to a state file (no free-port race);
* it exits by itself after ``IDLE_SECONDS`` with no RPC in flight, no RPC
  finished and no client "touch" (see ``milvus_server.ensure_local_server``), so
  nothing is left running for long after the last chat-tui process went away.

Run as ``python -m chat_tui.retrieval.lite_server DATA_DIR STATE_FILE LOCK_FILE IDLE_SECONDS``;
``milvus_server`` does that. SIGTERM / SIGINT stop it cleanly (db closed, state removed).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

#: What the server accepts from clients' keepalive pings. pymilvus pings every 10 s, also
#: between calls (``keepalive_time_ms`` 10000, ``permit_without_calls``); gRPC's default
#: server policy allows one ping per 5 min without calls and answers the third early ping
#: with a ``GOAWAY too_many_pings``, which gRPC then logs on the client's terminal about two
#: minutes after the last query. Accepting the client's rate removes the cause.
KEEPALIVE_POLICY: tuple[tuple[str, int], ...] = (
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 5_000),
    ("grpc.http2.max_ping_strikes", 0),
)

#: Name of the file clients touch (mtime) to say "I am about to use the server".
ACTIVITY_FILE = "activity"


class ActivityTracker:
    """Counts RPCs in flight and remembers when the last one ended (a gRPC interceptor)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self._last = time.monotonic()

    def begin(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._last = time.monotonic()

    def end(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._last = time.monotonic()

    def idle_for(self) -> float:
        """Seconds since the last RPC activity; 0 while an RPC is running."""
        with self._lock:
            if self._in_flight:
                return 0.0
            return time.monotonic() - self._last

    def interceptor(self) -> Any:
        """A ``grpc.ServerInterceptor`` that reports every unary RPC to this tracker."""
        import grpc

        tracker = self

        class _Interceptor(grpc.ServerInterceptor):  # type: ignore[misc]
            def intercept_service(self, continuation: Any, details: Any) -> Any:
                handler = continuation(details)
                if handler is None or handler.unary_unary is None:
                    tracker.begin()
                    tracker.end()
                    return handler
                inner = handler.unary_unary

                def wrapped(request: Any, context: Any) -> Any:
                    tracker.begin()
                    try:
                        return inner(request, context)
                    finally:
                        tracker.end()

                return grpc.unary_unary_rpc_method_handler(
                    wrapped,
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )

        return _Interceptor()


def _write_state(state_file: Path, port: int) -> None:
    tmp = state_file.with_name(f".{state_file.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "port": port}), encoding="utf-8")
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


def serve(data_dir: Path, state_file: Path, lock_file: Path, idle_seconds: float) -> int:
    """Serve ``data_dir`` on 127.0.0.1 until idle or signalled; returns the exit status."""
    from concurrent import futures

    from chat_tui.retrieval.milvus_connection import quiet_grpc

    quiet_grpc()
    import grpc
    from milvus_lite.adapter.grpc.servicer import MilvusServicer
    from milvus_lite.db import MilvusLite
    from pymilvus.grpc_gen import milvus_pb2_grpc

    db = MilvusLite(str(data_dir))
    tracker = ActivityTracker()
    max_message = 256 * 1024 * 1024
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8),
        interceptors=[tracker.interceptor()],
        options=[
            ("grpc.max_receive_message_length", max_message),
            ("grpc.max_send_message_length", max_message),
            *KEEPALIVE_POLICY,
        ],
    )
    milvus_pb2_grpc.add_MilvusServiceServicer_to_server(MilvusServicer(db), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    _write_state(state_file, port)
    print(
        f"chat-tui milvus-lite server pid {os.getpid()} on 127.0.0.1:{port} for {data_dir}",
        flush=True,
    )

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    activity_file = state_file.parent / ACTIVITY_FILE
    tick = max(0.05, min(5.0, idle_seconds / 4))
    lock_fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while not stop.wait(tick):
            if tracker.idle_for() < idle_seconds or _touched_ago(activity_file) < idle_seconds:
                continue
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a client is checking on us right now; look again next tick
            try:
                if (
                    tracker.idle_for() >= idle_seconds
                    and _touched_ago(activity_file) >= idle_seconds
                ):
                    print("idle: shutting down", flush=True)
                    # Close everything while holding the lock, so a client that comes
                    # next starts a new server only once the data dir is free.
                    server.stop(grace=2).wait()
                    db.close()
                    _remove_state_if_ours(state_file)
                    return 0
            finally:
                fcntl.flock(lock_fd, fcntl.LOCK_UN)
        print("signalled: shutting down", flush=True)
        server.stop(grace=2).wait()
        db.close()
        _remove_state_if_ours(state_file)
        return 0
    finally:
        os.close(lock_fd)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 4:
        print(
            "usage: python -m chat_tui.retrieval.lite_server "
            "DATA_DIR STATE_FILE LOCK_FILE IDLE_SECONDS",
            file=sys.stderr,
        )
        return 2
    data_dir, state_file, lock_file, idle = args
    return serve(Path(data_dir), Path(state_file), Path(lock_file), float(idle))


if __name__ == "__main__":
    raise SystemExit(main())
