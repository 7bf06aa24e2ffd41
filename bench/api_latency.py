"""API benchmark: submit-run and get-run latency under concurrent clients, reads per second.

    uv run python bench/api_latency.py                      # 50 clients, SQLite store
    uv run python bench/api_latency.py --clients 50 --submits 500 --reads 3000
    OCHT_STORE_URL=postgresql://127.0.0.1/test uv run python bench/api_latency.py

Starts ``ocht-api serve`` in its own process on a free loopback port (a fresh work folder,
one admin key, one small draft pipeline), then drives it from this process with
``--clients`` concurrent HTTP/1.1 clients (httpx, asyncio). The reference, in the same run,
is a bare ASGI app under the same uvicorn answering a fixed JSON body: the fastest answer
this stack gives, so the ratio is what authentication, the store and the models cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

BARE_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"status":"ok"}'})
"""

DOCUMENT = {
    "name": "bench",
    "inputs": {"i": {"type": "csv", "path": "in.csv"}},
    "steps": [{"kind": "filter", "where": "a > 2"}],
    "outputs": {"o": {"type": "parquet", "path": "out/o.parquet"}},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


async def drive(
    clients: int,
    total: int,
    call: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
    base: str,
) -> tuple[list[float], float, int]:
    """``total`` calls over ``clients`` connections: latencies (s), wall time, non-2xx."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:

        async def worker() -> None:
            nonlocal errors
            for i in counter:
                t0 = time.perf_counter()
                try:
                    r = await call(http, i)
                    errors += r.status_code >= 300
                except httpx.TransportError:  # counted, not fatal: the figure says so
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - started
    return latencies, wall, errors


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(
    name: str, lat: list[float], wall: float, errors: int, ref: tuple[float, float] | None
) -> None:
    p50, p99, rps = pct(lat, 0.5), pct(lat, 0.99), len(lat) / wall
    ratio = f"  p50 {p50 / ref[0]:.1f}x, req/s {rps / ref[1]:.2f}x of bare" if ref else ""
    print(
        f"{name:<28} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  {rps:8.0f} req/s  errors {errors}{ratio}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--submits", type=int, default=300)
    parser.add_argument("--reads", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=2, help="runs executed at once")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ocht-api-bench-"))
    (work / "in.csv").write_text("a,b\n" + "".join(f"{i},x{i}\n" for i in range(100)))
    env = {**os.environ, "OCHT_API_WORKDIR": str(work), "OCHT_API_QUEUE": str(args.submits + 10)}
    env["OCHT_API_WORKERS"] = str(args.workers)
    (work / "bare.py").write_text(BARE_APP)

    from ocht.store import ApiKeys, Store

    with Store(env.get("OCHT_STORE_URL"), base_dir=work) as store:
        tenant = f"bench{os.getpid()}"
        key = ApiKeys(store).create(tenant=tenant, role="admin", name="bench").secret
    headers = {"Authorization": f"Bearer {key}"}

    api_port, bare_port = free_port(), free_port()
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from ocht.api.main import main; main()",
                "serve",
                "--port",
                str(api_port),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bare:app",
                "--port",
                str(bare_port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    api, bare = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
    try:
        wait_ready(f"{api}/healthz")
        wait_ready(bare)
        httpx.post(
            f"{api}/v1/pipelines", json={"document": DOCUMENT}, headers=headers
        ).raise_for_status()
        print(
            f"{args.clients} concurrent clients, loopback, store {'OCHT_STORE_URL' if 'OCHT_STORE_URL' in env else 'SQLite'}"
        )
        c = args.clients
        ref_lat, ref_wall, _ = asyncio.run(drive(c, args.reads, lambda h, i: h.get("/"), bare))
        ref = (pct(ref_lat, 0.5), len(ref_lat) / ref_wall)
        report("bare ASGI (reference)", ref_lat, ref_wall, 0, None)
        run_ids: list[str] = []

        async def submit(h: httpx.AsyncClient, i: int) -> httpx.Response:
            r = await h.post("/v1/runs", json={"pipeline": "bench"}, headers=headers)
            if r.status_code == 202:
                run_ids.append(r.json()["run_id"])
            return r

        report("POST /v1/runs (submit)", *asyncio.run(drive(c, args.submits, submit, api)), ref)
        ids = run_ids or ["missing"]
        # reads are measured once the submitted runs are done, so they do not share the
        # cores with them
        drained = time.perf_counter()
        while any(
            httpx.get(f"{api}/v1/runs?status={s}&limit=1", headers=headers).json()["items"]
            for s in ("queued", "running")
        ):
            time.sleep(0.5)
        print(
            f"{len(run_ids)} runs executed {time.perf_counter() - drained:.1f}s after the last submit"
        )
        report(
            "GET /v1/runs/{id}",
            *asyncio.run(
                drive(
                    c,
                    args.reads,
                    lambda h, i: h.get(f"/v1/runs/{ids[i % len(ids)]}", headers=headers),
                    api,
                )
            ),
            ref,
        )
        report(
            "GET /v1/runs?limit=20",
            *asyncio.run(
                drive(c, args.reads, lambda h, i: h.get("/v1/runs?limit=20", headers=headers), api)
            ),
            ref,
        )
        report(
            "GET /v1/pipelines/{name}",
            *asyncio.run(
                drive(
                    c, args.reads, lambda h, i: h.get("/v1/pipelines/bench", headers=headers), api
                )
            ),
            ref,
        )
        report(
            "GET /healthz (no auth)",
            *asyncio.run(drive(c, args.reads, lambda h, i: h.get("/healthz"), api)),
            ref,
        )
        statuses = [
            httpx.get(f"{api}/v1/runs/{r}", headers=headers).json()["status"] for r in ids[:20]
        ]
        print(f"first 20 runs: {statistics.mode(statuses) if statuses else '-'}")
        print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
