"""The structure planting module: concentrations, group turnovers, market shares."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from fairwatch.contract.identifiers import uscc_is_valid
from fairwatch.synth import structure
from fairwatch.synth.core import GroundTruth, Scale, TableWriter, World
from fairwatch.synth.world import build_world

SCALE = Scale("test", quotes=1_000, platforms=12, merchants=60, skus=150, users=2_000, days=14)
Result = tuple[World, pd.DataFrame, pd.DataFrame, GroundTruth]

# State Council thresholds (facts file section 2): (from, global combined, China combined, each)
REGIMES = [(date(2008, 8, 3), 10e9, 2e9, 400e6), (date(2024, 1, 22), 12e9, 4e9, 800e6)]


def regime(day: date) -> tuple[date, float, float, float]:
    return [r for r in REGIMES if r[0] <= day][-1]


def meets(
    th: tuple[date, float, float, float], a: tuple[float, float], t: tuple[float, float]
) -> bool:
    _, x, y, z = th
    each = a[1] > z and t[1] > z
    return each and (a[0] + t[0] > x or a[1] + t[1] > y)


def run(tmp: Path, seed: int, violations: bool) -> Result:
    world = build_world(seed, SCALE, violations=violations)
    truth = GroundTruth()
    structure.plant(world, TableWriter(tmp), truth)
    return world, pd.read_parquet(tmp / "deals"), pd.read_parquet(tmp / "market_shares"), truth


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return run(tmp_path_factory.mktemp("structure"), 41, True)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return run(tmp_path_factory.mktemp("structure_clean"), 42, False)


class Graph:
    """Independent control-graph walk over the world's ownership edges."""

    def __init__(self, world: World) -> None:
        self.own = world.frame("ownership").copy()
        self.own["valid_from"] = pd.to_datetime(self.own["valid_from"]).dt.date
        self.own["valid_to"] = pd.to_datetime(self.own["valid_to"]).dt.date
        fin = world.frame("financials")
        self.fin = {
            (r.entity_id, int(r.fiscal_year)): (
                float(r.global_turnover_cny or 0),
                float(r.china_turnover_cny or 0),
            )
            for r in fin.itertuples()
        }

    def edges(self, day: date) -> pd.DataFrame:
        o = self.own
        live = (o["valid_from"] <= day) & (o["valid_to"].isna() | (o["valid_to"] > day))
        return o[live]

    def parent(self, entity: str, day: date) -> str | None:
        e = self.edges(day)
        e = e[e["owned_id"] == entity]
        pct = e[["share_pct", "voting_pct"]].fillna(0).max(axis=1)
        ctl = e[e["control"].isin(["vie", "agreement", "board"]) | (pct > 50)]
        return None if ctl.empty else str(ctl.iloc[0]["owner_id"])

    def chain(self, entity: str, day: date) -> list[str]:
        out = [entity]
        while (p := self.parent(out[-1], day)) is not None and p not in out:
            out.append(p)
        return out

    def holds_half(self, owner: str, owned: str, day: date) -> bool:
        e = self.edges(day)
        e = e[(e["owner_id"] == owner) & (e["owned_id"] == owned)]
        return bool((e[["share_pct", "voting_pct"]].fillna(0).max(axis=1) >= 50).any())


def figures(g: Graph, deal: pd.Series, fy: int | None = None) -> tuple[tuple[float, float], ...]:
    day = deal["announced_on"]
    fy = fy if fy is not None else day.year - 1
    top = g.chain(deal["acquirer_id"], day)[-1]
    return g.fin[(top, fy)], g.fin[(deal["target_id"], fy)]


def notes(truth: GroundTruth, lookalike: bool = False) -> dict[str, str]:
    rows = truth.lookalikes if lookalike else truth.violations
    return {r.subject_id: r.note for r in rows if r.family == structure.FAMILY}


def test_planted_deals_meet_thresholds(planted: Result) -> None:
    world, deals, _, truth = planted
    g = Graph(world)
    bad = notes(truth)
    assert bad
    kinds = {n.split(":")[0] for n in bad.values()}
    assert {"direct", "group_only", "global_only", "old_regime"} == kinds
    by = deals.set_index("deal_id")
    for deal_id, note in bad.items():
        d = by.loc[deal_id]
        assert d["control_acquired"] and pd.isna(d["notified_on"]) and pd.notna(d["closed_on"])
        a, t = figures(g, d)
        assert meets(regime(d["announced_on"]), a, t), (deal_id, note, a, t)
        if note.startswith("old_regime"):
            assert d["announced_on"] < date(2024, 1, 22)
            assert not meets(REGIMES[1], a, t)
        if note.startswith("group_only"):
            chain = g.chain(d["acquirer_id"], d["announced_on"])
            assert len(chain) >= 4  # acquirer + >= 3 levels above it
            own = g.fin.get((d["acquirer_id"], d["announced_on"].year - 1))
            assert own is not None and not meets(regime(d["announced_on"]), own, t)
        if note.startswith("global_only"):
            assert a[1] + t[1] <= 4e9 < 12e9 < a[0] + t[0]
    vie = [n for n in bad.values() if "VIE" in n]
    groups = [n for n in bad.values() if n.startswith("group_only")]
    assert groups and (vie or len(groups) < 3)


def test_lookalikes_are_lawful(planted: Result) -> None:
    world, deals, shares, truth = planted
    g = Graph(world)
    looks = notes(truth, lookalike=True)
    by = deals.set_index("deal_id")
    kinds = {n.split(":")[0] for n in looks.values()}
    assert {
        "just_below",
        "combined_below",
        "intra_group",
        "notified",
        "minority",
        "prior_year",
        "seller_group",
        "high_share_below",
    } <= kinds
    for deal_id, note in looks.items():
        d = by.loc[deal_id]
        kind = note.split(":")[0]
        day = d["announced_on"]
        if kind in (
            "just_below",
            "combined_below",
            "prior_year",
            "seller_group",
            "high_share_below",
        ):
            a, t = figures(g, d)
            assert not meets(regime(day), a, t), (deal_id, note)
        if kind in ("just_below", "combined_below"):
            assert day >= date(2024, 1, 26) and meets(REGIMES[0], *figures(g, d))
        if kind == "prior_year":
            assert day < date(2024, 1, 22)
            latest = max(fy for e, fy in g.fin if e == d["target_id"])
            assert meets(REGIMES[1], figures(g, d, latest)[0], figures(g, d, latest)[1])
        if kind == "seller_group":
            before = d["closed_on"] - timedelta(days=1)
            seller = g.chain(d["target_id"], before)[-1]
            assert seller != d["target_id"] and g.fin[(seller, day.year - 1)][1] > 4e9
        if kind == "intra_group":
            before = d["closed_on"] - timedelta(days=1)
            parents = g.chain(d["acquirer_id"], before)
            assert any(g.holds_half(p, d["target_id"], before) for p in parents)
            assert meets(regime(day), *figures(g, d))  # exempt only because intra-group
        if kind == "notified":
            assert pd.notna(d["notified_on"]) and d["notified_on"] <= d["closed_on"]
            assert meets(regime(day), *figures(g, d))
        if kind == "minority":
            assert not d["control_acquired"] and d["stake_after_pct"] < 50
        if kind == "pending":
            assert pd.isna(d["closed_on"]) and pd.isna(d["notified_on"])
    # the art. 26 case: below the thresholds, combined share >= 50 %
    art26 = next(k for k, n in looks.items() if n.startswith("high_share_below"))
    assert _combined_share(world, deals.set_index("deal_id").loc[art26], shares) >= 50


def _combined_share(world: World, d: pd.Series, shares: pd.DataFrame) -> float:
    g = Graph(world)
    top = g.chain(d["acquirer_id"], d["announced_on"])[-1]
    prior = shares[shares["period"] == str(d["announced_on"].year - 1)]
    best = 0.0
    for _, m in prior.groupby("market_id"):
        s = m.set_index("entity_id")["share_pct"]
        if top in s and d["target_id"] in s:
            best = max(best, float(s[top] + s[d["target_id"]]))
    return best


def test_market_shares(planted: Result) -> None:
    world, deals, shares, truth = planted
    assert not shares.duplicated(["market_id", "period", "entity_id"]).any()
    assert shares.groupby(["market_id", "period"])["share_pct"].sum().le(100.0001).all()
    assert shares["period"].str.fullmatch(r"\d{4}").all()
    assert set(shares["entity_id"]) <= set(world.frame("entities")["entity_id"])
    assert shares["market_id"].nunique() >= 3
    planted_ids = set(notes(truth))
    combined = [
        _combined_share(world, d, shares)
        for _, d in deals.iterrows()
        if d["deal_id"] in planted_ids
    ]
    assert max(combined) >= 50


def test_reference_rows(planted: Result) -> None:
    world, deals, _, _ = planted
    ents = world.frame("entities")
    assert ents["entity_id"].is_unique
    usccs = ents["uscc"].dropna()
    assert usccs.is_unique and all(uscc_is_valid(u) for u in usccs)
    assert not world.frame("financials").duplicated(["entity_id", "fiscal_year"]).any()
    assert not world.frame("ownership").duplicated(["owner_id", "owned_id", "valid_from"]).any()
    assert deals["deal_id"].is_unique
    ids = set(ents["entity_id"])
    assert set(deals["acquirer_id"]) <= ids and set(deals["target_id"]) <= ids
    own = world.frame("ownership")
    assert set(own["owner_id"]) <= ids and set(own["owned_id"]) <= ids
    closed = deals.dropna(subset=["closed_on"])
    assert (closed["closed_on"] >= closed["announced_on"]).all()
    assert (
        closed["closed_on"].map(lambda d: d.year) == closed["announced_on"].map(lambda d: d.year)
    ).all()
    window = deals["announced_on"].between(date(2024, 1, 22), date(2024, 1, 26))
    assert not window.any()


def test_clean_market(clean: Result) -> None:
    world, deals, shares, truth = clean
    assert notes(truth) == {}
    g = Graph(world)
    looks = notes(truth, lookalike=True)
    for _, d in deals.iterrows():
        if d["control_acquired"] and pd.isna(d["notified_on"]) and pd.notna(d["closed_on"]):
            a, t = figures(g, d)
            assert not meets(regime(d["announced_on"]), a, t) or looks[d["deal_id"]].startswith(
                "intra_group"
            )
    notified = [d for _, d in deals.iterrows() if pd.notna(d["notified_on"])]
    assert max(_combined_share(world, d, shares) for d in notified) >= 50


def test_deterministic(tmp_path: Path, planted: Result) -> None:
    _, deals, shares, truth = planted
    _, deals2, shares2, truth2 = run(tmp_path, 41, True)
    pd.testing.assert_frame_equal(deals, deals2)
    pd.testing.assert_frame_equal(shares, shares2)
    assert truth.violations == truth2.violations and truth.lookalikes == truth2.lookalikes


def test_tables_validate(tmp_path: Path) -> None:
    from fairwatch.contract import validate_batch

    world = build_world(5, SCALE)
    out = TableWriter(tmp_path)
    structure.plant(world, out, GroundTruth())
    for table in ("entities", "financials", "ownership"):
        out.write(table, world.frame(table))
    names = ("deals", "market_shares", "entities", "financials", "ownership")
    assert validate_batch({t: pq.read_table(tmp_path / t) for t in names}) == []
