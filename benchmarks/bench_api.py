"""Load benchmark: the alert queue and triage through ``fairwatch serve`` on loopback.

Prepares a case store with ``--alerts`` open alerts (findings fed through the service),
an analyst with an API token, starts ``fairwatch serve`` in a subprocess, and drives it
with ``wrk`` (Debian's package) from another process:

- **read**: ``GET /api/alerts?limit=50`` (the analyst's queue, by score);
- **triage**: ``POST /api/alerts/{id}/triage`` dismissing a different alert each request
  (a Lua script walks the alert ids), so every request is a real write: row lock, state
  check, update, two audit events and an outbox row, committed.

Reports requests/s and the p50 / p99 latencies wrk measures, plus non-2xx responses.

    .venv/bin/python benchmarks/bench_api.py --alerts 20000 --seconds 20
    .venv/bin/python benchmarks/bench_api.py --db postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

LUA_TRIAGE = """
counter = 0
request = function()
  counter = counter + 1
  local id = first + counter
  return wrk.format("POST", "/api/alerts/" .. id .. "/triage", nil,
    '{"action": "dismiss", "reason": "false_positive"}')
end
"""


def prepare(url: str, alerts: int, evidence: Path) -> tuple[str, int]:
    from fairwatch.cases import auth
    from fairwatch.cases.db import open_store
    from fairwatch.cases.service import Actor, CaseService

    store = open_store(url, evidence_dir=evidence)
    service = CaseService(store)
    service.seed()
    user = auth.create_user(store, "bench-analyst", "bench-password-1", "analyst")
    token = auth.issue_token(store, user.id, "benchmark")
    findings = [
        {
            "finding_id": f"bench-{i}",
            "rule": "FW101",
            "family": "pricing.personalized_discrimination",
            "subject_type": "sku",
            "subject_id": f"SKU{i:07d}",
            "platform_id": f"P{i % 8 + 1:02d}",
            "period_start": "2025-03-01",
            "period_end": "2025-03-31",
            "severity": "medium",
            "score": (i % 1000) / 1000,
            "legal_basis": ["cn.pipl.art24"],
        }
        for i in range(alerts)
    ]
    result = service.ingest_findings(Actor.system("analyst"), findings, "bench")
    store.dispose()
    return token, min(result.created)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(base: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/api/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("fairwatch serve did not come up")


def wrk(args: list[str]) -> dict[str, str]:
    out = subprocess.run(["wrk", *args], capture_output=True, text=True, check=True).stdout
    found = {
        "rps": re.search(r"Requests/sec:\s+([\d.]+)", out),
        "p50": re.search(r"\s50%\s+([\d.]+\w+)", out),
        "p99": re.search(r"\s99%\s+([\d.]+\w+)", out),
        "requests": re.search(r"(\d+) requests in", out),
        "non2xx": re.search(r"Non-2xx or 3xx responses: (\d+)", out),
    }
    return {k: (m.group(1) if m else "0") for k, m in found.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--alerts", type=int, default=20_000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--db", help="case store URL (default: a fresh SQLite file)")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="fw-bench-api-"))
    url = args.db or f"sqlite:///{tmp}/cases.db"
    t0 = time.perf_counter()
    token, first = prepare(url, args.alerts, tmp / "evidence")
    print(f"store with {args.alerts:,} alerts ready in {time.perf_counter() - t0:.1f} s ({url})")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    fairwatch = str(Path(sys.executable).with_name("fairwatch"))
    env = {**os.environ, "FAIRWATCH_SESSION_SECRET": "benchmark-secret-0123456789"}
    server = subprocess.Popen(
        [
            fairwatch,
            "serve",
            "--port",
            str(port),
            "--db",
            url,
            "--webhook-interval",
            "0",
            "--evidence",
            str(tmp / "evidence"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_up(base)
        auth = ["-H", f"Authorization: Bearer {token}"]
        common = ["-t", "2", "-c", str(args.connections), "-d", f"{args.seconds}s", "--latency"]
        read = wrk([*common, *auth, f"{base}/api/alerts?limit=50"])
        lua = tmp / "triage.lua"
        lua.write_text(f"first = {first - 1}\n" + LUA_TRIAGE)
        # one wrk thread, so the Lua counter gives every request its own alert
        tri = wrk(
            [
                "-t",
                "1",
                "-c",
                str(args.connections),
                "-d",
                f"{args.seconds}s",
                "--latency",
                *auth,
                "-H",
                "Content-Type: application/json",
                "-s",
                str(lua),
                base,
            ]
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {dt.date.today()}; {args.connections} connections, "
        f"{args.seconds} s each"
    )
    print("| workload | requests/s | p50 | p99 | requests | non-2xx |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, r in (
        ("read the alert queue (GET /api/alerts?limit=50)", read),
        ("triage (POST /api/alerts/{id}/triage, dismiss)", tri),
    ):
        print(
            f"| {name} | {r['rps']} | {r['p50']} | {r['p99']} | {r['requests']} | {r['non2xx']} |"
        )
    if int(tri["requests"]) > args.alerts:
        print(
            "warning: more triage requests than alerts; later ones hit already-triaged "
            "alerts (409) — raise --alerts"
        )


if __name__ == "__main__":
    main()
