"""A pack's citations may be split into _citations.yaml and _citations/<area>.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from fairwatch.errors import DefinitionError
from fairwatch.law import load_store

MAIN = """\
instruments:
  price_law:
    title: Price Law of the PRC
    issuer: NPC Standing Committee
    published_on: 1997-12-29
    effective_on: 1998-05-01
citations:
  cn.price_law.art14:
    instrument: price_law
    article: "14"
    summary: Unfair price conduct.
    verified: true
"""

AREA = """\
citations:
  cn.price_law.art13:
    instrument: price_law
    article: "13"
    summary: Clearly marked prices.
    verified: true
"""

PARAM = """\
description: A test parameter.
kind: statute
unit: days
reviewed_on: 2026-11-24
values:
  - from: 2020-01-01
    value: 7
    citation: cn.price_law.art13
"""


def _pack(root: Path, area: str = AREA) -> Path:
    pack = root / "cn"
    (pack / "_citations").mkdir(parents=True)
    (pack / "_citations.yaml").write_text(MAIN, encoding="utf-8")
    (pack / "_citations" / "pricing.yaml").write_text(area, encoding="utf-8")
    (pack / "demo").mkdir()
    (pack / "demo" / "days.yaml").write_text(PARAM, encoding="utf-8")
    return root


def test_area_files_share_the_packs_instruments(tmp_path: Path) -> None:
    store = load_store(root=_pack(tmp_path))
    assert store.citation("cn.price_law.art13").instrument == "Price Law of the PRC"
    assert store.has_citation("cn.price_law.art14")
    assert store.entry("cn.demo.days", __import__("datetime").date(2021, 1, 1)).value == 7


def test_an_instrument_defined_twice_is_an_error(tmp_path: Path) -> None:
    duplicate = MAIN.replace("cn.price_law.art14", "cn.price_law.art15")
    with pytest.raises(DefinitionError, match="more than one citation file"):
        load_store(root=_pack(tmp_path, duplicate))


def test_a_key_defined_twice_is_an_error(tmp_path: Path) -> None:
    again = AREA.replace("art13:", "art14:").replace('"13"', '"14"')
    with pytest.raises(DefinitionError, match="defined twice"):
        load_store(root=_pack(tmp_path, again))
