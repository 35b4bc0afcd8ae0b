"""Benchmark: detectors' engine phase, Ibis on DuckDB vs hand-written SQL.

For each lake size and detector it times, in a fresh subprocess each (so peak memory
is the process's own):

* ``ibis``: the detector's :meth:`summarize` expression executed on DuckDB, and the
  whole detector (engine + statistics + evidence) as ``ibis+judge``;
* ``sql``: the hand-written DuckDB SQL in ``benchmarks/sql/<CODE>.sql`` computing the
  same aggregation (``{table}`` placeholders become Parquet scans);
* ``raw``: a raw DuckDB scan of the columns the detector declares it reads (the floor).

Usage (writes/reuses markets under benchmarks/data/):

    .venv/bin/python benchmarks/bench_scan.py --quotes 10000000 --quotes 50000000 \\
        --detector FW101 --detector FW102

Results go to stdout as a Markdown table and to benchmarks/out/scan-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent

SQL = HERE / "sql"


def _read(lake: Path, table: str) -> str:
    files = ", ".join(f"'{p}'" for p in sorted((lake / table).glob("*.parquet")))
    return f"read_parquet([{files}], union_by_name = true)"


def hand_sql(code: str, lake: Path) -> str:
    """The detector's hand-written SQL with each {table} replaced by its Parquet scan."""
    from fairwatch.detectors.registry import registry

    text = (SQL / f"{code}.sql").read_text()
    return text.format(**{t: _read(lake, t) for t in registry().get(code).inputs})


def raw_sql(code: str, lake: Path) -> str:
    """A raw scan of exactly the columns the detector declares it reads (the floor)."""
    from fairwatch.detectors.registry import registry

    parts = []
    for table, columns in registry().get(code).inputs.items():
        aggs = " + ".join(f"count({c})" for c in columns)  # one column per table, to stack
        parts.append(f"SELECT {aggs} AS n FROM {_read(lake, table)}")
    return " UNION ALL ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]


def child(mode: str, code: str, lake: str, threads: int) -> None:
    """Run one measurement in this process and print a JSON line.

    ``setup`` (imports, the detector registry, the law store, opening the engine) is
    timed apart from ``seconds``, the scan itself: from the query to the pandas frame
    the judge reads. Both paths pay their own setup before the clock starts, so the
    comparison is of the scans, not of how much Python each path imports.
    """
    t_setup = time.perf_counter()
    import duckdb

    from fairwatch.lake import Lake

    lake_path = Path(lake)
    if mode in ("sql", "raw"):
        con = duckdb.connect()
        con.execute(f"SET threads = {threads}")
        con.execute("SET TimeZone = 'UTC'")
        query = hand_sql(code, lake_path) if mode == "sql" else raw_sql(code, lake_path)
        setup = time.perf_counter() - t_setup
        t0 = time.perf_counter()
        if mode == "sql":  # like the Ibis path, end with the pandas frame the judge reads
            rows = len(con.execute(query).df())
        else:
            rows = len(con.execute(query).fetch_arrow_table())
        seconds = time.perf_counter() - t0
    else:
        from fairwatch.detectors.base import Context
        from fairwatch.detectors.registry import registry
        from fairwatch.engine import connect
        from fairwatch.law import default_store

        eng = connect(Lake(lake_path).table_files(), "duckdb", threads=threads)
        detector = registry().get(code)()
        ctx = Context(eng, date(2025, 12, 31), "bench", default_store()).for_detector(detector)
        setup = time.perf_counter() - t_setup
        t0 = time.perf_counter()
        if mode == "ibis":
            rows = len(ctx.execute(detector.summarize(ctx)))
        else:
            rows = len(detector.run(ctx))
        seconds = time.perf_counter() - t0
        eng.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "mode": mode,
                "seconds": seconds,
                "setup": setup,
                "peak_mb": peak_kb / 1024,
                "rows_out": rows,
            }
        )
    )


def measure(mode: str, code: str, lake: Path, threads: int) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--code",
            code,
            "--lake",
            str(lake),
            "--threads",
            str(threads),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def ensure_market(quotes: int, seed: int) -> Path:
    from fairwatch.synth.generate import generate_market

    lake = HERE / "data" / f"market-{quotes}-s{seed}"
    if not (lake / "_synth.json").exists():
        print(f"generating {quotes:,} quotes into {lake} ...", file=sys.stderr)
        generate_market(lake, str(quotes), seed, overwrite=True)
    return lake


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quotes", type=int, action="append", help="lake size(s) in quotes")
    parser.add_argument("--detector", action="append", help="codes (default: FW101, FW102)")
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="runs per mode (best is reported)")
    parser.add_argument("--child")
    parser.add_argument("--code")
    parser.add_argument("--lake")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.code, args.lake, args.threads)
        return
    results = []
    for quotes in args.quotes or [10_000_000]:
        lake = ensure_market(quotes, args.seed)
        for code in args.detector or ["FW101", "FW102"]:
            for mode in ("raw", "sql", "ibis", "ibis+judge"):
                runs = [measure(mode, code, lake, args.threads) for _ in range(args.repeat)]
                best = min(runs, key=lambda r: r["seconds"])
                best.update(
                    quotes=quotes,
                    code=code,
                    rows_per_s=quotes / best["seconds"],
                    peak_mb=max(r["peak_mb"] for r in runs),
                )
                results.append(best)
                print(
                    f"{quotes:>12,} {code} {mode:<11} {best['seconds']:8.2f} s "
                    f"(setup {best['setup']:5.2f} s) "
                    f"{best['rows_per_s'] / 1e6:8.1f} M rows/s {best['peak_mb']:8.0f} MB",
                    file=sys.stderr,
                )
    meta = {
        "date": date.today().isoformat(),
        "machine": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "threads": args.threads,
    }
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / f"scan-{meta['date']}.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=1)
    )
    print(
        "| quotes | detector | path | scan s | setup s | M quotes/s | peak MB | vs SQL |\n"
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |"
    )
    for r in results:
        sql = next(
            x
            for x in results
            if x["quotes"] == r["quotes"] and x["code"] == r["code"] and x["mode"] == "sql"
        )
        print(
            f"| {r['quotes']:,} | {r['code']} | {r['mode']} | {r['seconds']:.2f} | "
            f"{r['setup']:.2f} | "
            f"{r['rows_per_s'] / 1e6:.1f} | {r['peak_mb']:.0f} | "
            f"{r['seconds'] / sql['seconds']:.2f}x |"
        )


if __name__ == "__main__":
    main()
