"""The detector registry: discovers, validates and indexes every detector at load.

Detectors live in ``fairwatch/detectors/<area>/<CODE>.py``, one class per file. Loading
checks what the class itself cannot: the file is named after the code and sits in the
folder of its family's area, codes and aliases are unique, every parameter and
citation key exists in the law store, every input table and column exists in the
reporting standard. Any failure is a :class:`~fairwatch.errors.DefinitionError` naming
the file and the reason; nothing is skipped silently.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from fairwatch.detectors.base import Detector
from fairwatch.errors import DefinitionError, UsageError

AREAS = (
    "pricing",
    "conduct",
    "integrity",
    "ads",
    "labour",
    "data",
    "algorithm",
    "structure",
    "consumer",
)


class Registry:
    """Every detector, by code (aliases resolve to the current code)."""

    def __init__(self, detectors: Iterable[type[Detector]]) -> None:
        self._by_code: dict[str, type[Detector]] = {}
        self._aliases: dict[str, str] = {}
        for cls in detectors:
            for code in (cls.code, *cls.aliases):
                if code in self._by_code or code in self._aliases:
                    raise DefinitionError(f"code {code} is used twice", inspect.getfile(cls))
            self._by_code[cls.code] = cls
            for alias in cls.aliases:
                self._aliases[alias] = cls.code

    def __iter__(self):
        return iter(self._by_code[c] for c in sorted(self._by_code))

    def __len__(self) -> int:
        return len(self._by_code)

    def codes(self) -> list[str]:
        return sorted(self._by_code)

    def get(self, code: str) -> type[Detector]:
        code = self._aliases.get(code.upper(), code.upper())
        try:
            return self._by_code[code]
        except KeyError:
            raise UsageError(f"no detector {code!r}; `fairwatch rules` lists them") from None

    def select(
        self, select: Iterable[str] = (), ignore: Iterable[str] = ()
    ) -> list[type[Detector]]:
        """Detectors chosen by code prefixes (``FW1`` selects FW1xx), as ruff does."""

        def matches(cls: type[Detector], prefixes: list[str]) -> bool:
            names = (cls.code, *cls.aliases)
            return any(n.startswith(p) for p in prefixes for n in names) or cls.family in prefixes

        chosen = [
            p.strip().upper() if p.strip().upper().startswith("FW") else p.strip() for p in select
        ]
        dropped = [
            p.strip().upper() if p.strip().upper().startswith("FW") else p.strip() for p in ignore
        ]
        for prefix in [*chosen, *dropped]:
            if not any(matches(cls, [prefix]) for cls in self):
                raise UsageError(f"{prefix!r} matches no detector; `fairwatch rules` lists them")
        picked = [c for c in self if not chosen or matches(c, chosen)]
        return [c for c in picked if not matches(c, dropped)]


def _validate(cls: type[Detector], path: Path) -> None:
    from fairwatch.contract import STANDARD
    from fairwatch.law import default_store

    where = str(path)
    if path.stem != cls.code:
        raise DefinitionError(
            f"file is named {path.name} but the detector's code is {cls.code}", where
        )
    area = cls.family.split(".")[0]
    if path.parent.name != area:
        raise DefinitionError(f"family {cls.family} belongs in detectors/{area}/", where)
    law = default_store()
    for key in cls.legal_basis:
        if not law.has_citation(key):
            raise DefinitionError(
                f"legal basis {key!r} is not a citation key of the law store", where
            )
    for name in cls.parameters:
        if not law.has(name):
            raise DefinitionError(f"parameter {name!r} is not in the law store", where)
    for table, columns in {**cls.optional_inputs, **cls.inputs}.items():
        if table not in STANDARD.tables:
            raise DefinitionError(f"input table {table!r} is not in the reporting standard", where)
        known = {c.name for c in STANDARD.table(table).columns}
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise DefinitionError(f"input columns {unknown} are not in table {table}", where)


def discover() -> list[type[Detector]]:
    """Import every detector module and validate each detector."""
    found: list[type[Detector]] = []
    for area in AREAS:
        try:
            package = importlib.import_module(f"fairwatch.detectors.{area}")
        except ModuleNotFoundError:
            continue
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            module_name = f"{package.__name__}.{info.name}"
            path = Path(package.__path__[0]) / f"{info.name}.py"
            if not info.name.startswith("FW"):
                continue
            try:
                module = importlib.import_module(module_name)
            except DefinitionError:
                raise
            except Exception as exc:
                raise DefinitionError(f"cannot import: {exc}", str(path)) from exc
            classes = [
                obj
                for obj in vars(module).values()
                if inspect.isclass(obj)
                and issubclass(obj, Detector)
                and obj is not Detector
                and obj.__module__ == module_name
            ]
            if len(classes) != 1:
                raise DefinitionError(
                    f"must define exactly one detector class, found {len(classes)}", str(path)
                )
            _validate(classes[0], path)
            found.append(classes[0])
    return found


@cache
def registry() -> Registry:
    """The registry of every shipped detector (loaded and validated once)."""
    return Registry(discover())
