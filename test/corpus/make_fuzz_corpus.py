"""Write the fuzzing corpus: bad files (``files/``) and bad pipelines (``pipelines/``).

Run from the repository root: ``uv run python test/corpus/make_fuzz_corpus.py``. Each
case comes from an adversarial pass over the command line; the harness
(``test/fuzz/harness.py``) runs every pipeline with every file beside it.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

HERE = Path(__file__).parent
F = HERE / "files"
P = HERE / "pipelines"


def files() -> None:
    F.mkdir(exist_ok=True)
    orders = "order_id,customer_id,amount,status\n" + "".join(
        f"{i},{i % 7},{i * 1.5},{'paid' if i % 3 else 'refunded'}\n" for i in range(1, 41)
    )
    (F / "good_orders.csv").write_text(orders)
    (F / "good_customers.csv").write_text(
        "customer_id,name\n" + "".join(f"{i},c{i}\n" for i in range(5))
    )
    (F / "g2_orders.csv").write_text("order_id,amount\n1,2\n")  # a glob with another header
    (F / "bom.csv").write_bytes(b"\xef\xbb\xbfid,name\n1,a\n2,b\n")
    (F / "ragged.csv").write_text("id,name,amount\n1,a,1\n2,b\n3,c,3,extra\n4,d,4\n")
    (F / "unclosed_quote.csv").write_text('id,name\n1,"abc\n2,def\n3,ghi\n')
    (F / "multiline_field.csv").write_text('id,note\n1,"line one\nline two"\n2,plain\n')
    (F / "bad_utf8.csv").write_bytes(b"id,name\n1,caf\xe9\n2,\xff\xfe\n")
    (F / "header_only.csv").write_text("id,name\n")
    (F / "empty.csv").write_bytes(b"")
    (F / "stray_value.csv").write_text(
        "id,amount\n" + "".join(f"{i},{i}\n" for i in range(150)) + "150,not-a-number\n151,3\n"
    )
    (F / "big_int.csv").write_text("id,n\n1," + "9" * 400 + "\n2,3\n")
    (F / "comment_lines.csv").write_text("# a comment\nid,name\n1,a\n")
    (F / "empty.ndjson").write_bytes(b"")
    (F / "nan.ndjson").write_text('{"id": 1, "x": NaN}\n{"id": 2, "x": 1.5}\n')
    (F / "truncated_line.ndjson").write_text('{"id": 1}\n{"id": 2, "x"\n')
    (F / "deep.ndjson").write_text('{"a": ' + "[" * 3000 + "]" * 3000 + "}\n")
    rows = "".join(f'{{"id": {i}, "kind": "k", "v": {i}}}\n' for i in range(30))
    (F / "mixed_types.ndjson").write_text(rows + '{"id": "x", "v": []}\n')
    (F / "big_int.ndjson").write_text('{"id": ' + "7" * 400 + "}\n")
    buf = io.BytesIO()
    pl.DataFrame({"id": list(range(1000)), "s": ["x" * 20] * 1000}).write_parquet(buf)
    data = buf.getvalue()
    (F / "truncated.parquet").write_bytes(data[: len(data) // 2])
    (F / "not_parquet.parquet").write_text("id,name\n1,a\n")
    (F / "empty.parquet").write_bytes(b"")
    flipped = data[:200] + bytes(b ^ 0x5A for b in data[200:600]) + data[600:]
    (F / "corrupt_page.parquet").write_bytes(flipped)


IO = "inputs:\n  orders: {type: csv, path: good_orders.csv}\n"
OUT = "outputs:\n  out: {type: csv, path: out/o.csv}\n"
NINE = ", ".join(["x"] * 9)

PIPELINES: dict[str, str | bytes] = {
    "alias_bomb.yaml": (
        f"a: &a [{NINE}]\nb: &b [{', '.join(['*a'] * 9)}]\nc: &c [{', '.join(['*b'] * 9)}]\n"
        f"d: &d [{', '.join(['*c'] * 9)}]\nname: bomb\n{IO}{OUT}vars: {{v: *d}}\n"
    ),
    "deep_nesting.yaml": f"name: deep\n{IO}{OUT}vars:\n  v: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep_nesting.json": '{"name": "deep", "vars": {"v": ' + "[" * 5000 + "]" * 5000 + "}}",
    "deep_nesting.toml": 'name = "deep"\n[vars]\nv = ' + "[" * 3000 + "]" * 3000 + "\n",
    "big_int_limit.yaml": f"name: bigint\n{IO}steps:\n  - {{kind: limit, n: {'9' * 400}}}\n{OUT}",
    "big_int_filter.yaml": (
        f"name: bigint\n{IO}steps:\n  - {{kind: filter, where: 'amount > {'9' * 400}'}}\n{OUT}"
    ),
    "duplicate_outputs_key.yaml": "# expect-exit: 2\n"
    + (f"name: dup\n{IO}{OUT}outputs:\n  other: {{type: csv, path: out/p.csv}}\n"),
    "not_a_mapping.yaml": "- a\n- b\n",
    "kind_is_a_list.yaml": f"name: kl\n{IO}steps:\n  - {{kind: [[filter]], where: 'amount > 1'}}\n{OUT}",
    "empty.yaml": "",
    "bad_utf8.yaml": b"name: caf\xe9\ninputs: {}\n",
    "same_output_path.yaml": "# expect-exit: 2\n"
    + (
        f"name: same\n{IO}outputs:\n  a: {{type: csv, path: out/o.csv}}\n"
        "  b: {type: csv, path: out/o.csv}\n"
    ),
    "output_is_input.yaml": "# expect-exit: 2\n"
    + (f"name: overwrite\n{IO}outputs:\n  out: {{type: csv, path: good_orders.csv}}\n"),
    "unknown_kind.yaml": f"name: uk\n{IO}steps:\n  - {{kind: filtr, where: 'amount > 1'}}\n{OUT}",
    "typo_key.yaml": f"name: tk\n{IO}steps:\n  - {{kind: filter, wher: 'amount > 1'}}\n{OUT}",
    "unknown_column.yaml": (
        f"name: uc\n{IO}steps:\n  - {{kind: filter, where: 'amout > 1'}}\n{OUT}"
    ),
    "secret_in_filter_column.yaml": (
        f"name: sc\n{IO}steps:\n  - {{kind: filter, where: '${{env:FUZZ_SECRET}} > 1'}}\n{OUT}"
    ),
    "secret_in_path.yaml": (
        "name: sp\ninputs:\n  orders: {type: csv, path: 'x/${env:FUZZ_SECRET}.csv'}\n" + OUT
    ),
    "secret_in_url.yaml": (
        "name: su\ninputs:\n  orders: {type: sql, url: "
        "'postgresql://u:a@${env:FUZZ_SECRET}@127.0.0.1:1/db', table: t}\n" + OUT
    ),
    "secret_in_output_path.yaml": (
        f"name: so\n{IO}outputs:\n  out: {{type: csv, path: '${{env:FUZZ_SECRET}} > 1'}}\n"
    ),
    "join_accounting.yaml": (
        "name: join\ninputs:\n  orders: {type: csv, path: good_orders.csv}\n"
        "  customers: {type: csv, path: good_customers.csv}\nsteps:\n"
        "  - {kind: join, input: orders, with: customers, on: customer_id, how: inner}\n" + OUT
    ),
    "dead_letter_parquet.yaml": (
        "name: dlp\ninputs:\n  src: {type: csv, path: ragged.csv, on_bad_lines: dead_letter}\n"
        + OUT
        + "dead_letter: {type: parquet, path: out/dead.parquet}\n"
    ),
    "dead_letter_csv.yaml": (
        "name: dlc\ninputs:\n  src: {type: csv, path: ragged.csv, on_bad_lines: dead_letter}\n"
        "steps:\n  - kind: check\n    checks:\n"
        "      - {type: range, column: amount, min: 2, action: dead_letter}\n"
        + OUT
        + "dead_letter: {type: csv, path: out/dead.csv}\n"
    ),
    "glob_different_headers.yaml": (
        "name: glob\ninputs:\n  src: {type: csv, path: 'g*_orders.csv'}\n" + OUT
    ),
    "directory_as_input.yaml": "name: dir\ninputs:\n  src: {type: csv, path: sub}\n" + OUT,
    "route_accounting.yaml": (
        f"name: route\n{IO}steps:\n"
        "  - {id: split, kind: route, routes: {big: 'amount > 30'}, default: small}\n"
        "outputs:\n  big: {from: split.big, type: csv, path: out/big.csv}\n"
        "  small: {from: split.small, type: ndjson, path: out/small.ndjson}\n"
    ),
    "stray_value_skip.yaml": "# expect-exit: 0\n"
    + (
        "name: stray\ninputs:\n  src: {type: csv, path: stray_value.csv, on_bad_lines: skip}\n"
        "steps:\n  - {kind: filter, where: 'amount > 3'}\n" + OUT
    ),
    "stray_value_dead.yaml": "# expect-exit: 0\n"
    + (
        "name: stray\ninputs:\n"
        "  src: {type: csv, path: stray_value.csv, on_bad_lines: dead_letter}\n"
        "steps:\n  - {kind: filter, where: 'amount > 3'}\n" + OUT
    ),
    "not_null_samples.yaml": (
        "name: nn\ninputs:\n  src: {type: csv, path: ragged.csv, on_bad_lines: skip}\n"
        "steps:\n  - kind: check\n    checks:\n"
        "      - {type: not_null, columns: [amount], action: fail}\n" + OUT
    ),
}


def pipelines() -> None:
    P.mkdir(exist_ok=True)
    for name, text in PIPELINES.items():
        path = P / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)


if __name__ == "__main__":
    files()
    pipelines()
