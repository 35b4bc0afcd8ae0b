"""The exception hierarchy: one root, a subclass per kind of failure.

Domain code raises these; the CLI (and later the API) maps them to exit codes or
HTTP statuses in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


class FairwatchError(Exception):
    """Root of every error fairwatch raises on purpose."""


class DefinitionError(FairwatchError):
    """A broken definition shipped with or loaded into fairwatch.

    An invalid detector, schema or parameter file. ``source`` names the file (and
    line, where known) so the reader can go straight to it.
    """

    def __init__(self, message: str, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class ParameterLookupError(FairwatchError):
    """A legal parameter asked for at a date where it is not in force."""


class EngineError(FairwatchError):
    """An engine cannot be started or cannot run an operation."""


class AuthorizationError(FairwatchError):
    """The caller's role does not allow the operation."""


class UsageError(FairwatchError):
    """A command was called with arguments that cannot work (bad path, unknown code...)."""


@dataclass(frozen=True)
class Problem:
    """One broken rule in a batch of reported data.

    ``rows`` are 1-based row numbers within the table as read (header excluded), at
    most a handful: the first offending rows. ``count`` is how many rows break it.
    """

    table: str
    column: str | None
    rule: str
    message: str
    rows: tuple[int, ...] = ()
    count: int = 0
    samples: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        where = self.table + (f".{self.column}" if self.column else "")
        rows = ""
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows)
            more = f" (+{self.count - len(self.rows)} more)" if self.count > len(self.rows) else ""
            rows = f" rows {shown}{more}"
        samples = f" e.g. {', '.join(repr(s) for s in self.samples)}" if self.samples else ""
        return f"{where}{rows}: [{self.rule}] {self.message}{samples}"


class DataError(FairwatchError):
    """Reported data that cannot be accepted."""


class InvalidBatch(DataError):
    """A batch broke the reporting standard; nothing of it was stored."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"batch {source} rejected" if source else "batch rejected"
        lines = [f"{head}: {len(self.problems)} problem(s); nothing was stored"]
        lines += [f"  - {p}" for p in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"  ... and {len(self.problems) - 50} more")
        super().__init__("\n".join(lines))
