"""Text encodings: Polars reads UTF-8 itself; anything else is transcoded first.

Transcoding streams the file in chunks into a UTF-8 copy (bounded memory, whatever the
file's size); a byte that does not decode is reported with its line number.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path
from typing import Literal

from ocht.connector_files.errors import MalformedRecord
from ocht.errors import InvalidPipeline, Issue, OutputWriteError

PolarsEncoding = Literal["utf8", "utf8-lossy"]

CHUNK_CHARS = 1 << 20


def codec_name(encoding: str, *, where: str) -> str:
    """The canonical Python codec name for ``encoding`` (``utf8-lossy`` kept as is).

    Raises:
        InvalidPipeline: ``unknown-encoding`` for a name Python does not know.
    """
    text = encoding.strip().lower().replace("_", "-")
    if text in ("utf8-lossy", "utf-8-lossy"):
        return "utf8-lossy"
    try:
        return codecs.lookup(text).name
    except LookupError:
        msg = f"{where}: unknown encoding '{encoding}'"
        hint = "use utf8, utf8-lossy or a Python codec such as latin-1, cp1252, utf-16"
        raise InvalidPipeline(
            msg,
            issues=[Issue("unknown-encoding", msg, f"{where}.encoding", hint=hint)],
            code="unknown-encoding",
            hint=hint,
        ) from None


def polars_encoding(codec: str) -> PolarsEncoding | None:
    """The encoding Polars can read natively, or ``None`` when the file needs transcoding."""
    if codec == "utf8-lossy":
        return "utf8-lossy"
    # Polars skips a UTF-8 byte-order mark itself
    return "utf8" if codec in ("utf-8", "utf-8-sig") else None


def transcode(source: Path, target: Path, codec: str) -> None:
    """Copy ``source`` (in ``codec``) to ``target`` as UTF-8, chunk by chunk.

    Raises:
        MalformedRecord: a byte sequence that is not valid ``codec``, with its line.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            open(source, encoding=codec, newline="") as src,
            open(target, "w", encoding="utf-8", newline="") as dst,
        ):
            while chunk := src.read(CHUNK_CHARS):
                dst.write(chunk)
    except UnicodeDecodeError as exc:
        target.unlink(missing_ok=True)
        line = undecodable_line(source, codec)
        raise MalformedRecord(
            f"{source}{f':{line}' if line else ''}: not valid {codec} text ({exc.reason})",
            file=str(source),
            line=line,
            hint="set the input's `encoding` to the file's real encoding",
        ) from None


def transcode_out(source: Path, target: Path, codec: str) -> None:
    """Copy a UTF-8 ``source`` to ``target`` in ``codec`` (an output's encoding).

    Raises:
        OutputWriteError: a character that ``codec`` cannot represent.
    """
    try:
        with (
            open(source, encoding="utf-8", newline="") as src,
            open(target, "w", encoding=codec, newline="") as dst,
        ):
            while chunk := src.read(CHUNK_CHARS):
                dst.write(chunk)
    except UnicodeEncodeError as exc:
        target.unlink(missing_ok=True)
        raise OutputWriteError(
            f"the output cannot be written in {codec}: {exc.object[exc.start : exc.end]!r} "
            f"has no {codec} form",
            hint="write utf8, or pick an encoding that holds every character",
        ) from None


def undecodable_line(path: Path, codec: str) -> int | None:
    """The 1-based line of the first byte sequence that does not decode (the slow path)."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    line = 1
    with open(path, "rb") as raw:
        while True:
            block = raw.read(1 << 16)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                # exc.object is what the decoder held plus this block; count up to the fault
                good = exc.object[: exc.start]
                return line + codecs.decode(good, codec, errors="replace").count("\n")
            line += text.count("\n")
            if not block:
                return None


def sample(path: Path, codec: str, lines: int) -> bytes:
    """The first ``lines`` lines of ``path`` decoded from ``codec``, as UTF-8 bytes.

    A schema is inferred from this sample instead of transcoding a whole file.
    """
    out = io.StringIO()
    with open(path, encoding=codec, errors="replace", newline="") as src:
        for _ in range(lines):
            line = src.readline()
            if not line:
                break
            out.write(line)
    return out.getvalue().encode("utf-8")
