"""The loader's bounds: every hostile or broken document gets a stable code, fast."""

import os
from pathlib import Path

import pytest
import yaml

from ocht.errors import InvalidPipeline
from ocht.pipeline_model import (
    BUILTIN_CONNECTORS,
    BUILTIN_STEPS,
    parse_document,
    read_document,
    validate,
)
from ocht.pipeline_model.limits import MAX_BYTES, MAX_DEPTH

CORPUS = Path(__file__).parents[3] / "corpus" / "pipelines"
EXPECTED: dict[str, str] = yaml.safe_load((CORPUS / "expected.yaml").read_text())


def _load(path: Path) -> None:
    doc = read_document(path)
    validate(
        doc.data,
        document=doc,
        known_steps=list(BUILTIN_STEPS),
        known_connectors=list(BUILTIN_CONNECTORS),
    )


def test_every_listed_case_has_its_file():
    # the loader's cases are listed with their codes; the other documents of the corpus
    # fail later (compile or run) and are checked by the fuzzing harness (test/fuzz)
    files = {p.name for p in CORPUS.iterdir() if p.name != "expected.yaml"}
    assert set(EXPECTED) <= files


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_case_answers_with_its_code(name):
    with pytest.raises(InvalidPipeline) as info:
        _load(CORPUS / name)
    assert info.value.code == EXPECTED[name]
    assert info.value.exit_code == 2
    assert all(i.file == str(CORPUS / name) for i in info.value.issues)


def test_alias_bomb_is_refused_with_its_line():
    with pytest.raises(InvalidPipeline) as info:
        read_document(CORPUS / "alias_bomb.yaml")
    (issue,) = info.value.issues
    assert issue.code == "pipeline-too-many-nodes" and issue.line is not None


def test_small_aliases_still_work_and_lines_are_known():
    text = (
        "name: p\n"
        "base: &b {type: csv, path: a.csv}\n"
        "inputs:\n  one: *b\n  two: *b\n"
        "outputs:\n  o: {type: console}\n"
    )
    doc = parse_document(text)
    assert (
        doc.data["inputs"]["one"] == doc.data["inputs"]["two"] == {"type": "csv", "path": "a.csv"}
    )
    assert doc.line_of(("inputs", "two")) == 5
    assert doc.line_of(("inputs", "two", "path")) == 5  # through the alias: the alias's line


def test_aliases_of_aliases_below_the_bound_load_without_a_full_walk():
    # 6**6 = 46,656 leaves once expanded: allowed, and the line walk visits each node once
    lines = ["name: p", "a: &a [1, 2, 3, 4, 5, 6]"]
    prev = "a"
    for c in "bcdef":
        lines.append(f"{c}: &{c} [{', '.join([f'*{prev}'] * 6)}]")
        prev = c
    doc = parse_document("\n".join(lines) + "\n")
    assert len(doc.data["f"]) == 6
    assert len(doc.lines) < 200


def test_depth_just_inside_the_limit_is_fine_and_one_more_is_not():
    ok = "x: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    parse_document(ok)
    bad = "x: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n"
    with pytest.raises(InvalidPipeline) as info:
        parse_document(bad)
    assert info.value.code == "pipeline-too-deep"


def test_every_duplicate_is_reported_with_both_lines():
    text = "name: a\ninputs: {}\nname: b\ninputs: {}\n"
    with pytest.raises(InvalidPipeline) as info:
        parse_document(text, file="p.yaml")
    issues = info.value.issues
    assert [(i.code, i.line) for i in issues] == [("duplicate-key", 3), ("duplicate-key", 4)]
    assert "first on line 1" in issues[0].message


def test_a_merge_key_is_not_a_duplicate():
    doc = parse_document("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n")
    assert doc.data["c"] == {"x": 1, "y": 2}


def test_int64_edges():
    parse_document(f"n: {2**63 - 1}\nm: {-(2**63)}\n")
    with pytest.raises(InvalidPipeline) as info:
        parse_document(f"n: {2**63}\n")
    assert info.value.code == "number-too-large"
    assert info.value.issues[0].path == "n"


def test_a_directory_is_not_a_pipeline(tmp_path):
    with pytest.raises(InvalidPipeline) as info:
        read_document(tmp_path)
    assert info.value.code == "pipeline-unreadable"
    assert "directory" in str(info.value)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "p.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InvalidPipeline) as info:
        read_document(fifo)
    assert info.value.code == "pipeline-unreadable"


def test_an_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    p = tmp_path / "p.yaml"
    p.write_text("name: p\n")
    p.chmod(0)
    with pytest.raises(InvalidPipeline) as info:
        read_document(p)
    assert info.value.code == "pipeline-unreadable"


def test_an_oversized_file(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_bytes(b"# " + b"x" * MAX_BYTES + b"\n")
    with pytest.raises(InvalidPipeline) as info:
        read_document(p)
    assert info.value.code == "pipeline-too-large"


def test_a_byte_order_mark_is_accepted(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_bytes("\ufeffname: p\n".encode())
    assert read_document(p).data == {"name": "p"}
