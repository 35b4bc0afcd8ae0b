"""The detector base class and the run context.

A detector is a class in its own file, named after its code, inside its family's
folder (``detectors/pricing/FW101.py``). Its docstring is its documentation and must
have the sections *What it detects*, *Why it matters*, *Method* and *Known
limitations*. It declares its stable ``code``, a ``name`` that says what is wrong, its
``family`` from the reporting standard, the ``legal_basis`` citation keys, the law-store
``parameters`` it reads and the ``inputs`` (tables and columns) it needs.

Work is split the way DESIGN.md asks: :meth:`Detector.summarize` is an Ibis expression
that aggregates at scale in the engine; :meth:`Detector.judge` tests the small
per-subject summary in Python (scipy/statsmodels) and returns findings.
"""

from __future__ import annotations

import inspect
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from fairwatch.detectors.families import FAMILIES
from fairwatch.detectors.findings import Finding
from fairwatch.errors import DefinitionError, ParameterLookupError

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from fairwatch.engine import Engine
    from fairwatch.law import LawStore

SECTIONS = ("What it detects", "Why it matters", "Method", "Known limitations")
CODE_PATTERN = re.compile(r"^FW\d{3}$")
NAME_PATTERN = re.compile(r"^[a-z]+\.[a-z][a-z0-9_]*$")


def docstring_sections(doc: str) -> dict[str, str]:
    """Split a detector docstring into its ``**Section**`` blocks (summary under ``""``)."""
    parts = re.split(r"^\s*\*\*(.+?)\*\*\s*$", inspect.cleandoc(doc), flags=re.MULTILINE)
    sections = {"": parts[0].strip()}
    for title, body in zip(parts[1::2], parts[2::2], strict=True):
        sections[title.strip()] = body.strip()
    return sections


class Detector:
    """Base class of every detector (see the module docstring)."""

    code: ClassVar[str]
    name: ClassVar[str]
    family: ClassVar[str]
    legal_basis: ClassVar[tuple[str, ...]]
    parameters: ClassVar[tuple[str, ...]] = ()
    inputs: ClassVar[Mapping[str, tuple[str, ...]]]
    #: Tables read when present (``ctx.has``); their absence does not skip the detector.
    optional_inputs: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    aliases: ClassVar[tuple[str, ...]] = ()
    #: A scheduling hint, nothing else: the detector's relative run time, as the seconds
    #: it takes on the medium synthetic market (``medium:401``, DuckDB with one thread),
    #: rounded. A scan with worker processes starts the costliest detectors first, so
    #: that a heavy one does not start last and run alone at the end. Detectors taking
    #: about a second or less keep the default.
    cost: ClassVar[float] = 1.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        where = f"{cls.__module__}.{cls.__qualname__}"
        for attr in ("code", "name", "family", "legal_basis", "inputs"):
            if not hasattr(cls, attr):
                raise DefinitionError(f"detector lacks class attribute {attr!r}", where)
        if not CODE_PATTERN.match(cls.code):
            raise DefinitionError(f"code {cls.code!r} is not FW followed by three digits", where)
        if not NAME_PATTERN.match(cls.name):
            raise DefinitionError(f"name {cls.name!r} is not '<area>.<snake_case>'", where)
        if cls.family not in FAMILIES:
            raise DefinitionError(f"family {cls.family!r} is not a family of the standard", where)
        if not cls.legal_basis:
            raise DefinitionError("legal_basis is empty: cite the provisions it enforces", where)
        if isinstance(cls.cost, bool) or not isinstance(cls.cost, int | float) or cls.cost <= 0:
            raise DefinitionError(f"cost {cls.cost!r} is not a positive number", where)
        doc = cls.__doc__ or ""
        sections = docstring_sections(doc)
        if not sections.get(""):
            raise DefinitionError("docstring has no summary line", where)
        missing = [s for s in SECTIONS if not sections.get(s)]
        if missing:
            raise DefinitionError(f"docstring lacks section(s) {', '.join(missing)}", where)

    @classmethod
    def summary(cls) -> str:
        return docstring_sections(cls.__doc__ or "")[""].splitlines()[0]

    @classmethod
    def sections(cls) -> dict[str, str]:
        return docstring_sections(cls.__doc__ or "")

    @property
    def subject_type(self) -> str:
        return FAMILIES[self.family]

    # -- the two phases ----------------------------------------------------------------

    def summarize(self, ctx: Context) -> ir.Table:
        """The engine phase: an Ibis expression aggregating the inputs per subject."""
        raise NotImplementedError

    def judge(self, ctx: Context, summary: pd.DataFrame) -> list[Finding]:
        """The statistics phase: findings from the executed summary."""
        raise NotImplementedError

    def run(self, ctx: Context) -> list[Finding]:
        summary = ctx.execute(self.summarize(ctx))
        ctx.log.debug("summary of %d rows", len(summary))
        return self.judge(ctx, summary)

    # -- helpers for subclasses ----------------------------------------------------------

    def finding(self, ctx: Context, **fields: Any) -> Finding:
        """A finding of this detector, with rule, family, legal basis and as-of filled in."""
        fields.setdefault("subject_type", self.subject_type)
        fields.setdefault("legal_basis", self.legal_basis)
        return Finding(rule=self.code, family=self.family, as_of=ctx.as_of, **fields)


class _DetectorLog(logging.LoggerAdapter):
    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        extra = self.extra or {}
        return f"[{extra.get('code')} run {extra.get('run_id')}] {msg}", kwargs


@dataclass
class Context:
    """What a detector sees during a run: tables, parameters at the as-of date, a logger."""

    engine: Engine
    as_of: date
    run_id: str
    law: LawStore
    detector: Detector | None = None
    _log: logging.LoggerAdapter = field(
        default_factory=lambda: _DetectorLog(logging.getLogger("fairwatch.detectors"), {})
    )
    #: subjects the detector tested, reported or not (see :meth:`record_test`)
    tested: list[dict[str, Any]] = field(default_factory=list)

    def for_detector(self, detector: Detector) -> Context:
        logger = _DetectorLog(
            logging.getLogger(f"fairwatch.detectors.{detector.code}"),
            {"code": detector.code, "run_id": self.run_id},
        )
        return Context(self.engine, self.as_of, self.run_id, self.law, detector, logger)

    @property
    def log(self) -> logging.LoggerAdapter:
        return self._log

    def record_test(self, subject_id: str, reported: bool, **statistics: Any) -> None:
        """Record that the detector tested ``subject_id``, with the test's statistics.

        The run lists the subjects tested without a finding next to what the test could
        have found (e.g. the smallest effect it detects with 80 % power): a clean result
        from a test with little power reads differently from one that would have seen a
        small violation. Numbers are kept as plain Python values, floats to four
        significant digits (what the report shows; run.json stays readable).
        """
        self.tested.append(
            {
                "subject_id": subject_id,
                "reported": bool(reported),
                **{k: _plain(v) for k, v in statistics.items()},
            }
        )

    def table(self, name: str) -> ir.Table:
        return self.engine.table(name)

    def has(self, name: str) -> bool:
        return self.engine.has(name)

    def param(self, name: str) -> Any:
        """The value of a declared parameter in force at the as-of date."""
        return self.param_at(name, self.as_of)

    def param_at(self, name: str, day: date) -> Any:
        """A declared parameter's value on ``day`` (e.g. the law at the time of conduct)."""
        self._check_declared(name)
        return self.law.value(name, day)

    def param_in_force(self, name: str, day: date) -> Any:
        """Like :meth:`param_at`, but ``None`` where the parameter is not in force on ``day``."""
        try:
            return self.param_at(name, day)
        except ParameterLookupError:
            return None

    def param_history(self, name: str) -> list[Any]:
        """Every value a declared parameter has had (repeals left out), oldest first."""
        self._check_declared(name)
        return [v.value for v in self.law.parameter(name).values if not v.repealed]

    def _check_declared(self, name: str) -> None:
        if self.detector is not None and name not in self.detector.parameters:
            raise DefinitionError(
                f"reads parameter {name!r} without declaring it in `parameters`",
                f"detector {self.detector.code}",
            )

    def execute(self, expr: ir.Table) -> pd.DataFrame:
        return self.engine.execute(expr)


def _plain(value: Any) -> Any:
    """A statistic as a plain JSON value: numpy scalars unwrapped, floats to 4
    significant digits (non-finite ones as they are)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(f"{value:.4g}") if math.isfinite(value) else float(value)
    return value


def severity_from_bands(value: float, bands: Mapping[str, float]) -> str:
    """The highest severity whose lower bound ``value`` reaches (bands: severity -> bound)."""
    from fairwatch.detectors.families import SEVERITIES

    chosen = "info"
    for severity in SEVERITIES:
        bound = bands.get(severity)
        if bound is not None and value >= bound:
            chosen = severity
    return chosen


def ids(values: Sequence[Any]) -> list[str]:
    return [str(v) for v in values]
