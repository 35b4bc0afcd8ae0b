"""The schema definitions and their strict loader."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from fairwatch.contract import STANDARD, Range, Reference, load_standard, load_table_schema
from fairwatch.contract.schema import SCHEMA_DIR
from fairwatch.errors import DefinitionError

SPEC_TABLES = [
    "entities", "financials", "ownership", "platforms", "platform_metrics", "merchants",
    "products", "emergencies", "price_quotes", "orders", "merchant_events", "search_results",
    "accounts", "reviews", "ads", "fee_schedules", "rule_changes", "deliveries",
    "worker_sessions", "complaints", "deals", "market_shares", "algorithm_filings",
    "algorithm_inventory", "data_exports",
]  # fmt: skip

SPEC_KEYS = {
    "financials": ("entity_id", "fiscal_year"),
    "ownership": ("owner_id", "owned_id", "valid_from"),
    "platform_metrics": ("platform_id", "period"),
    "accounts": ("platform_id", "user_id"),
    "search_results": ("query_id", "position"),
    "market_shares": ("market_id", "period", "entity_id"),
    "data_exports": ("entity_id", "year"),
    "merchant_events": (),
    "worker_sessions": (),
    "algorithm_inventory": (),
}


def test_every_table_of_the_spec_in_spec_order() -> None:
    assert STANDARD.version == "1"
    assert STANDARD.names() == SPEC_TABLES
    assert list(STANDARD.tables) == SPEC_TABLES


@pytest.mark.parametrize("table", SPEC_TABLES)
def test_key_follows_the_spec(table: str) -> None:
    schema = STANDARD.table(table)
    expected = SPEC_KEYS.get(table, (schema.columns[0].name,))
    assert schema.key == expected
    assert all(schema.column(k).required for k in schema.key)


def test_unknown_table_is_a_clear_key_error() -> None:
    with pytest.raises(KeyError, match=r"'invoices' is not a table.*entities"):
        STANDARD.table("invoices")


def test_unknown_column_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no column 'price'"):
        STANDARD.table("orders").column("price")


def test_arrow_schema_uses_the_canonical_types() -> None:
    schema = STANDARD.table("price_quotes").arrow_schema()
    assert schema.names == [c.name for c in STANDARD.table("price_quotes").columns]
    assert schema.field("quote_id").type == pa.string()
    assert schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert schema.field("user_tenure_days").type == pa.int64()
    assert schema.field("quoted_price").type == pa.float64()
    assert schema.field("member_price").type == pa.bool_()
    assert STANDARD.table("entities").arrow_schema().field("licenses").type == pa.list_(pa.string())
    assert STANDARD.table("entities").arrow_schema().field("established_on").type == pa.date32()
    assert STANDARD.table("market_shares").arrow_schema().field("period").type == pa.string()


def test_required_columns_follow_the_spec_stars() -> None:
    assert STANDARD.table("orders").required == (
        "order_id", "ts", "platform_id", "merchant_id", "user_id", "quantity", "unit_price",
        "paid_cny", "status",
    )  # fmt: skip
    assert STANDARD.table("worker_sessions").required == (
        "worker_id", "platform_id", "online_from", "online_to",
    )  # fmt: skip


def test_pseudonym_columns() -> None:
    found = {(t.name, c.name) for t in STANDARD.tables.values() for c in t.columns if c.pseudonym}
    names = {c for _, c in found}
    assert names == {"user_id", "rider_id", "worker_id", "complainant_id", "device_hash",
                     "phone_hash"}  # fmt: skip
    every_user_id = {t.name for t in STANDARD.tables.values() if "user_id" in t.column_names}
    assert {t for t, c in found if c == "user_id"} == every_user_id


@pytest.mark.parametrize(
    ("table", "column", "target"),
    [
        ("price_quotes", "sku_id", "products.sku_id"),
        ("products", "merchant_id", "merchants.merchant_id"),
        ("merchants", "platform_id", "platforms.platform_id"),
        ("platforms", "operator_id", "entities.entity_id"),
        ("orders", "sku_id", "products.sku_id"),
        ("reviews", "order_id", "orders.order_id"),
        ("ownership", "owner_id", "entities.entity_id"),
        ("ownership", "owned_id", "entities.entity_id"),
        ("deals", "acquirer_id", "entities.entity_id"),
        ("deals", "target_id", "entities.entity_id"),
        ("complaints", "target_id", "entities.entity_id"),
        ("ads", "advertiser_id", "entities.entity_id"),
        ("data_exports", "entity_id", "entities.entity_id"),
    ],
)
def test_foreign_keys(table: str, column: str, target: str) -> None:
    ref = STANDARD.table(table).column(column).references
    assert ref is not None and str(ref) == target
    t, c = target.split(".")
    assert (column, t, c) in STANDARD.table(table).references


def test_worker_id_references_nothing() -> None:
    assert STANDARD.table("worker_sessions").column("worker_id").references is None


def test_every_platform_id_outside_platforms_references_platforms() -> None:
    for schema in STANDARD.tables.values():
        if schema.name != "platforms" and "platform_id" in schema.column_names:
            assert schema.column("platform_id").references == Reference("platforms", "platform_id")


def test_ranges_and_enums() -> None:
    assert STANDARD.table("ownership").column("share_pct").range == Range(0, 100)
    assert STANDARD.table("reviews").column("rating").range == Range(1, 5)
    assert STANDARD.table("orders").column("quantity").range == Range(1, None)
    assert STANDARD.table("orders").column("status").enum == ("paid", "refunded", "cancelled")
    assert STANDARD.table("market_shares").column("period").period_formats == ("YYYY",)


def test_date_order_checks() -> None:
    checks = {
        t.name: [(c.columns, c.strict) for c in t.checks]
        for t in STANDARD.tables.values()
        if t.checks
    }
    assert checks == {
        "ownership": [(("valid_from", "valid_to"), False)],
        "merchants": [(("opened_on", "closed_on"), False)],
        "emergencies": [(("declared_on", "lifted_on"), False)],
        "deliveries": [(("dispatched_at", "picked_up_at", "delivered_at"), False)],
        "worker_sessions": [(("online_from", "online_to"), True)],
        "algorithm_inventory": [(("in_use_from", "in_use_to"), False)],
    }


# ------------------------------------------------------------------- strict loader

GOOD = {
    "table": "things",
    "description": "Things.",
    "key": ["thing_id"],
    "columns": [
        {"name": "thing_id", "type": "string", "required": True, "description": "Id."},
        {"name": "made_on", "type": "date", "description": "Made."},
        {"name": "gone_on", "type": "date", "description": "Gone."},
    ],
}


def _write(path: Path, doc: object) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_loader_accepts_a_good_definition(tmp_path: Path) -> None:
    schema = load_table_schema(_write(tmp_path / "things.yaml", GOOD))
    assert schema.key == ("thing_id",)
    assert [c.type for c in schema.columns] == ["string", "date", "date"]


def _broken(change: str) -> dict:
    doc = yaml.safe_load(yaml.safe_dump(GOOD))
    cols = doc["columns"]
    if change == "unknown table key":
        doc["primary"] = ["thing_id"]
    elif change == "unknown column key":
        cols[0]["nullable"] = False
    elif change == "unknown type":
        cols[1]["type"] = "datetime"
    elif change == "key names a missing column":
        doc["key"] = ["id"]
    elif change == "optional key column":
        cols[0]["required"] = False
    elif change == "missing description":
        del cols[1]["description"]
    elif change == "enum on a date":
        cols[1]["enum"] = ["a"]
    elif change == "range on a string":
        cols[0]["range"] = {"min": 0}
    elif change == "unknown range key":
        cols.append({"name": "n", "type": "int", "description": "N.", "range": {"low": 0}})
    elif change == "check names a missing column":
        doc["checks"] = [{"rule": "date_order", "columns": ["made_on", "lost_on"]}]
    elif change == "unknown check rule":
        doc["checks"] = [{"rule": "sum_to_100", "columns": ["made_on", "gone_on"]}]
    elif change == "duplicate column":
        cols.append(dict(cols[1]))
    elif change == "required not a bool":
        cols[0]["required"] = "yes"
    elif change == "name differs from file":
        doc["table"] = "stuff"
    return doc


@pytest.mark.parametrize(
    "change",
    [
        "unknown table key", "unknown column key", "unknown type", "key names a missing column",
        "optional key column", "missing description", "enum on a date", "range on a string",
        "unknown range key", "check names a missing column", "unknown check rule",
        "duplicate column", "required not a bool", "name differs from file",
    ],
)  # fmt: skip
def test_loader_rejects_a_broken_definition_naming_the_file(tmp_path: Path, change: str) -> None:
    path = _write(tmp_path / "things.yaml", _broken(change))
    with pytest.raises(DefinitionError) as err:
        load_table_schema(path)
    assert err.value.source == str(path)
    assert str(path) in str(err.value)


def test_loader_rejects_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "things.yaml"
    path.write_text("table: things\ncolumns: [\n")
    with pytest.raises(DefinitionError, match=r"things\.yaml"):
        load_table_schema(path)


@pytest.fixture
def schema_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMA_DIR, folder)
    return folder


def test_the_shipped_definitions_load_from_a_copy(schema_copy: Path) -> None:
    assert load_standard(schema_copy) == STANDARD


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("invoices.invoice_id", "no table 'invoices'"),
        ("products.product_id", "has no such column"),
        ("products.category", "not the key"),
    ],
)
def test_loader_rejects_a_reference_to_a_missing_table_or_column(
    schema_copy: Path, target: str, message: str
) -> None:
    path = schema_copy / "orders.yaml"
    doc = yaml.safe_load(path.read_text())
    next(c for c in doc["columns"] if c["name"] == "sku_id")["references"] = target
    _write(path, doc)
    with pytest.raises(DefinitionError, match=message) as err:
        load_standard(schema_copy)
    assert err.value.source == str(path)


def test_loader_rejects_an_unlisted_table_file(schema_copy: Path) -> None:
    _write(schema_copy / "things.yaml", GOOD)
    with pytest.raises(DefinitionError, match="not listed") as err:
        load_standard(schema_copy)
    assert err.value.source == str(schema_copy / "_standard.yaml")


def test_loader_rejects_a_listed_table_without_file(schema_copy: Path) -> None:
    (schema_copy / "ads.yaml").unlink()
    with pytest.raises(DefinitionError, match="without a definition file"):
        load_standard(schema_copy)
