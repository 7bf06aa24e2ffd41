"""``ocht test``: run scenario files against their pipelines (imports bricks when it runs)."""

from __future__ import annotations

import time
from pathlib import Path

import click

TEST_HELP = """Run scenario tests: given rows in, expected rows out.

\b
PATHS are scenario files (*.ocht-test.yaml) or folders searched for them (default: .).
Each scenario runs its pipeline on the given rows with test connectors in place of the
real ones (no real file, database, broker or endpoint is touched) and compares every
output and the dead letters with what it expects.

\b
A scenario file:
  pipeline: orders_clean.yaml
  scenarios:
    - name: keeps paid orders
      given:
        orders: {rows: [{order_id: 1, status: paid, amount: 30}]}
      expect:
        clean: {rows: [{order_id: 1}]}
      expect_dead_letters: {count: 0}

\b
Exit codes (as pytest's): 0 all passed, 1 a scenario failed,
2 a scenario file is invalid, 5 no scenario found.
"""


@click.command("test", help=TEST_HELP)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--update", is_flag=True, help="Rewrite golden files from the actual outputs.")
@click.option(
    "--junit-xml", type=click.Path(dir_okay=False, path_type=Path), help="Write a JUnit report."
)
@click.option("-k", "keyword", default=None, help="Only scenarios whose name holds this text.")
@click.option("--quiet", "-q", is_flag=True, help="Only failures and the summary line.")
def test_command(
    paths: tuple[Path, ...],
    update: bool,
    junit_xml: Path | None,
    keyword: str | None,
    quiet: bool,
) -> None:
    from ocht.observability import configure_logging
    from ocht.scenarios import (
        EXIT_USAGE,
        InvalidScenario,
        cases,
        discover,
        exit_code,
        failure_text,
        run_case,
        summary_line,
        write_junit,
    )

    configure_logging("console", "error")
    started = time.perf_counter()
    files = discover(list(paths) or [Path(".")])
    outcomes = []
    invalid = False
    for file in files:
        try:
            found = [c for c in cases(file) if keyword is None or keyword in c.scenario.name]
        except InvalidScenario as exc:
            invalid = True
            click.secho(f"ERROR {file}: {exc.message}", fg="red", err=True)
            for issue in exc.issues:
                click.echo(f"  {issue.render()}", err=True)
            continue
        for case in found:
            outcome = run_case(case, update=update)
            outcomes.append(outcome)
            if outcome.problems:
                click.secho(failure_text(outcome), fg="red")
            elif not quiet:
                status = "SKIPPED" if outcome.skipped else "PASSED"
                detail = f" ({outcome.skipped})" if outcome.skipped else ""
                click.echo(f"{status} {case.id}{detail}")
    if junit_xml is not None:
        write_junit(outcomes, junit_xml)
    line = summary_line(outcomes, time.perf_counter() - started)
    code = EXIT_USAGE if invalid else exit_code(outcomes)
    click.secho(line, fg="green" if code == 0 else "red", bold=True)
    raise SystemExit(code)
