"""Benchmark: the whole detector suite on one market, end to end (`fairwatch scan`).

Runs the real command line in a subprocess — process start, imports, every detector,
findings and the HTML report — and measures its wall time and the peak memory of the
whole process tree (the scan and its worker processes together, sampled from /proc every
0.5 s), then prints the per-detector seconds from the run's ``run.json``.

    .venv/bin/python benchmarks/bench_suite.py --market medium:401 --workers 2

The market is generated under benchmarks/data/ when missing (the quality benchmark's
folder naming, so both reuse it). Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            statm = Path(f"/proc/{entry}/statm").read_text().split()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parent[int(entry)] = int(fields[1])
        rss[int(entry)] = int(statm[1]) * PAGE
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, pp in parent.items() if pp == pid and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(p, 0) for p in tree)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--market", default="medium:401", help="scale:seed")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--as-of", default="2025-12-31")
    args = parser.parse_args()
    scale, seed = args.market.split(":")
    market = HERE / "data" / f"quality-{scale}-s{seed}"
    if not (market / "_synth.json").exists():
        from fairwatch.synth.generate import generate_market

        generate_market(market, scale, int(seed), overwrite=True)
    out = HERE / "out" / f"suite-{scale}-s{seed}-w{args.workers}"
    command = [
        str(Path(sys.executable).with_name("fairwatch")),
        "scan",
        str(market),
        "--out",
        str(out),
        "--as-of",
        args.as_of,
        "--workers",
        str(args.workers),
    ]
    peak = 0
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if code not in (0, 1):
        sys.exit(f"fairwatch scan exited with {code}")
    run = json.loads((out / "run.json").read_text())
    print(
        f"market {args.market}, {args.workers} worker(s): wall {wall:.1f} s, "
        f"peak memory of the process tree {peak / 2**20:,.0f} MB"
    )
    print("| detector | seconds | findings | status |\n| --- | ---: | ---: | --- |")
    for d in sorted(run["detectors"], key=lambda d: -d["seconds"]):
        print(f"| {d['code']} | {d['seconds']:.1f} | {d['findings']} | {d['status']} |")


if __name__ == "__main__":
    main()
