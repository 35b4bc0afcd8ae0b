"""Detection quality on freshly generated markets: precision / recall per family.

Generates one market per (scale, seed), scans it with every detector, evaluates the
findings against the market's ground truth, and prints one Markdown table (pooled over
markets, plus one row per market) for the families that have detectors. A clean market
(``--clean-seed``) must give no finding at all.

    .venv/bin/python benchmarks/quality.py --market small:31 --market small:32 \
        --market medium:33 --clean-seed 34

Tests use seeds 2024, 99, 11 and scales named quality/parity; use others here.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from fairwatch.detectors.run import scan
from fairwatch.synth.evaluate import evaluate
from fairwatch.synth.generate import generate_market

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--market", action="append", default=[], help="scale:seed, repeatable")
    parser.add_argument(
        "--clean-seed", type=int, help="also check a clean market of the first scale"
    )
    parser.add_argument(
        "--select", action="append", default=[], help="detector codes (default: all)"
    )
    parser.add_argument("--as-of", default="2025-12-31")
    args = parser.parse_args()
    from datetime import date

    as_of = date.fromisoformat(args.as_of)
    pooled: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    rows = []
    for spec in args.market or ["small:31"]:
        scale, seed = spec.split(":")
        market = HERE / "data" / f"quality-{scale}-s{seed}"
        if not (market / "_synth.json").exists():
            generate_market(market, scale, int(seed), overwrite=True)
        t0 = time.perf_counter()
        run = HERE / "out" / f"quality-{scale}-s{seed}"
        result = scan(market, run, select=args.select, as_of=as_of, report=False)
        seconds = time.perf_counter() - t0
        errors = [(d.code, d.error) for d in result.detectors if d.status == "error"]
        if errors:
            sys.exit(f"detector errors on {spec}: {errors}")
        evaluation = evaluate(run, market)
        for row in evaluation.rows:
            if row.status != "evaluated":
                continue
            rows.append(
                (spec, row.family, row.truth, row.tp, row.fp, row.fn, row.precision, row.recall)
            )
            acc = pooled[row.family]
            acc[0] += row.tp
            acc[1] += row.fp
            acc[2] += row.fn
        print(f"{spec}: scanned in {seconds:.1f} s", file=sys.stderr)

    print("| market | family | truth | TP | FP | FN | precision | recall |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for spec, family, truth, tp, fp, fn, p, r in rows:
        print(f"| {spec} | {family} | {truth} | {tp} | {fp} | {fn} | {_f(p)} | {_f(r)} |")
    for family, (tp, fp, fn) in sorted(pooled.items()):
        p = tp / (tp + fp) if tp + fp else None
        r = tp / (tp + fn) if tp + fn else None
        print(f"| **all** | {family} | {tp + fn} | {tp} | {fp} | {fn} | {_f(p)} | {_f(r)} |")

    if args.clean_seed is not None:
        scale = (args.market or ["small:31"])[0].split(":")[0]
        clean = HERE / "data" / f"quality-{scale}-clean-s{args.clean_seed}"
        if not (clean / "_synth.json").exists():
            generate_market(clean, scale, args.clean_seed, violations=False, overwrite=True)
        result = scan(clean, None, select=args.select, as_of=as_of)
        by_family: dict[str, int] = defaultdict(int)
        for f in result.findings:
            by_family[f["family"]] += 1
        print(
            f"\nclean market {scale}:{args.clean_seed}: {len(result.findings)} findings "
            f"{json.dumps(by_family) if by_family else ''}"
        )


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
