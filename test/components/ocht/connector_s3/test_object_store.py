"""Object-store inputs and outputs through the executor, on a real S3 server (moto)."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ocht.errors import OchtError
from ocht.store import Store
from ocht.testkit import S3Server, run_pipeline


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    name = f"b-{uuid.uuid4().hex[:10]}"
    s3_server.create_bucket(name)
    return name


def _parquet(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_parquet(buf)
    return buf.getvalue()


def _pipeline(inp: dict[str, Any], out: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": "objects",
        "inputs": {"orders": inp},
        "steps": [{"kind": "filter", "where": "amount > 10"}],
        "outputs": {"big": out},
        **extra,
    }


def _run(spec: dict[str, Any], tmp_path: Path, store: Store | None = None, **kw: Any) -> Any:
    # a pipeline given as a dict resolves relative paths against the working directory
    spec = {**spec, "vars": spec.get("vars", {})}
    return run_pipeline(spec, home=tmp_path / ".ocht", store=store, **kw)


def test_parquet_glob_in_and_out(s3_server: S3Server, bucket: str, tmp_path: Path) -> None:
    opts = s3_server.options
    s3_server.put(bucket, "raw/2024-01.parquet", _parquet(pl.DataFrame({"amount": [5, 20]})))
    s3_server.put(bucket, "raw/2024-02.parquet", _parquet(pl.DataFrame({"amount": [30, 1]})))
    s3_server.put(bucket, "raw/notes.txt", b"not parquet")
    result = _run(
        _pipeline(
            {"type": "parquet", "path": f"s3://{bucket}/raw/*.parquet", "storage_options": opts},
            {"type": "parquet", "path": f"s3://{bucket}/out/big.parquet", "storage_options": opts},
        ),
        tmp_path,
    )
    assert result.status == "succeeded"
    got = pl.read_parquet(io.BytesIO(s3_server.get(bucket, "out/big.parquet")))
    assert sorted(got["amount"]) == [20, 30]
    # the temporary key is gone once the output is published
    assert [k for k in s3_server.keys(bucket) if k.startswith(".ocht-tmp")] == []


def test_csv_objects_read_like_local_files(
    s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    opts = s3_server.options
    text = "id,amount\n1,50\n2,3\n3,40,extra\n"
    s3_server.put(bucket, "in/a.csv", text.encode())
    (tmp_path / "a.csv").write_text(text)
    results = {}
    for where, path in (("s3", f"s3://{bucket}/in/a.csv"), ("local", str(tmp_path / "a.csv"))):
        out = tmp_path / f"{where}.parquet"
        results[where] = _run(
            _pipeline(
                {
                    "type": "csv",
                    "path": path,
                    "storage_options": opts,
                    "on_bad_lines": "dead_letter",
                },
                {"type": "parquet", "path": str(out)},
                dead_letter={"type": "ndjson", "path": str(tmp_path / f"{where}-dead.ndjson")},
            ),
            tmp_path,
        )
    s3_rows = pl.read_parquet(tmp_path / "s3.parquet")
    assert s3_rows.equals(pl.read_parquet(tmp_path / "local.parquet"))
    assert s3_rows["id"].to_list() == [1]
    [dead_file] = tmp_path.glob("s3-dead.*.ndjson")  # one dead-letter file per run
    dead = pl.read_ndjson(dead_file)
    assert dead.height == 1
    # the dead letter names the object, not the staged copy
    assert dead["position"][0] == f"s3://{bucket}/in/a.csv:4"


def test_csv_and_ndjson_outputs(s3_server: S3Server, bucket: str, tmp_path: Path) -> None:
    opts = s3_server.options
    s3_server.put(bucket, "in/a.parquet", _parquet(pl.DataFrame({"amount": [11, 12, 1]})))
    spec = _pipeline(
        {"type": "parquet", "path": f"s3://{bucket}/in/", "storage_options": opts},
        {"type": "csv", "path": f"s3://{bucket}/out/big.csv", "storage_options": opts},
    )
    spec["outputs"]["copy"] = {
        "type": "ndjson",
        "path": f"s3://{bucket}/out/big.ndjson",
        "storage_options": opts,
        "from": "filter_1",
    }
    assert _run(spec, tmp_path).status == "succeeded"
    assert s3_server.get(bucket, "out/big.csv").decode().splitlines() == ["amount", "11", "12"]
    assert pl.read_ndjson(io.BytesIO(s3_server.get(bucket, "out/big.ndjson"))).height == 2


def test_a_failed_run_publishes_nothing(s3_server: S3Server, bucket: str, tmp_path: Path) -> None:
    opts = s3_server.options
    s3_server.put(bucket, "in/a.csv", b"amount\n20\nnot-a-number\n")
    s3_server.put(bucket, "out/big.parquet", _parquet(pl.DataFrame({"amount": [-1]})))
    spec = _pipeline(
        {
            "type": "csv",
            "path": f"s3://{bucket}/in/a.csv",
            "storage_options": opts,
            "schema": {"amount": "int64"},
        },
        {"type": "parquet", "path": f"s3://{bucket}/out/big.parquet", "storage_options": opts},
    )
    with pytest.raises(OchtError) as err:
        _run(spec, tmp_path)
    assert f"s3://{bucket}/in/a.csv:3" in err.value.message  # the object, not a local copy
    old = pl.read_parquet(io.BytesIO(s3_server.get(bucket, "out/big.parquet")))
    assert old["amount"].to_list() == [-1]
    assert [k for k in s3_server.keys(bucket) if k.startswith(".ocht-tmp")] == []


def test_incremental_files_reads_only_new_objects(
    s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    opts = s3_server.options
    store = Store(base_dir=tmp_path)
    out = tmp_path / "out.parquet"
    spec = _pipeline(
        {
            "type": "parquet",
            "path": f"s3://{bucket}/daily/*.parquet",
            "storage_options": opts,
            "incremental": "files",
        },
        {"type": "parquet", "path": str(out)},
    )
    try:
        s3_server.put(bucket, "daily/d1.parquet", _parquet(pl.DataFrame({"amount": [20, 21]})))
        first = _run(spec, tmp_path, store=store)
        assert pl.read_parquet(out)["amount"].to_list() == [20, 21]
        assert first.inputs["orders"] == 2

        s3_server.put(bucket, "daily/d2.parquet", _parquet(pl.DataFrame({"amount": [30]})))
        second = _run(spec, tmp_path, store=store)
        assert pl.read_parquet(out)["amount"].to_list() == [30]
        assert second.inputs["orders"] == 1

        third = _run(spec, tmp_path, store=store)  # nothing new: an empty, well-typed output
        assert pl.read_parquet(out).height == 0 and third.inputs["orders"] == 0

        s3_server.put(bucket, "daily/d1.parquet", _parquet(pl.DataFrame({"amount": [99]})))
        fourth = _run(spec, tmp_path, store=store)  # rewritten in place: read again
        assert pl.read_parquet(out)["amount"].to_list() == [99]
        assert fourth.status == "succeeded"

        refreshed = _run(spec, tmp_path, store=store, full_refresh=True)
        assert sorted(pl.read_parquet(out)["amount"]) == [30, 99]
        assert refreshed.inputs["orders"] == 2
    finally:
        store.close()


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("s3://{bucket}/nothing/*.parquet", "source-unreachable"),
        ("s3://no-such-bucket-{bucket}/x.parquet", "source-unreachable"),
    ],
)
def test_missing_objects_are_clear_errors(
    s3_server: S3Server, bucket: str, tmp_path: Path, path: str, code: str
) -> None:
    spec = _pipeline(
        {
            "type": "parquet",
            "path": path.format(bucket=bucket),
            "storage_options": s3_server.options,
        },
        {"type": "parquet", "path": str(tmp_path / "o.parquet")},
    )
    with pytest.raises(OchtError) as err:
        _run(spec, tmp_path)
    assert err.value.code == code
    assert not (tmp_path / "o.parquet").exists()


def test_unreachable_endpoint_is_retried_then_fails(tmp_path: Path) -> None:
    opts = {
        "endpoint_url": "http://127.0.0.1:9",
        "access_key_id": "k",
        "secret_access_key": "s",
        "region": "us-east-1",
        "allow_http": "true",
    }
    spec = _pipeline(
        {
            "type": "parquet",
            "path": "s3://lake/x.parquet",
            "storage_options": opts,
            "retry": {"attempts": 2, "initial": 0.01, "timeout": 5},
        },
        {"type": "parquet", "path": str(tmp_path / "o.parquet")},
    )
    with pytest.raises(OchtError) as err:
        _run(spec, tmp_path)
    assert err.value.code in ("retries-exhausted", "source-unreachable")
    assert "s" not in (err.value.hint or "").split()  # the secret key is not echoed


def test_output_must_name_one_object(s3_server: S3Server, bucket: str, tmp_path: Path) -> None:
    s3_server.put(bucket, "in/a.parquet", _parquet(pl.DataFrame({"amount": [11]})))
    spec = _pipeline(
        {
            "type": "parquet",
            "path": f"s3://{bucket}/in/a.parquet",
            "storage_options": s3_server.options,
        },
        {"type": "parquet", "path": f"s3://{bucket}/out/", "storage_options": s3_server.options},
    )
    with pytest.raises(OchtError) as err:
        _run(spec, tmp_path)
    assert err.value.code == "output-write-failed"


def test_unknown_scheme_is_refused_at_validation(tmp_path: Path) -> None:
    spec = _pipeline(
        {"type": "parquet", "path": "ftp://host/x.parquet"},
        {"type": "parquet", "path": str(tmp_path / "o.parquet")},
    )
    with pytest.raises(OchtError) as err:
        _run(spec, tmp_path)
    assert err.value.exit_code == 2
    assert "ftp://" in err.value.message or any("ftp" in i.message for i in err.value.issues)
