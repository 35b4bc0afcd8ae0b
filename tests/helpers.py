"""Small, consistent batches of standard tables for tests (hand-made, no generator)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from fairwatch.contract.identifiers import uscc_check_char


def uscc(n: int) -> str:
    first = f"9133010{n:010d}"
    return first + uscc_check_char(first)


def reference_tables(platforms: int = 2, merchants: int = 4, skus: int = 8) -> dict[str, pa.Table]:
    """entities, platforms, merchants, products that reference each other correctly."""
    entities = pa.table(
        {
            "entity_id": [f"e{i}" for i in range(platforms + merchants)],
            "name": [f"公司{i}" for i in range(platforms + merchants)],
            "uscc": [uscc(i) for i in range(platforms + merchants)],
            "kind": ["company"] * (platforms + merchants),
        }
    )
    plats = pa.table(
        {
            "platform_id": [f"p{i}" for i in range(platforms)],
            "name": [f"平台{i}" for i in range(platforms)],
            "operator_id": [f"e{i}" for i in range(platforms)],
            "categories": [["online_sales"]] * platforms,
        }
    )
    merch = pa.table(
        {
            "merchant_id": [f"m{i}" for i in range(merchants)],
            "platform_id": [f"p{i % platforms}" for i in range(merchants)],
            "entity_id": [f"e{platforms + i}" for i in range(merchants)],
            "category": ["groceries"] * merchants,
            "opened_on": [date(2024, 1, 1)] * merchants,
            "self_operated": [False] * merchants,
        }
    )
    prods = pa.table(
        {
            "sku_id": [f"s{i}" for i in range(skus)],
            "platform_id": [f"p{(i % merchants) % platforms}" for i in range(skus)],
            "merchant_id": [f"m{i % merchants}" for i in range(skus)],
            "category": ["groceries"] * skus,
            "self_operated": [False] * skus,
        }
    )
    return {"entities": entities, "platforms": plats, "merchants": merch, "products": prods}


def quotes_table(
    n: int, skus: int = 8, platforms: int = 2, merchants: int = 4, start: int = 0
) -> pa.Table:
    """``n`` price quotes over the reference offers, lawful (quoted = list)."""
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    ids = range(start, start + n)
    sku = [i % skus for i in ids]
    return pa.table(
        {
            "quote_id": [f"q{i}" for i in ids],
            "ts": pa.array(
                [t0 + timedelta(minutes=7 * i) for i in ids], pa.timestamp("us", tz="UTC")
            ),
            "platform_id": [f"p{(s % merchants) % platforms}" for s in sku],
            "sku_id": [f"s{s}" for s in sku],
            "user_id": ["u_" + hashlib.sha256(str(i % 97).encode()).hexdigest()[:12] for i in ids],
            "quoted_price": [10.0 + s for s in sku],
            "list_price": [10.0 + s for s in sku],
        }
    )


def write_folder(folder: Path, tables: dict[str, pa.Table]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")
    return folder


def folder_state(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (but the writer lock) with its content hash."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "_lock"
    }
