"""Load rule packs from YAML into a :class:`~fairwatch.law.store.LawStore`.

The loader is strict: a file that breaks the schema (:mod:`fairwatch.law.schema`), has
unsorted or duplicate dates, a value that does not fit its unit, a citation key that
does not resolve, or a value in force before its cited instrument, is a
:class:`~fairwatch.errors.DefinitionError` naming the file and line.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Iterable, Sequence
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fairwatch.errors import DefinitionError
from fairwatch.law.model import Citation, DatedValue, Kind, Parameter
from fairwatch.law.schema import (
    KEY_HOMES,
    NUMERIC_UNITS,
    InlineCitation,
    ParameterFile,
    RefCitation,
    RegistryFile,
)
from fairwatch.law.store import LawStore
from fairwatch.law.yamlpos import LineMap, read_yaml

logger = logging.getLogger(__name__)

#: Where the shipped rule packs live.
PACKS_ROOT = Path(__file__).parent / "packs"
#: The registry file in each pack directory.
REGISTRY_FILE = "_citations.yaml"
REGISTRY_DIR = "_citations"

_SEGMENT = re.compile(r"^[a-z][a-z0-9_]*$")
_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def pack_id(name: str) -> str:
    """Normalise a pack id: ``cn-zj`` and ``cn_zj`` both name the ``cn_zj`` pack."""
    return name.strip().lower().replace("-", "_")


def available_packs(root: Path | None = None) -> list[str]:
    """The pack directories under ``root`` (default: the shipped packs)."""
    base = root or PACKS_ROOT
    return sorted(
        p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    )


def load_store(packs: Sequence[str] | None = None, root: Path | None = None) -> LawStore:
    """Load the named packs (default: all) from ``root`` (default: the shipped packs).

    Pack ids are jurisdictions: ``cn``, ``cn-zj`` (directory and name prefix ``cn_zj``),
    ``eu``, ``us``. Citation keys may only be referenced within the loaded packs.
    """
    base = Path(root) if root is not None else PACKS_ROOT
    if not base.is_dir():
        raise DefinitionError("rule pack root is not a directory", str(base))
    known = available_packs(base)
    wanted = known if packs is None else [pack_id(p) for p in packs]
    for pack in wanted:
        if pack not in known:
            raise DefinitionError(
                f"no rule pack {pack!r}; available: {', '.join(known) or 'none'}", str(base)
            )
    citations: dict[str, Citation] = {}
    for pack in wanted:
        for key, (citation, registry) in _load_registries(base / pack, pack).items():
            if key in citations:
                raise DefinitionError(f"citation key {key!r} defined twice", str(registry))
            citations[key] = citation
    parameters: dict[str, Parameter] = {}
    for pack in wanted:
        pack_dir = base / pack
        for path in sorted(pack_dir.rglob("*.yaml")):
            if any(part.startswith(("_", ".")) for part in path.relative_to(pack_dir).parts):
                continue
            parameter = load_parameter(path, pack_dir, citations)
            parameters[parameter.name] = parameter
    logger.debug(
        "loaded %d parameters and %d citations from packs %s",
        len(parameters),
        len(citations),
        ", ".join(wanted),
    )
    return LawStore(parameters, citations, tuple(wanted))


@cache
def default_store() -> LawStore:
    """All shipped packs, loaded once per process."""
    return load_store()


# --- registry --------------------------------------------------------------------------


def _load_registries(pack_dir: Path, pack: str) -> dict[str, tuple[Citation, Path]]:
    """Citations of a pack: ``_citations.yaml`` plus any ``_citations/*.yaml``.

    The files share one namespace of instruments (an instrument defined in one file can
    be cited from another; defining the same instrument name twice is an error), so each
    area can keep its citations in its own file.
    """
    files = [pack_dir / REGISTRY_FILE] if (pack_dir / REGISTRY_FILE).exists() else []
    files += sorted((pack_dir / REGISTRY_DIR).glob("*.yaml"))
    parsed = []
    instruments: dict[str, Any] = {}
    for path in files:
        data, lines = read_yaml(path)
        model = _validate(RegistryFile, data, lines)
        assert isinstance(model, RegistryFile)
        for name, instrument in model.instruments.items():
            if name in instruments:
                raise DefinitionError(
                    f"instrument {name!r} is defined in more than one citation file",
                    lines.where(data, ("instruments", name)),
                )
            instruments[name] = instrument
        parsed.append((path, data, lines, model))
    out: dict[str, tuple[Citation, Path]] = {}
    for path, data, lines, model in parsed:
        for key, citation in _resolve_registry(data, lines, model, instruments, pack).items():
            if key in out:
                raise DefinitionError(f"citation key {key!r} defined twice", str(path))
            out[key] = (citation, path)
    return out


def _resolve_registry(
    data: Any, lines: Any, model: RegistryFile, instruments: dict[str, Any], pack: str
) -> dict[str, Citation]:
    out: dict[str, Citation] = {}
    for key, entry in model.citations.items():
        where = lines.where(data, ("citations", key))
        _check_key(key, pack, where)
        instrument = instruments.get(entry.instrument)
        if instrument is None:
            raise DefinitionError(
                f"citation {key!r} names unknown instrument {entry.instrument!r}; "
                f"known: {', '.join(sorted(instruments))}",
                lines.where(data, ("citations", key, "instrument")),
            )
        out[key] = Citation(
            instrument=instrument.title,
            article=entry.article,
            issuer=instrument.issuer,
            published_on=instrument.published_on,
            effective_on=instrument.effective_on,
            verified=entry.verified,
            url=entry.url or instrument.url,
            key=key,
            summary=entry.summary,
            note=entry.note,
            instrument_note=instrument.note,
        )
    return out


def _check_key(key: str, pack: str, where: str) -> None:
    parts = key.split(".")
    if len(parts) < 2 or not all(_SEGMENT.match(p) for p in parts):
        raise DefinitionError(
            f"citation key {key!r} must be dotted lower-case segments like cn.pipl.art24", where
        )
    if parts[0] != pack:
        raise DefinitionError(
            f"citation key {key!r} is in pack {pack!r} and must start with '{pack}.'", where
        )


# --- parameters ------------------------------------------------------------------------


def parameter_name(path: Path, pack_dir: Path) -> str:
    """The dotted name of a parameter file: pack directory + path, without ``.yaml``."""
    rel = path.relative_to(pack_dir).with_suffix("")
    return ".".join((pack_dir.name, *rel.parts))


def load_parameter(path: Path, pack_dir: Path, citations: dict[str, Citation]) -> Parameter:
    """Load and check one parameter file against the given citation registry."""
    name = parameter_name(path, pack_dir)
    source = str(path)
    bad = [p for p in name.split(".") if not _SEGMENT.match(p)]
    if bad:
        raise DefinitionError(
            f"name {name!r}: segments must be lower-case letters, digits and _ "
            f"(bad: {', '.join(bad)})",
            source,
        )
    data, lines = read_yaml(path)
    model = _validate(ParameterFile, data, lines)
    assert isinstance(model, ParameterFile)

    entries: list[tuple[Any, Citation, int]] = []
    previous = None
    for index, entry in enumerate(model.values):
        where = lines.where(data, ("values", index, "from"))
        if previous is not None and entry.start <= previous:
            what = "duplicate" if entry.start == previous else "unsorted"
            raise DefinitionError(
                f"{what} dates: `from: {entry.start.isoformat()}` must be later than the "
                f"previous entry's {previous.isoformat()} (list values oldest first)",
                where,
            )
        previous = entry.start
        value_where = lines.where(data, ("values", index, "value"))
        if entry.value is None:
            if index == 0:
                raise DefinitionError(
                    "the first value cannot be a repeal (null): nothing to repeal", value_where
                )
            if model.values[index - 1].value is None:
                raise DefinitionError("repealed twice in a row (two nulls)", value_where)
            value: Any = None
        else:
            try:
                value = check_value(entry.value, model.unit)
            except ValueError as exc:
                raise DefinitionError(
                    f"value does not fit unit {model.unit!r}: {exc}", value_where
                ) from None
        citation = _resolve_citation(
            entry.citation, citations, lines.where(data, ("values", index, "citation"))
        )
        if entry.start < citation.effective_on:
            raise DefinitionError(
                f"value applies from {entry.start.isoformat()}, before its cited instrument "
                f"({citation.label()}) takes effect on {citation.effective_on.isoformat()}",
                where,
            )
        entries.append((value, citation, lines.line_for(data, ("values", index))))

    dated: list[DatedValue] = []
    for index, (value, citation, line) in enumerate(entries):
        start = model.values[index].start
        until = model.values[index + 1].start if index + 1 < len(model.values) else None
        dated.append(
            DatedValue(
                name=name, start=start, value=value, citation=citation, until=until, line=line
            )
        )
    return Parameter(
        name=name,
        description=model.description.strip(),
        kind=Kind(model.kind),
        unit=model.unit,
        reviewed_on=model.reviewed_on,
        values=tuple(dated),
        source=source,
        notes=model.notes.strip() if model.notes else None,
    )


def _resolve_citation(
    raw: str | RefCitation | InlineCitation, citations: dict[str, Citation], where: str
) -> Citation:
    if isinstance(raw, InlineCitation):
        _check_refs(raw.implements, citations, where)
        return Citation(
            instrument=raw.instrument,
            article=raw.article,
            issuer=raw.issuer,
            published_on=raw.published_on,
            effective_on=raw.effective_on,
            verified=raw.verified,
            url=raw.url,
            note=raw.note,
            implements=tuple(raw.implements),
        )
    key = raw if isinstance(raw, str) else raw.ref
    base = _lookup(key, citations, where)
    if isinstance(raw, str):
        return base
    if raw.verified is True and not base.verified:
        raise DefinitionError(
            f"citation {key!r} is unverified in its registry; an entry cannot mark it verified",
            where,
        )
    _check_refs(raw.implements, citations, where)
    note = " ".join(n for n in (base.note, raw.note) if n) or None
    return Citation(
        instrument=base.instrument,
        article=base.article,
        issuer=base.issuer,
        published_on=base.published_on,
        effective_on=base.effective_on,
        verified=base.verified if raw.verified is None else raw.verified,
        url=base.url,
        key=base.key,
        summary=base.summary,
        note=note,
        implements=tuple(raw.implements),
        instrument_note=base.instrument_note,
    )


def _lookup(key: str, citations: dict[str, Citation], where: str) -> Citation:
    try:
        return citations[key]
    except KeyError:
        from difflib import get_close_matches

        close = get_close_matches(key, list(citations), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise DefinitionError(f"unknown citation key {key!r}{hint}", where) from None


def _check_refs(keys: Iterable[str], citations: dict[str, Citation], where: str) -> None:
    for key in keys:
        _lookup(key, citations, where)


# --- values ----------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_value(value: Any, unit: str) -> Any:
    """Check that a (non-null) value fits its unit; return it normalised.

    Numeric units take a number, a list of strictly increasing numbers (edges, tiers), or
    a mapping of names to numbers (a ``min``/``max`` band must have ``min <= max``).
    ``fraction`` takes ``"a/b"`` strings (returned as :class:`fractions.Fraction`) or a
    mapping of them; ``terms`` a list of distinct strings or a mapping of lists; ``text``
    a string or a mapping of strings.
    """
    if unit in NUMERIC_UNITS:
        if _is_number(value):
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError("numbers must be finite")
            return value
        if isinstance(value, list) and value and all(_is_number(v) for v in value):
            if any(b <= a for a, b in itertools.pairwise(value)):
                raise ValueError(f"a list of numbers must be strictly increasing: {value}")
            return value
        if isinstance(value, dict) and value and all(_is_number(v) for v in value.values()):
            _check_mapping_keys(value)
            if "min" in value and "max" in value and value["min"] > value["max"]:
                raise ValueError(f"band min {value['min']} is above max {value['max']}")
            return value
        raise ValueError(
            f"expected a number, a list of numbers or a mapping to numbers, got {value!r}"
        )
    if unit == "fraction":
        if isinstance(value, str):
            return _fraction(value)
        if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
            _check_mapping_keys(value)
            return {k: _fraction(v) for k, v in value.items()}
        raise ValueError(f'expected a fraction string like "2/3", got {value!r}')
    if unit == "terms":
        if isinstance(value, list):
            _check_terms(value)
            return value
        if isinstance(value, dict) and value:
            _check_mapping_keys(value)
            for terms in value.values():
                if not isinstance(terms, list):
                    raise ValueError(f"expected a list of terms per key, got {terms!r}")
                _check_terms(terms)
            return value
        raise ValueError(f"expected a list of terms, got {value!r}")
    if unit == "text":
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
            _check_mapping_keys(value)
            return value
        raise ValueError(f"expected text or a mapping of texts, got {value!r}")
    raise ValueError(f"unknown unit {unit!r}")  # pragma: no cover - schema prevents it


def _check_mapping_keys(value: dict[Any, Any]) -> None:
    bad = [k for k in value if not isinstance(k, str) or not _SEGMENT.match(k)]
    if bad:
        raise ValueError(f"mapping keys must be lower-case identifiers, got {bad}")


def _check_terms(terms: list[Any]) -> None:
    if not terms or not all(isinstance(t, str) and t.strip() for t in terms):
        raise ValueError(f"expected a non-empty list of non-empty strings, got {terms!r}")
    if len(set(terms)) != len(terms):
        dupes = sorted({t for t in terms if terms.count(t) > 1})
        raise ValueError(f"duplicate terms: {dupes}")


def _fraction(text: str) -> Fraction:
    match = _FRACTION.match(text)
    if not match or int(match.group(2)) == 0:
        raise ValueError(f'expected a fraction like "2/3", got {text!r}')
    return Fraction(int(match.group(1)), int(match.group(2)))


# --- pydantic errors with lines ----------------------------------------------------------


def _validate(model: type[ParameterFile] | type[RegistryFile], data: Any, lines: LineMap) -> Any:
    if not isinstance(data, dict):
        raise DefinitionError(
            f"expected a mapping at the top of the file, got {type(data).__name__}",
            f"{lines.source}:1",
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems: list[tuple[int, str]] = []
        for error in exc.errors():
            loc = error["loc"]
            line = lines.line_for(data, loc)
            shown = _show_loc(loc)
            if error["type"] == "extra_forbidden":
                key = str(loc[-1])
                home = KEY_HOMES.get(key)
                message = f"unknown key `{key}`" + (
                    f" here (misplaced? `{key}` belongs {home})" if home else ""
                )
            elif error["type"] == "missing":
                message = f"missing required key `{loc[-1]}`"
                if len(loc) > 1:
                    message += f" in {_show_loc(loc[:-1])}"
            else:
                message = f"{shown}: {error['msg']}"
            problems.append((line, message))
        problems.sort(key=lambda p: p[0])
        first = problems[0][0]
        detail = "; ".join(f"line {line}: {msg}" for line, msg in problems)
        raise DefinitionError(detail, f"{lines.source}:{first}") from None


def _show_loc(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if part in ("key", "ref", "inline"):
            continue  # union tags pydantic inserts
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"
