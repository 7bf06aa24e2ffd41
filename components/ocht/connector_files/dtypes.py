"""An input's column types: declared (``{column: type name}``) or found in a sample, and
how text becomes each type.

Type names are the pipeline's one vocabulary, read by
:func:`ocht.transform.parse_dtype_format` (the names a ``cast`` step takes, plus a text
format for temporal types: ``datetime('%d/%m/%Y %H:%M')``).

Dates and timestamps are found in a sample as the schema inference samples: a text
column whose sampled values all parse with one of :data:`DATE_FORMATS` is read with that
explicit format, which is several times faster than guessing each value, and a value that
does not parse later in the file is a bad value like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from ocht.transform import parse_dtype_format

#: formats tried on a text column's sample, in order (the first that reads every value)
DATE_FORMATS: tuple[tuple[pl.DataType, str], ...] = (
    (pl.Datetime("us"), "%Y-%m-%d %H:%M:%S"),
    (pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S"),
    (pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f"),
    (pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S%.f"),
    (pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%.f%:z"),
    (pl.Datetime("us", "UTC"), "%Y-%m-%d %H:%M:%S%.f%:z"),
    (pl.Datetime("us"), "%Y-%m-%d %H:%M"),
    (pl.Datetime("us"), "%Y-%m-%dT%H:%M"),
    (pl.Date(), "%Y-%m-%d"),
)

TRUE_WORDS = ("true",)
FALSE_WORDS = ("false",)


@dataclass(frozen=True)
class Columns:
    """An input's columns: names in order, their types, and the text format of the
    temporal ones (a column without a format is parsed by Polars' own guess).

    Example:
        >>> cols = Columns.declared({"id": "int64", "ts": "datetime('%d/%m/%Y %H:%M')"}, "i")
        >>> (cols.names, cols.formats)
        (['id', 'ts'], {'ts': '%d/%m/%Y %H:%M'})
    """

    names: list[str]
    dtypes: dict[str, pl.DataType]
    formats: dict[str, str] = field(default_factory=dict)

    @classmethod
    def declared(cls, types: dict[str, str], where: str) -> Columns:
        """Columns from a declared ``schema``.

        Raises:
            InvalidPipeline: ``invalid-type`` for a name that is not a type.
        """
        dtypes, formats = parse_schema(types, where=where)
        return cls(list(types), dtypes, formats)

    def schema(self) -> pl.Schema:
        """The Polars schema the input is read as."""
        return pl.Schema({n: self.dtypes[n] for n in self.names})

    def with_overrides(self, types: dict[str, str], where: str) -> Columns:
        """These columns with some types replaced (``schema_overrides``)."""
        dtypes, formats = parse_schema(types, where=where)
        kept = {c: f for c, f in self.formats.items() if c not in dtypes}
        return Columns(self.names, {**self.dtypes, **dtypes}, {**kept, **formats})


def parse_schema(
    types: dict[str, str], *, where: str
) -> tuple[dict[str, pl.DataType], dict[str, str]]:
    """Every column's type parsed, and the formats declared with them.

    Raises:
        InvalidPipeline: ``invalid-type`` for a name that is not a type, naming the column's
            field and the nearest known type name.

    Example:
        >>> parse_schema({"id": "int64", "tags": "list[string]"}, where="inputs.i.schema")
        ({'id': Int64, 'tags': List(String)}, {})
    """
    dtypes: dict[str, pl.DataType] = {}
    formats: dict[str, str] = {}
    for column, name in types.items():
        dtype, fmt = parse_dtype_format(name, path=f"{where}.{column}")
        dtypes[column] = dtype
        if fmt is not None:
            formats[column] = fmt
    return dtypes, formats


def detect_dates(sample: pl.DataFrame) -> dict[str, tuple[pl.DataType, str]]:
    """The text columns of ``sample`` whose every value parses with one known format.

    Example:
        >>> df = pl.DataFrame({"ts": ["2024-03-01 12:34:56"], "d": ["2024-03-01"], "s": ["x"]})
        >>> detect_dates(df)
        {'ts': (Datetime(time_unit='us', time_zone=None), '%Y-%m-%d %H:%M:%S'), 'd': (Date, '%Y-%m-%d')}
    """
    found: dict[str, tuple[pl.DataType, str]] = {}
    for name, dtype in sample.schema.items():
        if dtype != pl.String():
            continue
        values = sample.get_column(name).drop_nulls()
        values = values.filter(values.str.len_bytes() > 0)
        if values.is_empty() or values.str.len_bytes().min() < 8:  # type: ignore[operator]
            continue
        for target, fmt in DATE_FORMATS:
            try:
                values.str.strptime(target, fmt, strict=True)  # type: ignore[arg-type]
            except pl.exceptions.PolarsError:
                continue
            found[name] = (target, fmt)
            break
    return found


def convert(
    text: pl.Expr, target: pl.DataType, fmt: str | None = None, *, strict: bool = False
) -> pl.Expr:
    """``text`` (a string expression) as ``target``; a value that does not convert is null
    (or, with ``strict``, a Polars error naming the column and the value).

    Temporal types use ``fmt`` when given (else Polars infers the format); booleans are
    ``true``/``false`` in any case, as Polars' CSV reader reads them.
    """
    if target == pl.String():
        return text
    if isinstance(target, pl.Datetime):
        if fmt is None:
            return text.str.to_datetime(
                time_unit=target.time_unit, time_zone=target.time_zone, strict=strict
            )
        if target.time_zone is not None and any(z in fmt for z in ("%z", "%:z", "%#z")):
            aware = pl.Datetime(target.time_unit, "UTC")
            return text.str.strptime(aware, fmt, strict=strict).dt.convert_time_zone(
                target.time_zone
            )
        parsed = text.str.strptime(pl.Datetime(target.time_unit), fmt, strict=strict)
        if target.time_zone is not None:
            return parsed.dt.replace_time_zone(target.time_zone)
        return parsed
    if target in (pl.Date(), pl.Time()):
        return text.str.strptime(target, fmt, strict=strict)  # type: ignore[arg-type]
    if target == pl.Boolean():
        low = text.str.to_lowercase()
        return pl.when(low == "true").then(True).when(low == "false").then(False)
    return text.cast(target, strict=strict)
