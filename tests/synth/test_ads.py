"""The ads planting module: planted violations, look-alikes, clean markets."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from fairwatch.synth import ads
from fairwatch.synth.core import GroundTruth, Scale, TableWriter, World
from fairwatch.synth.world import build_world

SCALE = Scale("test", quotes=1_000, platforms=12, merchants=60, skus=150, users=2_000, days=14)

# The test's own term lists (the standard's compliance lists, facts file section 7).
TERMS = [
    "最",
    "第一",
    "no.1",
    "top1",
    "唯一",
    "国家级",
    "世界级",
    "顶级",
    "极品",
    "极致",
    "终极",
    "首个",
    "首选",
    "独家",
    "首发",
    "万能",
    "绝无仅有",
    "史无前例",
    "best",
    "number one",
    "top-rated",
    "world-class",
    "the only",
    "unbeatable",
]
CURE = ["治愈", "根治", "药到病除", "cures"]
RETURNS = ["保本", "稳赚", "无风险", "年化收益保证", "guaranteed returns"]


def naive_hit(text: str, category: str) -> bool:
    t = unicodedata.normalize("NFKC", text).lower()
    terms = (
        TERMS
        + (CURE if category in ("food", "health_food", "cosmetics") else [])
        + (RETURNS if category == "finance" else [])
    )
    return any(term in t for term in terms)


def run(tmp: Path, seed: int, violations: bool) -> tuple[World, pd.DataFrame, GroundTruth]:
    world = build_world(seed, SCALE, violations=violations)
    truth = GroundTruth()
    ads.plant(world, TableWriter(tmp), truth)
    return world, pd.read_parquet(tmp / "ads"), truth


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, pd.DataFrame, GroundTruth]:
    return run(tmp_path_factory.mktemp("ads"), 11, True)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, pd.DataFrame, GroundTruth]:
    return run(tmp_path_factory.mktemp("ads_clean"), 12, False)


def _by_id(frame: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    return frame.set_index("ad_id").loc[ids].reset_index()


def _lawful_format(row: pd.Series) -> bool:
    if row["format"] in ("popup", "splash"):
        return row["close_clicks"] == 1 and row["close_delay_s"] == 0
    return True


def test_every_family_is_planted(planted: tuple[World, pd.DataFrame, GroundTruth]) -> None:
    _, _, truth = planted
    for family in (ads.CLAIM, ads.UNLABELED, ads.POPUP):
        rows = [r for r in truth.violations if r.family == family]
        assert rows, family
        assert all(r.subject_type == "ad" and 0 < (r.strength or 0) <= 1 for r in rows)
        assert len({r.strength for r in rows}) > 1  # varied strengths
        assert any(r.family == family for r in truth.lookalikes)


def test_prohibited_claims(planted: tuple[World, pd.DataFrame, GroundTruth]) -> None:
    _, frame, truth = planted
    rows = _by_id(frame, [r.subject_id for r in truth.violations if r.family == ads.CLAIM])
    for _, row in rows.iterrows():
        assert naive_hit(row["text"], row["product_category"]), row["text"]
        assert row["paid"] and row["labeled_as_ad"] and _lawful_format(row)
    assert (rows["language"] == "en").any() and (rows["language"] == "zh").any()
    # category rules are exercised
    cat_rule = [
        r
        for _, r in rows.iterrows()
        if r["product_category"] in ("finance", "food", "health_food", "cosmetics")
        and not naive_hit(r["text"], "general")
    ]
    assert cat_rule or len(rows) < 10


LAWFUL_PHRASES = [
    r"\d{4}年浙江省线上销量第一\(数据来源:[^,)]+,统计期间\d{4}年1月—12月\)",  # after NFKC
    r"no\.1 in online sales of [a-z ]+ in zhejiang, jan-dec \d{4} \(source: [^)]+\)",
    r"最佳(使用时间|食用时间|冲泡水温)",
    r"best time to use",
    r"国家级非物质文化遗产“[^”]+”",
    r"本店最新款",
    r"our newest",
    r"非保本浮动收益型",
    r"理财有风险",
]


def test_claim_lookalikes_are_lawful(planted: tuple[World, pd.DataFrame, GroundTruth]) -> None:
    world, frame, truth = planted
    looks = [r for r in truth.lookalikes if r.family == ads.CLAIM]
    kinds = {r.note for r in looks}
    assert {
        "named",
        "qualified_fact",
        "usage_tip",
        "official_title",
        "own_range",
        "drug_indication",
        "risk_disclosure",
    } <= kinds
    names = world.frame("entities").set_index("entity_id")["name"]
    rows = _by_id(frame, [r.subject_id for r in looks])
    for (_, row), look in zip(rows.iterrows(), looks, strict=True):
        text = unicodedata.normalize("NFKC", row["text"]).lower()
        if look.note == "named":
            # the term sits inside the advertiser's registered name
            name = names[row["advertiser_id"]]
            brand = row["text"].split("：")[0][:4]
            assert any(brand[:k] in name for k in (4, 3, 2) if k <= len(brand))
            text = text.replace(next(brand[:k] for k in (4, 3) if brand[:k] in name).lower(), "")
        for pattern in LAWFUL_PHRASES:
            text = re.sub(pattern, "", text)
        if look.note == "drug_indication":
            assert row["product_category"] == "drug"
        assert not naive_hit(text, str(row["product_category"])), row["text"]
        assert row["paid"] and row["labeled_as_ad"] and _lawful_format(row)


def test_unlabeled(planted: tuple[World, pd.DataFrame, GroundTruth]) -> None:
    _, frame, truth = planted
    rows = _by_id(frame, [r.subject_id for r in truth.violations if r.family == ads.UNLABELED])
    assert (rows["paid"] & ~rows["labeled_as_ad"]).all()
    assert rows["format"].isin(["feed", "article", "live", "video"]).all()
    assert not any(
        naive_hit(t, c) for t, c in zip(rows["text"], rows["product_category"], strict=True)
    )
    for r in (r for r in truth.lookalikes if r.family == ads.UNLABELED):
        row = _by_id(frame, [r.subject_id]).iloc[0]
        if r.note == "organic":
            assert not row["paid"] and not row["labeled_as_ad"]
            assert pd.isna(row["advertiser_id"])
            assert "链接" not in row["text"] and "link" not in row["text"]
        else:
            assert row["paid"] and row["labeled_as_ad"]


def test_unclosable_popups(planted: tuple[World, pd.DataFrame, GroundTruth]) -> None:
    _, frame, truth = planted
    rows = _by_id(frame, [r.subject_id for r in truth.violations if r.family == ads.POPUP])
    assert rows["format"].isin(["popup", "splash"]).all()
    bad = (rows["close_clicks"] != 1) | (rows["close_delay_s"] > 0)
    assert bad.all()
    assert (rows["close_clicks"] == 0).any() or (rows["close_clicks"] >= 2).any()
    for r in (r for r in truth.lookalikes if r.family == ads.POPUP):
        row = _by_id(frame, [r.subject_id]).iloc[0]
        if r.note == "no_close":
            assert row["format"] in ("feed", "video")
            assert pd.isna(row["close_clicks"]) and pd.isna(row["close_delay_s"])
        else:
            assert row["format"] == ("popup" if r.note == "popup_ok" else "splash")
            assert row["close_clicks"] == 1 and row["close_delay_s"] == 0


def _assert_background_lawful(frame: pd.DataFrame, truth: GroundTruth) -> None:
    flagged = {r.subject_id for r in truth.violations}
    claim_looks = {r.subject_id for r in truth.lookalikes if r.family == ads.CLAIM}
    rest = frame[~frame["ad_id"].isin(flagged)]
    assert (rest["paid"] == rest["labeled_as_ad"]).all()
    assert all(_lawful_format(row) for _, row in rest.iterrows())
    texts = rest[~rest["ad_id"].isin(claim_looks)]
    assert not any(
        naive_hit(t, c) for t, c in zip(texts["text"], texts["product_category"], strict=True)
    )


def test_everything_else_is_lawful(planted: tuple[World, pd.DataFrame, GroundTruth]) -> None:
    _, frame, truth = planted
    _assert_background_lawful(frame, truth)
    ids = [r.subject_id for r in truth.violations]
    assert len(ids) == len(set(ids))  # one family per planted ad


def test_clean_market(clean: tuple[World, pd.DataFrame, GroundTruth]) -> None:
    _, frame, truth = clean
    assert truth.violations == []
    assert truth.lookalikes
    _assert_background_lawful(frame, truth)


def test_keys_and_references(planted: tuple[World, pd.DataFrame, GroundTruth]) -> None:
    world, frame, _ = planted
    assert frame["ad_id"].is_unique
    assert set(frame["platform_id"]) <= set(world.frame("platforms")["platform_id"])
    assert set(frame["advertiser_id"].dropna()) <= set(world.frame("entities")["entity_id"])
    assert set(frame["merchant_id"].dropna()) <= set(world.frame("merchants")["merchant_id"])
    assert world.frame("entities")["entity_id"].is_unique
    ts = frame["ts"]
    start = pd.Timestamp(world.start).tz_localize("Asia/Shanghai")
    assert (ts >= start).all() and (ts < start + pd.Timedelta(days=world.days)).all()


def test_deterministic(tmp_path: Path, planted: tuple[World, pd.DataFrame, GroundTruth]) -> None:
    _, frame, truth = planted
    _, again, truth2 = run(tmp_path, 11, True)
    pd.testing.assert_frame_equal(frame, again)
    assert truth.violations == truth2.violations and truth.lookalikes == truth2.lookalikes
    _, other, _ = run(tmp_path / "other", 13, True)
    assert not frame["text"].equals(other["text"])


def test_tables_validate(tmp_path: Path) -> None:
    from fairwatch.contract import validate_batch

    world = build_world(5, SCALE)
    out = TableWriter(tmp_path)
    ads.plant(world, out, GroundTruth())
    for table in ("entities", "platforms", "merchants"):
        out.write(table, world.frame(table))
    batch = {t: pq.read_table(tmp_path / t) for t in ("ads", "entities", "platforms", "merchants")}
    assert validate_batch(batch) == []
