"""The synthetic market: a plausible provincial platform market with planted violations.

:func:`generate_market` writes a standard-conformant lake plus ``ground_truth`` (what was
planted) and ``ground_truth_lookalikes`` (lawful cases a naive detector would flag), so
detectors can be scored for precision and recall on markets of other seeds and scales.
"""

from __future__ import annotations

from fairwatch.synth.core import SCALES, GroundTruth, Scale, TableWriter, World
from fairwatch.synth.generate import MODULES, generate_market
from fairwatch.synth.world import build_world

__all__ = [
    "MODULES",
    "SCALES",
    "GroundTruth",
    "Scale",
    "TableWriter",
    "World",
    "build_world",
    "generate_market",
]
