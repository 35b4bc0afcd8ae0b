"""Every rule of the standard, on a small clean batch with one thing broken at a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fairwatch.contract import check_batch, validate_batch
from fairwatch.errors import DataError, InvalidBatch

from .conftest import canonical, clean_rows, ts, valid_uscc

Build = Callable[..., dict[str, pa.Table]]
RESIDENT_ID = "11010519491231002X"  # the GB 11643 specimen number: valid checksum


def _summary(problems: list) -> list[tuple[str, str | None, str, tuple[int, ...]]]:
    return [(p.table, p.column, p.rule, p.rows) for p in problems]


def test_a_clean_batch_has_no_problems(clean_batch: dict[str, pa.Table]) -> None:
    assert len(clean_batch) == 25
    assert validate_batch(clean_batch) == []
    check_batch(clean_batch)  # does not raise


CASES: list[tuple[str, int, dict[str, Any], str, str, tuple[int, ...]]] = [
    # table, row index, change, column, rule, expected 1-based rows
    ("orders", 0, {"user_id": None}, "user_id", "required", (1,)),
    ("orders", 0, {"status": "lost"}, "status", "enum", (1,)),
    ("platforms", 0, {"categories": ["online_sales", "shopping"]}, "categories", "enum", (1,)),
    ("ads", 0, {"language": "fr"}, "language", "enum", (1,)),
    ("reviews", 0, {"rating": 6}, "rating", "range", (1,)),
    ("orders", 0, {"quantity": 0}, "quantity", "range", (1,)),
    ("ownership", 0, {"share_pct": 100.5}, "share_pct", "range", (1,)),
    ("market_shares", 0, {"share_pct": -1.0}, "share_pct", "range", (1,)),
    ("price_quotes", 1, {"quoted_price": -0.01}, "quoted_price", "range", (2,)),
    ("merchants", 1, {"region_code": "3301"}, "region_code", "region_code", (2,)),
    ("price_quotes", 1, {"user_region_code": "33010a"}, "user_region_code", "region_code", (2,)),
    ("platform_metrics", 1, {"period": "2024-13"}, "period", "period", (2,)),
    ("market_shares", 0, {"period": "2024-03"}, "period", "period", (1,)),
    ("entities", 1, {"uscc": valid_uscc()[:-1] + "0"}, "uscc", "uscc", (2,)),
    ("entities", 0, {"uscc": "91330100MA27XY401"}, "uscc", "uscc", (1,)),
    ("price_quotes", 1, {"user_id": "13812345678"}, "user_id", "pseudonym_phone", (2,)),
    ("accounts", 1, {"phone_hash": "15900001111"}, "phone_hash", "pseudonym_phone", (2,)),
    ("accounts", 1, {"device_hash": RESIDENT_ID}, "device_hash", "pseudonym_resident_id", (2,)),
    ("deliveries", 0, {"rider_id": RESIDENT_ID.lower()}, "rider_id", "pseudonym_resident_id", (1,)),
    ("complaints", 0, {"complainant_id": RESIDENT_ID}, "complainant_id",
     "pseudonym_resident_id", (1,)),
    ("search_results", 1, {"position": 1}, "query_id,position", "unique_key", (1, 2)),
    ("accounts", 1, {"user_id": "u_8f3a"}, "platform_id,user_id", "unique_key", (1, 2)),
    ("products", 1, {"merchant_id": "m9"}, "merchant_id", "reference", (2,)),
    ("price_quotes", 1, {"sku_id": "s9"}, "sku_id", "reference", (2,)),
    ("reviews", 0, {"order_id": "o9"}, "order_id", "reference", (1,)),
    ("platforms", 0, {"operator_id": "e9"}, "operator_id", "reference", (1,)),
    ("ownership", 0, {"owned_id": "e9"}, "owned_id", "reference", (1,)),
    ("deals", 0, {"target_id": "e9"}, "target_id", "reference", (1,)),
    ("ownership", 0, {"valid_to": dt.date(2019, 12, 31)}, "valid_to", "date_order", (1,)),
    ("merchants", 0, {"closed_on": dt.date(2022, 1, 1)}, "closed_on", "date_order", (1,)),
    ("worker_sessions", 0, {"online_to": ts(6, 0)}, "online_to", "date_order", (1,)),
    ("deliveries", 0, {"picked_up_at": ts(6, 3)}, "delivered_at", "date_order", (1,)),
    ("deliveries", 0, {"picked_up_at": None, "delivered_at": ts(6, 0)}, "delivered_at",
     "date_order", (1,)),
    ("algorithm_inventory", 0, {"in_use_to": dt.date(2022, 1, 1)}, "in_use_to", "date_order",
     (1,)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("table", "row", "change", "column", "rule", "rows"),
    CASES,
    ids=[f"{c[4]}-{c[0]}.{c[3]}" for c in CASES],
)
def test_each_rule_fires_on_the_right_cell(
    make_batch: Build,
    table: str,
    row: int,
    change: dict[str, Any],
    column: str,
    rule: str,
    rows: tuple[int, ...],
) -> None:
    problems = validate_batch(make_batch({table: {row: change}}))
    assert _summary(problems) == [(table, column, rule, rows)]
    assert problems[0].count == len(rows)


def test_missing_required_column(clean_batch: dict[str, pa.Table]) -> None:
    batch = dict(clean_batch)
    batch["orders"] = batch["orders"].drop_columns(["paid_cny", "commission_cny"])
    assert _summary(validate_batch(batch)) == [("orders", "paid_cny", "missing_column", ())]


def test_a_column_of_the_wrong_type_is_a_type_problem(clean_batch: dict[str, pa.Table]) -> None:
    batch = dict(clean_batch)
    orders = batch["orders"]
    i = orders.schema.get_field_index("quantity")
    batch["orders"] = orders.set_column(i, "quantity", pa.array(["2"]))
    problems = validate_batch(batch)
    assert _summary(problems) == [("orders", "quantity", "type", ())]
    assert "int64" in problems[0].message


def test_rows_counts_and_samples_are_bounded() -> None:
    rows = [
        {"merchant_id": "m1", "platform_id": "p1", "ts": ts(1), "event": e}
        for e in ["open", "x1", "x2", "open", "x1", "x3", "x4", "x5", "x6", "x7"]
    ]
    (problem,) = validate_batch({"merchant_events": canonical("merchant_events", rows)})
    assert problem.rule == "enum"
    assert problem.rows == (2, 3, 5, 6, 7)
    assert problem.count == 8
    assert problem.samples == ("x1", "x2", "x3")
    assert "(+3 more)" in str(problem)


def test_personal_samples_are_masked(make_batch: Build) -> None:
    (problem,) = validate_batch(make_batch({"orders": {0: {"user_id": "13812345678"}}}))
    assert problem.rule == "pseudonym_phone"
    assert problem.samples == ("138******78",)
    assert "13812345678" not in str(problem)


def test_opaque_tokens_of_phone_or_id_length_are_fine(make_batch: Build) -> None:
    changes = {
        "accounts": {0: {"phone_hash": "23812345678", "device_hash": "110105194912310021"}},
        "orders": {0: {"user_id": "1381234567a"}},
    }
    assert validate_batch(make_batch(changes)) == []


def test_references_are_checked_only_where_the_target_is_present(make_batch: Build) -> None:
    batch = make_batch({"products": {1: {"merchant_id": "m9"}}}, only=["products"])
    assert validate_batch(batch) == []
    batch = make_batch({"products": {1: {"merchant_id": "m9"}}}, only=["products", "merchants"])
    assert _summary(validate_batch(batch)) == [("products", "merchant_id", "reference", (2,))]


def _store(tmp_path: Path, table: str, rows: list[dict], part: str = "part-0") -> Path:
    folder = tmp_path / table
    folder.mkdir(exist_ok=True)
    path = folder / f"{part}.parquet"
    pq.write_table(canonical(table, rows), path)
    return path


def test_references_can_be_satisfied_by_existing_files(tmp_path: Path, make_batch: Build) -> None:
    rows = clean_rows()
    existing = {
        "merchants": [
            _store(tmp_path, "merchants", rows["merchants"][:1], "part-0"),
            _store(tmp_path, "merchants", rows["merchants"][1:], "part-1"),
        ],
        "platforms": [_store(tmp_path, "platforms", rows["platforms"])],
    }
    batch = make_batch(only=["products"])
    assert validate_batch(batch, existing) == []


def test_references_missing_from_batch_and_existing_files(tmp_path: Path) -> None:
    rows = clean_rows()
    existing = {"merchants": [_store(tmp_path, "merchants", rows["merchants"][:1])]}
    batch = {"products": canonical("products", rows["products"])}
    problems = validate_batch(batch, existing)
    assert _summary(problems) == [("products", "merchant_id", "reference", (2,))]
    assert problems[0].samples == ("m2",)
    # the merchant arrives in the same batch: satisfied
    batch["merchants"] = canonical("merchants", rows["merchants"][1:])
    assert validate_batch(batch, existing) == []


def test_keys_are_unique_against_existing_files(tmp_path: Path) -> None:
    rows = clean_rows()
    existing = {"orders": [_store(tmp_path, "orders", rows["orders"])]}
    new = dict(rows["orders"][0], order_id="o2")
    batch = {"orders": canonical("orders", [new, rows["orders"][0]])}
    problems = validate_batch(batch, existing)
    assert _summary(problems) == [("orders", "order_id", "unique_key", (2,))]
    assert "already exists in the lake" in problems[0].message
    assert problems[0].samples == ("o1",)
    assert validate_batch({"orders": canonical("orders", [new])}, existing) == []


def test_composite_keys_against_existing_files(tmp_path: Path) -> None:
    rows = clean_rows()
    existing = {"ownership": [_store(tmp_path, "ownership", rows["ownership"])]}
    same = dict(rows["ownership"][0])
    later = dict(same, valid_from=dt.date(2021, 1, 1), valid_to=None)
    batch = {"ownership": canonical("ownership", [later, same])}
    problems = validate_batch(batch, existing)
    assert _summary(problems) == [("ownership", "owner_id,owned_id,valid_from", "unique_key", (2,))]
    assert problems[0].samples == ("owner_id=e1, owned_id=e2, valid_from=2020-01-01",)


def test_tables_without_a_key_may_repeat_rows(make_batch: Build) -> None:
    batch = make_batch(only=["merchant_events", "worker_sessions", "algorithm_inventory"])
    batch = {t: pa.concat_tables([d, d]) for t, d in batch.items()}
    assert validate_batch(batch) == []


def test_extra_tables_and_columns_are_ignored(clean_batch: dict[str, pa.Table]) -> None:
    batch = dict(clean_batch)
    batch["ground_truth"] = pa.table({"family": ["x"], "subject_id": [None]})
    batch["orders"] = batch["orders"].append_column("note", pa.array([None], pa.null()))
    assert validate_batch(batch, {"ground_truth": [Path("/nonexistent.parquet")]}) == []


def test_problems_are_sorted_and_deterministic(make_batch: Build) -> None:
    changes = {
        "reviews": {0: {"rating": 0, "user_id": "13812345678"}},
        "orders": {0: {"status": "lost", "quantity": 0}},
        "entities": {1: {"region_code": "33"}},
    }
    first = validate_batch(make_batch(changes))
    assert first == validate_batch(make_batch(changes))
    keys = [(p.table, p.column or "", p.rule) for p in first]
    assert keys == sorted(keys)
    assert _summary(first) == [
        ("entities", "region_code", "region_code", (2,)),
        ("orders", "quantity", "range", (1,)),
        ("orders", "status", "enum", (1,)),
        ("reviews", "rating", "range", (1,)),
        ("reviews", "user_id", "pseudonym_phone", (1,)),
    ]


def test_check_batch_raises_with_every_problem(make_batch: Build) -> None:
    batch = make_batch({"orders": {0: {"status": "lost"}}, "reviews": {0: {"rating": 9}}})
    with pytest.raises(InvalidBatch) as err:
        check_batch(batch, source="upload-42")
    assert err.value.source == "upload-42"
    assert [p.rule for p in err.value.problems] == ["enum", "range"]
    assert "upload-42 rejected" in str(err.value) and "nothing was stored" in str(err.value)


def test_stored_files_without_the_key_column_are_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    pq.write_table(pa.table({"id": ["o1"]}), path)
    batch = {"orders": canonical("orders", clean_rows()["orders"])}
    with pytest.raises(DataError, match="cannot check orders against the lake"):
        validate_batch(batch, {"orders": [path]})
