"""The synthetic market's shared machinery: scales, the world, writers, ground truth.

A market is generated in two phases. :func:`fairwatch.synth.world.build_world` makes the
reference population (groups of companies, platforms, merchants, products, users).
Then every *planting module* (one per area, listed in
:data:`fairwatch.synth.generate.MODULES`) is called as ``plant(world, out, truth)``: it
writes its activity tables through ``out``, may append rows to the world's reference
tables (``world.add_rows``), and records every planted violation in ``truth`` and every
lawful look-alike with ``truth.lookalike``. Reference tables are written last, so rows a
module adds are included.

Every random draw comes from ``world.rng_for(name)``: a generator seeded from the market
seed and a stable name, so modules are independent of each other's draw counts and a
market is reproducible from ``(seed, scale)``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


@dataclass(frozen=True)
class Scale:
    """How big a market is. ``quotes`` drives the rest."""

    name: str
    quotes: int
    platforms: int
    merchants: int
    skus: int
    users: int
    days: int

    @classmethod
    def of(cls, name_or_quotes: str) -> Scale:
        """A named scale (``tiny`` ... ``xlarge``) or a number of quotes."""
        if name_or_quotes in SCALES:
            return SCALES[name_or_quotes]
        quotes = int(float(name_or_quotes))
        base = SCALES["medium"]
        ratio = quotes / base.quotes
        return cls(
            name=str(quotes),
            quotes=quotes,
            platforms=base.platforms,
            merchants=max(60, int(base.merchants * min(ratio, 4) ** 0.5)),
            skus=max(150, int(base.skus * min(ratio, 10) ** 0.5)),
            users=max(2000, int(base.users * min(ratio, 10) ** 0.5)),
            days=base.days,
        )


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", quotes=60_000, platforms=6, merchants=80, skus=160, users=3_000, days=60),
    "small": Scale(
        "small", quotes=400_000, platforms=8, merchants=200, skus=500, users=20_000, days=60
    ),
    "medium": Scale(
        "medium",
        quotes=10_000_000,
        platforms=10,
        merchants=1_500,
        skus=6_000,
        users=300_000,
        days=90,
    ),
    "large": Scale(
        "large",
        quotes=50_000_000,
        platforms=12,
        merchants=3_000,
        skus=15_000,
        users=1_000_000,
        days=90,
    ),
    "xlarge": Scale(
        "xlarge",
        quotes=100_000_000,
        platforms=12,
        merchants=4_000,
        skus=25_000,
        users=2_000_000,
        days=120,
    ),
}


@dataclass
class TruthRow:
    family: str
    subject_type: str
    subject_id: str
    platform_id: str | None = None
    strength: float | None = None
    note: str = ""


class GroundTruth:
    """What was planted: violations (``ground_truth``) and lawful look-alikes."""

    def __init__(self) -> None:
        self.violations: list[TruthRow] = []
        self.lookalikes: list[TruthRow] = []

    def add(
        self,
        family: str,
        subject_type: str,
        subject_id: str,
        *,
        platform_id: str | None = None,
        strength: float | None = None,
        note: str = "",
    ) -> None:
        """Record a planted violation that a detector of ``family`` should report."""
        self.violations.append(
            TruthRow(family, subject_type, str(subject_id), platform_id, strength, note)
        )

    def lookalike(
        self,
        family: str,
        subject_type: str,
        subject_id: str,
        *,
        platform_id: str | None = None,
        note: str = "",
    ) -> None:
        """Record a lawful case that a naive detector of ``family`` would wrongly flag."""
        self.lookalikes.append(
            TruthRow(family, subject_type, str(subject_id), platform_id, None, note)
        )

    @staticmethod
    def _frame(rows: list[TruthRow]) -> pa.Table:
        return pa.Table.from_pylist(
            [r.__dict__ for r in rows],
            schema=pa.schema(
                [
                    ("family", pa.string()),
                    ("subject_type", pa.string()),
                    ("subject_id", pa.string()),
                    ("platform_id", pa.string()),
                    ("strength", pa.float64()),
                    ("note", pa.string()),
                ]
            ),
        )

    def write(self, out_dir: Path) -> None:
        """Write ``ground_truth.parquet`` and ``ground_truth_lookalikes.parquet`` (extra tables)."""
        pq.write_table(self._frame(self.violations), out_dir / "ground_truth.parquet")
        pq.write_table(self._frame(self.lookalikes), out_dir / "ground_truth_lookalikes.parquet")


class TableWriter:
    """Appends parts of standard tables as ``<out>/<table>/part-NNNNN.parquet``.

    Each call writes one part file with the table's canonical Arrow schema from the
    reporting standard (columns missing from the frame are written as nulls; extra
    columns are an error, so a typo cannot slip into a lake).
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._parts: dict[str, int] = {}
        self.rows: dict[str, int] = {}

    def write(self, table: str, frame: pd.DataFrame | pa.Table) -> None:
        from fairwatch.contract import STANDARD

        schema = STANDARD.table(table).arrow_schema()
        data = (
            frame
            if isinstance(frame, pa.Table)
            else pa.Table.from_pandas(frame, preserve_index=False)
        )
        unknown = [c for c in data.column_names if c not in schema.names]
        if unknown:
            raise ValueError(f"synthetic {table} has columns not in the standard: {unknown}")
        columns = []
        for f in schema:
            if f.name in data.column_names:
                columns.append(data.column(f.name).cast(f.type))
            else:
                columns.append(pa.nulls(data.num_rows, f.type))
        table_data = pa.Table.from_arrays(columns, schema=schema)
        n = self._parts.get(table, 0)
        folder = self.out_dir / table
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table_data, folder / f"part-{n:05d}.parquet", compression="zstd")
        self._parts[table] = n + 1
        self.rows[table] = self.rows.get(table, 0) + table_data.num_rows


@dataclass
class World:
    """The reference population every planting module builds on.

    Each frame has exactly the columns of the reporting-standard table of the same name
    (``entities``, ``financials``, ``ownership``, ``platforms``, ``platform_metrics``,
    ``merchants``, ``products``, ``accounts``), plus, for ``users``, the per-user
    attributes activity generators need (``user_id``, ``platform_id``, ``tenure_days``,
    ``is_member``, ``device``, ``region_code``). ``sku_prices`` holds each offer's
    regular price (``sku_id``, ``base_price``) for modules that need a price level (search
    ranking, reviews). When ``violations`` is false, modules plant look-alikes only.
    """

    seed: int
    scale: Scale
    start: date
    end: date  # exclusive
    home_province: str = "330000"
    violations: bool = True  # False: a clean market (look-alikes only, no violation planted)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    users: pd.DataFrame = field(default_factory=pd.DataFrame)
    sku_prices: pd.DataFrame = field(default_factory=pd.DataFrame)  # sku_id, base_price (yuan)
    info: dict[str, Any] = field(default_factory=dict)

    def rng_for(self, name: str) -> np.random.Generator:
        """An independent, reproducible random generator for a named purpose."""
        digest = hashlib.sha256(name.encode()).digest()
        return np.random.default_rng([self.seed, int.from_bytes(digest[:8], "little")])

    def frame(self, table: str) -> pd.DataFrame:
        return self.frames.get(table, pd.DataFrame())

    def add_rows(self, table: str, rows: pd.DataFrame | list[dict[str, Any]]) -> None:
        """Append rows to a reference table (written after every module has run)."""
        new = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
        old = self.frames.get(table)
        self.frames[table] = (
            new if old is None or old.empty else pd.concat([old, new], ignore_index=True)
        )

    @property
    def days(self) -> int:
        return (self.end - self.start).days
