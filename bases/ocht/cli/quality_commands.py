"""Data-quality parts of the CLI: the checks table of the run summary, ``schema infer``.

Only click is imported at module level, so ``ocht --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from ocht.executor import RunResult


def render_checks(result: RunResult) -> None:
    """Print one line per data-quality check (rows checked, failed, action) and the
    accounting line (read = written + dead letters + dropped + skipped) when any of
    them is not zero."""
    from rich.table import Table

    from ocht.cli.consoles import out_console, print_table
    from ocht.executor import accounting

    if result.checks:
        table = Table(title="checks", title_justify="left", show_edge=False, pad_edge=False)
        for col in ("step", "check", "action", "checked", "failed", "e.g."):
            table.add_column(col, justify="right" if col in ("checked", "failed") else "left")
        for c in result.checks:
            style = (
                "red" if c.failed and c.action == "fail" else ("yellow" if c.failed else "green")
            )
            shown = ", ".join(repr(s) for s in c.samples[:3])
            table.add_row(
                c.step, c.check, c.action, f"{c.rows_checked:,}", f"[{style}]{c.failed:,}[/]", shown
            )
        print_table(table)
    if result.checks or result.dead_letters or result.skipped:
        acc = accounting(result)
        colour = "dim" if acc.balanced else "red"
        out_console.print(f"[{colour}]{acc.describe()}[/]")


def schema_infer_command(target: str, inputs: tuple[str, ...]) -> None:
    """``ocht schema infer``: print inputs with their inferred schema, as pipeline YAML."""
    from pathlib import Path

    import yaml

    from ocht.quality import infer_input

    path = Path(target)
    found: dict[str, dict[str, Any]] = {}
    if path.suffix.lower() in (".yaml", ".yml", ".toml") or (
        path.suffix.lower() == ".json" and _is_pipeline(path)
    ):
        from ocht.config import load_pipeline

        loaded = load_pipeline(path)
        specs = {
            n: s.model_dump(by_alias=True, exclude_unset=True)
            for n, s in loaded.pipeline.inputs.items()
            if not inputs or n in inputs
        }
        missing = sorted(set(inputs) - set(specs))
        if missing:
            import click

            raise click.UsageError(f"no input named {', '.join(missing)} in {target}")
        for name, spec in specs.items():
            found[name] = infer_input(spec, name=name, base_dir=loaded.base_dir)
    else:
        name = inputs[0] if inputs else path.stem.replace("-", "_").replace(".", "_")
        found[name] = infer_input({"path": target}, name=name)
    import click

    click.echo(yaml.safe_dump({"inputs": found}, sort_keys=False, allow_unicode=True), nl=False)


def _is_pipeline(path: Path) -> bool:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "inputs" in data


def _unique_run(home: Path, prefix: str) -> str:
    """The run id under ``home/runs`` that ``prefix`` names (a whole id or a unique prefix)."""
    import click

    runs = home / "runs"
    if (runs / prefix).is_dir() or not prefix:
        return prefix
    found = sorted(p.name for p in runs.glob("*") if p.is_dir() and p.name.startswith(prefix))
    if len(found) == 1:
        return found[0]
    if found:
        shown = ", ".join(found[:5]) + (" ..." if len(found) > 5 else "")
        raise click.UsageError(
            f"'{prefix}' matches {len(found)} runs: {shown}; give more of the id"
        )
    return prefix


def trace_command(run_id: str, *, as_json: bool) -> None:
    """``ocht trace RUN_ID``: the per-step trace of a run, with a few rows per step that
    it dropped, changed (the changed columns highlighted) and dead-lettered."""
    import json

    import click
    from rich.markup import escape
    from rich.table import Table

    from ocht.cli.consoles import out_console, print_table
    from ocht.config import Settings
    from ocht.executor import read_trace, sample_lines

    home = Settings().home_for(None)
    run_id = _unique_run(home, run_id)
    try:
        trace = read_trace(home, run_id)
    except FileNotFoundError:
        raise click.UsageError(f"no trace for run '{run_id}' under {home}/runs") from None
    if as_json:
        rows = trace.to_dicts()
        for row in rows:
            for key in ("branches", "checks", "samples"):
                row[key] = json.loads(row[key]) if row[key] else None
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    first = trace.row(0, named=True) if trace.height else {"pipeline": "?", "status": None}
    status = f" · {first['status']}" if first.get("status") else ""
    table = Table(
        title=f"{first['pipeline']} · run {run_id}{status}",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    for col in ("#", "step", "kind", "rows in", "rows out", "dropped", "dead letters", "checks"):
        table.add_column(col, justify="right" if col.startswith(("rows", "dr", "de")) else "left")
    for row in trace.iter_rows(named=True):
        checks = json.loads(row["checks"]) if row["checks"] else []
        shown = ", ".join(f"{c['check']}={c['failed']:,} ({c['action']})" for c in checks)
        table.add_row(
            str(row["position"]),
            row["step"],
            row["kind"],
            f"{row['rows_in']:,}",
            f"{row['rows_out']:,}",
            f"{row['dropped']:,}",
            f"{row['dead_lettered']:,}",
            shown,
        )
    print_table(table)
    if first.get("error"):
        out_console.print(f"[red]{escape(str(first['error']))}[/]")
    for row in trace.iter_rows(named=True):
        lines = sample_lines(row, mark=lambda text: f"[bold yellow]{text}[/]", quote=escape)
        if lines:
            head = f"{row['position']} {row['step']}"
            out_console.print(f"\n[bold]{escape(head)}[/] {escape('[' + row['kind'] + ']')}")
            for line in lines:
                out_console.print(f"  {line}", soft_wrap=True)
