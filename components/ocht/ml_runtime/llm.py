"""The ``llm`` and ``embed`` steps: rows enriched by an OpenAI-compatible endpoint.

``llm`` renders its prompt template per row (``{column}`` is the row's value), asks
``POST /chat/completions`` once per distinct prompt (with ``response_format`` set to the
step's JSON schema) and turns the answer's fields into typed columns. An answer that is
not JSON or does not fit the schema sends the row to the dead letters with the reason
(code ``llm-answer-invalid``); the run goes on. ``embed`` asks ``POST /embeddings`` for
batches of distinct texts and writes the vectors as a list column.
"""

from __future__ import annotations

import json
import string
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl

from ocht.errors import ExecutionError
from ocht.ml_runtime.endpoint import EndpointClient
from ocht.ml_runtime.errors import ANSWER_INVALID, EMBEDDING_INVALID
from ocht.pipeline_model import Embed, Endpoint, Llm
from ocht.transform import DEAD_LETTER, MAIN, BuildContext, CompiledStep, check_columns, step_error

_ERR = "__ocht_llm_error"
_SIMPLE = {
    "string": pl.String(),
    "integer": pl.Int64(),
    "number": pl.Float64(),
    "boolean": pl.Boolean(),
}


class EndpointReport:
    """What an ``llm``/``embed`` step tells the manifest: endpoint, model, token usage."""

    def __init__(self, kind: str, spec: Endpoint, client_of: Any) -> None:
        self.kind = kind
        self.spec = spec
        self._client_of = client_of

    def report(self) -> dict[str, Any]:
        """``{"kind", "endpoint", "model", "requests", "cached", "..._tokens"}``."""
        client = self._client_of()
        usage = client.usage.to_dict() if client is not None else {}
        return {
            "kind": self.kind,
            "endpoint": self.spec.base_url,
            "model": self.spec.model,
            **usage,
        }


class _Lazy:
    """One client per compiled step, opened on first use (compiling asks nothing)."""

    def __init__(self, spec: Endpoint, step: str, cache: Path | None, version: str) -> None:
        self.args = (spec, step, cache, version)
        self.client: EndpointClient | None = None
        self._lock = threading.Lock()

    def get(self) -> EndpointClient:
        with self._lock:
            if self.client is None:
                spec, step, cache, version = self.args
                self.client = EndpointClient(spec, step=step, cache_dir=cache, version=version)
            return self.client

    def peek(self) -> EndpointClient | None:
        return self.client


def _dtype(prop: Any) -> pl.DataType:
    if not isinstance(prop, dict):
        return pl.String()
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None and "enum" in prop:
        values = prop["enum"]
        kind = "string" if all(isinstance(v, str) for v in values) else "number"
    if kind == "array":
        return pl.List(_dtype(prop.get("items", {})))
    return _SIMPLE.get(str(kind), pl.String())


def _answer_columns(spec: Llm, ctx: BuildContext) -> dict[str, pl.DataType]:
    if spec.schema_ is None:
        return {spec.output: pl.String()}
    schema = spec.schema_
    props = schema.get("properties")
    if schema.get("type") != "object" or not isinstance(props, dict) or not props:
        raise step_error(
            "invalid-value",
            "`schema` must be a JSON schema of an object with `properties`",
            step=ctx.step_id,
            path=f"{ctx.path}.schema",
        )
    try:
        import jsonschema

        jsonschema.Draft202012Validator.check_schema(schema)
    except ModuleNotFoundError:
        pass
    except Exception as exc:
        raise step_error(
            "invalid-value",
            f"`schema` is not a valid JSON schema: {getattr(exc, 'message', exc)}",
            step=ctx.step_id,
            path=f"{ctx.path}.schema",
        ) from None
    return {name: _dtype(p) for name, p in props.items()}


def _fields(template: str, schema: pl.Schema, ctx: BuildContext, where: str) -> list[str]:
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise step_error(
            "invalid-value",
            f"bad template: {exc}",
            step=ctx.step_id,
            path=where,
            hint="write {column}; double braces {{ }} for literal ones",
        ) from None
    cols = list(dict.fromkeys(names))
    if any(not c for c in cols):
        raise step_error(
            "invalid-value",
            "a template field needs a column name: {column}",
            step=ctx.step_id,
            path=where,
        )
    check_columns(cols, schema, step=ctx.step_id, path=where)
    return cols


def _cache_dir(ctx: BuildContext) -> Path | None:
    return (ctx.home / "cache" / "ml") if ctx.home is not None else None


def build_llm(spec: Llm, ctx: BuildContext) -> CompiledStep:
    """Build an ``llm`` step (checks the template's columns and the schema; asks nothing)."""
    schema = ctx.schema
    fields = _fields(spec.prompt, schema, ctx, f"{ctx.path}.prompt")
    if spec.system:
        fields += [
            f for f in _fields(spec.system, schema, ctx, f"{ctx.path}.system") if f not in fields
        ]
    added = _answer_columns(spec, ctx)
    inputs = list(schema.names())
    out_schema = pl.Schema(
        {**{n: t for n, t in schema.items() if n not in added}, **added, _ERR: pl.String()}
    )
    lazy = _Lazy(spec, ctx.step_id, _cache_dir(ctx) if spec.cache else None, spec.prompt_version)
    validator = None
    if spec.schema_ is not None:
        import jsonschema

        validator = jsonschema.Draft202012Validator(spec.schema_)
    base_body: dict[str, Any] = {
        "model": spec.model,
        "temperature": spec.temperature,
        **spec.params,
    }
    if spec.max_tokens is not None:
        base_body["max_tokens"] = spec.max_tokens
    if spec.schema_ is not None:
        base_body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": spec.schema_, "strict": True},
        }

    def body_of(row: dict[str, Any]) -> dict[str, Any]:
        values = {k: "" if v is None else v for k, v in row.items()}
        messages = []
        if spec.system:
            messages.append({"role": "system", "content": spec.system.format_map(values)})
        messages.append({"role": "user", "content": spec.prompt.format_map(values)})
        return {**base_body, "messages": messages}

    def parse(answer: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        try:
            content = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            return None, "the reply has no choices[0].message.content"
        if not isinstance(content, str):
            return None, "the answer is not text"
        if validator is None:
            return {spec.output: content}, None
        try:
            value = json.loads(content)
        except ValueError:
            return None, f"the answer is not JSON: {content[:120]!r}"
        problems = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        if problems:
            p = problems[0]
            where = "/".join(str(x) for x in p.path) or "answer"
            return None, f"the answer does not fit the schema at {where}: {p.message[:160]}"
        return {k: value.get(k) for k in added}, None

    def enrich(df: pl.DataFrame) -> pl.DataFrame:
        if df.height == 0:
            return pl.DataFrame(schema=out_schema)
        client = lazy.get()
        bodies = (
            [body_of(r) for r in df.select(fields).iter_rows(named=True)]
            if fields
            else [body_of({}) for _ in range(df.height)]
        )
        keys = [json.dumps(b, sort_keys=True) for b in bodies]
        distinct = dict(zip(keys, bodies, strict=True))
        est = {k: len(k) // 4 + (spec.max_tokens or 256) for k in distinct}
        with ThreadPoolExecutor(max_workers=spec.concurrency) as pool:
            answers = dict(
                zip(
                    distinct,
                    pool.map(
                        lambda k: client.post("chat/completions", distinct[k], tokens=est[k]),
                        distinct,
                    ),
                    strict=True,
                )
            )
        parsed = {k: parse(a) for k, a in answers.items()}
        cols: dict[str, list[Any]] = {n: [] for n in added}
        errors: list[str | None] = []
        for k in keys:
            values, error = parsed[k]
            errors.append(error)
            for n in added:
                cols[n].append(None if values is None else values.get(n))
        new = [pl.Series(n, cols[n], dtype=t, strict=False) for n, t in added.items()]
        return df.with_columns(*new, pl.Series(_ERR, errors, dtype=pl.String()))

    last: list[tuple[pl.LazyFrame, pl.LazyFrame]] = []

    def enriched(frame: pl.LazyFrame) -> pl.LazyFrame:
        if last and last[0][0] is frame:
            return last[0][1]
        out = frame.map_batches(enrich, streamable=True, schema=out_schema).cache()
        last[:] = [(frame, out)]
        return out

    def main(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return enriched(frames[0]).filter(pl.col(_ERR).is_null()).drop(_ERR)

    def dead(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return (
            enriched(frames[0])
            .filter(pl.col(_ERR).is_not_null())
            .select(
                pl.struct(inputs).struct.json_encode().alias("record"),
                pl.col(_ERR).alias("reason"),
                pl.lit(ANSWER_INVALID).alias("code"),
                pl.lit(ctx.step_id).alias("step"),
            )
        )

    report = EndpointReport("llm", spec, lazy.peek)
    return CompiledStep(ctx.step_id, {MAIN: main, DEAD_LETTER: dead}, report)


def build_embed(spec: Embed, ctx: BuildContext) -> CompiledStep:
    """Build an ``embed`` step (checks the text column; asks nothing)."""
    schema = ctx.schema
    check_columns([spec.column], schema, step=ctx.step_id, path=f"{ctx.path}.column")
    if schema[spec.column] != pl.String():
        raise step_error(
            "invalid-type",
            f"column '{spec.column}' is {schema[spec.column]}; embed reads text",
            step=ctx.step_id,
            path=f"{ctx.path}.column",
            hint="cast it to string first",
        )
    vector = pl.List(pl.Float32())
    out_schema = pl.Schema(
        {**{n: t for n, t in schema.items() if n != spec.output}, spec.output: vector}
    )
    lazy = _Lazy(spec, ctx.step_id, _cache_dir(ctx) if spec.cache else None, "embed")
    base: dict[str, Any] = {"model": spec.model, **spec.params}

    def ask(texts: list[str]) -> list[list[float]]:
        client = lazy.get()
        tokens = sum(len(t) for t in texts) // 4 + 1
        answer = client.post("embeddings", {**base, "input": texts}, tokens=tokens)
        data = answer.get("data")
        if not isinstance(data, list) or len(data) != len(texts):
            raise ExecutionError(
                f"step '{ctx.step_id}': the embeddings reply has "
                f"{len(data) if isinstance(data, list) else 'no'} vectors "
                f"for {len(texts)} texts",
                code=EMBEDDING_INVALID,
                step=ctx.step_id,
            )
        ordered = (
            sorted(data, key=lambda d: d.get("index", 0))
            if all(isinstance(d, dict) and "index" in d for d in data)
            else data
        )
        vectors = [d.get("embedding") if isinstance(d, dict) else None for d in ordered]
        for v in vectors:
            if not isinstance(v, list) or (spec.dimensions and len(v) != spec.dimensions):
                size = len(v) if isinstance(v, list) else "no"
                raise ExecutionError(
                    f"step '{ctx.step_id}': an embedding has {size} dimensions"
                    + (f", expected {spec.dimensions}" if spec.dimensions else ""),
                    code=EMBEDDING_INVALID,
                    step=ctx.step_id,
                )
        return vectors  # type: ignore[return-value]

    def embed(df: pl.DataFrame) -> pl.DataFrame:
        if df.height == 0:
            return pl.DataFrame(schema=out_schema)
        texts = df.get_column(spec.column)
        distinct = [t for t in texts.unique(maintain_order=True).to_list() if t is not None]
        batches = [
            distinct[i : i + spec.batch_size] for i in range(0, len(distinct), spec.batch_size)
        ]
        with ThreadPoolExecutor(max_workers=spec.concurrency) as pool:
            results = list(pool.map(ask, batches))
        lookup = {
            t: v for b, r in zip(batches, results, strict=True) for t, v in zip(b, r, strict=True)
        }
        values = [lookup.get(t) if t is not None else None for t in texts.to_list()]
        return df.with_columns(pl.Series(spec.output, values, dtype=vector, strict=False))

    def apply(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return frames[0].map_batches(embed, streamable=True, schema=out_schema)

    return CompiledStep.single(ctx.step_id, apply, state=EndpointReport("embed", spec, lazy.peek))
