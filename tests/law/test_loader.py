"""The strict loader: every broken file is a DefinitionError naming the file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fairwatch.errors import DefinitionError
from fairwatch.law import load_store

REGISTRY = """\
instruments:
  law:
    title: Test Law
    issuer: Test Parliament
    published_on: 2019-12-01
    effective_on: 2020-01-01
    url: https://example.org/test-law
citations:
  cn.law.art1:
    instrument: law
    article: 1
    summary: Article one.
    verified: true
  cn.law.art2:
    instrument: law
    article: "2"
    summary: Article two, unverified.
    verified: false
"""

GOOD = """\
description: A test threshold.
kind: statute
unit: cny
reviewed_on: 2026-01-01
values:
  - from: 2020-01-01
    value: 100
    citation: cn.law.art1
  - from: 2021-01-01
    value: 200
    citation:
      ref: cn.law.art2
      note: Raised.
  - from: 2022-01-01
    value: null
    citation:
      instrument: Repeal Act
      article: null
      issuer: Test Parliament
      published_on: null
      effective_on: 2022-01-01
      verified: true
"""


def make_pack(
    root: Path, text: str, name: str = "area/threshold", registry: str = REGISTRY
) -> Path:
    pack = root / "cn"
    (pack / name).parent.mkdir(parents=True, exist_ok=True)
    (pack / "_citations.yaml").write_text(registry, encoding="utf-8")
    path = pack / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(textwrap.dedent(text).splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in text")


def load_error(tmp_path: Path, text: str, **kwargs: str) -> tuple[str, Path]:
    path = make_pack(tmp_path, text, **kwargs)
    with pytest.raises(DefinitionError) as info:
        load_store(root=tmp_path)
    return str(info.value), path


def test_good_pack_loads(tmp_path: Path) -> None:
    make_pack(tmp_path, GOOD)
    store = load_store(root=tmp_path)
    assert store.names() == ["cn.area.threshold"]
    parameter = store.parameter("cn.area.threshold")
    assert [d.start.year for d in parameter.values] == [2020, 2021, 2022]
    assert parameter.values[0].citation.article == "1"  # int article read as text
    assert parameter.values[1].citation.note == "Raised."
    assert parameter.values[2].repealed
    assert parameter.values[0].line == 6


def test_unknown_key(tmp_path: Path) -> None:
    text = GOOD.replace("unit: cny\n", "unit: cny\nunits: cny\n")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, 'units:')}" in message
    assert "unknown key `units`" in message


def test_misplaced_key(tmp_path: Path) -> None:
    text = GOOD.replace("kind: statute\n", "kind: statute\ncitation: cn.law.art1\n")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, 'citation: cn.law.art1')}" in message
    assert "belongs inside an entry of `values:`" in message


def test_misplaced_key_inside_entry(tmp_path: Path) -> None:
    text = GOOD.replace("    value: 100\n", "    value: 100\n    reviewed_on: 2026-01-01\n")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, '    reviewed_on')}" in message
    assert "belongs at the top of a parameter file" in message


def test_bad_date(tmp_path: Path) -> None:
    text = GOOD.replace("from: 2021-01-01", "from: 2021-02-30")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, '2021-02-30')}" in message
    assert "invalid date" in message


def test_quoted_date_is_rejected(tmp_path: Path) -> None:
    text = GOOD.replace("from: 2021-01-01", 'from: "2021-01-01"')
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, '2021-01-01')}" in message
    assert "YYYY-MM-DD" in message


def test_integer_date_is_rejected(tmp_path: Path) -> None:
    text = GOOD.replace("reviewed_on: 2026-01-01", "reviewed_on: 20260101")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, 'reviewed_on')}" in message


def test_unsorted_dates(tmp_path: Path) -> None:
    text = GOOD.replace("from: 2021-01-01", "from: 2019-06-01")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, '2019-06-01')}" in message
    assert "unsorted dates" in message


def test_duplicate_dates(tmp_path: Path) -> None:
    text = GOOD.replace("from: 2021-01-01", "from: 2020-01-01")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, 'from: 2020-01-01', 2)}" in message
    assert "duplicate dates" in message


def test_missing_citation(tmp_path: Path) -> None:
    text = GOOD.replace("    citation: cn.law.art1\n", "")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, 'from: 2020-01-01')}" in message
    assert "missing required key `citation`" in message


def test_missing_citation_field(tmp_path: Path) -> None:
    text = GOOD.replace("      issuer: Test Parliament\n", "")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, 'instrument: Repeal Act') - 1}" in message
    assert "missing required key `issuer`" in message


def test_unknown_citation_key(tmp_path: Path) -> None:
    text = GOOD.replace("citation: cn.law.art1", "citation: cn.law.art9")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, 'cn.law.art9')}" in message
    assert "unknown citation key 'cn.law.art9'" in message
    assert "did you mean" in message


def test_cannot_upgrade_unverified_citation(tmp_path: Path) -> None:
    text = GOOD.replace("      note: Raised.\n", "      verified: true\n")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, 'ref: cn.law.art2') - 1}" in message
    assert "cannot mark it verified" in message


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = GOOD.replace("kind: statute\n", "kind: statute\nkind: policy\n")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, 'kind: policy')}" in message
    assert "duplicate key 'kind'" in message


def test_value_before_its_instrument(tmp_path: Path) -> None:
    text = GOOD.replace("from: 2020-01-01", "from: 2019-01-01")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, '2019-01-01')}" in message
    assert "before its cited instrument" in message


def test_value_must_fit_unit(tmp_path: Path) -> None:
    text = GOOD.replace("value: 200", "value: [b, a]")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, 'value: [b, a]')}" in message
    assert "does not fit unit 'cny'" in message


def test_yaml_boolean_is_not_a_value(tmp_path: Path) -> None:
    text = GOOD.replace("value: 200", "value: yes")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, 'value: yes')}" in message


def test_band_min_above_max(tmp_path: Path) -> None:
    text = GOOD.replace("value: 200", "value: {min: 5, max: 1}")
    message, _ = load_error(tmp_path, text)
    assert "band min 5 is above max 1" in message


def test_first_value_cannot_be_repeal(tmp_path: Path) -> None:
    text = GOOD.replace("value: 100", "value: null")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, 'value: null')}" in message
    assert "first value cannot be a repeal" in message


def test_unknown_unit(tmp_path: Path) -> None:
    text = GOOD.replace("unit: cny", "unit: dollars")
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, 'unit: dollars')}" in message


def test_empty_values(tmp_path: Path) -> None:
    text = GOOD.split("values:")[0] + "values: []\n"
    message, path = load_error(tmp_path, text)
    assert f"{path}:{line_of(text, 'values: []')}" in message


def test_bad_name(tmp_path: Path) -> None:
    message, path = load_error(tmp_path, GOOD, name="area/Bad-Name")
    assert str(path) in message
    assert "Bad-Name" in message


def test_invalid_yaml(tmp_path: Path) -> None:
    text = GOOD.replace("kind: statute", "kind: [statute")
    message, path = load_error(tmp_path, text)
    assert str(path) in message
    assert "invalid YAML" in message


def test_registry_unknown_instrument(tmp_path: Path) -> None:
    registry = REGISTRY.replace(
        "    instrument: law\n    article: 1", "    instrument: lwa\n    article: 1"
    )
    message, _ = load_error(tmp_path, GOOD, registry=registry)
    registry_path = tmp_path / "cn" / "_citations.yaml"
    assert f"{registry_path}:{line_of(registry, 'instrument: lwa')}" in message
    assert "unknown instrument 'lwa'" in message


def test_registry_key_must_carry_pack_prefix(tmp_path: Path) -> None:
    registry = REGISTRY.replace("cn.law.art2:", "eu.law.art2:")
    message, _ = load_error(tmp_path, GOOD.replace("cn.law.art2", "cn.law.art1"), registry=registry)
    assert "must start with 'cn.'" in message


def test_registry_unknown_key(tmp_path: Path) -> None:
    registry = REGISTRY.replace(
        "    summary: Article one.\n", "    summary: Article one.\n    sumary: x\n"
    )
    message, _ = load_error(tmp_path, GOOD, registry=registry)
    registry_path = tmp_path / "cn" / "_citations.yaml"
    assert f"{registry_path}:{line_of(registry, 'sumary')}" in message


def test_unknown_pack(tmp_path: Path) -> None:
    make_pack(tmp_path, GOOD)
    with pytest.raises(DefinitionError, match="no rule pack 'xx'"):
        load_store(["xx"], root=tmp_path)


def test_files_starting_with_underscore_are_not_parameters(tmp_path: Path) -> None:
    make_pack(tmp_path, GOOD)
    (tmp_path / "cn" / "area" / "_draft.yaml").write_text("not: a parameter\n")
    assert load_store(root=tmp_path).names() == ["cn.area.threshold"]
