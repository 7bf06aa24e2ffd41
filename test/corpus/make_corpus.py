"""Write the generated cases of the bad-input corpus (run from this folder).

The small hand-written cases (malformed_csv) are files; the bigger ones are made here
so their shape is documented by code. Run: ``python make_corpus.py``.
"""

import json
from pathlib import Path


def write(path: str, text: str, encoding: str = "utf-8") -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(text.encode(encoding))


def ragged_rows() -> None:
    lines = ["sensor;reading;unit"]
    for i in range(1, 1001):
        if i % 97 == 0:
            lines.append(f"s{i};{i}")
        elif i % 89 == 0:
            lines.append(f"s{i};{i};C;oops")
        else:
            lines.append(f"s{i};{i / 10};C")
    write("ragged_rows/readings.csv", "\n".join(lines) + "\n")


def wrong_encoding() -> None:
    rows = [
        "city,population",
        "Amsterdam,900000",
        "Köln,1080000",
        "Zürich,420000",
        "Berlin,3600000",
        "Malmö,350000",
        "Paris,2100000",
    ]
    write("wrong_encoding/cities.csv", "\n".join(rows) + "\n", encoding="latin-1")


def null_flood() -> None:
    lines = []
    for i in range(1000):
        email = None if i % 10 else f"u{i}@x.io"
        age = None if i % 3 == 0 else 20 + i % 50
        lines.append(json.dumps({"id": i, "email": email, "age": age}))
    write("null_flood/users.ndjson", "\n".join(lines) + "\n")


def duplicate_keys() -> None:
    lines = ["customer_id,name"] + [f"{i % 150},name{i}" for i in range(200)]
    write("duplicate_keys/customers.csv", "\n".join(lines) + "\n")


def dtype_check() -> None:
    rows = [
        {"id": 1, "at": "2024-05-01T10:00:00", "n": "12"},
        {"id": 2, "at": "yesterday", "n": "7"},
        {"id": 3, "at": "2024-05-02T11:30:00", "n": "seven"},
        {"id": 4, "at": None, "n": None},
    ]
    write("dtype_check/events.ndjson", "\n".join(json.dumps(r) for r in rows) + "\n")


if __name__ == "__main__":
    ragged_rows()
    wrong_encoding()
    null_flood()
    duplicate_keys()
    dtype_check()
