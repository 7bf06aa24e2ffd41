"""The ``predict`` step: a model file run over columns, in process, vectorised.

At build time the model is loaded (once per process, see :data:`MODELS`) and its input
signature is checked against the step's columns: tensor count, names, width and element
type. At run time each batch (or micro-batch) becomes NumPy arrays column-wise, is run in
chunks of ``chunk_rows`` rows, and the outputs become columns: no Python per row.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ocht.errors import ExecutionError
from ocht.ml_runtime.errors import (
    MlExtraMissing,
    ModelNotFound,
    mismatch,
    need_extra,
    unreadable,
)
from ocht.ml_runtime.models import MODELS, Model, ModelInfo, TensorSpec
from ocht.pipeline_model import Predict
from ocht.transform import BuildContext, CompiledStep, check_columns

if TYPE_CHECKING:  # NumPy comes with the ml extra: imported when a step is built
    import numpy as np

_FLOAT = {"tensor(float)": pl.Float32(), "tensor(double)": pl.Float64()}
_INT = {
    "tensor(int64)": pl.Int64(),
    "tensor(int32)": pl.Int32(),
    "tensor(int8)": pl.Int8(),
    "tensor(uint8)": pl.UInt8(),
}
_NUMPY = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(int64)": "int64"}


class PredictReport:
    """What a ``predict`` step tells the run manifest and trace: the model and rows scored."""

    def __init__(self, step: str, info: ModelInfo) -> None:
        self.step = step
        self.info = info
        self.rows = 0
        self._lock = threading.Lock()

    def count(self, n: int) -> None:
        """Add ``n`` scored rows."""
        with self._lock:
            self.rows += n

    def report(self) -> dict[str, Any]:
        """``{"kind": "predict", "model": {...}, "rows": n}``."""
        with self._lock:
            return {"kind": "predict", "model": self.info.to_dict(), "rows": self.rows}


def _columns_dtype(tensor: TensorSpec) -> pl.DataType | None:
    return (
        _FLOAT.get(tensor.type)
        or _INT.get(tensor.type)
        or (pl.String() if tensor.type == "tensor(string)" else None)
    )


def _fits(dtype: pl.DataType, tensor: TensorSpec) -> bool:
    if tensor.type in _FLOAT:
        return dtype.is_numeric() or dtype == pl.Boolean()
    if tensor.type in _INT:
        return dtype.is_integer() or dtype == pl.Boolean()
    if tensor.type == "tensor(string)":
        return dtype == pl.String()
    return False


def _out_dtype(tensor: TensorSpec | None) -> pl.DataType:
    if tensor is None:
        return pl.Float32()
    return _columns_dtype(tensor) or pl.Float32()


def load(spec: Predict, ctx: BuildContext) -> Model:
    """The step's model, loaded (or found in the process's cache).

    Raises:
        ModelNotFound: no file at the path.
        ModelUnreadable: the runtime cannot load the file.
    """
    base = ctx.base_dir or Path.cwd()
    path = Path(spec.model).expanduser()
    path = path if path.is_absolute() else base / path
    field = f"{ctx.path}.model"
    if not path.is_file():
        raise ModelNotFound.at(str(path), step=ctx.step_id, field=field)
    try:
        return MODELS.load(path.resolve(), spec.format)
    except MlExtraMissing:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise unreadable(
            f"cannot load model {path.name}: {first[:300]}", step=ctx.step_id, path=field
        ) from None


def _feeds_plan(
    spec: Predict, model: Model, ctx: BuildContext
) -> list[tuple[TensorSpec, list[str]]]:
    info = model.info
    wanted = {info.inputs[0].name: spec.inputs} if isinstance(spec.inputs, list) else spec.inputs
    if isinstance(spec.inputs, list) and len(info.inputs) != 1:
        names = ", ".join(i.name for i in info.inputs)
        raise mismatch(
            f"model {Path(info.path).name} has {len(info.inputs)} inputs ({names}); "
            "`inputs` gives one list of columns",
            step=ctx.step_id,
            path=f"{ctx.path}.inputs",
            hint="map each model input to its columns: {input: [columns]}",
        )
    plan = []
    by_name = {i.name: i for i in info.inputs}
    for name in wanted:
        if name not in by_name:
            raise mismatch(
                f"model {Path(info.path).name} has no input '{name}' (its inputs: "
                f"{', '.join(by_name)})",
                step=ctx.step_id,
                path=f"{ctx.path}.inputs.{name}",
            )
    for tensor in info.inputs:
        if tensor.name not in wanted:
            raise mismatch(
                f"model input '{tensor.name}' {tensor.type}{list(tensor.shape)} gets no columns",
                step=ctx.step_id,
                path=f"{ctx.path}.inputs",
            )
        cols = wanted[tensor.name]
        where = f"{ctx.path}.inputs" + ("" if isinstance(spec.inputs, list) else f".{tensor.name}")
        check_columns(cols, ctx.schema, step=ctx.step_id, path=where)
        shape = tensor.shape
        if not shape or shape[0] is not None:
            raise mismatch(
                f"model input '{tensor.name}' has a fixed batch size "
                f"(shape {list(shape)}); predict needs a dynamic first dimension",
                step=ctx.step_id,
                path=f"{ctx.path}.model",
                hint="export the model with a dynamic batch axis (None / 'N')",
            )
        width = shape[1] if len(shape) > 1 else 1
        if len(shape) > 2 or (width is not None and width != len(cols)):
            raise mismatch(
                f"model input '{tensor.name}' {tensor.type}{list(shape)} takes {width} "
                f"columns per row; the step gives {len(cols)} ({', '.join(cols)})",
                step=ctx.step_id,
                path=where,
            )
        if _columns_dtype(tensor) is None:
            raise mismatch(
                f"model input '{tensor.name}' has type {tensor.type}, which predict cannot feed",
                step=ctx.step_id,
                path=where,
            )
        for c in cols:
            if not _fits(ctx.schema[c], tensor):
                raise mismatch(
                    f"column '{c}' is {ctx.schema[c]}, model input '{tensor.name}' takes "
                    f"{tensor.type}",
                    step=ctx.step_id,
                    path=where,
                    hint="cast the column first (a cast step)",
                )
        plan.append((tensor, list(cols)))
    return plan


def build_predict(spec: Predict, ctx: BuildContext) -> CompiledStep:
    """Build a ``predict`` step (loads and checks the model; reads no data)."""
    try:
        import numpy as np
    except ModuleNotFoundError:
        raise need_extra("numpy") from None
    model = load(spec, ctx)
    info = model.info
    feeds = _feeds_plan(spec, model, ctx)
    out = spec.outputs
    label_t = info.output(spec.label_output)
    proba_t = info.output(spec.probabilities_output)
    score_from = "probabilities" if proba_t is not None else None
    if score_from is None and len(info.outputs) == 1 and info.outputs[0].type in _FLOAT:
        score_from = "single"
    if out.label and label_t is None:
        raise mismatch(
            f"model has no output '{spec.label_output}' (its outputs: "
            f"{', '.join(o.name for o in info.outputs)})",
            step=ctx.step_id,
            path=f"{ctx.path}.label_output",
        )
    if out.probabilities and proba_t is None:
        raise mismatch(
            f"model has no output '{spec.probabilities_output}' (its outputs: "
            f"{', '.join(o.name for o in info.outputs)})",
            step=ctx.step_id,
            path=f"{ctx.path}.probabilities_output",
            hint="convert scikit-learn models with options={'zipmap': False}",
        )
    if (out.score or out.flag) and score_from is None:
        raise mismatch(
            "no score: the model has no probabilities output and more than one output",
            step=ctx.step_id,
            path=f"{ctx.path}.outputs.score",
        )
    names: list[str] = []
    if out.label:
        names.append(spec.label_output)
    if (out.probabilities or out.score or out.flag) and score_from == "probabilities":
        names.append(spec.probabilities_output)
    if score_from == "single" and (out.score or out.flag):
        names.append(info.outputs[0].name)
    names = list(dict.fromkeys(names))
    proba_dtype = _out_dtype(proba_t if score_from == "probabilities" else info.outputs[0])
    added: dict[str, pl.DataType] = {}
    if out.label:
        added[out.label] = _out_dtype(label_t)
    if out.probabilities:
        added[out.probabilities] = pl.List(proba_dtype)
    if out.score:
        added[out.score] = proba_dtype
    if out.flag:
        added[out.flag] = pl.Boolean()
    schema = pl.Schema({**{n: t for n, t in ctx.schema.items() if n not in added}, **added})
    report = PredictReport(ctx.step_id, info)
    positive = spec.positive_class
    threshold = spec.threshold
    chunk = spec.chunk_rows
    np_types = {t.name: _NUMPY.get(t.type) for t, _ in feeds}

    def arrays(df: pl.DataFrame) -> dict[str, np.ndarray]:
        feed: dict[str, np.ndarray] = {}
        for tensor, cols in feeds:
            np_type = np_types[tensor.name]
            part = df.select(cols)
            if np_type is None or tensor.type == "tensor(string)":
                arr = part.to_numpy()
            else:
                arr = part.to_numpy(order="c", writable=False).astype(np_type, copy=False)
                if np_type not in ("float32", "float64") and any(part.null_count().row(0)):
                    raise ExecutionError(
                        f"step '{ctx.step_id}': a null in an integer model input "
                        f"({', '.join(cols)})",
                        code="model-input-null",
                        step=ctx.step_id,
                        hint="fill nulls first (a fill_null step)",
                    )
            feed[tensor.name] = np.ascontiguousarray(arr if arr.ndim == 2 else arr[:, None])
        return feed

    def score(df: pl.DataFrame) -> pl.DataFrame:
        n = df.height
        if n == 0:
            return pl.DataFrame(schema=schema)
        results: list[list[np.ndarray]] = []
        for start in range(0, n, chunk):
            results.append(model.run(arrays(df.slice(start, chunk)), names))
        joined = {
            name: (parts[0] if len(parts) == 1 else np.concatenate(parts))
            for name, parts in zip(names, zip(*results, strict=True), strict=True)
        }
        cols: list[pl.Series] = []
        if out.label:
            cols.append(pl.Series(out.label, joined[spec.label_output].reshape(n)))
        values = None
        if score_from == "probabilities" and (out.probabilities or out.score or out.flag):
            values = joined[spec.probabilities_output]
            if out.probabilities:
                k = values.shape[1]
                cols.append(
                    pl.Series(out.probabilities, values)
                    .cast(pl.Array(proba_dtype, k))
                    .cast(pl.List(proba_dtype))
                )
            values = values[:, positive] if values.ndim == 2 else values
        elif score_from == "single" and (out.score or out.flag):
            raw = joined[info.outputs[0].name]
            values = raw.reshape(n, -1)[:, 0]
        if values is not None and out.score:
            cols.append(pl.Series(out.score, values))
        if values is not None and out.flag:
            assert threshold is not None
            cols.append(pl.Series(out.flag, values >= threshold))
        report.count(n)
        return df.with_columns(cols).cast(dict(added))  # type: ignore[arg-type]

    def apply(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return frames[0].map_batches(score, streamable=True, schema=schema)

    return CompiledStep.single(ctx.step_id, apply, state=report)
