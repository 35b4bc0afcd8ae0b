"""Price quotes, orders and the planted pricing families on a tiny market."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from fairwatch.synth import pricing
from fairwatch.synth.core import SCALES, GroundTruth, Scale, TableWriter
from fairwatch.synth.generate import write_reference
from fairwatch.synth.world import build_world

PD = "pricing.personalized_discrimination"
FOP = "pricing.fictitious_original_price"
PG = "pricing.price_gouging"
COL = "pricing.collusion"


@dataclass
class Market:
    path: Path
    quotes: pd.DataFrame
    orders: pd.DataFrame
    products: pd.DataFrame
    merchants: pd.DataFrame
    emergencies: pd.DataFrame
    truth: pd.DataFrame
    lookalikes: pd.DataFrame
    start: pd.Timestamp


def _read(path: Path, table: str) -> pd.DataFrame:
    folder = path / table
    if not folder.exists():
        return pd.DataFrame()
    return pq.read_table(folder).to_pandas()


def make_market(
    path: Path, seed: int, *, violations: bool = True, scale: Scale | None = None
) -> Market:
    world = build_world(seed, scale or SCALES["tiny"], violations=violations)
    path.mkdir(parents=True, exist_ok=True)
    writer, truth = TableWriter(path), GroundTruth()
    pricing.plant(world, writer, truth)
    write_reference(world, writer)
    truth.write(path)
    quotes = _read(path, "price_quotes")
    orders = _read(path, "orders")
    for frame in (quotes, orders):
        frame["day"] = (frame["ts"] + pd.Timedelta(hours=8)).dt.tz_localize(None).dt.normalize()
    return Market(
        path,
        quotes,
        orders,
        _read(path, "products"),
        _read(path, "merchants"),
        _read(path, "emergencies"),
        pq.read_table(path / "ground_truth.parquet").to_pandas(),
        pq.read_table(path / "ground_truth_lookalikes.parquet").to_pandas(),
        pd.Timestamp(world.start),
    )


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Market:
    return make_market(tmp_path_factory.mktemp("pricing") / "lake", seed=21)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Market:
    return make_market(tmp_path_factory.mktemp("pricing_clean") / "lake", seed=21, violations=False)


def _subjects(frame: pd.DataFrame, family: str) -> set[str]:
    return set(frame.loc[frame["family"] == family, "subject_id"])


def _gross(q: pd.DataFrame) -> pd.Series:
    return q["quoted_price"] + q["coupon_cny"].fillna(0.0)


def _assert_lawful_quotes(q: pd.DataFrame) -> None:
    plain = q[~q["member_price"]]
    assert np.allclose(_gross(plain), plain["list_price"], atol=0.006)
    # One published member factor per SKU, estimated from its dearest quote (least rounding).
    member = q[q["member_price"]].copy()
    member["gross"] = _gross(member)
    top = member.sort_values("list_price").groupby("sku_id").tail(1).set_index("sku_id")
    factor = member["sku_id"].map(top["gross"] / top["list_price"])
    top_list = member["sku_id"].map(top["list_price"])
    error = (member["gross"] - member["list_price"] * factor).abs()
    assert (error <= 0.0051 + 0.0051 * member["list_price"] / top_list).all()
    assert (factor < 1).all()


# --- volumes and semantics


def test_volumes(market: Market) -> None:
    q, o = market.quotes, market.orders
    assert len(q) == SCALES["tiny"].quotes
    assert q["quote_id"].is_unique and o["order_id"].is_unique
    per_sku = q.groupby("sku_id").size()
    assert set(per_sku.index) == set(market.products["sku_id"])
    assert per_sku.min() >= 150
    days = SCALES["tiny"].days
    assert q["day"].min() == market.start and q["day"].max() == market.start + pd.Timedelta(
        days=days - 1
    )
    order_days = o.groupby("sku_id")["day"].nunique()
    assert set(order_days.index) == set(market.products["sku_id"])
    assert order_days.min() >= 0.4 * days and order_days.median() >= 0.6 * days
    assert 0.05 <= len(o) / len(q) <= 0.4


def test_user_ids_are_pseudonyms(market: Market) -> None:
    pattern = r"u_[0-9a-f]{12}"
    assert market.quotes["user_id"].str.fullmatch(pattern).all()
    assert market.orders["user_id"].str.fullmatch(pattern).all()


def test_daily_cycle_in_local_time(market: Market) -> None:
    hours = (market.quotes["ts"] + pd.Timedelta(hours=8)).dt.hour.value_counts(normalize=True)
    assert hours[20] > 3 * hours[4]


def test_unplanted_quotes_pay_the_public_price(market: Market) -> None:
    planted = _subjects(market.truth, PD)
    q = market.quotes[~market.quotes["sku_id"].isin(planted)]
    _assert_lawful_quotes(q)
    assert q["member_price"].any() and q["coupon_cny"].notna().any()
    assert (q["quoted_price"] > 0).all()
    assert (q["coupon_cny"].dropna() > 0).all()


def test_new_user_coupons_exist(market: Market) -> None:
    q = market.quotes
    new = q[q["user_tenure_days"] < 30]
    old = q[q["user_tenure_days"] >= 30]
    assert new["coupon_cny"].notna().mean() > old["coupon_cny"].notna().mean()


def test_orders_follow_the_offer(market: Market) -> None:
    o = market.orders
    assert set(o["status"]) == {"paid", "refunded", "cancelled"}
    assert (o["status"] == "paid").mean() > 0.85
    assert (o["paid_cny"] <= o["quantity"] * o["unit_price"] + 0.011).all()
    assert (o["unit_price"] > 0).all() and (o["quantity"] >= 1).all()
    own = o.merge(
        market.products[["sku_id", "merchant_id", "self_operated"]],
        on="sku_id",
        suffixes=("", "_p"),
    )
    assert (own["merchant_id"] == own["merchant_id_p"]).all()
    assert (own.loc[own["self_operated"], "commission_cny"] == 0).all()
    assert (own.loc[~own["self_operated"], "commission_cny"] > 0).mean() > 0.9
    # Unplanted offers: the unit price is a list price the SKU had that day.
    planted = _subjects(market.truth, PD)
    lists = market.quotes.groupby(["sku_id", "day"])["list_price"].agg(["min", "max"]).reset_index()
    check = own[~own["sku_id"].isin(planted)].merge(lists, on=["sku_id", "day"])
    assert len(check) > 0.9 * len(own[~own["sku_id"].isin(planted)])
    assert (
        (check["unit_price"] >= check["min"] - 0.005)
        & (check["unit_price"] <= check["max"] + 0.005)
    ).mean() > 0.97


# --- personalised discrimination


def _target_mask(q: pd.DataFrame, note: str) -> pd.Series:
    if "tenure" in note:
        return q["user_tenure_days"] >= 365
    if "iOS" in note:
        return q["user_device"] == "ios"
    if "members" in note:
        return q["user_is_member"]
    city = re.search(r"\((\d{4})\)", note)
    assert city, note
    return q["user_region_code"].str[:4] == city.group(1)


def test_discrimination_targets_a_group_with_a_hidden_markup(market: Market) -> None:
    truth = market.truth[market.truth["family"] == PD]
    n_sku = len(market.products)
    assert max(5, 0.035 * n_sku) <= len(truth) <= 0.07 * n_sku + 1
    assert truth["strength"].between(0.03, 0.25).all()
    for row in truth.itertuples():
        q = market.quotes[
            (market.quotes["sku_id"] == row.subject_id) & ~market.quotes["member_price"]
        ]
        up = _gross(q) > q["list_price"] + 0.006
        group = _target_mask(q, row.note)
        assert up.any(), row.note
        assert not (up & ~group).any(), row.note  # only the targeted group pays more
        assert up[group].mean() >= 0.3, row.note
        ratio = (_gross(q) / q["list_price"])[up]
        assert np.allclose(ratio, 1 + row.strength, atol=0.01 + 0.006 / q["list_price"][up].min())


def test_discrimination_lookalikes_are_lawful(market: Market) -> None:
    looks = _subjects(market.lookalikes, PD)
    assert len(looks) >= 0.3 * len(market.products)
    assert not looks & _subjects(market.truth, PD)
    _assert_lawful_quotes(market.quotes[market.quotes["sku_id"].isin(looks)])
    # Regional list prices: the public price itself differs by the user's city.
    regional = market.products.loc[market.products["category"] == "hotel_room", "sku_id"]
    q = market.quotes[market.quotes["sku_id"].isin(regional)]
    by_city = q.groupby(["sku_id", "day", q["user_region_code"].str[:4]])["list_price"].first()
    assert by_city.groupby(level=[0, 1]).nunique().max() > 1


# --- fictitious original prices


def _episodes(market: Market, sku: str) -> list[tuple[pd.Timestamp, float, float]]:
    """(start day, claim, lowest paid unit price in the 7 days before) of each promotion."""
    q = market.quotes[
        (market.quotes["sku_id"] == sku) & market.quotes["claimed_original_price"].notna()
    ]
    days = sorted(
        q["day"].unique()
    )  # a promotion day may have no quote: episodes are 9+ days apart
    starts = [d for i, d in enumerate(days) if i == 0 or d - days[i - 1] > pd.Timedelta(days=3)]
    o = market.orders[(market.orders["sku_id"] == sku) & (market.orders["status"] == "paid")]
    out = []
    for start in starts:
        claim = float(q.loc[q["day"] == start, "claimed_original_price"].iloc[0])
        window = o[(o["day"] >= start - pd.Timedelta(days=7)) & (o["day"] < start)]
        out.append((start, claim, float(window["unit_price"].min()) if len(window) else np.inf))
    return out


def test_claims_appear_only_during_promotions(market: Market) -> None:
    q = market.quotes[market.quotes["claimed_original_price"].notna()]
    promoted = _subjects(market.truth, FOP) | _subjects(market.lookalikes, FOP)
    assert set(q["sku_id"]) <= promoted
    assert (q["list_price"] < q["claimed_original_price"]).all()


def test_planted_claims_break_the_seven_day_rule(market: Market) -> None:
    planted = _subjects(market.truth, FOP)
    assert len(planted) >= 4
    kinds = {n.split(":")[0] for n in market.truth.loc[market.truth["family"] == FOP, "note"]}
    # Usually all three kinds (a raise-then-cut without orders at the regular price is lawful).
    assert {"invented", "subtle"} <= kinds <= {"invented", "raise_then_cut", "subtle"}
    for sku in planted:
        assert any(claim > lowest + 0.005 for _, claim, lowest in _episodes(market, sku)), sku


def test_lookalike_claims_respect_the_seven_day_rule(market: Market) -> None:
    looks = _subjects(market.lookalikes, FOP)
    assert len(looks) >= 10
    notes = " ".join(market.lookalikes.loc[market.lookalikes["family"] == FOP, "note"])
    assert "genuine" in notes and "raised" in notes and "cut" in notes
    for sku in looks:
        episodes = _episodes(market, sku)
        assert episodes, sku
        for _, claim, lowest in episodes:
            assert claim <= lowest + 0.005, sku
    # A temporary cut outside the window really happened: the public price was lower before.
    cuts = market.lookalikes[
        (market.lookalikes["family"] == FOP) & market.lookalikes["note"].str.contains("cut")
    ]
    for row in cuts.itertuples():
        start, claim, _ = _episodes(market, row.subject_id)[0]
        q = market.quotes[
            (market.quotes["sku_id"] == row.subject_id) & (market.quotes["day"] < start)
        ]
        assert q["list_price"].min() < claim - 0.005


# --- gouging


def _daily_list(market: Market, skus: set[str]) -> pd.DataFrame:
    q = market.quotes[market.quotes["sku_id"].isin(skus)]
    return q.groupby(["sku_id", "day"])["list_price"].median().unstack()


def _covers(region: str, code: str) -> bool:
    if region.endswith("0000"):
        return code[:2] == region[:2]
    if region.endswith("00"):
        return code[:4] == region[:4]
    return code == region


def test_gouging_during_emergencies(market: Market) -> None:
    em = market.emergencies.set_index("emergency_id")
    assert 1 <= len(em) <= 3
    assert em["region_code"].str.startswith("33").all()
    truth = market.truth[market.truth["family"] == PG]
    assert len(truth) >= 1
    products = market.products.merge(
        market.merchants[["merchant_id", "region_code"]], on="merchant_id"
    )
    products = products.set_index("sku_id")
    prices = _daily_list(market, set(truth["subject_id"]))
    for row in truth.itertuples():
        eid = re.search(r"emergency (\w+)", row.note).group(1)  # type: ignore[union-attr]
        e = em.loc[eid]
        p = products.loc[row.subject_id]
        assert _covers(e["region_code"], p["region_code"]) and p["category"] in list(
            e["categories"]
        )
        declared = pd.Timestamp(e["declared_on"])
        end = pd.Timestamp(e["lifted_on"]) if e["lifted_on"] is not None else prices.columns.max()
        series = prices.loc[row.subject_id]
        before = series[
            (series.index < declared) & (series.index >= declared - pd.Timedelta(days=7))
        ].mean()
        during = series[
            (series.index >= declared + pd.Timedelta(days=7)) & (series.index < end)
        ].mean()
        assert during / before > 1.15, row.subject_id


def test_gouging_lookalikes_are_lawful(market: Market) -> None:
    looks = market.lookalikes[market.lookalikes["family"] == PG]
    assert len(looks) >= 2
    assert not set(looks["subject_id"]) & _subjects(market.truth, PG)
    products = market.products.merge(
        market.merchants[["merchant_id", "region_code"]], on="merchant_id"
    )
    products = products.set_index("sku_id")
    em = market.emergencies
    for row in looks.itertuples():
        p = products.loc[row.subject_id]
        concerned_here = any(
            _covers(e.region_code, p["region_code"]) and p["category"] in list(e.categories)
            for e in em.itertuples()
        )
        if "outside" in row.note or "non-concerned" in row.note:
            assert not concerned_here, row
        else:
            assert "cost shock" in row.note


# --- collusion


def _cv_change(prices: pd.DataFrame) -> tuple[float, float]:
    """Dispersion across SKUs of each SKU's median price in the first and the last third."""
    third = prices.shape[1] // 3
    first, last = prices.iloc[:, :third].median(axis=1), prices.iloc[:, -third:].median(axis=1)
    return float(first.std() / first.mean()), float(last.std() / last.mean())


def test_collusion_reduces_dispersion_in_lockstep(market: Market) -> None:
    truth = market.truth[market.truth["family"] == COL]
    assert 1 <= len(truth) <= 2
    for row in truth.itertuples():
        assert row.subject_type == "market" and row.subject_id in set(market.products["category"])
        members = re.search(r"merchants: ([\w,]+)", row.note).group(1).split(",")  # type: ignore[union-attr]
        assert len(members) >= 4
        skus = market.products[
            (market.products["category"] == row.subject_id)
            & market.products["merchant_id"].isin(members)
        ]
        assert skus["platform_id"].nunique() >= 2
        prices = _daily_list(market, set(skus["sku_id"]))
        before, after = _cv_change(prices)
        assert after < 0.5 * before and after < 0.07


def test_collusion_lookalikes_keep_their_dispersion(market: Market) -> None:
    looks = market.lookalikes[market.lookalikes["family"] == COL]
    notes = " ".join(looks["note"])
    assert "cost shock" in notes and "standardised" in notes
    planted = set(market.truth["subject_id"])  # e.g. gouging in the same category
    for row in looks.itertuples():
        skus = set(market.products.loc[market.products["category"] == row.subject_id, "sku_id"])
        if len(skus - planted) < 3:
            continue
        before, after = _cv_change(_daily_list(market, skus - planted))
        assert after > 0.6 * before, row


# --- clean markets, reproducibility, chunks


def test_clean_market_has_no_pricing_violations(clean: Market, market: Market) -> None:
    assert clean.truth.empty
    assert set(clean.lookalikes["family"]) == {PD, FOP, PG, COL}
    _assert_lawful_quotes(clean.quotes)
    assert clean.quotes["claimed_original_price"].notna().any()
    for sku in _subjects(clean.lookalikes, FOP):
        assert all(claim <= lowest + 0.005 for _, claim, lowest in _episodes(clean, sku))
    # Everything but the planted violations is the same market.
    pd.testing.assert_frame_equal(clean.products, market.products)
    pd.testing.assert_frame_equal(clean.emergencies, market.emergencies)


def _files(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*.parquet"))}


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path, market: Market) -> None:
    again = make_market(tmp_path / "again", seed=21)
    other = make_market(tmp_path / "other", seed=22)
    assert _files(again.path) == _files(market.path)
    first, second = _files(market.path), _files(other.path)
    assert first["price_quotes/part-00000.parquet"] != second["price_quotes/part-00000.parquet"]


def test_quotes_are_written_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pricing, "CHUNK_ROWS", 7_000)
    scale = Scale("test", quotes=20_000, platforms=6, merchants=40, skus=60, users=1_500, days=40)
    m = make_market(tmp_path / "chunks", seed=3, scale=scale)
    parts = sorted((m.path / "price_quotes").glob("*.parquet"))
    assert len(parts) == 3
    assert len(sorted((m.path / "orders").glob("*.parquet"))) == 3
    assert len(m.quotes) == 20_000 and m.quotes["quote_id"].is_unique
    assert m.quotes["ts"].is_monotonic_increasing
    assert m.orders["order_id"].is_unique
    start = m.start + timedelta(days=0)
    assert m.quotes["day"].min() == start
