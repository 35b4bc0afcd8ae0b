"""Integrity planting: reviews, review rings and fake-account clusters on a tiny world."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fairwatch.contract.identifiers import looks_like_phone, resident_id_is_valid
from fairwatch.synth import integrity
from fairwatch.synth.core import GroundTruth, TableWriter
from tests.synth.conftest_conduct import Run, iter_truth, make_world, run, validate_lake

ID_KINDS = ("device_hash", "phone_hash", "ip_prefix")


@pytest.fixture(scope="module")
def planted() -> Run:
    return run(integrity, seed=7)


@pytest.fixture(scope="module")
def clean() -> Run:
    return run(integrity, seed=7, violations=False)


def _members(note: str) -> list[str]:
    return note.split("accounts=")[-1].split(",") if "accounts=" in note else note.split(",")


def _connected(acc: pd.DataFrame) -> bool:
    """Whether accounts are linked into one component by shared identifier values."""
    parent = list(range(len(acc)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for col in ID_KINDS:
        for _, idx in acc.reset_index(drop=True).groupby(col).groups.items():
            idx = list(idx)
            for j in idx[1:]:
                parent[find(j)] = find(idx[0])
    return len({find(i) for i in range(len(acc))}) == 1


def test_fake_account_clusters(planted: Run) -> None:
    world, _, truth = planted
    acc = world.frame("accounts")
    assert not acc.duplicated(["platform_id", "user_id"]).any()
    clusters = list(iter_truth(truth, "integrity.fake_accounts"))
    assert len(clusters) >= 3
    for r in clusters:
        members = _members(r.note)
        assert r.subject_type == "account_cluster"
        assert r.subject_id == "cluster:" + min(members)
        assert 8 <= len(members) <= 80
        a = acc[acc["user_id"].isin(members) & (acc["platform_id"] == r.platform_id)]
        assert len(a) == len(members)
        reg = pd.to_datetime(a["registered_at"], utc=True)
        assert reg.max() - reg.min() <= pd.Timedelta(hours=16)
        assert _connected(a)
        assert max(a[c].value_counts().max() for c in ID_KINDS) >= 2
        # members share nothing with accounts outside the cluster
        others = acc[~acc["user_id"].isin(members)]
        for col in ID_KINDS:
            assert not set(a[col]) & set(others[col])


def test_review_rings(planted: Run) -> None:
    _, out, truth = planted
    rv = out.table("reviews")
    rings = list(iter_truth(truth, "integrity.fake_reviews"))
    assert rings
    for r in rings:
        members = set(_members(r.note))
        size = int(r.note.split("ring_size=")[1].split(";")[0])
        assert size == len(members) and 10 <= size <= 80
        mine = rv[(rv["merchant_id"] == r.subject_id) & rv["user_id"].isin(members)]
        assert len(mine) and (mine["rating"] >= 4).all() and mine["order_id"].isna().all()
        # lockstep: a window of 12 hours holding at least half of a window's reviews
        ts = mine["ts"].sort_values().reset_index(drop=True)
        best = max(((ts >= t) & (ts <= t + pd.Timedelta(hours=12))).sum() for t in ts)
        assert best >= min(5, len(ts))
        assert 0 < (r.strength or 0) <= 1
        # camouflage: ring accounts review other merchants too (sometimes)
    ring_users = set().union(*(set(_members(r.note)) for r in rings))
    assert rv[rv["user_id"].isin(ring_users)]["merchant_id"].nunique() > len(rings)


def test_lookalikes_are_lawful(planted: Run) -> None:
    world, out, truth = planted
    acc = world.frame("accounts")
    rv = out.table("reviews")
    targets = {r.subject_id for r in iter_truth(truth, "integrity.fake_reviews")}
    kinds = set()
    for r in iter_truth(truth, "integrity.fake_accounts", lookalike=True):
        members = _members(r.note)
        a = acc[acc["user_id"].isin(members)]
        reg = pd.to_datetime(a["registered_at"], utc=True)
        if len(members) >= 30:  # campus NAT: one prefix, spread-out registrations, own devices
            kinds.add("nat")
            assert a["ip_prefix"].nunique() == 1 and a["device_hash"].is_unique
            assert reg.max() - reg.min() > pd.Timedelta(days=60)
        else:  # household: a shared device, registrations far apart
            kinds.add("household")
            assert a["device_hash"].nunique() == 1 and a["phone_hash"].is_unique
            assert reg.max() - reg.min() > pd.Timedelta(days=1)
    assert kinds == {"nat", "household"}
    for r in iter_truth(truth, "integrity.fake_reviews", lookalike=True):
        assert r.subject_id not in targets
        if r.note.startswith("promotion"):
            ev = out.table("merchant_events")
            assert ((ev["merchant_id"] == r.subject_id) & (ev["event"] == "promo_join")).any()
            day0 = int(r.note.split("+")[1].split("d")[0])
            mine = rv[rv["merchant_id"] == r.subject_id]
            day = (
                mine["ts"].dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).dt.normalize()
                - pd.Timestamp(world.start)
            ).dt.days
            burst = mine[(day > day0) & (day <= day0 + 9)]
            before = mine[(day > day0 - 9) & (day <= day0)]
            assert len(burst) >= 2 * len(before) + 10
            assert burst["user_id"].nunique() >= max(25, 0.6 * len(burst))
            assert burst["device_hash"].nunique() >= 0.6 * len(burst)
            assert day[burst.index].nunique() >= 3


def test_organic_reviews_follow_quality(planted: Run) -> None:
    world, out, _ = planted
    rv = out.table("reviews")
    assert rv["review_id"].is_unique and rv["rating"].between(1, 5).all()
    sig = world.info["sku_quality"].set_index("sku_id")
    per = rv.groupby("sku_id")["rating"].agg(["mean", "size"])
    per = per[per["size"] >= 5].join(sig)
    assert per["mean"].corr(per["rating"]) > 0.3
    assert per["size"].corr(per["popularity"], method="spearman") > 0.3
    acc = world.frame("accounts")
    reg = acc.set_index(["platform_id", "user_id"])["registered_at"]
    when = pd.to_datetime(
        reg.reindex(pd.MultiIndex.from_frame(rv[["platform_id", "user_id"]])).to_numpy(), utc=True
    )
    assert (when < rv["ts"].to_numpy()).all()
    end = pd.Timestamp(world.end).tz_localize("Asia/Shanghai")
    assert (rv["ts"] < end).all()


def test_pseudonymous_ids(planted: Run) -> None:
    world, out, _ = planted
    rv = out.table("reviews")
    acc = world.frame("accounts")
    for values in (
        rv["user_id"],
        rv["device_hash"].dropna(),
        acc["phone_hash"].dropna(),
        acc["device_hash"].dropna(),
        acc["user_id"],
    ):
        assert not values.map(looks_like_phone).any()
        assert not values.map(resident_id_is_valid).any()
    new = acc["user_id"].str.len().value_counts()
    assert len(new) == 1  # added accounts look like the world's own


def test_clean_world(clean: Run) -> None:
    _, out, truth = clean
    assert truth.violations == []
    fams = {r.family for r in truth.lookalikes}
    assert fams == {"integrity.fake_reviews", "integrity.fake_accounts"}
    assert len(out.table("reviews"))


def test_deterministic(planted: Run) -> None:
    world, out, truth = planted
    world2, out2, truth2 = run(integrity, seed=7)
    pd.testing.assert_frame_equal(out.table("reviews"), out2.table("reviews"))
    pd.testing.assert_frame_equal(world.frame("accounts"), world2.frame("accounts"))
    assert [r.__dict__ for r in truth.violations] == [r.__dict__ for r in truth2.violations]


def test_tables_validate_against_the_standard(tmp_path: Path) -> None:
    problems, rows = validate_lake(integrity, tmp_path)
    assert problems == []
    assert rows["reviews"] > 0


def test_with_pricing_orders(tmp_path: Path) -> None:
    """In a lake with the pricing module's orders, organic reviews are tied to real paid
    orders and search ranks on the paid-order counts; ring reviews have no order."""
    import pyarrow.parquet as pq

    from fairwatch.synth import conduct, pricing

    world = make_world(5)
    out = TableWriter(tmp_path)
    truth = GroundTruth()
    for module in (pricing, conduct, integrity):
        module.plant(world, out, truth)
    orders = pq.read_table(tmp_path / "orders").to_pandas().set_index("order_id")
    rv = pq.read_table(tmp_path / "reviews").to_pandas()
    tied = rv[rv["order_id"].notna()]
    assert len(tied) > 0.85 * len(rv[~rv["user_id"].isin(_ring_users(truth))])
    o = orders.loc[tied["order_id"]]
    assert (o["status"] == "paid").all()
    assert (o["user_id"].to_numpy() == tied["user_id"].to_numpy()).all()
    assert (o["sku_id"].to_numpy() == tied["sku_id"].to_numpy()).all()
    assert (o["ts"].to_numpy() < tied["ts"].to_numpy()).all()
    assert rv[rv["user_id"].isin(_ring_users(truth))]["order_id"].isna().all()
    paid = orders[orders["status"] == "paid"]["sku_id"].value_counts()
    sig = world.info["sku_quality"].set_index("sku_id")
    plat = world.frame("products").set_index("sku_id")["platform_id"]
    both = sig.join(paid.rename("paid"), how="inner").join(plat)
    for _, g in both.groupby("platform_id"):  # sales signal = paid orders (per platform)
        assert g["popularity"].corr(g["paid"], method="spearman") > 0.99


def _ring_users(truth: GroundTruth) -> set[str]:
    rings = iter_truth(truth, "integrity.fake_reviews")
    return set().union(*(set(_members(r.note)) for r in rings))
