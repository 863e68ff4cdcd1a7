"""A real HTTP server on 127.0.0.1 that speaks Jina's ``/v1/embeddings`` and ``/v1/rerank``.

Embeddings are deterministic and meaningful: a hashed bag of lower-cased words
plus CJK character bigrams, L2-normalised to ``dimensions``, so texts that share
words are close. Every request is recorded; failures can be scripted.

Images follow Jina's documented v4 API: an input item ``{"image": ...}`` holds an
image URL or the bare base64 of the file (no ``data:`` prefix), and only the
multimodal models (``jina-embeddings-v4``, ``jina-clip-*``) take them; anything
else is a 400. An image is embedded as its caption in ``image_captions`` (by the
SHA-256 of its bytes), standing in for what a real multimodal model sees in it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_INPUTS = 512
MULTIMODAL = ("jina-embeddings-v4", "jina-clip")
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"RIFF")
_WORD = re.compile(r"[a-z0-9]+")
_CJK = re.compile(r"[\u3400-\u9fff]+")


def features(text: str) -> list[str]:
    """The words and CJK bigrams a text is made of."""
    lowered = text.lower()
    found = _WORD.findall(lowered)
    for run in _CJK.findall(lowered):
        found.extend(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    return found


def embed_text(text: str, dimensions: int) -> list[float]:
    """The fake's deterministic embedding of ``text``."""
    vector = [0.0] * dimensions
    for feature in features(text):
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % dimensions
        vector[slot] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0:
        vector[0], norm = 1.0, 1.0
    return [x / norm for x in vector]


class FakeJina:
    """The fake Jina server.

    Attributes:
        url: the base url (``http://127.0.0.1:PORT/v1``).
        api_key: the key it accepts.
        requests: every request body received (with ``path`` and ``authorization`` added).
        embed_calls: how many ``/embeddings`` requests were answered with vectors.
        inputs_embedded: how many inputs were embedded in total.
        max_in_flight: the most requests handled at the same time.
        hold: while cleared, ``/embeddings`` requests wait on it (to observe concurrency).
        reject_marker: when set, an ``/embeddings`` request with an input containing it is
            answered 400 (bad input), as Jina does for input it cannot embed.
    """

    def __init__(self, api_key: str = "jina-test-KEY-0123456789") -> None:
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.embed_calls = 0
        self.inputs_embedded = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.hold = threading.Event()
        self.hold.set()
        self.reject_marker: str | None = None
        #: What each image "shows", by the SHA-256 of its bytes (or by its URL).
        self.image_captions: dict[str, str] = {}
        #: How many image inputs were embedded.
        self.images_embedded = 0
        self.arrived = threading.Condition()
        self._failures: deque[tuple[int, str, dict[str, str]]] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # ------------------------------------------------------------------ control

    def fail_next(
        self, status: int, times: int = 1, body: Any = None, retry_after: float | None = None
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (and ``body`` / ``Retry-After``)."""
        payload = json.dumps(body if body is not None else {"detail": f"scripted failure {status}"})
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        with self._lock:
            for _ in range(times):
                self._failures.append((status, payload, headers))

    def wait_for_in_flight(self, count: int, timeout: float = 10.0) -> bool:
        """Block until ``count`` requests are being handled at once (True) or the timeout."""
        with self.arrived:
            return self.arrived.wait_for(lambda: self.in_flight >= count, timeout)

    def start(self) -> FakeJina:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                status, payload, headers = fake._handle(
                    self.path, self.headers.get("Authorization", ""), body
                )
                data = (
                    json.dumps(payload).encode("utf-8")
                    if not isinstance(payload, str)
                    else payload.encode()
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.hold.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeJina:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ serving

    def _handle(
        self, path: str, authorization: str, body: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.requests.append({**body, "path": path, "authorization": authorization})
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return failure
        if authorization != f"Bearer {self.api_key}":
            return 401, {"detail": "Invalid API key"}, {}
        if path == "/v1/embeddings":
            return self._embeddings(body)
        if path == "/v1/rerank":
            return self._rerank(body)
        return 404, {"detail": f"no route {path}"}, {}

    def _embeddings(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        items = body.get("input")
        if not isinstance(items, list) or not items:
            return 400, {"detail": "input must be a non-empty list"}, {}
        if len(items) > MAX_INPUTS:
            return 400, {"detail": f"too many inputs: {len(items)} > {MAX_INPUTS}"}, {}
        marker = self.reject_marker
        if marker and any(marker in json.dumps(item, ensure_ascii=False) for item in items):
            return 400, {"detail": "input could not be embedded"}, {}
        dimensions = int(body.get("dimensions") or 1024)
        images = [item["image"] for item in items if isinstance(item, dict) and "image" in item]
        if images and not any(name in str(body.get("model")) for name in MULTIMODAL):
            return 400, {"detail": f"{body.get('model')} does not support image input"}, {}
        for image in images:
            if self._image_text(image) is None:
                return 400, {"detail": "image must be a URL or base64-encoded image bytes"}, {}
        with self.arrived:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.arrived.notify_all()
        try:
            self.hold.wait(30)
            texts = []
            for item in items:
                if isinstance(item, dict) and "image" in item:
                    texts.append(self._image_text(item["image"]) or "")
                elif isinstance(item, dict):
                    texts.append(str(item.get("text") or ""))
                else:
                    texts.append(str(item))
            data = [
                {"object": "embedding", "index": i, "embedding": embed_text(t, dimensions)}
                for i, t in enumerate(texts)
            ]
            data.reverse()  # clients must order by index
            tokens = sum(max(1, len(t) // 4) for t in texts)
            with self._lock:
                self.embed_calls += 1
                self.inputs_embedded += len(items)
                self.images_embedded += len(images)
            return (
                200,
                {
                    "model": body.get("model"),
                    "object": "list",
                    "usage": {"total_tokens": tokens, "prompt_tokens": tokens},
                    "data": data,
                },
                {},
            )
        finally:
            with self.arrived:
                self.in_flight -= 1

    def caption(self, data: bytes, text: str) -> None:
        """Make the image ``data`` embed as ``text`` (what a real model would see in it)."""
        self.image_captions[hashlib.sha256(data).hexdigest()] = text

    def _image_text(self, image: object) -> str | None:
        """The text an image input embeds as; None when it is not a URL or base64 image."""
        if not isinstance(image, str) or not image:
            return None
        if image.startswith(("http://", "https://")):
            return self.image_captions.get(image, f"image at {image}")
        try:
            data = base64.b64decode(image, validate=True)
        except (binascii.Error, ValueError):
            return None
        if not data.startswith(_IMAGE_MAGIC):
            return None
        digest = hashlib.sha256(data).hexdigest()
        return self.image_captions.get(digest, f"image {digest[:16]}")

    def _rerank(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        query, documents = str(body.get("query", "")), body.get("documents") or []
        wanted = set(features(query))
        scored = []
        for i, document in enumerate(documents):
            words = features(str(document))
            overlap = sum(1 for w in words if w in wanted)
            scored.append((i, overlap / (1 + len(words)) ** 0.5))
        scored.sort(key=lambda pair: -pair[1])
        top_n = int(body.get("top_n") or len(scored))
        results = [{"index": i, "relevance_score": s} for i, s in scored[:top_n]]
        return (
            200,
            {"model": body.get("model"), "results": results, "usage": {"total_tokens": 1}},
            {},
        )
