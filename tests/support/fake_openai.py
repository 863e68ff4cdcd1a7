"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and for driving the app by hand.

Tests need a model endpoint that behaves like the real thing on the wire (SSE chunks,
usage chunk, ``[DONE]``, OpenAI-shaped error bodies, Retry-After, connections that die
mid-answer) without any network. A mock of the ``openai`` client would not catch wire
mistakes, so this is a real ``ThreadingHTTPServer`` in a daemon thread: it serves sync
tests, async tests and other processes (the installed binary in tmux) alike.

Usage in a test::

    with FakeOpenAI() as fake:
        fake.script(Reply(content="Hello!"), Reply(status=429, retry_after=0.01))
        ...  # point the client at fake.url
        fake.wait_for_requests(1)
        assert fake.requests[0]["model"] == "fake-model"

From a shell (serves until killed)::

    python -m tests.support.fake_openai --port 8765
"""

from __future__ import annotations

import argparse
import json
import select
import signal
import socket
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DEFAULT_MODELS = ("fake-model", "fake-model-2")

DEFAULT_CONTENT = """\
Here is a small example in **Python**:

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"

print(greet("world"))
```

- it defines a function
- and *calls* it once

You asked: {question}
"""

_ERROR_DEFAULTS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to use this model.", "invalid_request_error", "permission_denied"),
    404: (
        "The model does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    429: ("Rate limit reached for requests.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}


@dataclass
class Reply:
    """One scripted answer of the fake server (consumed by one chat request).

    Attributes:
        content: answer text, streamed in ``chunk_chars`` pieces; ``{question}`` is
            replaced with the last user message of the request.
        reasoning: streamed first, as ``delta.<reasoning_field>``.
        reasoning_field: ``"reasoning_content"`` (DeepSeek, Qwen) or ``"reasoning"`` (vLLM).
        chunk_chars: characters per delta.
        delay: seconds to wait before each delta (server-side pacing).
        status: HTTP status; anything but 200 sends an OpenAI-shaped error body.
        error_message: message of the error body (a sensible default per status when empty).
        retry_after: seconds sent as ``Retry-After`` / ``retry-after-ms`` with an error.
        cut_after: close the connection abruptly after this many content deltas
            (no finish_reason, no ``[DONE]``, incomplete chunked body).
        hold: after ``hold_after`` deltas (reasoning or content), wait for this event.
        hold_after: see ``hold``.
        usage: (prompt, completion) tokens of the usage chunk, sent when the request asks
            for ``stream_options.include_usage``; None sends no usage.
        model: the model named in the chunks (default: the requested model).
        finish_reason: finish_reason of the last chunk; None sends none (a stream that
            ends cleanly but without saying why).
        stream_error_after: after this many content deltas, send a mid-stream
            ``data: {"error": ...}`` chunk (with ``error_message``) and end the stream.
        error_code: the ``code`` of the error body (default: per status), e.g.
            ``"context_length_exceeded"`` with ``status=400``.
        raw_body: answer 200 with this body and ``content_type`` instead of a stream
            (an HTML page from a proxy, a JSON document that is not a chat stream).
        content_type: the Content-Type of ``raw_body``.
        garbage: after ``garbage_after`` content deltas, send ``data: <garbage>`` as an
            SSE line (not JSON, or JSON that is not a chat chunk) and end the stream.
        garbage_after: see ``garbage``.
    """

    content: str = ""
    reasoning: str = ""
    reasoning_field: str = "reasoning_content"
    chunk_chars: int = 4
    delay: float = 0.0
    status: int = 200
    error_message: str = ""
    retry_after: float | None = None
    cut_after: int | None = None
    hold: threading.Event | None = None
    hold_after: int = 1
    usage: tuple[int, int] | None = (12, 34)
    model: str | None = None
    finish_reason: str | None = "stop"
    stream_error_after: int | None = None
    error_code: str | None = None
    raw_body: str | None = None
    content_type: str = "text/html; charset=utf-8"
    garbage: str | None = None
    garbage_after: int = 0


def _text_of(content: Any) -> str:
    """A message's text: the string, or the text parts of a content list joined."""
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return str(content)


def _has_images(body: dict[str, Any]) -> bool:
    """Whether any message of the request carries an ``image_url`` part."""
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(
            isinstance(part, dict) and part.get("type") == "image_url" for part in content
        ):
            return True
    return False


def _pieces(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


class _Headers(dict[str, str]):
    """Request headers; lookups ignore case (``headers["authorization"]`` works)."""

    def _key(self, key: str) -> str:
        for existing in self.keys():
            if existing.lower() == key.lower():
                return existing
        return key

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(self._key(key))

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self._key(key) if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(self._key(key), default)


class _ClientGone(Exception):
    """The client closed the connection, or the server is stopping."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    fake: FakeOpenAI

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (cancelled streams, stop()) are expected, not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    # -- plumbing

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return

    def _send_json(
        self, status: int, body: dict[str, Any], extra: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:12]}")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(
        self,
        status: int,
        message: str,
        retry_after: float | None = None,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        default_message, kind, default_code = _ERROR_DEFAULTS.get(
            status, _ERROR_DEFAULTS[500] if status >= 500 else _ERROR_DEFAULTS[400]
        )
        code = code or default_code
        extra: dict[str, str] = {}
        if retry_after is not None:
            extra["Retry-After"] = f"{retry_after:g}"
            extra["retry-after-ms"] = str(int(retry_after * 1000))
        body = {
            "error": {
                "message": message or default_message,
                "type": kind,
                "param": param,
                "code": code,
            }
        }
        self._send_json(status, body, extra)

    def _path(self) -> str:
        path = self.path.split("?", 1)[0].rstrip("/")
        return path[3:] if path.startswith("/v1/") else path

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return bool(self.connection.recv(1, socket.MSG_PEEK) == b"")
        except (OSError, ValueError):
            return True

    def _pause(self, seconds: float) -> None:
        fake = self.server.fake
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if fake._stopping.wait(min(left, 0.05)) or self._client_gone():
                raise _ClientGone

    def _hold(self, event: threading.Event) -> None:
        fake = self.server.fake
        while not event.wait(0.02):
            if fake._stopping.is_set() or self._client_gone():
                raise _ClientGone

    def _write_chunk(self, data: bytes) -> None:
        try:
            self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
        except OSError as error:
            raise _ClientGone from error

    def _event(self, payload: dict[str, Any] | str) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        self._write_chunk(f"data: {text}\n\n".encode())

    # -- routes

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        fake = self.server.fake
        if self._path() != "/models" or not fake.serve_models:
            self._send_json(
                404,
                {
                    "error": {
                        "message": f"Unknown path {self.path}",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "unknown_url",
                    }
                },
            )
            return
        with fake._changed:
            fake.model_list_requests += 1
        authorization = _Headers(self.headers.items()).get("Authorization")
        if fake.api_key is not None and authorization != f"Bearer {fake.api_key}":
            self._send_error(401, "Incorrect API key provided.")  # as OpenAI's /models does
            return
        created = int(time.time())
        self._send_json(
            200,
            {
                "object": "list",
                "data": [
                    {"id": name, "object": "model", "created": created, "owned_by": "fake"}
                    for name in fake.models
                ],
            },
        )

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self._path() != "/chat/completions":
            self._send_error(404, f"Unknown path {self.path}")
            return
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send_error(400, "We could not parse the JSON body of your request.")
            return
        headers = _Headers(self.headers.items())
        fake._record(body, headers)

        if fake.api_key is not None and headers.get("Authorization") != f"Bearer {fake.api_key}":
            self._send_error(401, "Incorrect API key provided.")
            return
        if fake.reject_stream_options and "stream_options" in body:
            self._send_error(
                400,
                "Unrecognized request argument supplied: stream_options",
                param="stream_options",
            )
            return
        if fake.strict_models and body.get("model") not in fake.models:
            self._send_error(
                404,
                f"The model `{body.get('model')}` does not exist or you do not have access to it.",
            )
            return

        if (
            fake.text_only_models
            and _has_images(body)
            and body.get("model") in fake.text_only_models
        ):
            # What vLLM answers when a text-only model is sent an image part.
            self._send_error(400, f"{body.get('model')} is not a multimodal model")
            return

        reply = fake._next_reply()
        if reply.status != 200:
            self._send_error(
                reply.status, reply.error_message, reply.retry_after, code=reply.error_code
            )
            return
        if reply.raw_body is not None:
            data = reply.raw_body.encode()
            self.send_response(200)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        question = next(
            (
                _text_of(m.get("content", ""))
                for m in reversed(body.get("messages") or [])
                if isinstance(m, dict) and m.get("role") == "user"
            ),
            "",
        )
        content = reply.content.replace("{question}", question)
        model = reply.model or str(body.get("model") or "fake-model")
        try:
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                self._stream(reply, content, model, include_usage)
            else:
                self._complete(reply, content, model)
        except _ClientGone:
            self.close_connection = True
            fake._note_disconnect()

    def _complete(self, reply: Reply, content: str, model: str) -> None:
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        if reply.reasoning:
            message[reply.reasoning_field] = reply.reasoning
        body: dict[str, Any] = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
        }
        if reply.usage is not None:
            prompt, completion = reply.usage
            body["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            }
        self._send_json(200, body)

    def _stream(self, reply: Reply, content: str, model: str, include_usage: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:12]}")
        self.end_headers()

        chunk_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            obj: dict[str, Any] = {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
                ],
            }
            if include_usage:
                obj["usage"] = None
            return obj

        self._event(chunk({"role": "assistant", "content": ""}))
        if reply.cut_after == 0:
            self._cut()
            return
        sent = 0
        plan = [(reply.reasoning_field, p) for p in _pieces(reply.reasoning, reply.chunk_chars)]
        plan += [("content", p) for p in _pieces(content, reply.chunk_chars)]
        content_sent = 0
        for field_name, piece in plan:
            if reply.hold is not None and sent == reply.hold_after:
                self._hold(reply.hold)
            if reply.delay:
                self._pause(reply.delay)
            if reply.garbage is not None and content_sent == reply.garbage_after:
                self._garbage(reply.garbage)
                return
            self._event(chunk({field_name: piece}))
            sent += 1
            if field_name == "content":
                content_sent += 1
                if reply.cut_after is not None and content_sent >= reply.cut_after:
                    self._cut()
                    return
                if (
                    reply.stream_error_after is not None
                    and content_sent >= reply.stream_error_after
                ):
                    self._event(
                        {
                            "error": {
                                "message": reply.error_message
                                or "The server had an error while processing your request.",
                                "type": "server_error",
                                "param": None,
                                "code": None,
                            }
                        }
                    )
                    self._write_chunk(b"")  # chunked terminator: a clean end without [DONE]
                    return
        if reply.garbage is not None:  # fewer deltas than garbage_after: garbage at the end
            self._garbage(reply.garbage)
            return
        if reply.hold is not None and sent < reply.hold_after:
            self._hold(reply.hold)
        if reply.cut_after is not None:  # fewer deltas than cut_after: cut at the end
            self._cut()
            return
        self._event(chunk({}, reply.finish_reason))
        if include_usage and reply.usage is not None:
            prompt, completion = reply.usage
            usage_chunk = chunk({})
            usage_chunk["choices"] = []
            usage_chunk["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            }
            self._event(usage_chunk)
        self._event("[DONE]")
        self._write_chunk(b"")
        self.server.fake._note_completed()

    def _garbage(self, line: str) -> None:
        self._write_chunk(f"data: {line}\n\n".encode())
        self._write_chunk(b"")  # a clean end of the body, without [DONE]

    def _cut(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class FakeOpenAI:
    """An OpenAI-compatible server on a free 127.0.0.1 port, run in a background thread.

    Args:
        models: ids listed by ``GET /v1/models``.
        api_key: when set, chat and ``/models`` requests without ``Authorization: Bearer
            <api_key>`` get a 401.
        reject_stream_options: answer 400 to requests that carry ``stream_options``
            (like some older OpenAI-compatible servers).
        strict_models: answer 404 to chat requests for a model not in ``models``.
        port: the port to bind; 0 picks a free one.

    Attributes:
        url: the base URL to give the client, ``http://127.0.0.1:<port>/v1``.
        requests: parsed JSON bodies of chat requests, in arrival order.
        headers: the headers of those requests (case-insensitive lookups).
        default_reply: served when the script is empty.
        serve_models: False makes ``GET /v1/models`` answer 404.
        disconnects: streams the client abandoned before the end.
        completed_streams: streams that were sent to the end (``[DONE]``).
        model_list_requests: how many ``GET /v1/models`` were served.
        text_only_models: models that refuse image parts with a 400, as vLLM does
            ("<model> is not a multimodal model").
    """

    def __init__(
        self,
        models: Sequence[str] = DEFAULT_MODELS,
        *,
        api_key: str | None = None,
        reject_stream_options: bool = False,
        strict_models: bool = False,
        port: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        self.models: list[str] = list(models)
        self.api_key = api_key
        self.reject_stream_options = reject_stream_options
        self.strict_models = strict_models
        self.serve_models = True
        self.default_reply = Reply(content=DEFAULT_CONTENT)
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.disconnects = 0
        self.completed_streams = 0
        self.model_list_requests = 0
        self.text_only_models: set[str] = set()
        self._host = host.strip("[]")
        self._port = port
        self._script: deque[Reply] = deque()
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle

    def start(self) -> FakeOpenAI:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        self._stopping.clear()
        ipv6 = ":" in self._host
        server_class = _Server6 if ipv6 else _Server
        server = server_class((self._host, self._port), _Handler)
        server.fake = self
        self._server = server
        port = int(server.server_address[1])
        host = f"[{self._host}]" if ipv6 else self._host
        self.url = f"http://{host}:{port}/v1"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-openai-{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: release held streams, close open connections, free the port."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with self._changed:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (after ``start``)."""
        return int(self.url.rsplit(":", 1)[1].split("/", 1)[0])

    # -- scripting and inspection

    def script(self, *replies: Reply) -> None:
        """Set the replies for the next chat requests, one each, in order.

        Replaces any replies still unconsumed from an earlier ``script`` call (so a test
        that scripted spare failures can go on with a fresh script); once the script is
        used up, ``default_reply`` is served.
        """
        with self._changed:
            self._script = deque(replies)

    def wait_for_requests(self, n: int, timeout: float = 30) -> None:
        """Block until ``n`` chat requests have arrived.

        Raises:
            TimeoutError: fewer than ``n`` arrived within ``timeout`` seconds.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.requests) >= n, timeout):
                raise TimeoutError(f"expected {n} chat requests, got {len(self.requests)}")

    def wait_for_disconnects(self, n: int = 1, timeout: float = 10) -> None:
        """Block until the client abandoned ``n`` streams (closed the connection mid-answer).

        Raises:
            TimeoutError: fewer than ``n`` were seen within ``timeout`` seconds.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: self.disconnects >= n, timeout):
                raise TimeoutError(f"expected {n} client disconnects, saw {self.disconnects}")

    # -- called from handler threads

    def _record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self._changed:
            self.requests.append(body)
            self.headers.append(headers)
            self._changed.notify_all()

    def _next_reply(self) -> Reply:
        with self._changed:
            return self._script.popleft() if self._script else self.default_reply

    def _note_disconnect(self) -> None:
        with self._changed:
            self.disconnects += 1
            self._changed.notify_all()

    def _note_completed(self) -> None:
        with self._changed:
            self.completed_streams += 1
            self._changed.notify_all()

    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._changed:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)


def iter_replies(path: Path) -> Iterator[Reply]:
    """Replies from a JSON file holding a list of ``Reply`` keyword dicts."""
    for entry in json.loads(path.read_text(encoding="utf-8")):
        fields: dict[str, Any] = dict(entry)
        if fields.get("usage"):
            fields["usage"] = tuple(fields["usage"])
        yield Reply(**fields)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until killed (SIGINT/SIGTERM): ``python -m tests.support.fake_openai --port P``."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated ids")
    parser.add_argument("--delay", type=float, default=0.02, help="seconds between deltas")
    parser.add_argument("--chunk-chars", type=int, default=4)
    parser.add_argument("--reasoning", default="", help="reasoning text streamed before answers")
    parser.add_argument("--content", default=DEFAULT_CONTENT, help="default answer ({question})")
    parser.add_argument("--api-key", default=None, help="require this Bearer key (else 401)")
    parser.add_argument(
        "--script",
        type=Path,
        default=None,
        help="JSON list of Reply fields served before the default reply",
    )
    args = parser.parse_args(argv)

    fake = FakeOpenAI(
        [m for m in args.models.split(",") if m],
        api_key=args.api_key,
        port=args.port,
        host=args.host,
    )
    fake.default_reply = Reply(
        content=args.content,
        reasoning=args.reasoning,
        delay=args.delay,
        chunk_chars=args.chunk_chars,
    )
    if args.script:
        fake.script(*iter_replies(args.script))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    fake.start()
    print(f"fake OpenAI server on {fake.url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()


__all__ = ["DEFAULT_CONTENT", "FakeOpenAI", "Reply", "iter_replies", "main"]

if __name__ == "__main__":
    main()
