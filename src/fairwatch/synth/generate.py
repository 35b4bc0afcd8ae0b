"""Generate a synthetic market: the world, every planting module, reference tables, truth.

:func:`generate_market` builds the world (:func:`fairwatch.synth.world.build_world`),
calls ``plant(world, out, truth)`` of every module in :data:`MODULES` (a module that does
not exist yet is skipped with a warning), then writes the reference tables from the
world's frames (so rows a module added are included), the ground truth, and
``_synth.json`` (seed, scale, period, row counts). The same ``(seed, scale,
violations)`` always gives byte-identical files.
"""

from __future__ import annotations

import importlib
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from fairwatch.errors import UsageError
from fairwatch.synth.core import SCALES, GroundTruth, Scale, TableWriter, World
from fairwatch.synth.world import build_world

log = logging.getLogger(__name__)

#: Planting modules, run in this order; each exposes ``plant(world, out, truth)``.
MODULES: list[str] = [
    "pricing",
    "conduct",
    "integrity",
    "consumer",
    "ads",
    "labour",
    "data",
    "algorithms",
    "structure",
]
#: Reference tables written from the world's frames after every module has run.
REFERENCE_TABLES: tuple[str, ...] = (
    "entities",
    "financials",
    "ownership",
    "platforms",
    "platform_metrics",
    "merchants",
    "products",
    "accounts",
    "emergencies",
)
REFERENCE_PART_ROWS = 2_000_000
SYNTH_FILE = "_synth.json"

Progress = Callable[..., None]


def _load(name: str) -> Any | None:
    qualified = f"fairwatch.synth.{name}"
    try:
        return importlib.import_module(qualified)
    except ModuleNotFoundError as exc:
        if exc.name == qualified:
            log.warning("planting module %s does not exist yet: skipped", qualified)
            return None
        raise


def _prepare(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise UsageError(
                f"{out} is not empty (pass overwrite=True / --overwrite to replace it)"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def write_reference(world: World, writer: TableWriter) -> None:
    """Write every non-empty reference frame of the world (in parts of at most 2 M rows)."""
    from fairwatch.contract import STANDARD

    names = list(REFERENCE_TABLES) + sorted(t for t in world.frames if t not in REFERENCE_TABLES)
    for name in names:
        frame = world.frames.get(name)
        if frame is None or frame.empty:
            continue
        if name not in STANDARD:
            log.warning("world frame %r is not a table of the standard: not written", name)
            continue
        for lo in range(0, len(frame), REFERENCE_PART_ROWS):
            writer.write(name, frame.iloc[lo : lo + REFERENCE_PART_ROWS])


def generate_market(
    out: Path,
    scale: str | Scale = "small",
    seed: int = 0,
    *,
    violations: bool = True,
    progress: Progress | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Generate a synthetic market into the folder ``out`` and return its summary.

    ``scale`` is a :class:`Scale` or a name of :data:`~fairwatch.synth.core.SCALES` (or a
    quote count); ``violations=False`` gives a clean market (look-alikes only).
    ``progress(message, done, total)`` is called as the work advances. A non-empty
    ``out`` is refused unless ``overwrite`` (then it is cleared first).
    """
    sc = scale if isinstance(scale, Scale) else Scale.of(str(scale))
    out = Path(out)
    _prepare(out, overwrite)

    def step(message: str, done: int | None = None, total: int | None = None) -> None:
        log.info("synth: %s %s/%s", message, done, total)
        if progress is not None:
            progress(message, done, total)

    step("building the world")
    world = build_world(seed, sc, violations=violations)
    world.info["progress"] = step
    writer = TableWriter(out)
    truth = GroundTruth()
    ran: list[str] = []
    skipped: list[str] = []
    for k, name in enumerate(MODULES):
        module = _load(name)
        if module is None:
            skipped.append(name)
            continue
        step(f"planting {name}", k, len(MODULES))
        module.plant(world, writer, truth)
        ran.append(name)
    step("writing reference tables", len(MODULES), len(MODULES))
    world.info.pop("progress", None)
    write_reference(world, writer)
    truth.write(out)
    summary: dict[str, Any] = {
        "seed": seed,
        "scale": asdict(sc),
        "violations": violations,
        "period": {
            "start": world.start.isoformat(),
            "end": (world.end - timedelta(days=1)).isoformat(),
            "days": world.days,
            "timezone": "Asia/Shanghai",
        },
        "home_province": world.home_province,
        "modules": {"run": ran, "skipped": skipped},
        "rows": dict(sorted(writer.rows.items())),
        "truth": _truth_counts(truth),
    }
    (out / SYNTH_FILE).write_text(
        json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    step("done", len(MODULES), len(MODULES))
    return summary


def _truth_counts(truth: GroundTruth) -> dict[str, dict[str, int]]:
    def count(rows: list[Any]) -> dict[str, int]:
        if not rows:
            return {}
        return {
            str(k): int(v)
            for k, v in pd.Series([r.family for r in rows]).value_counts().sort_index().items()
        }

    return {"violations": count(truth.violations), "lookalikes": count(truth.lookalikes)}


def known_scales() -> list[str]:
    """The names of the predefined scales."""
    return list(SCALES)
