"""Converting tables as read to the canonical types, with precise type problems."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from fairwatch.contract import STANDARD, coerce, read_table, validate_batch
from fairwatch.errors import Problem

UTC = dt.UTC


def _text(**columns: list[str | None]) -> pa.Table:
    return pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})


def _only(problems: list[Problem], column: str) -> Problem:
    found = [p for p in problems if p.column == column]
    assert len(found) == 1, problems
    return found[0]


def test_offsets_are_converted_to_utc() -> None:
    data, problems = coerce(
        "worker_sessions",
        _text(
            worker_id=["w1", "w2", "w3"],
            platform_id=["p1"] * 3,
            online_from=[
                "2024-03-01T08:00:00+08:00",
                "2024-03-01 08:00:00.5-0130",
                "2024-03-01T00:00Z",
            ],
            online_to=["2024-03-01T10:00:00.123456789+08", "2024-03-02T00:00:00z", None],
        ),
    )
    assert problems == []
    assert data.column("online_from").type == pa.timestamp("us", tz="UTC")
    assert data.column("online_from").to_pylist() == [
        dt.datetime(2024, 3, 1, 0, 0, tzinfo=UTC),
        dt.datetime(2024, 3, 1, 9, 30, 0, 500000, tzinfo=UTC),
        dt.datetime(2024, 3, 1, 0, 0, tzinfo=UTC),
    ]
    assert data.column("online_to").to_pylist() == [
        dt.datetime(2024, 3, 1, 2, 0, 0, 123456, tzinfo=UTC),
        dt.datetime(2024, 3, 2, 0, 0, tzinfo=UTC),
        None,
    ]


def test_naive_timestamp_text_is_a_type_problem() -> None:
    data, problems = coerce(
        "merchant_events",
        _text(
            merchant_id=["m1"] * 4,
            platform_id=["p1"] * 4,
            ts=["2024-03-01T08:00:00+08:00", "2024-03-01T08:00:00", "2024-03-01", "yesterday"],
            event=["open"] * 4,
        ),
    )
    assert [(p.column, p.rule, p.rows) for p in problems] == [
        ("ts", "type", (4,)),
        ("ts", "type", (2, 3)),
    ]
    naive = problems[1]
    assert "offset" in naive.message and naive.samples == ("2024-03-01T08:00:00", "2024-03-01")
    assert data.column("ts").to_pylist()[1:] == [None, None, None]


def test_naive_parquet_timestamp_is_a_type_problem() -> None:
    raw = pa.table(
        {
            "merchant_id": ["m1", "m2"],
            "platform_id": ["p1", "p1"],
            "ts": pa.array([dt.datetime(2024, 3, 1), None], pa.timestamp("us")),
            "event": ["open", "close"],
        }
    )
    _, problems = coerce("merchant_events", raw)
    assert [(p.column, p.rule, p.rows, p.count) for p in problems] == [("ts", "type", (1,), 1)]
    assert "time zone" in problems[0].message


def test_parquet_timestamp_in_another_zone_is_converted_to_utc() -> None:
    local = dt.datetime(2024, 3, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    raw = pa.table(
        {
            "merchant_id": ["m1"],
            "platform_id": ["p1"],
            "ts": pa.array([local], pa.timestamp("ns", tz="Asia/Shanghai")),
            "event": ["open"],
        }
    )
    data, problems = coerce("merchant_events", raw)
    assert problems == []
    assert data.column("ts").type == pa.timestamp("us", tz="UTC")
    assert data.column("ts")[0].as_py() == dt.datetime(2024, 3, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "expected", "bad_rows"),
    [
        (["true", "FALSE", "1", "0", " True ", None], [True, False, True, False, True, None], ()),
        (["yes", "true", "2"], [None, True, None], (1, 3)),
    ],
)
def test_booleans_from_text(values: list, expected: list, bad_rows: tuple) -> None:
    n = len(values)
    data, problems = coerce(
        "products",
        _text(sku_id=[f"s{i}" for i in range(n)], platform_id=["p"] * n, merchant_id=["m"] * n,
              category=["c"] * n, self_operated=values),
    )  # fmt: skip
    assert data.column("self_operated").to_pylist() == expected
    assert tuple(r for p in problems for r in p.rows) == bad_rows
    assert all(p.rule == "type" and p.column == "self_operated" for p in problems)


def test_numbers_dates_and_lists_from_text() -> None:
    data, problems = coerce(
        "orders",
        _text(
            order_id=["o1", "o2", "o3", "o4"],
            ts=["2024-03-01T00:00:00Z"] * 4,
            platform_id=["p"] * 4,
            merchant_id=["m"] * 4,
            user_id=["u"] * 4,
            quantity=["2", "3.0", "2.5", "+4"],
            unit_price=["9.90", "1e2", "nan", "  7 "],
            paid_cny=["1", "2", "3", "x"],
            status=["paid"] * 4,
        ),
    )
    assert data.column("quantity").to_pylist() == [2, 3, None, 4]
    assert data.column("unit_price").to_pylist() == [9.9, 100.0, None, 7.0]
    assert _only(problems, "quantity").rows == (3,)
    assert _only(problems, "unit_price").samples == ("nan",)
    assert _only(problems, "paid_cny").rows == (4,)
    dates, problems = coerce(
        "entities",
        _text(
            entity_id=["e1", "e2", "e3"],
            name=["a", "b", "c"],
            kind=["company"] * 3,
            established_on=["2024-02-29", "2023-02-29", "01/03/2024"],
            licenses=['["payment"]', "payment", "[]"],
        ),
    )
    assert dates.column("established_on").to_pylist() == [dt.date(2024, 2, 29), None, None]
    assert _only(problems, "established_on").rows == (2, 3)
    assert dates.column("licenses").to_pylist() == [["payment"], None, []]
    assert _only(problems, "licenses").rows == (2,)


def test_parquet_numbers_must_fit_the_type() -> None:
    raw = pa.table(
        {
            "review_id": ["r1", "r2"],
            "ts": pa.array([dt.datetime(2024, 3, 1, tzinfo=UTC)] * 2, pa.timestamp("s", tz="UTC")),
            "platform_id": ["p", "p"],
            "user_id": ["u", "u"],
            "merchant_id": ["m", "m"],
            "rating": pa.array([4.0, 4.5]),
            "text": pa.array([1, 2]),
        }
    )
    data, problems = coerce("reviews", raw)
    assert data.column("rating").to_pylist() == [4, None]
    assert [(p.column, p.rows) for p in problems] == [("rating", (2,))]
    assert data.column("text").to_pylist() == ["1", "2"]


def test_absent_columns_and_extra_columns() -> None:
    raw = _text(order_id=["o1"], note=["hello"], ts=["2024-03-01T00:00:00Z"])
    data, problems = coerce("orders", raw)
    assert problems == []
    schema = STANDARD.table("orders")
    optional = [c.name for c in schema.columns if not c.required]
    assert data.schema.names == ["order_id", "ts", "sku_id", "commission_cny", "note"]
    for name in optional:
        assert data.column(name).null_count == 1
    missing = [p for p in validate_batch({"orders": data}) if p.rule == "missing_column"]
    assert [p.column for p in missing] == sorted(
        ["platform_id", "merchant_id", "user_id", "quantity", "unit_price", "paid_cny", "status"]
    )


def test_pseudonym_samples_are_masked_in_type_problems() -> None:
    raw = pa.table({"user_id": pa.array([13812345678.5]), "platform_id": ["p"],
                    "registered_at": ["2024-03-01T00:00:00Z"]})  # fmt: skip
    _, problems = coerce("accounts", raw)
    assert problems[0].column == "user_id"
    assert "13812345678" not in str(problems[0])


def test_unknown_table_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        coerce("invoices", pa.table({"a": [1]}))


def _big_quotes_csv(path: Path, n: int) -> None:
    rng = np.random.default_rng(1)
    base = np.datetime64("2024-03-01T00:00:00")
    stamps = (base + rng.integers(0, 86400 * 30, n).astype("timedelta64[s]")).astype(str)
    table = pa.table(
        {
            "quote_id": pa.array(np.char.add("q", np.arange(n).astype(str))),
            "ts": pa.array(np.char.add(stamps, "+08:00")),
            "platform_id": pa.array(np.full(n, "p1")),
            "sku_id": pa.array(np.char.add("s", rng.integers(0, 5000, n).astype(str))),
            "user_id": pa.array(np.char.add("u", rng.integers(0, 10**6, n).astype(str))),
            "user_tenure_days": pa.array(rng.integers(0, 3000, n).astype(str)),
            "user_is_member": pa.array(np.where(rng.random(n) < 0.3, "true", "false")),
            "quoted_price": pa.array(np.round(rng.random(n) * 100, 2).astype(str)),
        }
    )
    pcsv.write_csv(table, path)


@pytest.mark.slow
def test_a_million_row_csv_coerces_in_seconds(tmp_path: Path) -> None:
    path = tmp_path / "price_quotes.csv"
    _big_quotes_csv(path, 1_000_000)
    start = time.perf_counter()
    data, problems = coerce("price_quotes", read_table([path], "price_quotes"))
    elapsed = time.perf_counter() - start
    assert problems == []
    assert data.num_rows == 1_000_000
    assert elapsed < 30, f"read + coerce took {elapsed:.1f}s"
