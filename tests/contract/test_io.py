"""Finding a lake's tables and reading CSV, JSONL and Parquet to identical tables."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fairwatch.contract import STANDARD, coerce, discover, read_table
from fairwatch.errors import InvalidBatch

from .conftest import canonical, valid_uscc

CST = dt.timezone(dt.timedelta(hours=8))


def test_discover_follows_the_layout(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1]}), tmp_path / "orders.parquet")
    (tmp_path / "price_quotes").mkdir()
    for name in ("part-1.parquet", "part-0.parquet", "_tmp.parquet", ".part-2.parquet"):
        pq.write_table(pa.table({"a": [1]}), tmp_path / "price_quotes" / name)
    (tmp_path / "price_quotes" / "_SUCCESS").write_text("")
    (tmp_path / "entities.csv").write_text("entity_id\n")
    (tmp_path / "ads.jsonl").write_text("")
    (tmp_path / "ground_truth.parquet").write_bytes((tmp_path / "orders.parquet").read_bytes())
    (tmp_path / "_manifest.json").write_text("{}")
    (tmp_path / ".hidden.csv").write_text("x\n")
    (tmp_path / "README.md").write_text("hello")
    (tmp_path / "empty").mkdir()
    found = discover(tmp_path)
    assert found == {
        "ads": [tmp_path / "ads.jsonl"],
        "entities": [tmp_path / "entities.csv"],
        "ground_truth": [tmp_path / "ground_truth.parquet"],
        "orders": [tmp_path / "orders.parquet"],
        "price_quotes": [
            tmp_path / "price_quotes" / "part-0.parquet",
            tmp_path / "price_quotes" / "part-1.parquet",
        ],
    }


def test_discover_rejects_a_table_stored_two_ways(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text("order_id\n")
    (tmp_path / "orders.jsonl").write_text("")
    (tmp_path / "ads.csv").write_text("ad_id\n")
    with pytest.raises(InvalidBatch) as err:
        discover(tmp_path)
    assert [(p.table, p.rule) for p in err.value.problems] == [("orders", "layout")]


def test_read_table_concatenates_parquet_parts(tmp_path: Path) -> None:
    pq.write_table(pa.table({"sku_id": ["a"], "x": [1]}), tmp_path / "p0.parquet")
    pq.write_table(pa.table({"sku_id": ["b"]}), tmp_path / "p1.parquet")
    data = read_table([tmp_path / "p0.parquet", tmp_path / "p1.parquet"], "products")
    assert data.column("sku_id").to_pylist() == ["a", "b"]
    assert data.column("x").to_pylist() == [1, None]


def test_read_table_reports_unreadable_input(tmp_path: Path) -> None:
    bad = tmp_path / "orders.jsonl"
    bad.write_text('{"order_id": "o1"}\n{"order_id": \n')
    with pytest.raises(InvalidBatch) as err:
        read_table([bad], "orders")
    assert err.value.problems[0].rule == "read"
    assert "orders.jsonl" in err.value.problems[0].message


def test_read_table_rejects_mixed_formats(tmp_path: Path) -> None:
    with pytest.raises(InvalidBatch, match="mixed"):
        read_table([tmp_path / "a.csv", tmp_path / "b.parquet"], "orders")


# --------------------------------------------- the same data in the three formats

ROWS = [
    {"quote_id": "q1", "ts": "2024-03-01T08:30:00+08:00", "platform_id": "p1", "sku_id": "s1",
     "user_id": "u1", "user_tenure_days": 10, "user_is_member": True, "user_device": "ios",
     "user_region_code": "330106", "quoted_price": 9.9, "list_price": 12.5,
     "member_price": False, "campaign": "spring"},
    {"quote_id": "q2", "ts": "2024-03-01T00:00:00Z", "platform_id": "p1", "sku_id": "s2",
     "user_id": "u2", "user_tenure_days": None, "user_is_member": False, "user_device": None,
     "user_region_code": None, "quoted_price": 100.0, "list_price": None,
     "member_price": None, "campaign": None},
]  # fmt: skip
ENTITY_ROWS = [
    {"entity_id": "e1", "name": "A, Ltd \"quoted\"", "uscc": valid_uscc(), "kind": "company",
     "established_on": "2010-01-05", "licenses": ["payment", "insurance"]},
    {"entity_id": "e2", "name": "B\nline two", "uscc": None, "kind": "other",
     "established_on": None, "licenses": []},
    {"entity_id": "e3", "name": "C", "uscc": None, "kind": "fund",
     "established_on": None, "licenses": None},
]  # fmt: skip


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = json.dumps(value)
    text = str(value)
    if any(ch in text for ch in ',"\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def _write_csv(path: Path, rows: list[dict]) -> None:
    names = list(rows[0])
    lines = [",".join(names)] + [",".join(_csv_cell(r[n]) for n in names) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _parquet_quotes(path: Path) -> None:
    data = {k: [r[k] for r in ROWS] for k in ROWS[0]}
    in_cst = [
        dt.datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(CST) for v in data["ts"]
    ]
    table = pa.table(
        {
            "quote_id": pa.array(data["quote_id"]),
            "ts": pa.array(in_cst, pa.timestamp("ms", tz="Asia/Shanghai")),
            "platform_id": pa.array(data["platform_id"], pa.large_string()),
            "sku_id": pa.array(data["sku_id"]).dictionary_encode(),
            "user_id": pa.array(data["user_id"]),
            "user_tenure_days": pa.array(data["user_tenure_days"], pa.int32()),
            "user_is_member": pa.array(data["user_is_member"]),
            "user_device": pa.array(data["user_device"], pa.string()),
            "user_region_code": pa.array(data["user_region_code"], pa.string()),
            "quoted_price": pa.array(
                [Decimal(str(v)) for v in data["quoted_price"]], pa.decimal128(18, 2)
            ),
            "list_price": pa.array(data["list_price"], pa.float32()),
            "member_price": pa.array(data["member_price"], pa.bool_()),
            "campaign": pa.array(data["campaign"], pa.string()),
        }
    )
    pq.write_table(table, path)


def _parquet_entities(path: Path) -> None:
    rows = [dict(r) for r in ENTITY_ROWS]
    for r in rows:
        if r["established_on"]:
            r["established_on"] = dt.date.fromisoformat(r["established_on"])
    pq.write_table(canonical("entities", rows), path)


@pytest.mark.parametrize("table", ["price_quotes", "entities"])
def test_csv_jsonl_and_parquet_coerce_to_identical_tables(tmp_path: Path, table: str) -> None:
    rows = ROWS if table == "price_quotes" else ENTITY_ROWS
    _write_csv(tmp_path / f"{table}.csv", rows)
    _write_jsonl(tmp_path / f"{table}.jsonl", rows)
    if table == "price_quotes":
        _parquet_quotes(tmp_path / f"{table}.parquet")
    else:
        _parquet_entities(tmp_path / f"{table}.parquet")
    results = {}
    for fmt in ("csv", "jsonl", "parquet"):
        data, problems = coerce(table, read_table([tmp_path / f"{table}.{fmt}"], table))
        assert problems == [], (fmt, problems)
        results[fmt] = data
    assert results["csv"].equals(results["jsonl"])
    assert results["csv"].equals(results["parquet"])
    declared = STANDARD.table(table).arrow_schema()
    assert results["csv"].schema.names[: len(declared)] == declared.names
    for field in declared:
        assert results["csv"].schema.field(field.name).type == field.type


def test_coerced_quotes_have_utc_timestamps_and_extra_columns_last(tmp_path: Path) -> None:
    _write_csv(tmp_path / "q.csv", ROWS)
    data, _ = coerce("price_quotes", read_table([tmp_path / "q.csv"], "price_quotes"))
    assert data.column("ts").to_pylist() == [
        dt.datetime(2024, 3, 1, 0, 30, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 1, 0, 0, tzinfo=dt.UTC),
    ]
    assert data.schema.names[-1] == "campaign"
    assert data.column("campaign").to_pylist() == ["spring", None]
    assert data.column("claimed_original_price").null_count == 2
    assert data.column("quoted_price").to_pylist() == [9.9, 100.0]


def test_jsonl_keeps_raw_values_as_text(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"a": 5, "b": "x", "c": ["p", "q"], "d": true, "e": null}\n'
        '{"a": "7", "b": 3.5, "c": [1], "f/g": {"k": 1}}\n'
    )
    data = read_table([path], "things")
    assert data.schema.names == ["a", "b", "c", "d", "e", "f/g"]
    assert all(f.type == pa.string() for f in data.schema)
    assert data.column("a").to_pylist() == ["5", "7"]
    assert data.column("c").to_pylist() == ['["p","q"]', "[1]"]
    assert data.column("d").to_pylist() == ["true", None]
    assert data.column("f/g").to_pylist() == [None, '{"k":1}']
