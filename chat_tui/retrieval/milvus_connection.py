"""The connection half of a knowledge store: one MilvusClient, reconnected when lost.

Every Milvus call goes through :meth:`MilvusConnection.call`, which turns pymilvus's
many exception types into one-line :class:`RetrievalError` messages and survives the
two things that happen to a long-running app: the local Milvus Lite server went away
(reconnect once; the next client starts a new server) and the server restarted
(collections must be loaded again). A :class:`~chat_tui.retrieval.milvus_store.KnowledgeStore`
holds one and builds the knowledge-base semantics on it; what "loaded" means is the
store's (it passes ``reload``), the connection only says when it must be done again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from chat_tui.errors import RetrievalError
from chat_tui.retrieval.grpc_quiet import quiet_grpc
from chat_tui.retrieval.milvus_schema import scrub_uri
from chat_tui.retrieval.pymilvus_import import import_pymilvus

if TYPE_CHECKING:
    from chat_tui.config import Settings

T = TypeVar("T")

#: pymilvus pings every 10 s, also between calls; a gRPC server that keeps its default
#: policy (Milvus Lite 2.5's engine, many Milvus servers) accepts a ping without data only
#: every 5 minutes and answers the third early one with ``GOAWAY too_many_pings``, after
#: which every new client on that channel fails to connect. Ping less often than that.
KEEPALIVE: dict[str, int | bool] = {
    "grpc.keepalive_time_ms": 330_000,
    "grpc.keepalive_timeout_ms": 20_000,
    "grpc.keepalive_permit_without_calls": False,
}


def _is_connection_error(error: Exception) -> bool:
    text = str(error)
    return getattr(error, "code", None) == 2 or "UNAVAILABLE" in text or "Fail connecting" in text


def _route_pymilvus_logs() -> None:
    """Send pymilvus's logs to chat-tui's log file instead of the terminal.

    pymilvus installs its own stderr handlers on import; in the TUI they would
    draw over the screen, and in the CLI they print tracebacks for handled errors.
    """
    for name in ("pymilvus", "pymilvus.milvus_client", "pymilvus.bulk_writer"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler
            ):
                logger.removeHandler(handler)
        logger.propagate = True


def _is_released_error(error: Exception) -> bool:
    return getattr(error, "code", None) == 101 or "call load()" in str(error)


def _short(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error)
    return " ".join(str(message).split())[:200]


class MilvusConnection:
    """A lazily connected MilvusClient for one knowledge base (see the module docstring).

    Args:
        settings: the settings (``milvus.*`` and ``knowledge_dir``).
        knowledge_base: the KB name, for error messages.
        reload: called after a reconnect or a server restart, to load the KB's
            collections again (the store's ``_open``); it runs its own ``call("opening")``.
    """

    def __init__(
        self, settings: Settings, knowledge_base: str, reload: Callable[[], object]
    ) -> None:
        self.settings = settings
        self.knowledge_base = knowledge_base
        self._reload = reload
        self._connect_lock = threading.Lock()
        self._client: Any = None
        self._uri = ""
        self._touched = 0.0
        #: Bumped with every new client and when the server lost what was loaded: the
        #: store loads its collections again when this differs from when it last did.
        self.generation = 0

    @property
    def uri(self) -> str:
        """The uri of the last connection ("" before the first); may hold a token."""
        return self._uri

    @property
    def connected(self) -> bool:
        """Whether a client is open (it may still turn out to be lost)."""
        return self._client is not None

    def _keep_server_up(self) -> None:
        """Tell the local server, at most every ``TOUCH_EVERY`` s, that this store uses it."""
        if self.settings.milvus.uri:
            return
        from chat_tui.retrieval.milvus_server import TOUCH_EVERY, touch_activity

        now = time.monotonic()
        if now - self._touched >= TOUCH_EVERY:
            self._touched = now
            touch_activity(self.settings.knowledge_dir)

    @staticmethod
    def _connect_client(settings: Settings) -> tuple[Any, str]:
        from concurrent.futures import ThreadPoolExecutor

        from chat_tui.retrieval.milvus_server import milvus_connection

        quiet_grpc()
        # Importing pymilvus (~0.35 s without pandas: grpc, protobufs, numpy) and
        # starting the local server (~0.2 s, in its own process) do not need each other:
        # the server comes up while pymilvus is imported (ensure_local_server waits on a
        # socket).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="milvus-start") as pool:
            where = pool.submit(
                milvus_connection,
                settings.knowledge_dir,
                settings.milvus.uri,
                settings.milvus.token,
            )
            client_class = import_pymilvus().MilvusClient  # without pandas: unused here

            _route_pymilvus_logs()
            uri, token = where.result()
        try:
            return client_class(uri=uri, token=token, grpc_options=KEEPALIVE), uri
        except Exception as error:  # noqa: BLE001 - pymilvus raises many kinds
            raise RetrievalError(
                f"cannot connect to Milvus at {scrub_uri(uri)}: {_short(error)}"
            ) from None

    def client(self) -> Any:
        """The MilvusClient, connecting first if needed (raw: no retry, no error mapping)."""
        with self._connect_lock:
            if self._client is None:
                self._client, self._uri = self._connect_client(self.settings)
                self.generation += 1
            return self._client

    def reset(self) -> None:
        """Drop the client; the next call connects afresh (the local server keeps running)."""
        with self._connect_lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - already broken
                pass

    def close(self) -> None:
        """Close the connection (the same as ``reset``; the store may connect again)."""
        self.reset()

    def call(self, what: str, action: Callable[[Any], T]) -> T:
        """Run ``action(client)``; on a lost connection, reconnect once (maybe a new server).

        Args:
            what: the step, for the error message ("searching", "registering"...).
            action: the request, given the client.

        Raises:
            RetrievalError: one line naming the KB and the step.
        """
        for attempt in (1, 2):
            try:
                client = self.client()
            except RetrievalError:
                if attempt == 2 or self.settings.milvus.uri:
                    raise
                self.reset()  # a channel the local server closed: connect afresh once
                continue
            self._keep_server_up()
            try:
                return action(client)
            except RetrievalError:
                raise
            except Exception as error:  # noqa: BLE001 - pymilvus raises many kinds
                if attempt == 1 and _is_connection_error(error):
                    self.reset()  # the local server went away: the next client starts a new one
                    if what != "opening":
                        self._reload()
                    continue
                if attempt == 1 and _is_released_error(error) and what != "opening":
                    # The server restarted: collections must be loaded again (on this client).
                    self.generation += 1
                    self._reload()
                    continue
                raise RetrievalError(
                    f"knowledge base {self.knowledge_base!r}: {what} failed: {_short(error)}"
                ) from None
        raise AssertionError("unreachable")

    def local_db_missing(self) -> bool:
        """Whether the local database was never created (so nothing exists; no server started)."""
        from chat_tui.retrieval.milvus_server import data_dir

        return not self.settings.milvus.uri and not data_dir(self.settings.knowledge_dir).is_dir()


__all__ = ["MilvusConnection"]
