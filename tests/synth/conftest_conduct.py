"""Helpers for the conduct, integrity and consumer planting tests.

A tiny world from :func:`fairwatch.synth.world.build_world`, a :class:`CollectingWriter`
that keeps written frames in memory, and a validation of a module's output against the
reporting standard.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa

from fairwatch.synth.core import GroundTruth, Scale, TableWriter, TruthRow, World
from fairwatch.synth.world import build_world

Run = tuple[World, "CollectingWriter", GroundTruth]
"""What :func:`run` returns: the world after planting, the written frames, the truth."""


def make_world(seed: int = 7, violations: bool = True, scale: str = "tiny") -> World:
    """The world the planting modules run on."""
    return build_world(seed, Scale.of(scale), violations=violations)


class CollectingWriter(TableWriter):
    """A writer that keeps frames in memory (and checks the part size limit)."""

    def __init__(self) -> None:
        super().__init__(Path("/nonexistent"))
        self.frames: dict[str, list[pd.DataFrame]] = {}

    def write(self, table: str, frame: pd.DataFrame | pa.Table) -> None:
        df = frame.to_pandas() if isinstance(frame, pa.Table) else frame
        assert len(df) <= 2_000_000
        self.frames.setdefault(table, []).append(df.copy())
        self.rows[table] = self.rows.get(table, 0) + len(df)

    def table(self, name: str) -> pd.DataFrame:
        parts = self.frames.get(name, [])
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def run(
    module: object, seed: int = 7, violations: bool = True
) -> tuple[World, CollectingWriter, GroundTruth]:
    """Run a planting module on a fresh world; returns what it produced."""
    world = make_world(seed, violations)
    out = CollectingWriter()
    truth = GroundTruth()
    module.plant(world, out, truth)  # type: ignore[attr-defined]
    return world, out, truth


def note_field(pattern: str, note: str) -> str:
    """The first group of ``pattern`` in a truth note (fails the test when absent)."""
    found = re.search(pattern, note)
    assert found is not None, (pattern, note)
    return found[1]


def iter_truth(truth: GroundTruth, family: str, lookalike: bool = False) -> Iterator[TruthRow]:
    rows = truth.lookalikes if lookalike else truth.violations
    return (r for r in rows if r.family == family)


REFERENCE_TABLES = ("entities", "platforms", "merchants", "products", "accounts")


def validate_lake(module: object, tmp: Path, seed: int = 3) -> tuple[list[object], dict[str, int]]:
    """Run ``module`` with the real writer into ``tmp``; validate what it wrote together
    with the world's reference tables. Returns the problems and the rows per table."""
    import pyarrow.parquet as pq

    from fairwatch.contract import coerce, validate_batch

    world = make_world(seed, True)
    out = TableWriter(tmp)
    module.plant(world, out, GroundTruth())  # type: ignore[attr-defined]
    written = dict(out.rows)
    for name in REFERENCE_TABLES:
        out.write(name, world.frame(name))
    batch = {}
    problems: list[object] = []
    for folder in sorted(tmp.iterdir()):
        data, coerce_problems = coerce(folder.name, pq.read_table(folder))
        problems += coerce_problems
        batch[folder.name] = data
    problems += validate_batch(batch)
    return problems, written
