"""Golden detector cases as data: tests/detectors/cases/<CODE>.yaml."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from fairwatch.contract import STANDARD

CASES = Path(__file__).parent / "cases"


def expand(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Expand ``_repeat: N`` (fields ``{i}`` 0-based, ``{n}`` 1-based) and ``_each: [..]``
    (field ``{x}`` is the element) rows; other rows are taken as they are."""
    out = []
    for row in rows:
        values = row.get("_each", list(range(int(row.get("_repeat", 1)))))
        for i, x in enumerate(values):
            fields = {"i": i, "n": i + 1, "x": x}
            out.append(
                {
                    k: (v.format(**fields) if isinstance(v, str) else v)
                    for k, v in row.items()
                    if k not in ("_repeat", "_each")
                }
            )
    return out


def _convert(value: Any, typ: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_timestamp(typ) and isinstance(value, str):
        return datetime.fromisoformat(value)
    if pa.types.is_date(typ) and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def write_case_lake(folder: Path, tables: dict[str, list[dict[str, Any]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        schema = STANDARD.table(name).arrow_schema()
        rows = expand(rows)
        columns = {f.name: [_convert(r.get(f.name), f.type) for r in rows] for f in schema}
        pq.write_table(pa.Table.from_pydict(columns, schema=schema), folder / f"{name}.parquet")
    return folder


def load_cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for path in sorted(CASES.glob("FW*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert spec["detector"] == path.stem, f"{path}: detector must be {path.stem}"
        for case in spec["cases"]:
            cases.append((spec["detector"], case))
    return cases


def matches(expected: dict[str, Any], finding: dict[str, Any]) -> bool:
    for key, value in expected.items():
        if key == "statistics":
            stats = finding["statistics"]
            if any(stats.get(k) != v for k, v in value.items()):
                return False
        elif finding.get(key) != value:
            return False
    return True
