"""Where a finding's conduct happened: the region code that routes its lead.

Resolved from the lake the finding came from: a store's ``merchants.region_code``; an
SKU's store; a platform's operator (``entities.region_code``); a deal's acquirer; an
entity-year's entity; a ``platform_region`` subject carries its region. Unknown: None
(the service falls back to its default region, the province).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fairwatch.cases.service import RegionOf

_TABLES = {
    "merchants": ("merchant_id", "region_code"),
    "products": ("sku_id", "merchant_id"),
    "platforms": ("platform_id", "operator_id"),
    "entities": ("entity_id", "region_code"),
    "deals": ("deal_id", "acquirer_id"),
}


def lake_region_resolver(lake: Path) -> RegionOf:
    """A ``region_of(finding)`` function backed by the lake's reference tables."""
    from fairwatch.structure.data import load_tables

    maps: dict[str, dict[str, str]] = {}
    for table, frame in load_tables(Path(lake), _TABLES).items():
        key, value = _TABLES[table]
        maps[table] = {
            str(k): str(v)
            for k, v in zip(frame[key], frame[value], strict=True)
            if v is not None and v == v
        }
    return lambda finding: region_of(finding, maps)


def region_of(finding: Mapping[str, Any], maps: Mapping[str, Mapping[str, str]]) -> str | None:
    merchants = maps.get("merchants", {})
    entities = maps.get("entities", {})
    operators = maps.get("platforms", {})
    kind, subject = str(finding.get("subject_type")), str(finding.get("subject_id"))
    if kind == "platform_region":
        return subject.rsplit(":", 1)[-1]
    if kind == "merchant":
        return merchants.get(subject)
    if kind == "sku":
        return merchants.get(maps.get("products", {}).get(subject, ""))
    if kind == "entity_year":
        return entities.get(subject.rsplit(":", 1)[0])
    if kind == "deal":
        return entities.get(maps.get("deals", {}).get(subject, ""))
    platform = finding.get("platform_id") or (subject if kind == "platform" else None)
    if platform:
        return entities.get(operators.get(str(platform), ""))
    return None
