"""What an installed artifact tells its user: the extra to install, the license, real files."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[4]

# psycopg made unimportable the way a wheel without the extra has it: absent from the path
_WITHOUT_PSYCOPG = "import sys; sys.modules['psycopg'] = None; from ocht.cli.main import main; "


def _ocht_without_psycopg(*args, env=None):
    code = _WITHOUT_PSYCOPG + f"sys.argv = ['ocht', *{list(args)!r}]; main()"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )


def test_a_postgres_url_without_psycopg_names_the_extra(tmp_path):
    pipeline = tmp_path / "pg.yaml"
    pipeline.write_text(
        "name: pg\ninputs:\n  i: {type: sql, url: 'postgresql://u@127.0.0.1:5432/x', table: t}\n"
        "outputs:\n  o: {type: console}\n"
    )
    res = _ocht_without_psycopg("validate", str(pipeline))
    assert res.returncode == 2, res.stderr
    assert "error[missing-extra]" in res.stderr
    assert "pip install 'ocht-cli[postgres]'" in res.stderr
    assert "internal" not in res.stderr and "Traceback" not in res.stderr


def test_a_postgres_store_without_psycopg_names_the_extra(tmp_path):
    import os

    env = {**os.environ, "OCHT_STORE_URL": "postgresql://u@127.0.0.1:5432/x"}
    res = _ocht_without_psycopg("runs", env=env)
    assert res.returncode == 2, res.stderr
    assert "pip install 'ocht-cli[postgres]'" in res.stderr


def test_license_is_apache_and_every_artifact_declares_it():
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0" in text
    for pyproject in [ROOT / "pyproject.toml", *sorted(ROOT.glob("projects/*/pyproject.toml"))]:
        project = tomllib.loads(pyproject.read_text())["project"]
        assert project["license"] == "Apache-2.0", pyproject
        assert "LICENSE" in project.get("license-files", []), pyproject
        assert (pyproject.parent / "LICENSE").read_text() == text, pyproject


def test_every_file_the_help_and_docs_name_exists():
    from click.testing import CliRunner

    from ocht.cli import cli

    texts = [CliRunner().invoke(cli, ["--help"]).output]
    texts += [p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]]
    named = set()
    for text in texts:
        named |= set(
            re.findall(r"\b((?:examples|docs|bench)/[\w./-]+\.(?:ya?ml|md|py|csv|json))", text)
        )
    assert named, "expected the docs to name example files"
    missing = sorted(n for n in named if not (ROOT / n).exists())
    assert missing == []
