"""A secret canary in every place a pipeline value can appear is found nowhere.

Each case runs the real ``ocht`` command (JSON logs, ``--debug``) with ``${env:...}``
values holding the canary, then searches stdout, stderr, every file the run left (the
run store's SQLite file, traces, dead letters, outputs' folders) for it.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

CANARY = "zzCANARYq9"
OCHT = str(Path(sys.executable).parent / "ocht")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def leaks(root: Path) -> list[str]:
    """Files under ``root`` holding the canary (Parquet decoded, SQLite read as bytes)."""
    found = []
    for path in root.rglob("*"):
        if not path.is_file() or path.name in ("p.yaml", "in.csv", "src.db"):
            continue
        if path.suffix == ".parquet":
            text = str(pl.read_parquet(path).rows())
        else:
            text = path.read_bytes().decode("utf-8", "replace")
        if CANARY in text:
            found.append(str(path.relative_to(root)))
    return found


def run_ocht(
    folder: Path, pipeline: str, *args: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    (folder / "p.yaml").write_text(pipeline)
    (folder / "in.csv").write_text("id,name,amount\n1,a,10\n2,b,-5\n3,c,30\n")
    con = sqlite3.connect(folder / "src.db")
    con.execute("CREATE TABLE t (id INTEGER, name TEXT)")
    con.execute("INSERT INTO t VALUES (1, 'a')")
    con.commit()
    con.close()
    return subprocess.run(
        [OCHT, "--log-format", "json", "--debug", "run", "p.yaml", *args],
        cwd=folder,
        env={**os.environ, **env, "OCHT_HOME": str(folder / ".ocht")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


HEAD = "name: canary\ninputs:\n  src: {type: csv, path: in.csv}\n"
OUT = "outputs:\n  out: {type: csv, path: out/o.csv}\ndead_letter: {type: ndjson, path: out/dead.ndjson}\n"

CASES = {
    # a password with '@' in a PostgreSQL URL: refused before any connection, masked
    "url-password-with-at": (
        "name: canary\ninputs:\n  src: {type: sql, url: "
        "'postgresql://etl:${env:PGPW}@127.0.0.1:PORT/shop', table: t}\n" + OUT,
        {"PGPW": f"cd@{CANARY}"},
        2,
    ),
    # a percent-encoded password that reaches a server nobody runs: the driver's error
    "url-password-encoded": (
        "name: canary\ninputs:\n  src: {type: sql, url: "
        "'postgresql://etl:${env:PGPW}@127.0.0.1:PORT/shop', table: t, "
        "retry: {attempts: 1}}\n" + OUT,
        {"PGPW": f"cd%40{CANARY}"},
        1,
    ),
    "path": (
        "name: canary\ninputs:\n  src: {type: csv, path: 'data/${env:S}.csv'}\n" + OUT,
        {"S": CANARY},
        1,
    ),
    "filter-value": (
        HEAD + "steps:\n  - {kind: filter, where: \"name <> '${env:S}'\"}\n" + OUT,
        {"S": CANARY},
        0,
    ),
    "filter-unknown-column": (
        HEAD + "steps:\n  - {kind: filter, where: '${env:S} > 1'}\n" + OUT,
        {"S": CANARY},
        2,
    ),
    "check-expression-and-accepted-values": (
        HEAD
        + "steps:\n  - kind: check\n    checks:\n"
        + "      - {type: accepted_values, column: name, values: ['${env:S}', a], action: dead_letter}\n"
        + "      - {type: expression, expr: \"amount > 0 OR name = '${env:S}'\", action: dead_letter}\n"
        + "      - {type: expression, expr: \"name <> '${env:S}x'\", action: fail}\n"
        + OUT,
        {"S": CANARY},
        0,
    ),
    "check-fails": (
        HEAD
        + "steps:\n  - kind: check\n    checks:\n"
        + "      - {type: accepted_values, column: name, values: ['${env:S}'], action: fail}\n"
        + OUT,
        {"S": CANARY},
        1,
    ),
    "sql-query": (
        "name: canary\ninputs:\n  src: {type: sql, url: 'sqlite:///src.db', "
        "query: \"SELECT * FROM t WHERE name = '${env:S}' AND nope_${env:S} = 1\"}\n" + OUT,
        {"S": CANARY},
        1,
    ),
    # a successful run whose output path holds the secret: the summary and --json mask it
    "output-path": (
        HEAD + "outputs:\n  out: {type: csv, path: 'out/${env:S}.csv'}\n",
        {"S": CANARY},
        0,
    ),
    "column-name": (
        HEAD + "steps:\n  - {kind: select, columns: ['${env:S}']}\n" + OUT,
        {"S": CANARY},
        2,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_canary_is_found_nowhere(case: str, tmp_path: Path) -> None:
    pipeline, env, exit_code = CASES[case]
    pipeline = pipeline.replace("PORT", str(free_port()))
    done = run_ocht(tmp_path, pipeline, env=env)
    assert done.returncode == exit_code, done.stderr
    assert CANARY not in done.stdout
    assert CANARY not in done.stderr
    assert "error[internal]" not in done.stderr
    assert leaks(tmp_path) == []
    if exit_code:
        assert "error[" in done.stderr  # a stable code, the secret masked


def test_a_password_that_breaks_its_url_gets_the_percent_encode_hint(tmp_path: Path) -> None:
    pipeline, env, _ = CASES["url-password-with-at"]
    done = run_ocht(tmp_path, pipeline.replace("PORT", str(free_port())), env=env)
    assert "percent-encode" in done.stderr
    assert CANARY not in done.stderr


def test_the_json_result_masks_a_secret_output_path(tmp_path: Path) -> None:
    pipeline, env, _ = CASES["output-path"]
    done = run_ocht(tmp_path, pipeline, "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert CANARY not in done.stdout and "out/***.csv" in done.stdout
