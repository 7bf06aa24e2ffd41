"""Hypothesis strategies: valid pipelines and files, then mutated.

A generated case starts from one of a few valid pipelines over small real files (CSV,
NDJSON, Parquet; filters, derives, checks, joins, routes, dead letters), then applies
mutations a careless or hostile author would: a value replaced by an odd one (a huge
integer, NaN, a deep list, an empty string, the secret canary through ``${env:...}``),
a key dropped or misspelt, an unknown key, the document's text cut or spliced, and the
data files cut, given a BOM, invalid UTF-8, ragged rows or stray values.
"""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import polars as pl
import yaml
from harness import Case
from hypothesis import strategies as st

SECRET = "${env:FUZZ_SECRET}"

ORDERS = "order_id,customer_id,amount,status\n" + "".join(
    f"{i},{i % 7},{i * 1.5},{'paid' if i % 3 else 'refunded'}\n" for i in range(1, 61)
)
CUSTOMERS = "customer_id,name\n" + "".join(f"{i},c{i}\n" for i in range(5))
EVENTS = "".join(
    json.dumps({"id": i, "kind": "click" if i % 2 else "view", "v": i}) + "\n" for i in range(30)
)


def _parquet() -> bytes:
    buf = io.BytesIO()
    pl.DataFrame({"id": list(range(50)), "amount": [float(i) for i in range(50)]}).write_parquet(
        buf
    )
    return buf.getvalue()


PARQUET = _parquet()
DEAD = {"type": "ndjson", "path": "out/dead.ndjson"}

TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "csv_filter_derive",
        "inputs": {"orders": {"type": "csv", "path": "orders.csv", "on_bad_lines": "dead_letter"}},
        "steps": [
            {"kind": "filter", "where": "status = 'paid' AND amount > 3"},
            {"kind": "derive", "columns": {"vat": "round(amount * 0.19, 2)"}},
        ],
        "outputs": {"out": {"type": "csv", "path": "out/o.csv"}},
        "dead_letter": DEAD,
    },
    {
        "name": "ndjson_checks",
        "inputs": {"events": {"type": "ndjson", "path": "events.ndjson"}},
        "steps": [
            {
                "kind": "check",
                "checks": [
                    {"type": "not_null", "columns": ["id"], "action": "dead_letter"},
                    {
                        "type": "accepted_values",
                        "column": "kind",
                        "values": ["click"],
                        "action": "dead_letter",
                    },
                    {"type": "range", "column": "v", "min": 2, "action": "dead_letter"},
                ],
            }
        ],
        "outputs": {"out": {"type": "parquet", "path": "out/o.parquet"}},
        "dead_letter": DEAD,
    },
    {
        "name": "csv_join",
        "inputs": {
            "orders": {"type": "csv", "path": "orders.csv"},
            "customers": {"type": "csv", "path": "customers.csv"},
        },
        "steps": [
            {
                "kind": "join",
                "input": "orders",
                "with": "customers",
                "on": "customer_id",
                "how": "left",
            }
        ],
        "outputs": {"out": {"type": "ndjson", "path": "out/o.ndjson"}},
    },
    {
        "name": "parquet_route",
        "inputs": {"src": {"type": "parquet", "path": "src.parquet"}},
        "steps": [
            {"id": "split", "kind": "route", "routes": {"big": "amount > 20"}, "default": "small"}
        ],
        "outputs": {
            "big": {"from": "split.big", "type": "csv", "path": "out/big.csv"},
            "small": {"from": "split.small", "type": "parquet", "path": "out/small.parquet"},
        },
    },
]

FILES = {
    "orders.csv": ORDERS.encode(),
    "customers.csv": CUSTOMERS.encode(),
    "events.ndjson": EVENTS.encode(),
    "src.parquet": PARQUET,
}


def _deep(levels: int) -> list[Any]:
    value: list[Any] = [1]
    for _ in range(levels):
        value = [value]
    return value


DEEP = _deep(200)

ODD_VALUES = st.sampled_from(
    [
        10**400,
        -1,
        0,
        2**63,
        "",
        " ",
        SECRET,
        f"'{SECRET}'",
        f"{SECRET} > 1",
        f"x/{SECRET}.csv",
        "NaN",
        float("nan"),
        float("inf"),
        None,
        True,
        [],
        {},
        DEEP,
        "é\u0000\u202e",
        "a" * 5000,
        "amount > ",
        "1/0",
        "'",
        "dead_letter",
        "parquet",
        "out/o.csv",
        "orders.csv",
    ]
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += _paths(v, (*prefix, i))
    return found


def _set(doc: Any, path: tuple[Any, ...], value: Any, *, delete: bool = False) -> None:
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value


@st.composite
def mutated_document(draw: st.DrawFn) -> dict[str, Any]:
    """A template with one to three structural mutations."""
    doc = copy.deepcopy(draw(st.sampled_from(TEMPLATES)))
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "replace", "delete", "misspell", "add"]))
        try:
            if op == "replace":
                _set(doc, path, copy.deepcopy(draw(ODD_VALUES)))
            elif op == "delete":
                _set(doc, path, None, delete=True)
            elif op == "misspell" and isinstance(path[-1], str):
                parent = doc
                for key in path[:-1]:
                    parent = parent[key]
                parent[path[-1][:-1] + "x"] = parent.pop(path[-1])
            elif op == "add":
                parent = doc
                for key in path[:-1]:
                    parent = parent[key]
                if isinstance(parent, dict):
                    parent[draw(st.sampled_from(["wher", "extra", "on_bad_line", "retry"]))] = (
                        copy.deepcopy(draw(ODD_VALUES))
                    )
        except (KeyError, IndexError, TypeError):
            continue
    return doc


def _dump(doc: dict[str, Any], fmt: str) -> str:
    if fmt == ".json":
        return json.dumps(doc, allow_nan=True)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


@st.composite
def mutated_text(draw: st.DrawFn, text: str) -> str:
    """``text`` perhaps cut, spliced with junk, or given a duplicate key."""
    op = draw(st.sampled_from(["none", "none", "none", "cut", "splice", "duplicate", "bomb"]))
    if op == "cut" and text:
        return text[: draw(st.integers(0, len(text) - 1))]
    if op == "splice" and text:
        at = draw(st.integers(0, len(text)))
        junk = draw(
            st.sampled_from(
                ["{", "]", ":", "\t", "&a", "*a", "!!python/object:os.system", "\x00", "---\n", "'"]
            )
        )
        return text[:at] + junk + text[at:]
    if op == "duplicate":
        return text + "\noutputs: {}\n"
    if op == "bomb":
        return (
            "x: &a [1,1,1,1,1,1,1,1]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nz: &c [*b,*b,*b,*b,*b,*b,*b,*b]\n"
            + text
        )
    return text


@st.composite
def mutated_file(draw: st.DrawFn, name: str, data: bytes) -> bytes:
    """A data file perhaps cut, given a BOM, bad bytes, ragged rows or a stray value."""
    op = draw(
        st.sampled_from(
            ["none", "none", "cut", "bom", "bad_utf8", "ragged", "stray", "empty", "nan"]
        )
    )
    if op == "cut":
        return data[: draw(st.integers(0, max(len(data) - 1, 0)))]
    if op == "empty":
        return b""
    if name.endswith(".parquet"):
        if op in ("bad_utf8", "stray"):
            at = draw(st.integers(0, len(data) - 1))
            return data[:at] + b"\xff\x00garbage" + data[at + 9 :]
        return data
    if op == "bom":
        return b"\xef\xbb\xbf" + data
    if op == "bad_utf8":
        return data + b"99,\xff\xfe,1,paid\n"
    if op == "ragged":
        return data + (b"1,2\n" if name.endswith(".csv") else b'{"id": 1, "kind"\n')
    if op == "stray":
        return data + (
            b"77,1,not-a-number,paid\n" if name.endswith(".csv") else b'{"id": "x", "v": []}\n'
        )
    if op == "nan":
        return data + (b"78,1,NaN,paid\n" if name.endswith(".csv") else b'{"id": 5, "v": NaN}\n')
    return data


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """One generated case: a mutated pipeline document and mutated files."""
    doc = draw(mutated_document())
    fmt = draw(st.sampled_from([".yaml", ".yaml", ".json"]))
    text = draw(mutated_text(_dump(doc, fmt)))
    files = {name: draw(mutated_file(name, data)) for name, data in FILES.items()}
    args = tuple(draw(st.sampled_from([(), (), ("--limit", "5"), ("--dry-run",), ("--no-store",)])))
    return Case(f"generated:{doc.get('name', '?')}", text, fmt, files, args)
