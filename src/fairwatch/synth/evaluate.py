"""Scoring a monitoring run against a synthetic market's ground truth.

A synthetic lake records every planted violation (``ground_truth.parquet``) and every
lawful look-alike (``ground_truth_lookalikes.parquet``). :func:`evaluate` compares a run's
findings with them, family by family:

- only findings on the family's required subject type (the standard's families table,
  :data:`fairwatch.detectors.families.FAMILIES`) count, because that is where every true
  violation must be reported; findings of the family on other subject types are counted
  separately (``off_type``) and neither help nor hurt;
- TP = distinct truth subjects ``(subject_type, subject_id)`` found; FP = distinct finding
  subjects not in the truth; FN = truth subjects not found; ``lookalike_hits`` = false
  positives that are recorded look-alikes of the same family (a detector fooled by the
  lawful case it was meant to tell apart);
- precision, recall and F1 are ``None`` where undefined (no findings, no truth);
- when the run's ``run.json`` is available, a family none of whose detectors ran (none
  registered, or all skipped for missing tables) is ``not_run`` rather than recall 0; a
  family whose detectors all failed is ``error`` (and is scored: its misses are real).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from fairwatch.detectors.families import FAMILIES
from fairwatch.errors import UsageError
from fairwatch.report.loading import findings_file, read_findings, read_run

log = logging.getLogger(__name__)

TRUTH_FILE = "ground_truth.parquet"
LOOKALIKES_FILE = "ground_truth_lookalikes.parquet"

EVALUATED = "evaluated"
NOT_RUN = "not_run"
ERROR = "error"

Subject = tuple[str, str]


@dataclass(frozen=True)
class FamilyEvaluation:
    """How a run did on one family.

    ``subject_type`` is the subject type that was scored (the standard's, or for a family
    the standard does not list, the truth's). ``findings`` counts finding rows of the
    family on any subject type; ``subjects`` the distinct subjects flagged on the scored
    type; ``off_type`` the distinct subjects flagged on other types (not scored).
    """

    family: str
    subject_type: str | None
    status: str
    truth: int
    findings: int
    subjects: int
    tp: int
    fp: int
    fn: int
    lookalike_hits: int
    off_type: int
    precision: float | None
    recall: float | None
    f1: float | None
    detectors: tuple[str, ...] = ()
    note: str = ""

    @property
    def evaluated(self) -> bool:
        """Whether the family's scores mean anything (its detectors ran, or failed)."""
        return self.status != NOT_RUN

    def misses(self, min_precision: float | None, min_recall: float | None) -> list[str]:
        """Which thresholds this row falls short of; an undefined score misses nothing."""
        out: list[str] = []
        if not self.evaluated:
            return out
        if (
            min_precision is not None
            and self.precision is not None
            and self.precision < min_precision
        ):
            out.append(f"precision {self.precision:.3f} < {min_precision:g}")
        if min_recall is not None and self.recall is not None and self.recall < min_recall:
            out.append(f"recall {self.recall:.3f} < {min_recall:g}")
        return out


@dataclass
class Evaluation:
    """Per-family scores of one run against one synthetic market."""

    rows: list[FamilyEvaluation]
    findings_path: str = ""
    truth_path: str = ""
    run_id: str | None = None
    as_of: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self, family: str) -> FamilyEvaluation:
        """The row of one family (``KeyError`` if it is not in the evaluation)."""
        for r in self.rows:
            if r.family == family:
                return r
        raise KeyError(family)

    @property
    def total(self) -> FamilyEvaluation:
        """Micro-averaged scores over the evaluated families."""
        rows = [r for r in self.rows if r.evaluated]
        tp = sum(r.tp for r in rows)
        fp = sum(r.fp for r in rows)
        fn = sum(r.fn for r in rows)
        precision, recall, f1 = _scores(tp, fp, fn)
        return FamilyEvaluation(
            family="(all evaluated)",
            subject_type=None,
            status=EVALUATED,
            truth=sum(r.truth for r in rows),
            findings=sum(r.findings for r in rows),
            subjects=sum(r.subjects for r in rows),
            tp=tp,
            fp=fp,
            fn=fn,
            lookalike_hits=sum(r.lookalike_hits for r in rows),
            off_type=sum(r.off_type for r in rows),
            precision=precision,
            recall=recall,
            f1=f1,
        )

    def failures(
        self, min_precision: float | None = None, min_recall: float | None = None
    ) -> dict[str, list[str]]:
        """Evaluated families that miss a threshold, with what they miss."""
        out: dict[str, list[str]] = {}
        for r in self.rows:
            missed = r.misses(min_precision, min_recall)
            if missed:
                out[r.family] = missed
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": self.findings_path,
            "truth": self.truth_path,
            "run_id": self.run_id,
            "as_of": self.as_of,
            "families": [_row_dict(r) for r in self.rows],
            "total": _row_dict(self.total),
            **self.extra,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The evaluation as JSON text (``families``: one object per row, plus ``total``)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_markdown(self) -> str:
        """A GitHub-flavoured Markdown table, one line per family and a total line."""
        head = [label for label, _ in _COLUMNS]
        lines = [
            "| " + " | ".join(head) + " |",
            "| " + " | ".join("---" if i < 3 else "---:" for i in range(len(head))) + " |",
        ]
        for r in [*self.rows, self.total]:
            cells = [_md_escape(get(r)) for _, get in _COLUMNS]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


def _row_dict(row: FamilyEvaluation) -> dict[str, Any]:
    d = asdict(row)
    d["detectors"] = list(row.detectors)
    return d


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


_COLUMNS: list[tuple[str, Any]] = [
    ("family", lambda r: r.family),
    ("subject", lambda r: r.subject_type or ""),
    ("status", lambda r: r.status),
    ("truth", lambda r: str(r.truth)),
    ("flagged", lambda r: str(r.subjects)),
    ("TP", lambda r: str(r.tp)),
    ("FP", lambda r: str(r.fp)),
    ("FN", lambda r: str(r.fn)),
    ("look-alike hits", lambda r: str(r.lookalike_hits)),
    ("off-type", lambda r: str(r.off_type)),
    ("precision", lambda r: _fmt(r.precision)),
    ("recall", lambda r: _fmt(r.recall)),
    ("F1", lambda r: _fmt(r.f1)),
]


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _scores(tp: int, fp: int, fn: int) -> tuple[float | None, float | None, float | None]:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    if precision is None or recall is None:
        f1 = None
    elif precision + recall == 0:
        f1 = 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    return precision, recall, f1


def print_table(console: Console, evaluation: Evaluation) -> None:
    """Print the evaluation table; when the output is not a terminal (a log, a pipe)
    rich would squeeze it into 80 columns, so it gets the width it needs."""
    table = render_table(evaluation)
    if not console.is_terminal:
        console = Console(file=console.file, width=max(console.width, 170), highlight=False)
    console.print(table)


def render_table(evaluation: Evaluation) -> Table:
    """The evaluation as a rich table (families not run are dimmed, misses in red)."""
    table = Table(title="Detection against ground truth", show_lines=False)
    for i, (label, _) in enumerate(_COLUMNS):
        table.add_column(label, justify="left" if i < 3 else "right", no_wrap=i == 0)
    for r in evaluation.rows:
        style = "dim" if not r.evaluated else ("red" if r.status == ERROR else None)
        table.add_row(*[get(r) for _, get in _COLUMNS], style=style)
    table.add_section()
    table.add_row(*[get(evaluation.total) for _, get in _COLUMNS], style="bold")
    return table


def _read_truth(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    columns = ["family", "subject_type", "subject_id"]
    rows = pq.read_table(path, columns=columns).to_pylist()
    return [r for r in rows if r["family"] is not None and r["subject_id"] is not None]


def _truth_files(truth: Path) -> tuple[Path, Path]:
    truth = Path(truth)
    if truth.is_file():  # the ground_truth.parquet itself
        return truth, truth.with_name(LOOKALIKES_FILE)
    violations = truth / TRUTH_FILE
    if not violations.is_file():
        raise UsageError(f"{truth} has no {TRUTH_FILE}: is it a synthetic lake (fairwatch synth)?")
    return violations, truth / LOOKALIKES_FILE


def _group(rows: Iterable[Mapping[str, Any]]) -> dict[str, set[Subject]]:
    out: dict[str, set[Subject]] = defaultdict(set)
    for r in rows:
        out[str(r["family"])].add((str(r["subject_type"]), str(r["subject_id"])))
    return out


def _family_status(
    family: str, detectors: list[dict[str, Any]] | None, has_findings: bool
) -> tuple[str, tuple[str, ...], str]:
    if detectors is None:
        return EVALUATED, (), ""
    mine = [d for d in detectors if d.get("family") == family]
    codes = tuple(sorted(str(d.get("code")) for d in mine))
    statuses = [d.get("status") for d in mine]
    if "ok" in statuses:
        bad = [f"{d.get('code')} {d.get('status')}" for d in mine if d.get("status") != "ok"]
        return EVALUATED, codes, ("; ".join(bad) if bad else "")
    if ERROR in statuses:
        failed = [str(d.get("code")) for d in mine if d.get("status") == ERROR]
        return ERROR, codes, "detector error: " + ", ".join(failed)
    if has_findings:  # findings without a detector that ran: score them anyway
        return EVALUATED, codes, "findings present but no detector of the family ran"
    if not mine:
        return NOT_RUN, codes, "no detector of this family in the run"
    missing = sorted({str(t) for d in mine for t in d.get("missing") or []})
    reason = "all detectors skipped"
    return NOT_RUN, codes, reason + (f" (missing: {', '.join(missing)})" if missing else "")


def evaluate(findings: Path, truth: Path) -> Evaluation:
    """Score a run's findings against a synthetic lake's ground truth, per family.

    ``findings`` is a run folder (``findings.jsonl``, and ``run.json`` when present) or a
    ``findings.jsonl`` file; ``truth`` is the synthetic lake folder (or its
    ``ground_truth.parquet``). Families are those of the truth and the findings.
    """
    findings = Path(findings)
    rows = read_findings(findings)
    run = read_run(findings)
    violations_file, lookalikes_file = _truth_files(Path(truth))
    truth_by_family = _group(_read_truth(violations_file))
    lookalikes_by_family = _group(_read_truth(lookalikes_file))

    flagged: dict[str, set[Subject]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    for f in rows:
        family = f.get("family")
        if family is None or f.get("subject_id") is None:
            log.warning("finding %s has no family or subject; ignored", f.get("finding_id"))
            continue
        counts[str(family)] += 1
        flagged[str(family)].add((str(f.get("subject_type")), str(f["subject_id"])))

    detectors: list[dict[str, Any]] | None = None
    if run is not None:
        detectors = [d for d in run.get("detectors") or [] if isinstance(d, dict)]

    result: list[FamilyEvaluation] = []
    for family in sorted(set(truth_by_family) | set(flagged)):
        true_subjects = truth_by_family.get(family, set())
        found = flagged.get(family, set())
        required = FAMILIES.get(family)
        if required is not None:
            scored_types = {required}
            off = {s for s in true_subjects if s[0] != required}
            if off:
                log.warning(
                    "ground truth of %s: %d subject(s) not of type %s (e.g. %s) count as missed",
                    family,
                    len(off),
                    required,
                    sorted(off)[0],
                )
        else:
            scored_types = {t for t, _ in true_subjects} or {t for t, _ in found}
            log.warning(
                "family %s is not in the standard's table; scoring subject types %s",
                family,
                sorted(scored_types),
            )
        on_type = {s for s in found if s[0] in scored_types}
        tp = len(on_type & true_subjects)
        false_pos = on_type - true_subjects
        fn = len(true_subjects - on_type)
        status, codes, note = _family_status(family, detectors, bool(found))
        if status == NOT_RUN:
            precision = recall = f1 = None
        else:
            precision, recall, f1 = _scores(tp, len(false_pos), fn)
        result.append(
            FamilyEvaluation(
                family=family,
                subject_type=required or ",".join(sorted(scored_types)) or None,
                status=status,
                truth=len(true_subjects),
                findings=counts.get(family, 0),
                subjects=len(on_type),
                tp=tp,
                fp=len(false_pos),
                fn=fn,
                lookalike_hits=len(false_pos & lookalikes_by_family.get(family, set())),
                off_type=len(found - on_type),
                precision=precision,
                recall=recall,
                f1=f1,
                detectors=codes,
                note=note,
            )
        )
    evaluation = Evaluation(
        rows=result,
        findings_path=str(findings_file(findings)),
        truth_path=str(violations_file),
        run_id=None if run is None else run.get("run_id"),
        as_of=None if run is None else run.get("as_of"),
    )
    log.info("evaluated %d families against %s", len(result), violations_file)
    return evaluation
