"""A local OpenAI-compatible stub server (/v1/chat/completions, /v1/embeddings) for router tests.

Real HTTP on 127.0.0.1 in a thread. Each chat request is answered by a `Reply` from a script (a list
consumed in order, then the last one repeats) or by a function of the request; embeddings are a
deterministic bag-of-words hash, so equal words give similar vectors.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lmos_studio.routing.base import RoutingTable
from lmos_studio.routing.text import name_words, words

EMBED_DIM = 64


@dataclass
class Reply:
    """One scripted answer: HTTP status, the assistant's content (or a raw body) and a delay."""

    content: str | None = None
    status: int = 200
    delay_s: float = 0.0
    raw_body: str | None = None
    refusal: str | None = None


ChatFn = Callable[[dict[str, Any]], Reply]


def completion(content: str | None, *, model: str, refusal: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content, "refusal": refusal},
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 12, "total_tokens": 112},
    }


def hashed_embedding(text: str) -> list[float]:
    vector = [0.0] * EMBED_DIM
    for word in words(text) or ["empty"]:
        digest = hashlib.sha256(word.encode()).digest()
        vector[digest[0] % EMBED_DIM] += 1.0 if digest[1] % 2 else -1.0
    return vector


def keyword_chat(table: RoutingTable) -> ChatFn:
    """A stand-in model: picks the listed capability sharing most words with the user message."""
    vocab = {
        (c.agent, c.capability): set(
            words(" ".join([name_words(c.capability), c.description, name_words(c.agent), c.agent_description]))
        )
        for c in table.candidates
    }

    def chat(request: dict[str, Any]) -> Reply:
        system, user = request["messages"][0]["content"], request["messages"][-1]["content"]
        listed = set(re.findall(r'"name": "([^"]+)"', system))
        query = set(words(user))
        best = max((k for k in vocab if k[0] in listed), key=lambda k: (len(vocab[k] & query), k))
        return Reply(json.dumps({"agent": best[0], "capability": best[1], "confidence": 0.9, "reason": "shared words"}))

    return chat


class StubServer:
    """Serve `chat` (a function or a script of replies) on a free port of 127.0.0.1 until `stop()`."""

    def __init__(self, chat: ChatFn | list[Reply] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._script = list(chat) if isinstance(chat, list) else None
        self._chat = chat if callable(chat) else None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> StubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_reply(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._script is not None:
                return self._script.pop(0) if len(self._script) > 1 else self._script[0]
        assert self._chat is not None
        return self._chat(request)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("retry-after-ms", "10")  # the openai client retries after 10 ms: fast tests
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.headers.append({k.lower(): v for k, v in self.headers.items()})
                if self.path.endswith("/embeddings"):
                    texts = request["input"] if isinstance(request["input"], list) else [request["input"]]
                    data = [
                        {"object": "embedding", "index": i, "embedding": hashed_embedding(t)}
                        for i, t in enumerate(texts)
                    ]
                    self._send(
                        200,
                        json.dumps(
                            {
                                "object": "list",
                                "data": data,
                                "model": request["model"],
                                "usage": {"prompt_tokens": 1, "total_tokens": 1},
                            }
                        ),
                    )
                    return
                reply = stub._next_reply(request)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.raw_body is not None or reply.status != 200:
                    body = reply.raw_body or json.dumps({"error": {"message": "stub error", "type": "x"}})
                    self._send(reply.status, body)
                    return
                self._send(200, json.dumps(completion(reply.content, model=request["model"], refusal=reply.refusal)))

        return Handler
