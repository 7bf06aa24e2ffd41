"""A real uvicorn on a free loopback port, in a thread: for API tests and benchmarks.

Example:
    >>> from ocht.testkit import serve_asgi  # doctest: +SKIP
    >>> with serve_asgi(app) as base_url:  # doctest: +SKIP
    ...     httpx.get(f"{base_url}/healthz").status_code
    200
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def serve_asgi(app: Any, *, timeout: float = 20.0) -> Iterator[str]:
    """Serve ``app`` on ``127.0.0.1`` (a free port) until the block ends; yields its URL.

    Raises:
        RuntimeError: the server did not start within ``timeout`` seconds.
    """
    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="ocht-test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
