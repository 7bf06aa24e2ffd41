"""Connector benchmarks: each Ocht connector against hand-written code in the same run.

    uv run python bench/connectors.py                  # all three, default sizes
    uv run python bench/connectors.py --only s3 --rows 5000000

- s3:    Parquet on a local S3-compatible server (moto): read, filter, write back, through
         `ocht` (executor, in process) and through hand-written Polars (scan_parquet +
         sink_parquet with storage_options) — the same server, alternating, median.
- http:  pages/s of the http input over a paginated REST server on loopback, against a
         hand-written httpx loop that builds the same frame.
- avro:  Confluent-framed Avro decode, records/s: the Kafka Avro codec against a
         hand-written fastavro schemaless_reader loop; and Avro files: the avro input
         against fastavro.reader + pl.DataFrame.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import struct
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import fastavro
import httpx
import polars as pl

from ocht.connector_kafka import RegistryCodec
from ocht.testkit import RestApi, S3Server, SchemaRegistry, run_pipeline


def _median(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _report(name: str, ours: float, ref: float, unit: str = "s") -> None:
    print(
        f"{name:<34} ocht {ours:8.3f} {unit}   by hand {ref:8.3f} {unit}   ratio {ours / ref:5.2f}x"
    )


def bench_s3(rows: int, rounds: int, home: Path) -> None:
    with S3Server() as s3:
        s3.create_bucket("bench")
        opts = s3.options
        frame = pl.DataFrame(
            {"id": range(rows), "amount": [i % 1000 for i in range(rows)], "k": ["abc"] * rows}
        )
        frame.write_parquet("s3://bench/in/data.parquet", storage_options=_polars(opts))
        spec = {
            "name": "bench_s3",
            "inputs": {
                "i": {"type": "parquet", "path": "s3://bench/in/*.parquet", "storage_options": opts}
            },
            "steps": [{"kind": "filter", "where": "amount > 500"}],
            "outputs": {
                "o": {
                    "type": "parquet",
                    "path": "s3://bench/out/ocht.parquet",
                    "storage_options": opts,
                }
            },
        }

        def ocht() -> None:
            run_pipeline(spec, home=home)

        def by_hand() -> None:
            (
                pl.scan_parquet("s3://bench/in/*.parquet", storage_options=_polars(opts))
                .filter(pl.col("amount") > 500)
                .sink_parquet("s3://bench/out/hand.parquet", storage_options=_polars(opts))
            )

        times: dict[str, list[float]] = {"ocht": [], "hand": []}
        for _ in range(rounds):
            for name, fn in (("ocht", ocht), ("hand", by_hand)):
                times[name].append(_median(fn, 1))
        _report(
            f"s3 parquet {rows:,} rows read+write",
            statistics.median(times["ocht"]),
            statistics.median(times["hand"]),
        )


def _polars(opts: dict[str, str]) -> dict[str, str]:
    return {
        "aws_endpoint_url": opts["endpoint_url"],
        "aws_access_key_id": opts["access_key_id"],
        "aws_secret_access_key": opts["secret_access_key"],
        "aws_region": opts["region"],
        "aws_allow_http": "true",
    }


def bench_http(pages: int, page_size: int, rounds: int, home: Path) -> None:
    records = [
        {"id": i, "updated_at": f"2024-01-01T00:00:{i % 60:02d}", "v": i}
        for i in range(pages * page_size)
    ]
    with RestApi(records, page_size=page_size) as api:
        spec = {
            "name": "bench_http",
            "inputs": {
                "i": {
                    "type": "http",
                    "url": api.url("/records"),
                    "params": {"style": "page", "size": page_size},
                    "records": "data",
                    "paginate": {"type": "page"},
                }
            },
            "outputs": {"o": {"type": "parquet", "path": str(home / "http.parquet")}},
        }

        def ocht() -> None:
            run_pipeline(spec, home=home)

        def by_hand() -> None:
            rows: list[dict[str, object]] = []
            with httpx.Client() as client:
                page = 1
                while True:
                    body = client.get(
                        api.url("/records"),
                        params={"style": "page", "page": page, "size": page_size},
                    ).json()
                    if not body["data"]:
                        break
                    rows.extend(body["data"])
                    page += 1
            pl.DataFrame(rows).write_parquet(home / "http-hand.parquet")

        ours = _median(ocht, rounds)
        ref = _median(by_hand, rounds)
        print(
            f"{'http ' + str(pages) + ' pages of ' + str(page_size):<34} "
            f"ocht {pages / ours:8.0f} pages/s   by hand {pages / ref:8.0f} pages/s   "
            f"time ratio {ours / ref:5.2f}x"
        )


def bench_avro(records: int, rounds: int, home: Path) -> None:
    schema = {
        "type": "record",
        "name": "r",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "sensor", "type": "string"},
            {"name": "value", "type": "double"},
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        ],
    }
    parsed = fastavro.parse_schema(schema)
    rows = [
        {"id": i, "sensor": f"s{i % 50}", "value": i / 3, "at": 1_700_000_000_000 + i}
        for i in range(records)
    ]
    with SchemaRegistry() as reg:
        schema_id, _ = reg.register("bench-value", json.dumps(schema))
        head = b"\x00" + struct.pack(">I", schema_id)
        payloads = []
        for row in rows:
            buf = io.BytesIO()
            buf.write(head)
            fastavro.schemaless_writer(buf, parsed, row)
            payloads.append(buf.getvalue())
        codec = RegistryCodec(reg.url, subject="bench-value")

        def ocht() -> None:
            codec.decode(payloads)

        def by_hand() -> None:
            out = [fastavro.schemaless_reader(io.BytesIO(p[5:]), parsed, parsed) for p in payloads]
            pl.DataFrame(out)

        ours = _median(ocht, rounds)
        ref = _median(by_hand, rounds)
        print(
            f"{'kafka avro decode ' + format(records, ','):<34} ocht {records / ours:8.0f} rec/s   "
            f"by hand {records / ref:8.0f} rec/s   time ratio {ours / ref:5.2f}x"
        )

    path = home / "bench.avro"
    with path.open("wb") as f:
        fastavro.writer(f, parsed, rows)
    spec = {
        "name": "bench_avro",
        "inputs": {"i": {"type": "avro", "path": str(path)}},
        "outputs": {"o": {"type": "parquet", "path": str(home / "avro.parquet")}},
    }

    def ocht_file() -> None:
        run_pipeline(spec, home=home)

    def hand_file() -> None:
        with path.open("rb") as f:
            pl.DataFrame(list(fastavro.reader(f))).write_parquet(home / "avro-hand.parquet")

    _report(
        f"avro file {records:,} records", _median(ocht_file, rounds), _median(hand_file, rounds)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["s3", "http", "avro"])
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows for the s3 bench")
    parser.add_argument("--pages", type=int, default=200, help="pages for the http bench")
    parser.add_argument("--records", type=int, default=200_000, help="records for avro")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix=f"ocht-bench-{uuid.uuid4().hex[:6]}-"))
    if args.only in (None, "s3"):
        bench_s3(args.rows, args.rounds, home)
    if args.only in (None, "http"):
        bench_http(args.pages, 100, args.rounds, home)
    if args.only in (None, "avro"):
        bench_avro(args.records, args.rounds, home)


if __name__ == "__main__":
    main()
