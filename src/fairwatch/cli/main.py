"""The ``fairwatch`` command line.

Exit codes follow linter conventions: 0 clean, 1 findings (or a failed check), 2 a
usage or data error. Domain errors are mapped to messages and exit codes here, in one
place; domain code never prints.
"""

from __future__ import annotations

import logging
import shutil
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from fairwatch.errors import FairwatchError, InvalidBatch

app = typer.Typer(
    name="fairwatch",
    help="Supervise the platform economy: validate reported data, detect unfair conduct, report.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
console = Console()
err = Console(stderr=True)


def fail(exc: FairwatchError) -> typer.Exit:
    """Print a domain error for a person and return the exit to raise (code 2)."""
    if isinstance(exc, InvalidBatch):
        err.print(f"[bold red]rejected[/]: {escape(str(exc))}")
    else:
        err.print(f"[bold red]error[/]: {escape(str(exc))}")
    return typer.Exit(2)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    """fairwatch: supervision of platform data for monopolistic and unfair conduct.

    Example: fairwatch demo
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@app.command()
def ingest(
    source: Annotated[
        Path,
        typer.Argument(
            help="A batch: a folder laid out like a lake, or a <table>.parquet|csv|jsonl file."
        ),
    ],
    lake: Annotated[
        Path, typer.Option("--lake", help="The managed lake to append to (created if missing).")
    ],
) -> None:
    """Validate a reported batch and append it to a lake atomically.

    A batch that breaks the reporting standard is rejected whole, with every problem
    named by table, column, rows and rule; nothing is stored. Re-ingesting a batch that
    is already in the lake changes nothing.

    Example: fairwatch ingest reports/2025-03/ --lake lake/
    """
    from fairwatch.lake import ingest as do_ingest

    try:
        with console.status("ingesting") as status:
            result = do_ingest(source, lake, progress=lambda msg: status.update(msg))
    except FairwatchError as exc:
        raise fail(exc) from exc
    if result.append.already_present:
        console.print(f"batch already in the lake as {result.append.batch_id}: nothing changed")
        return
    table = Table("table", "rows", title=f"batch {result.append.batch_id} committed")
    for name, rows in sorted(result.rows.items()):
        table.add_row(name, f"{rows:,}")
    console.print(table)
    for name in result.ignored_tables:
        console.print(f"[yellow]ignored[/] table {name!r}: not in the reporting standard")


@app.command()
def scan(
    lake: Annotated[Path, typer.Argument(help="A lake folder (managed, or raw per the standard).")],
    out: Annotated[
        Path, typer.Option("--out", help="Run folder for findings, run.json and report.html.")
    ] = Path("fairwatch-run"),
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            help="Codes or prefixes to run (FW1 = FW1xx); repeatable or comma-separated.",
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Codes or prefixes to skip.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Apply the law in force on this date (YYYY-MM-DD); default today."
        ),
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="duckdb (default) or spark.")] = "duckdb",
    spark_master: Annotated[
        str | None, typer.Option("--spark-master", help="Spark master URL (default local[2]).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Detectors run at once, each in its own process (DuckDB only; default: "
            "one per core, at most 4).",
        ),
    ] = None,
    to_cases: Annotated[
        bool,
        typer.Option(
            "--to-cases",
            help="Feed the findings into the case store as alerts (merged by fingerprint).",
        ),
    ] = False,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Case store URL for --to-cases (default $FAIRWATCH_DB_URL)."),
    ] = None,
) -> None:
    """Run detectors over a lake and write findings and an HTML report.

    Exit code 0: no findings; 1: findings; 2: usage or data error. A detector that
    crashes is reported as an error in the run and the others go on. With --to-cases
    the findings become alerts in the case store, each routed by the region of its
    conduct (taken from the lake).

    Example: fairwatch scan lake/ --out run/ --select FW1 --as-of 2025-06-30 --to-cases
    """
    from fairwatch.detectors.run import default_workers
    from fairwatch.detectors.run import scan as do_scan

    def split(values: list[str] | None) -> list[str]:
        return [v for item in values or [] for v in item.split(",") if v.strip()]

    try:
        when = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        err.print(f"[bold red]error[/]: --as-of {as_of!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None
    try:
        with _progress() as bar:
            task = bar.add_task("starting engine", total=None)

            def tick(code: str, done: int, total: int) -> None:
                bar.update(
                    task,
                    total=total,
                    completed=done,
                    description=f"running {code}" if code else "done",
                )

            result = do_scan(
                lake,
                out,
                select=split(select),
                ignore=split(ignore),
                as_of=when,
                engine=engine,
                spark_master=spark_master,
                progress=tick,
                workers=workers or default_workers(engine),
            )
    except FairwatchError as exc:
        raise fail(exc) from exc
    _print_run(result)
    console.print(f"findings: {out / 'findings.jsonl'}   report: {out / 'report.html'}")
    if to_cases:
        from fairwatch.cases.db import open_store
        from fairwatch.cases.regions import lake_region_resolver
        from fairwatch.cases.service import Actor, CaseService

        try:
            store = open_store(db)
            service = CaseService(store)
            service.seed()
            fed = service.ingest_findings(
                Actor.system("analyst"),
                result.findings,
                result.run_id,
                region_of=lake_region_resolver(lake),
            )
            store.dispose()
        except FairwatchError as exc:
            raise fail(exc) from exc
        console.print(
            f"case store: {len(fed.created)} new alerts, {len(fed.merged)} findings merged "
            f"into open alerts, {fed.skipped} already received"
        )
    raise typer.Exit(1 if result.findings else 0)


def _print_run(result: object) -> None:
    from fairwatch.detectors.run import RunResult

    assert isinstance(result, RunResult)
    table = Table(
        "code", "name", "family", "status", "findings", "seconds", title=f"run {result.run_id}"
    )
    for d in result.detectors:
        status = {"ok": "[green]ok[/]", "error": "[red]error[/]", "skipped": "[yellow]skipped[/]"}[
            d.status
        ]
        detail = (
            f" ({escape(d.error or '')})"
            if d.error
            else (f" (missing {', '.join(d.missing)})" if d.missing else "")
        )
        table.add_row(
            d.code, d.name, d.family, status + detail, str(d.findings), f"{d.seconds:.2f}"
        )
    console.print(table)
    by_sev: dict[str, int] = {}
    for f in result.findings:
        by_sev[f["severity"]] = by_sev.get(f["severity"], 0) + 1
    console.print(
        "findings by severity: "
        + (", ".join(f"{k} {v}" for k, v in sorted(by_sev.items())) or "none")
    )


@app.command()
def rules(
    code: Annotated[
        str | None, typer.Argument(help="A detector code to explain, e.g. FW101.")
    ] = None,
) -> None:
    """List the detectors, or explain one.

    Example: fairwatch rules FW101
    """
    from rich.markdown import Markdown

    from fairwatch.detectors.registry import registry

    try:
        reg = registry()
        if code is None:
            table = Table("code", "name", "family", "summary", title=f"{len(reg)} detectors")
            for cls in reg:
                table.add_row(cls.code, cls.name, cls.family, cls.summary())
            console.print(table)
            return
        cls = reg.get(code)
    except FairwatchError as exc:
        raise fail(exc) from exc
    from fairwatch.detectors.docs import render_detector

    console.print(Markdown(render_detector(cls)))


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the demo's market, lake and run.")
    ] = Path("demo"),
    scale: Annotated[
        str, typer.Option("--scale", help="Market scale: tiny, small, medium, large, xlarge.")
    ] = "tiny",
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the synthetic market.")] = 7,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve/--no-serve", help="End by serving the console with the market loaded."
        ),
    ] = True,
    port: Annotated[int, typer.Option("--port", help="Port of the console.")] = 8000,
) -> None:
    """Generate a synthetic market, ingest it, run every detector, report and evaluate.

    Then feeds the findings into a case store (demo/cases.db) as alerts, creates demo
    log-ins for each role, and serves the console and public portal on
    http://127.0.0.1:PORT (Ctrl-C stops it; --no-serve skips this).

    Example: fairwatch demo --out demo/ --scale tiny --seed 7
    """
    from fairwatch.detectors.run import scan as do_scan
    from fairwatch.lake import ingest as do_ingest
    from fairwatch.synth.evaluate import evaluate as do_evaluate
    from fairwatch.synth.evaluate import print_table
    from fairwatch.synth.generate import generate_market

    t0 = time.perf_counter()
    market, lake, run = out / "market", out / "lake", out / "run"
    try:
        for folder in (market, lake, run):
            if folder.exists():
                shutil.rmtree(folder)
        with _progress() as bar:
            task = bar.add_task("generating market", total=None)

            def step(message: str, done: int | None = None, total: int | None = None) -> None:
                bar.update(task, description=f"generating: {message}", completed=done, total=total)

            generate_market(market, scale, seed, progress=step)
            bar.update(task, description="ingesting", completed=0, total=None)
            do_ingest(
                market, lake, progress=lambda m: bar.update(task, description=f"ingesting: {m}")
            )

            def tick(code: str, done: int, total: int) -> None:
                bar.update(
                    task,
                    total=total,
                    completed=done,
                    description=f"scanning {code}" if code else "scanned",
                )

            result = do_scan(lake, run, as_of=None, progress=tick)
    except FairwatchError as exc:
        raise fail(exc) from exc
    _print_run(result)
    print_table(console, do_evaluate(run, market))
    from fairwatch.cli.structure import print_lights_summary

    print_lights_summary(console, lake)
    console.print(f"report: {run / 'report.html'}   findings: {run / 'findings.jsonl'}")
    console.print(f"demo finished in {time.perf_counter() - t0:.1f} s")
    if serve:
        _serve_demo(out, lake, result, port)


#: Demo log-ins (local demo only; real accounts are made with `fairwatch users add`).
DEMO_USERS = (
    ("analyst", "analyst", "demo-analyst-1"),
    ("officer", "case_officer", "demo-officer-1"),
    ("supervisor", "supervisor", "demo-supervisor-1"),
    ("platform", "platform", "demo-platform-1"),
)


def _serve_demo(out: Path, lake: Path, result: object, port: int) -> None:
    """Load the run into a fresh case store and serve the console on loopback."""
    import uvicorn

    from fairwatch.api import create_app
    from fairwatch.cases.auth import create_user
    from fairwatch.cases.db import open_store
    from fairwatch.cases.regions import lake_region_resolver
    from fairwatch.cases.service import Actor, CaseService
    from fairwatch.detectors.run import RunResult

    assert isinstance(result, RunResult)
    db = out / "cases.db"
    for stale in (db, out / "cases.db-wal", out / "cases.db-shm"):
        stale.unlink(missing_ok=True)
    shutil.rmtree(out / "evidence", ignore_errors=True)
    store = open_store(f"sqlite:///{db}", evidence_dir=out / "evidence")
    service = CaseService(store)
    service.seed()
    platforms = sorted({str(f["platform_id"]) for f in result.findings if f.get("platform_id")})
    for username, role, password in DEMO_USERS:
        create_user(
            store,
            username,
            password,
            role,
            platform_ids=platforms[:1] if role == "platform" else None,
        )
    fed = service.ingest_findings(
        Actor.system("analyst"),
        result.findings,
        result.run_id,
        region_of=lake_region_resolver(lake),
    )
    app = create_app(store, lake_dir=lake, webhook_interval=None)
    url = f"http://127.0.0.1:{port}"
    table = Table("user", "role", "password", title=f"console: {url}  ({len(fed.created)} alerts)")
    for username, role, password in DEMO_USERS:
        table.add_row(
            username,
            role + (f" ({platforms[0]})" if role == "platform" and platforms else ""),
            password,
        )
    console.print(table)
    console.print(f"open {url} (public portal: {url}/public); Ctrl-C stops the server")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _register() -> None:
    from fairwatch.cli.cases import audit_app
    from fairwatch.cli.credit import credit
    from fairwatch.cli.evaluate import evaluate
    from fairwatch.cli.law import app as law_app
    from fairwatch.cli.penalty import penalty
    from fairwatch.cli.platform import platform
    from fairwatch.cli.serve import serve
    from fairwatch.cli.structure import deal_app, entity
    from fairwatch.cli.synth import synth
    from fairwatch.cli.users import users_app

    app.command("synth")(synth)
    app.command("evaluate")(evaluate)
    app.command("penalty")(penalty)
    app.add_typer(law_app, name="law", help="Look up dated, cited legal parameters.")
    credit_app = typer.Typer(help="Credit records, the serious-dishonesty list and risk classes.")
    credit_app.command("show")(credit)
    app.add_typer(credit_app, name="credit")
    app.command("entity")(entity)
    app.command("platform")(platform)
    app.add_typer(deal_app, name="deal")
    app.add_typer(audit_app, name="audit")
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")


_register()
