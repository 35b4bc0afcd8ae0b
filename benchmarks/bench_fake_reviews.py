"""Benchmark: FW301 (review rings) end to end on DuckDB over 10^7 reviews.

Synthesises a lake with numpy directly (much faster than ``fairwatch synth`` at this
size): ``reviews`` and ``accounts`` of a few platforms, organic reviewing (account
activity lognormal, store popularity Zipf-like, ratings around each store's quality,
most reviews tied to an order, households sharing a network and sometimes a device),
lawful look-alikes (promotions bringing bursts of organic five-star reviews) and planted
review rings (accounts registered in a burst with shared devices and networks, reviewing
one to four weak stores in lockstep windows without orders, plus camouflage reviews of
popular stores). Then runs FW301 in a fresh subprocess, so the peak RSS
(``resource.getrusage``) is the detector's own, and reports time, peak memory and how
many planted target stores were found.

    .venv/bin/python benchmarks/bench_fake_reviews.py --reviews 10000000

The lake is written once to ``benchmarks/data/fake-reviews-<n>-s<seed>/`` and reused.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
START = np.datetime64("2025-06-01T00:00:00", "s")
DAYS = 120
PLATFORMS = 4
PART_ROWS = 2_000_000


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers, built in Arrow (fast for 10^7 values)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def _daytime(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into a local day, mostly 9:00-23:00, as UTC offsets (local = UTC+8)."""
    local = rng.normal(15.5, 3.5, n).clip(0, 23.99) * 3600
    return (local - 8 * 3600).astype(np.int64)


def synthesise(out: Path, n_reviews: int, seed: int) -> dict[str, int]:
    """Write ``accounts`` and ``reviews`` with planted rings; returns counts and truth."""
    from fairwatch.contract import STANDARD

    rng = np.random.default_rng(seed)
    n_accounts = max(1000, n_reviews // 4)
    n_stores = max(200, n_reviews // 200)
    acc_platform = rng.choice(PLATFORMS, n_accounts, p=[0.4, 0.3, 0.2, 0.1])
    store_platform = rng.choice(PLATFORMS, n_stores, p=[0.4, 0.3, 0.2, 0.1])
    quality = rng.normal(4.1, 0.45, n_stores).clip(2.0, 4.9)
    popularity = rng.pareto(1.2, n_stores) + 1.0

    # accounts: ages log-uniform up to 5 years; households share a network, some a device
    age_days = np.exp(rng.uniform(np.log(1), np.log(5 * 365), n_accounts))
    registered = START - (age_days * 86400).astype(np.int64).astype("timedelta64[s]")
    device = np.arange(n_accounts)
    network = np.arange(n_accounts)
    heads = rng.choice(n_accounts, n_accounts // 20, replace=False)
    for offset in (1, 2):
        members = np.clip(heads + offset, 0, n_accounts - 1)
        same = acc_platform[members] == acc_platform[heads]
        network[members[same]] = network[heads[same]]
        shared_dev = same & (rng.random(len(heads)) < 0.25)
        device[members[shared_dev]] = device[heads[shared_dev]]
    phone = np.arange(n_accounts)

    # organic reviews: account by activity, store of the account's platform by popularity
    activity = rng.lognormal(0.0, 1.0, n_accounts)
    who = rng.choice(n_accounts, n_reviews, p=activity / activity.sum())
    store = np.empty(n_reviews, np.int64)
    for p in range(PLATFORMS):
        mine = np.flatnonzero(acc_platform[who] == p)
        stores = np.flatnonzero(store_platform == p)
        w = popularity[stores]
        store[mine] = stores[rng.choice(len(stores), len(mine), p=w / w.sum())]
    day = rng.integers(0, DAYS, n_reviews)
    ts = START + (day * 86400 + _daytime(rng, n_reviews)).astype("timedelta64[s]")
    late = ts <= registered[who] + np.timedelta64(3600, "s")
    ts[late] = registered[who][late] + np.timedelta64(7200, "s")
    rating = np.clip(np.round(quality[store] + rng.normal(0, 0.9, n_reviews)), 1, 5)
    with_order = rng.random(n_reviews) < 0.92
    source = np.zeros(n_reviews, np.int8)  # 0 organic, 1 promo, 2 ring, 3 camouflage

    # look-alikes: promotions on popular stores, 40-120 organic 5-star reviews over days
    extra_who, extra_store, extra_ts, extra_rating, extra_source = [], [], [], [], []
    top = np.argsort(-popularity)[: max(20, n_stores // 200)]
    promoted = rng.choice(top, min(len(top), 20), replace=False)
    for s in promoted:
        k = int(rng.integers(40, 121))
        pool = np.flatnonzero(acc_platform == store_platform[s])
        extra_who.append(rng.choice(pool, k, replace=False))
        extra_store.append(np.full(k, s))
        d0 = int(rng.integers(10, DAYS - 10))
        d = d0 + np.floor(rng.random(k) ** 1.5 * 5).astype(np.int64)
        extra_ts.append(START + (d * 86400 + _daytime(rng, k)).astype("timedelta64[s]"))
        extra_rating.append(np.clip(np.round(4.6 + rng.normal(0, 0.5, k)), 3, 5))
        extra_source.append(np.full(k, 1, np.int8))

    # review rings
    n_rings = max(5, n_reviews // 200_000)
    next_id = n_accounts
    ring_acc_platform, ring_registered, ring_device, ring_network = [], [], [], []
    targets: list[int] = []
    truth_rows: list[dict[str, object]] = []
    for _ in range(n_rings):
        p = int(rng.integers(0, PLATFORMS))
        n = int(rng.integers(10, 81))
        members = np.arange(next_id, next_id + n)
        next_id += n
        first = int(rng.integers(15, DAYS - 5))
        reg0 = START + np.timedelta64((first - int(rng.integers(1, 31))) * 86400 + 3600 * 10, "s")
        ring_registered.append(
            reg0 + (rng.random(n) * rng.uniform(0.1, 4) * 3600).astype("timedelta64[s]")
        )
        ring_acc_platform.append(np.full(n, p))
        pool = max(1, n // int(rng.integers(3, 12)))
        ring_device.append(next_id * 10 + rng.integers(0, pool, n))
        ring_network.append(np.full(n, next_id * 10))
        weak = np.flatnonzero((store_platform == p) & ~np.isin(np.arange(n_stores), targets))
        weak = weak[np.argsort(quality[weak])][: max(10, len(weak) // 3)]
        mine = rng.choice(weak, int(rng.integers(1, 5)), replace=False)
        targets.extend(int(t) for t in mine)
        ring_users = ",".join(f"u{m:09d}" for m in members)
        truth_rows.extend(
            {
                "family": "integrity.fake_reviews",
                "subject_type": "merchant",
                "subject_id": f"m{t:07d}",
                "platform_id": f"P{p + 1}",
                "note": f"ring_size={n}; accounts={ring_users}",
            }
            for t in mine
        )
        for t in mine:
            for d in np.unique(np.r_[first, rng.integers(first, DAYS, int(rng.integers(0, 3)))]):
                part = members[rng.random(n) < rng.uniform(0.5, 1.0)]
                k = len(part)
                start = int(rng.integers(9, 21)) * 3600 - 8 * 3600
                sec = start + (rng.random(k) * rng.uniform(1, 12) * 3600).astype(np.int64)
                extra_who.append(part)
                extra_store.append(np.full(k, t))
                extra_ts.append(START + (d * 86400 + sec).astype("timedelta64[s]"))
                extra_rating.append(np.where(rng.random(k) < 0.9, 5, 4))
                extra_source.append(np.full(k, 2, np.int8))
        camo = np.repeat(members, rng.integers(0, 4, n))
        pop = np.flatnonzero(store_platform == p)
        w = popularity[pop]
        extra_who.append(camo)
        extra_store.append(pop[rng.choice(len(pop), len(camo), p=w / w.sum())])
        days = rng.integers(first, DAYS, len(camo))
        extra_ts.append(START + (days * 86400 + _daytime(rng, len(camo))).astype("timedelta64[s]"))
        extra_rating.append(np.clip(np.round(4.0 + rng.normal(0, 0.9, len(camo))), 1, 5))
        extra_source.append(np.full(len(camo), 3, np.int8))

    acc_platform = np.concatenate([acc_platform, *ring_acc_platform])
    registered = np.concatenate([registered, *ring_registered])
    device = np.concatenate([device, *ring_device])
    network = np.concatenate([network, *ring_network])
    phone = np.arange(len(acc_platform))
    who = np.concatenate([who, *extra_who])
    store = np.concatenate([store, *extra_store])
    ts = np.concatenate([ts, *extra_ts])
    rating = np.concatenate([rating, *extra_rating]).astype(np.int64)
    n_extra = len(who) - n_reviews
    with_order = np.concatenate([with_order, np.zeros(n_extra, bool)])
    source = np.concatenate([source, *extra_source])
    # a stable order by time, as a platform would report
    order = np.argsort(ts, kind="stable")
    who, store, ts, rating, with_order, source = (
        a[order] for a in (who, store, ts, rating, with_order, source)
    )
    n_total = len(who)

    platforms = np.array([f"P{i + 1}" for i in range(PLATFORMS)], dtype=object)
    (out / "accounts").mkdir(parents=True, exist_ok=True)
    (out / "reviews").mkdir(parents=True, exist_ok=True)
    n_acc = len(acc_platform)
    accounts = pa.table(
        {
            "user_id": _ids("u", np.arange(n_acc), 9),
            "platform_id": pa.array(platforms[acc_platform]),
            "registered_at": pa.array(registered.astype("datetime64[us]")),
            "device_hash": _ids("dv", device, 10),
            "phone_hash": _ids("ph", phone, 10),
            "ip_prefix": _ids("ip", network, 10),
            "region_code": pa.array(np.full(n_acc, "330100", dtype=object)),
        }
    )
    schema = STANDARD.table("accounts").arrow_schema()
    pq.write_table(accounts.cast(schema), out / "accounts" / "part-0.parquet")
    schema = STANDARD.table("reviews").arrow_schema()
    for i, lo in enumerate(range(0, n_total, PART_ROWS)):
        hi = min(n_total, lo + PART_ROWS)
        idx = np.arange(lo, hi)
        no_order = pa.nulls(hi - lo, pa.string())
        order_ids = pc.if_else(pa.array(with_order[lo:hi]), _ids("o", idx, 10), no_order)
        part = pa.table(
            {
                "review_id": _ids("r", idx, 10),
                "ts": pa.array(ts[lo:hi].astype("datetime64[us]")),
                "platform_id": pa.array(platforms[acc_platform[who[lo:hi]]]),
                "user_id": _ids("u", who[lo:hi], 9),
                "merchant_id": _ids("m", store[lo:hi], 7),
                "sku_id": pa.nulls(hi - lo, pa.string()),
                "rating": pa.array(rating[lo:hi]),
                "text": pa.nulls(hi - lo, pa.string()),
                "order_id": order_ids,
                "device_hash": _ids("dv", device[who[lo:hi]], 10),
                "ip_prefix": _ids("ip", network[who[lo:hi]], 10),
            }
        )
        part = part.set_column(
            1, "ts", pc.assume_timezone(part["ts"], "UTC")
        )  # naive UTC -> tz-aware
        pq.write_table(part.cast(schema), out / "reviews" / f"part-{i}.parquet")
    truth = {
        "reviews": n_total,
        "accounts": n_acc,
        "stores": n_stores,
        "rings": n_rings,
        "ring_reviews": int((source == 2).sum()),
        "targets": sorted(f"m{t:07d}" for t in targets),
    }
    (out / "truth.json").write_text(json.dumps(truth))
    pq.write_table(pa.Table.from_pylist(truth_rows), out / "ground_truth.parquet")
    promo = [
        {
            "family": "integrity.fake_reviews",
            "subject_type": "merchant",
            "subject_id": f"m{s:07d}",
            "platform_id": f"P{store_platform[s] + 1}",
            "note": "promotion: burst of organic reviews",
        }
        for s in promoted
    ]
    pq.write_table(pa.Table.from_pylist(promo), out / "ground_truth_lookalikes.parquet")
    return truth


def child(lake: str, threads: int) -> None:
    """Run FW301 on the lake in this process and print one JSON line."""
    from fairwatch.detectors.base import Context
    from fairwatch.detectors.registry import registry
    from fairwatch.engine import connect
    from fairwatch.lake import Lake
    from fairwatch.law import default_store

    t0 = time.perf_counter()
    eng = connect(Lake(Path(lake)).table_files(), "duckdb", threads=threads)
    detector = registry().get("FW301")()
    ctx = Context(eng, date(2025, 12, 31), "bench", default_store()).for_detector(detector)
    findings = detector.run(ctx)
    eng.close()
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "peak_mb": usage.ru_maxrss / 1024,
                "flagged": [f.subject_id for f in findings],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reviews", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=301)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.threads)
        return
    lake = HERE / "data" / f"fake-reviews-{args.reviews}-s{args.seed}"
    if not (lake / "truth.json").exists():
        t0 = time.perf_counter()
        synthesise(lake, args.reviews, args.seed)
        print(f"synthesised {lake} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    truth = json.loads((lake / "truth.json").read_text())
    run = subprocess.run(
        [sys.executable, __file__, "--child", str(lake), "--threads", str(args.threads)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(run.stdout.strip().splitlines()[-1])
    targets = set(truth["targets"])
    flagged = set(result["flagged"])
    tp = len(flagged & targets)
    print(
        f"FW301 on {truth['reviews']:,} reviews, {truth['accounts']:,} accounts, "
        f"{truth['rings']} planted rings ({len(targets)} target stores), "
        f"DuckDB {args.threads} threads, {platform.machine()}:"
    )
    print(f"  time      {result['seconds']:.1f} s wall, {result['cpu_seconds']:.1f} s CPU")
    print(f"  peak RSS  {result['peak_mb']:.0f} MB")
    print(
        f"  found     {tp}/{len(targets)} targets, {len(flagged - targets)} other stores "
        f"(precision {tp / max(1, len(flagged)):.3f}, recall {tp / max(1, len(targets)):.3f})"
    )


if __name__ == "__main__":
    main()
