"""``ocht lineage RUN_ID``: a run's inputs → steps → outputs, as recorded in its manifest."""

from __future__ import annotations

import json

import click


@click.command("lineage")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the lineage graph as JSON.")
def lineage(run_id: str, as_json: bool) -> None:
    """Show a run's lineage: its datasets (named as OpenLineage names them) and steps.

    \b
    RUN_ID may be a unique prefix. Send the same graph as OpenLineage events while
    pipelines run by setting OCHT_LINEAGE_FILE=lineage.ndjson or
    OCHT_LINEAGE_URL=http://marquez:5000 (pip install 'ocht-cli[lineage]').
    """
    from ocht.cli.store_commands import open_store
    from ocht.lineage import LineageGraph, render

    with open_store() as store:
        record = store.run(run_id)
    data = record.extra.get("lineage")
    if not data:
        raise click.ClickException(f"run {record.run_id} recorded no lineage")
    graph = LineageGraph.from_dict(data)
    if as_json:
        click.echo(json.dumps(graph.to_dict(), indent=2))
        return
    click.echo(f"run {record.run_id}  status {record.status}")
    lines = render(graph).splitlines()
    rows = {
        **{f"input {k}": v for k, v in record.rows_read.items()},
        **{f"output {k}": v for k, v in record.rows_written.items()},
    }
    for line in lines:
        parts = line.split()
        key = " ".join(parts[:2]) if len(parts) >= 2 else ""
        suffix = f"  ({rows[key]:,} rows)" if key in rows else ""
        click.echo(line + suffix)
