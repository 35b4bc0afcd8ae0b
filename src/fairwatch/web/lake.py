"""The server's lake, read once per version and shared by the pages.

The structural tables (and the traffic light built on them) are cached per lake path
and reloaded when a batch lands: the signature is the modification time of the lake's
manifest (managed lakes) or of every entry of the folder (raw lakes). Other per-lake
results (platform grades, filings) are cached under the same signature by
:func:`cached`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairwatch.structure.data import STRUCTURE_TABLES

#: the lake tables these pages read: the structural ones and the algorithm filings
LAKE_TABLES = (*STRUCTURE_TABLES, "algorithm_filings")


@dataclass
class LakeData:
    """The structural tables of one lake version, and what was computed from them."""

    path: Path
    signature: tuple[int, ...]
    tables: dict[str, Any]
    light: Any = None  # the TrafficLight, built on first use (for ``law``)
    law: Any = None
    lights: list[Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_CACHE: dict[str, LakeData] = {}
_CACHE_LOCK = threading.Lock()


def _signature(lake: Path) -> tuple[int, ...]:
    """Modification times that change when a batch lands in the lake."""
    stamps = [lake.stat().st_mtime_ns]
    manifest = lake / "_manifest.json"
    if manifest.exists():
        stamps.append(manifest.stat().st_mtime_ns)
    else:
        stamps += sorted(p.stat().st_mtime_ns for p in lake.iterdir())
    return tuple(stamps)


def lake_data(lake: Path) -> LakeData:
    """The lake's tables (read again only when the lake changed)."""
    from fairwatch.errors import UsageError
    from fairwatch.structure.data import load_tables

    if not lake.is_dir():
        raise UsageError(f"lake {lake} does not exist or is not a folder")
    key = str(lake.resolve())
    signature = _signature(lake)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached.signature == signature:
            return cached
        data = LakeData(lake, signature, load_tables(lake, LAKE_TABLES))
        _CACHE[key] = data
        return data


def traffic_light(data: LakeData, law: Any) -> Any:
    from fairwatch.structure.grading import grade_lookup
    from fairwatch.structure.traffic_light import TrafficLight

    with data.lock:
        if data.light is None or data.law is not law:
            data.light = TrafficLight(law, data.tables, grade_of=grade_lookup(data.tables, law))
            data.law, data.lights = law, None
        return data.light


def all_lights(data: LakeData, law: Any) -> list[Any]:
    light = traffic_light(data, law)
    with data.lock:
        if data.lights is None:
            data.lights = light.all()
        return data.lights


_RESULTS: dict[tuple[str, ...], Any] = {}
_RESULTS_LOCK = threading.Lock()


def cached(kind: str, lake: Path, extra: str, make: Callable[[], Any]) -> Any:
    """``make()`` once per lake path, lake version and ``extra``."""
    key = (kind, str(lake.resolve()), repr(_signature(lake)), extra)
    with _RESULTS_LOCK:
        if key in _RESULTS:
            return _RESULTS[key]
    value = make()
    with _RESULTS_LOCK:
        if len(_RESULTS) > 32:
            _RESULTS.clear()
        _RESULTS[key] = value
    return value
