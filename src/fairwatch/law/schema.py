"""The YAML schema of rule packs, as strict pydantic models.

Two kinds of file live in a pack directory ``packs/<jurisdiction>/``:

* ``_citations.yaml``: the citation registry. ``instruments:`` maps a local instrument
  id to its title, issuer, dates and URL; ``citations:`` maps a reusable key such as
  ``cn.aml2022.art24`` to an instrument id, an article, a one-line summary and
  ``verified``.
* every other ``*.yaml`` file is one parameter; its path below the pack directory is
  its dotted name (``cn/aml/merger_thresholds/global_combined_cny.yaml`` is
  ``cn.aml.merger_thresholds.global_combined_cny``).

A parameter's ``values:`` entries each carry a ``citation`` written in one of three
forms: a registry key (``citation: cn.aml2022.art24``); a reference with a note or a
downgrade (``citation: {ref: cn.aml2022.art24, verified: false, note: ...}``); or an
inline citation with every field spelled out.

Every model forbids unknown keys. Dates must be unquoted ISO dates (``2022-08-01``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictStr,
    Tag,
)

from fairwatch.law.model import Kind

#: Units whose values are numbers (or bands / tiers / edges of numbers).
NUMERIC_UNITS = frozenset(
    {
        "cny",
        "eur",
        "usd",
        "pct",
        "ratio",
        "hhi",
        "days",
        "working_days",
        "months",
        "years",
        "count",
    }
)
#: ``fraction`` values are exact fractions written as strings, e.g. ``"2/3"``.
#: ``terms`` values are lists of strings (or a mapping of class -> list of strings).
#: ``text`` values are strings (or a mapping of id -> string).
UNITS = NUMERIC_UNITS | {"fraction", "terms", "text"}

Unit = Literal[
    "cny",
    "eur",
    "usd",
    "pct",
    "ratio",
    "hhi",
    "days",
    "working_days",
    "months",
    "years",
    "count",
    "fraction",
    "terms",
    "text",
]


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValueError(
            f"expected a date written YYYY-MM-DD without quotes, got {value!r}"
            f" ({type(value).__name__})"
        )
    return value


def _as_article(value: Any) -> Any:
    # ``article: 24`` reads as an int; articles are labels, keep them as text
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


YamlDate = Annotated[dt.date, BeforeValidator(_as_date)]
Article = Annotated[StrictStr | None, BeforeValidator(_as_article)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


class InlineCitation(_Strict):
    """A citation written out in full inside a parameter file."""

    instrument: StrictStr
    article: Article
    issuer: StrictStr
    published_on: YamlDate | None
    effective_on: YamlDate
    url: StrictStr | None = None
    verified: StrictBool
    note: StrictStr | None = None
    implements: list[StrictStr] = Field(default_factory=list)


class RefCitation(_Strict):
    """A registry citation with an entry-specific note or downgrade to unverified."""

    ref: StrictStr
    verified: StrictBool | None = None
    note: StrictStr | None = None
    implements: list[StrictStr] = Field(default_factory=list)


def _citation_form(value: Any) -> str:
    if isinstance(value, str):
        return "key"
    if isinstance(value, dict) and "ref" in value:
        return "ref"
    return "inline"


CitationField = Annotated[
    Annotated[StrictStr, Tag("key")]
    | Annotated[RefCitation, Tag("ref")]
    | Annotated[InlineCitation, Tag("inline")],
    Discriminator(_citation_form),
]


class ValueEntry(_Strict):
    """One dated value. ``value: null`` is an explicit repeal."""

    start: YamlDate = Field(alias="from")
    value: Any
    citation: CitationField


class ParameterFile(_Strict):
    """One parameter file."""

    description: StrictStr
    kind: Kind
    unit: Unit
    reviewed_on: YamlDate
    notes: StrictStr | None = None
    values: list[ValueEntry] = Field(min_length=1)


class Instrument(_Strict):
    """A legal or policy instrument in a pack's registry."""

    title: StrictStr
    issuer: StrictStr
    published_on: YamlDate | None
    effective_on: YamlDate
    url: StrictStr | None = None
    note: StrictStr | None = None


class RegistryCitation(_Strict):
    """A reusable citation key: an article of a registered instrument."""

    instrument: StrictStr
    article: Article
    summary: StrictStr
    verified: StrictBool
    url: StrictStr | None = None
    note: StrictStr | None = None


class RegistryFile(_Strict):
    """A pack's ``_citations.yaml`` or one of its ``_citations/<area>.yaml`` files."""

    instruments: dict[StrictStr, Instrument] = {}
    citations: dict[StrictStr, RegistryCitation]


#: Keys allowed at each level, for "misplaced key" hints.
KEY_HOMES: dict[str, str] = {
    **{k: "at the top of a parameter file" for k in ParameterFile.model_fields},
    "from": "inside an entry of `values:`",
    "value": "inside an entry of `values:`",
    "citation": "inside an entry of `values:`",
    **{
        k: "inside an entry's `citation:`"
        for k in (*InlineCitation.model_fields, *RefCitation.model_fields)
        if k not in ParameterFile.model_fields
    },
}
