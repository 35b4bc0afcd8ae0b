"""Shared builders: canonical tables from rows, and a small clean batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pytest

from fairwatch.contract import STANDARD
from fairwatch.contract.identifiers import uscc_check_char

UTC = dt.UTC


def canonical(table: str, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """A table with the canonical schema of ``table`` (missing columns are null)."""
    return pa.Table.from_pylist(
        [dict(r) for r in rows], schema=STANDARD.table(table).arrow_schema()
    )


def valid_uscc(first17: str = "91330100MA27XY401") -> str:
    return first17 + uscc_check_char(first17)


def ts(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2024, 3, day, hour, tzinfo=UTC)


def clean_rows() -> dict[str, list[dict[str, Any]]]:
    """A small lake that breaks no rule, covering every kind of column."""
    d = dt.date
    return {
        "entities": [
            {
                "entity_id": "e1",
                "name": "Group A",
                "uscc": valid_uscc(),
                "kind": "company",
                "region_code": "330100",
                "industry_code": "I64",
                "established_on": d(2010, 1, 5),
                "licenses": ["payment", "online_lending"],
            },
            {
                "entity_id": "e2",
                "name": "Shop B",
                "uscc": valid_uscc("92330106MA2B7Y0Q1"),
                "kind": "individual_business",
                "region_code": "330106",
                "licenses": [],
            },
        ],
        "financials": [
            {
                "entity_id": "e1",
                "fiscal_year": 2023,
                "global_turnover_cny": 1.5e9,
                "china_turnover_cny": 1.2e9,
                "market_value_cny": 9e9,
            }
        ],
        "ownership": [
            {
                "owner_id": "e1",
                "owned_id": "e2",
                "share_pct": 51.0,
                "voting_pct": 51.0,
                "control": "equity",
                "valid_from": d(2020, 1, 1),
                "valid_to": d(2020, 1, 1),
            }
        ],
        "platforms": [
            {
                "platform_id": "p1",
                "name": "Mall",
                "operator_id": "e1",
                "categories": ["online_sales", "life_services"],
                "launched_on": d(2012, 6, 1),
            }
        ],
        "platform_metrics": [
            {"platform_id": "p1", "period": "2024", "active_users": 10_000_000},
            {"platform_id": "p1", "period": "2024-03", "active_users": 3_000_000, "gmv_cny": 5e8},
        ],
        "merchants": [
            {
                "merchant_id": "m1",
                "platform_id": "p1",
                "entity_id": "e2",
                "name": "B store",
                "category": "food",
                "region_code": "330106",
                "opened_on": d(2023, 1, 1),
                "closed_on": d(2024, 1, 1),
                "self_operated": False,
            },
            {
                "merchant_id": "m2",
                "platform_id": "p1",
                "entity_id": "e1",
                "category": "food",
                "opened_on": d(2023, 1, 1),
                "self_operated": True,
            },
        ],
        "products": [
            {
                "sku_id": "s1",
                "platform_id": "p1",
                "merchant_id": "m1",
                "category": "masks",
                "brand_id": "e2",
                "self_operated": False,
            },
            {
                "sku_id": "s2",
                "platform_id": "p1",
                "merchant_id": "m2",
                "category": "masks",
                "self_operated": True,
            },
        ],
        "emergencies": [
            {
                "emergency_id": "x1",
                "declared_on": d(2024, 3, 1),
                "lifted_on": None,
                "region_code": "330000",
                "categories": ["masks"],
                "title": "Outbreak",
            }
        ],
        "price_quotes": [
            {
                "quote_id": "q1",
                "ts": ts(1, 1),
                "platform_id": "p1",
                "sku_id": "s1",
                "user_id": "u_8f3a",
                "user_tenure_days": 10,
                "user_is_member": False,
                "user_device": "ios",
                "user_region_code": "330106",
                "quoted_price": 9.9,
                "list_price": 9.9,
                "claimed_original_price": 19.9,
                "coupon_cny": 0.0,
                "member_price": False,
            },
            {
                "quote_id": "q2",
                "ts": ts(1, 2),
                "platform_id": "p1",
                "sku_id": "s2",
                "user_id": "u_77c1",
                "quoted_price": 12.0,
            },
        ],
        "orders": [
            {
                "order_id": "o1",
                "ts": ts(2),
                "platform_id": "p1",
                "merchant_id": "m1",
                "sku_id": "s1",
                "user_id": "u_8f3a",
                "quantity": 2,
                "unit_price": 9.9,
                "paid_cny": 19.8,
                "commission_cny": 1.0,
                "status": "paid",
            }
        ],
        "merchant_events": [
            {"merchant_id": "m1", "platform_id": "p1", "ts": ts(3), "event": "penalty"},
            {"merchant_id": "m1", "platform_id": "p1", "ts": ts(3), "event": "penalty"},
        ],
        "search_results": [
            {
                "query_id": "sq1",
                "ts": ts(4),
                "platform_id": "p1",
                "query": "masks",
                "position": 1,
                "sku_id": "s2",
                "merchant_id": "m2",
                "sponsored": False,
                "user_id": "u_8f3a",
            },
            {
                "query_id": "sq1",
                "ts": ts(4),
                "platform_id": "p1",
                "query": "masks",
                "position": 2,
                "sku_id": "s1",
                "merchant_id": "m1",
                "sponsored": True,
            },
        ],
        "accounts": [
            {
                "user_id": "u_8f3a",
                "platform_id": "p1",
                "registered_at": ts(1),
                "device_hash": "d9",
                "phone_hash": "ph1",
                "region_code": "330106",
            },
            {"user_id": "u_77c1", "platform_id": "p1", "registered_at": ts(1)},
        ],
        "reviews": [
            {
                "review_id": "r1",
                "ts": ts(5),
                "platform_id": "p1",
                "user_id": "u_8f3a",
                "merchant_id": "m1",
                "sku_id": "s1",
                "rating": 5,
                "text": "好",
                "order_id": "o1",
                "device_hash": "d9",
            }
        ],
        "ads": [
            {
                "ad_id": "a1",
                "ts": ts(5),
                "platform_id": "p1",
                "advertiser_id": "e2",
                "merchant_id": "m1",
                "format": "popup",
                "text": "Buy",
                "language": "zh",
                "labeled_as_ad": True,
                "paid": True,
                "product_category": "food",
                "close_clicks": 0,
                "close_delay_s": 3.0,
            }
        ],
        "fee_schedules": [
            {
                "fee_id": "f1",
                "platform_id": "p1",
                "fee_type": "commission",
                "rate_pct": 5.0,
                "announced_on": d(2024, 3, 1),
                "effective_from": d(2024, 2, 1),
            }
        ],
        "rule_changes": [
            {
                "change_id": "c1",
                "platform_id": "p1",
                "title": "New rules",
                "announced_on": d(2024, 3, 1),
                "effective_on": d(2024, 3, 2),
            }
        ],
        "deliveries": [
            {
                "task_id": "t1",
                "platform_id": "p1",
                "rider_id": "rd_1",
                "region_code": "330106",
                "dispatched_at": ts(6, 1),
                "promised_minutes": 30,
                "distance_m": 1200.0,
                "picked_up_at": ts(6, 1),
                "delivered_at": ts(6, 2),
                "pay_cny": 6.5,
                "deduction_cny": 0.0,
            }
        ],
        "worker_sessions": [
            {
                "worker_id": "rd_1",
                "platform_id": "p1",
                "online_from": ts(6, 0),
                "online_to": ts(6, 8),
                "region_code": "330106",
            }
        ],
        "complaints": [
            {
                "complaint_id": "k1",
                "ts": ts(7),
                "complainant_id": "cp_1",
                "platform_id": "p1",
                "merchant_id": "m1",
                "target_id": "e2",
                "category": "price",
                "claimed_cny": 20.0,
            }
        ],
        "deals": [
            {
                "deal_id": "dl1",
                "announced_on": d(2023, 5, 1),
                "closed_on": d(2023, 4, 1),
                "acquirer_id": "e1",
                "target_id": "e2",
                "stake_before_pct": 0.0,
                "stake_after_pct": 51.0,
                "control_acquired": True,
            }
        ],
        "market_shares": [
            {
                "market_id": "mk1",
                "market_name": "Food delivery",
                "period": "2024",
                "entity_id": "e1",
                "share_pct": 60.0,
                "basis": "gmv",
                "geography": "CN",
            }
        ],
        "algorithm_filings": [
            {
                "filing_id": "af1",
                "platform_id": "p1",
                "algorithm_name": "Rank",
                "algorithm_type": "ranking_selection",
                "status": "filed",
            }
        ],
        "algorithm_inventory": [
            {
                "platform_id": "p1",
                "service": "search",
                "algorithm_type": "ranking_selection",
                "in_use_from": d(2023, 1, 1),
            }
        ],
        "data_exports": [
            {
                "entity_id": "e1",
                "year": 2024,
                "is_ciio": False,
                "pi_individuals": 1000,
                "sensitive_pi_individuals": 0,
                "important_data": False,
                "mechanism": "none",
            }
        ],
    }


@pytest.fixture
def clean_batch() -> dict[str, pa.Table]:
    return {t: canonical(t, rows) for t, rows in clean_rows().items()}


@pytest.fixture
def make_batch() -> Callable[..., dict[str, pa.Table]]:
    """Build a batch from the clean rows, with ``table -> row index -> {column: value}``."""

    def build(
        changes: Mapping[str, Mapping[int, Mapping[str, Any]]] | None = None,
        only: Sequence[str] | None = None,
    ) -> dict[str, pa.Table]:
        rows = clean_rows()
        for table, by_row in (changes or {}).items():
            for i, values in by_row.items():
                rows[table][i].update(values)
        names = only if only is not None else list(rows)
        return {t: canonical(t, rows[t]) for t in names}

    return build
