"""The synthetic world's invariants: keys, references, identifiers, structure, population."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import pytest

from fairwatch.contract.identifiers import looks_like_phone, resident_id_is_valid, uscc_is_valid
from fairwatch.synth.core import SCALES, World
from fairwatch.synth.world import build_world, local_midnight_utc


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(11, SCALES["tiny"])


@pytest.fixture(scope="module")
def small_world() -> World:
    return build_world(5, SCALES["small"])


KEYS = {
    "entities": ["entity_id"],
    "financials": ["entity_id", "fiscal_year"],
    "ownership": ["owner_id", "owned_id", "valid_from"],
    "platforms": ["platform_id"],
    "platform_metrics": ["platform_id", "period"],
    "merchants": ["merchant_id"],
    "products": ["sku_id"],
    "accounts": ["platform_id", "user_id"],
}


@pytest.mark.parametrize("table", sorted(KEYS))
def test_keys_are_unique(world: World, table: str) -> None:
    frame = world.frames[table]
    assert len(frame) > 0
    assert not frame.duplicated(KEYS[table]).any()


def test_period_defaults_and_scale(world: World) -> None:
    assert world.start == date(2025, 3, 1)
    assert world.days == SCALES["tiny"].days
    assert len(world.frames["platforms"]) == SCALES["tiny"].platforms
    assert len(world.frames["merchants"]) == SCALES["tiny"].merchants
    assert len(world.frames["products"]) == SCALES["tiny"].skus
    assert len(world.users) == SCALES["tiny"].users
    assert list(world.sku_prices.columns) == ["sku_id", "base_price"]
    assert (world.sku_prices["base_price"] > 0).all()
    assert set(world.sku_prices["sku_id"]) == set(world.frames["products"]["sku_id"])


def test_references_resolve(world: World) -> None:
    f = world.frames
    entities = set(f["entities"]["entity_id"])
    platforms = set(f["platforms"]["platform_id"])
    assert set(f["platforms"]["operator_id"]) <= entities
    assert set(f["ownership"]["owner_id"]) | set(f["ownership"]["owned_id"]) <= entities
    assert set(f["financials"]["entity_id"]) <= entities
    assert set(f["merchants"]["platform_id"]) <= platforms
    assert set(f["merchants"]["entity_id"]) <= entities
    assert set(f["products"]["brand_id"].dropna()) <= entities
    assert set(f["accounts"]["platform_id"]) <= platforms
    assert set(f["platform_metrics"]["platform_id"]) == platforms
    products = f["products"].merge(f["merchants"], on="merchant_id", suffixes=("", "_m"))
    assert len(products) == len(f["products"])
    assert (products["platform_id"] == products["platform_id_m"]).all()
    assert (products["self_operated"] == products["self_operated_m"]).all()
    # Every user has an account on the home platform.
    home = world.users.merge(f["accounts"], on=["user_id", "platform_id"])
    assert len(home) == len(world.users)


def test_usccs_are_valid_unique_and_regional(world: World) -> None:
    e = world.frames["entities"]
    codes = e["uscc"].dropna()
    assert len(codes) >= 0.9 * len(e)
    assert all(uscc_is_valid(c) for c in codes)
    assert codes.is_unique
    with_code = e.dropna(subset=["uscc"])
    assert (with_code["uscc"].str[2:8] == with_code["region_code"]).all()
    assert {"company", "individual_business", "state", "fund"} <= set(e["kind"])


def test_user_ids_are_pseudonyms(world: World) -> None:
    pattern = re.compile(r"^u_[0-9a-f]{12}$")
    ids = world.users["user_id"]
    assert ids.is_unique
    assert all(pattern.match(u) for u in ids)
    accounts = world.frames["accounts"]
    for column in ("user_id", "device_hash", "phone_hash"):
        values = accounts[column].astype(str)
        assert not any(looks_like_phone(v) or resident_id_is_valid(v) for v in values)
    assert accounts["ip_prefix"].str.fullmatch(r"\d{1,3}\.\d{1,3}\.\d{1,3}").all()


def test_accounts_share_devices_and_ips_only_rarely(small_world: World) -> None:
    acc = small_world.frames["accounts"].drop_duplicates("user_id")
    shared_device = acc.duplicated("device_hash", keep=False).mean()
    shared_ip = acc.duplicated("ip_prefix", keep=False).mean()
    assert 0 < shared_device < 0.06
    assert 0 < shared_ip < 0.2
    assert acc.groupby("ip_prefix").size().max() <= 4


def test_registration_matches_tenure(world: World) -> None:
    start = pd.Timestamp(local_midnight_utc(world.start))
    acc = world.frames["accounts"].merge(world.users, on=["user_id", "platform_id"])
    age = ((start - acc["registered_at"]).dt.total_seconds() // 86400).astype(int)
    assert (age == acc["tenure_days"]).all()
    attrs = world.info["account_attrs"]
    assert len(attrs) == len(world.frames["accounts"])
    assert (attrs["user_id"].to_numpy() == world.frames["accounts"]["user_id"].to_numpy()).all()
    assert (attrs["tenure_days"] >= 0).all()
    assert (attrs["tenure_days"] < 30).any() and (attrs["tenure_days"] >= 365).any()


def test_multihoming_share_and_list(small_world: World) -> None:
    m = small_world.frames["merchants"]
    third = m[~m["self_operated"]]
    platforms = small_world.frames["platforms"].set_index("platform_id")["categories"]
    per_entity = third.groupby("entity_id")["platform_id"].agg(["nunique", "count"])
    multi = set(per_entity.index[per_entity["nunique"] >= 2])
    assert set(small_world.info["multihoming_entities"]) == multi
    assert (per_entity["nunique"] == per_entity["count"]).all()  # one store per platform
    share = len(multi) / len(per_entity)
    assert 0.28 <= share <= 0.42
    assert per_entity["nunique"].max() <= 3
    for entity in multi:
        cats = {tuple(platforms[p]) for p in third.loc[third["entity_id"] == entity, "platform_id"]}
        assert len(cats) == 1  # stores on platforms of the same category


def test_self_operated_stores_belong_to_the_operator_group(world: World) -> None:
    m = world.frames["merchants"]
    group_of = world.info["group_of"]
    operators = world.frames["platforms"].set_index("platform_id")["operator_id"]
    for pid in world.info["sales_platforms"]:
        own = m[(m["platform_id"] == pid) & m["self_operated"]]
        assert 2 <= len(own) < 0.3 * (m["platform_id"] == pid).sum() + 2
        assert {group_of[e] for e in own["entity_id"]} == {group_of[operators[pid]]}
    assert not set(m.loc[~m["self_operated"], "entity_id"]) & set(group_of)


def _depth(edges: pd.DataFrame) -> int:
    children: dict[str, list[str]] = {}
    for owner, owned in zip(edges["owner_id"], edges["owned_id"], strict=True):
        children.setdefault(owner, []).append(owned)

    def down(node: str, seen: frozenset[str]) -> int:
        return 1 + max(
            (down(c, seen | {c}) for c in children.get(node, []) if c not in seen), default=0
        )

    return max(down(n, frozenset({n})) for n in children)


def test_ownership_structure(world: World) -> None:
    own = world.frames["ownership"]
    controlling = own[
        own["valid_to"].isna() & ((own["share_pct"] > 50) | (own["control"] != "equity"))
    ]
    assert _depth(controlling) >= 4  # holding -> investment -> technology -> operator -> store
    assert {"equity", "vie", "board", "agreement"} <= set(own["control"])
    assert own["valid_to"].notna().any()
    assert (own["valid_to"].dropna() > own.loc[own["valid_to"].notna(), "valid_from"]).all()
    kinds = world.frames["entities"].set_index("entity_id")["kind"]
    minority = own[(own["share_pct"] > 0) & (own["share_pct"] < 50) & (own["control"] == "equity")]
    assert (kinds[minority["owner_id"]] == "fund").any()
    state_held = set(own.loc[own["owner_id"].map(kinds) == "state", "owned_id"])
    assert set(minority["owner_id"]) & state_held  # a state-owned company with minority stakes
    licensed = world.frames["entities"]["licenses"].dropna()
    assert {"payment", "online_lending"} <= {x for lst in licensed for x in lst}


def test_platform_grades_are_represented(world: World) -> None:
    metrics = world.frames["platform_metrics"]
    yearly = metrics[metrics["period"].str.len() == 4]
    monthly = metrics[metrics["period"].str.len() == 7]
    assert len(monthly) > 0
    latest = yearly[yearly["period"] == str(world.start.year - 1)].set_index("platform_id")[
        "active_users"
    ]
    assert (latest >= 500e6).any()
    assert ((latest >= 50e6) & (latest < 500e6)).any()
    assert (latest < 50e6).any()
    fin = world.frames["financials"]
    fin = fin[fin["fiscal_year"] == world.start.year - 1]
    assert ((fin["china_turnover_cny"] > 100e9) & (fin["market_value_cny"] > 1e12)).sum() >= 2
    assert ((fin["market_value_cny"] > 100e9) & (fin["market_value_cny"] < 1e12)).any()
    categories = [c for cats in world.frames["platforms"]["categories"] for c in cats]
    assert categories.count("online_sales") >= 2 and categories.count("life_services") >= 2


def test_products_are_comparable_across_merchants_and_platforms(small_world: World) -> None:
    p = small_world.frames["products"]
    assert p["category"].nunique() >= 14
    spread = p.groupby("category").agg(
        merchants=("merchant_id", "nunique"), platforms=("platform_id", "nunique")
    )
    commodities = spread.loc[["groceries", "pork", "vegetables", "medicine", "electronics"]]
    assert (commodities["merchants"] >= 5).all() and (commodities["platforms"] >= 2).all()
    assert p["title"].str.contains(r"[\u4e00-\u9fff]").all()
    assert p["brand_id"].notna().any() and p["brand_id"].isna().any()


def test_regions_are_mostly_zhejiang(world: World) -> None:
    m = world.frames["merchants"]["region_code"]
    assert m.str.fullmatch(r"\d{6}").all()
    assert 0.75 < m.str.startswith("33").mean() < 1.0
    u = world.users["region_code"]
    assert 0.7 < u.str.startswith("33").mean() < 0.95


def test_same_seed_same_world_different_seed_different() -> None:
    a, b, c = (build_world(s, SCALES["tiny"]) for s in (3, 3, 4))
    for table in KEYS:
        pd.testing.assert_frame_equal(a.frames[table], b.frames[table])
    pd.testing.assert_frame_equal(a.users, b.users)
    assert not np.array_equal(a.users["user_id"].to_numpy(), c.users["user_id"].to_numpy())
    assert not a.frames["entities"]["uscc"].equals(c.frames["entities"]["uscc"])
