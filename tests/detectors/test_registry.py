"""The registry validates detectors at load; docs are generated from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from fairwatch.detectors.base import SECTIONS, Detector
from fairwatch.detectors.docs import render_catalogue
from fairwatch.detectors.families import FAMILIES
from fairwatch.detectors.registry import Registry, registry
from fairwatch.errors import DefinitionError, UsageError
from fairwatch.law import default_store

ROOT = Path(__file__).resolve().parents[2]
FULL_DOC = "S.\n\n" + "\n".join(f"**{s}**\nx" for s in SECTIONS)


def test_registry_loads_valid_detectors() -> None:
    reg = registry()
    assert {"FW101", "FW102"} <= set(reg.codes())
    law = default_store()
    for cls in reg:
        assert cls.family in FAMILIES
        assert all(cls.sections()[s] for s in SECTIONS)
        assert all(law.has_citation(k) for k in cls.legal_basis)
        assert all(law.has(p) for p in cls.parameters)


def test_select_by_prefix_family_and_ignore() -> None:
    reg = registry()
    assert [c.code for c in reg.select(["FW10"])] == [
        c for c in reg.codes() if c.startswith("FW10")
    ]
    assert [c.code for c in reg.select(["pricing.fictitious_original_price"])] == ["FW102"]
    assert "FW101" not in [c.code for c in reg.select([], ["FW101"])]
    with pytest.raises(UsageError):
        reg.select(["FW999"])


def test_broken_detectors_are_load_errors() -> None:
    with pytest.raises(DefinitionError, match="lacks section"):
        type(
            "NoDocs",
            (Detector,),
            {
                "__doc__": "Summary only.",
                "code": "FW900",
                "name": "pricing.x",
                "family": "pricing.collusion",
                "legal_basis": ("cn.aml2022.art22",),
                "inputs": {},
            },
        )
    with pytest.raises(DefinitionError, match="not a family"):
        type(
            "BadFamily",
            (Detector,),
            {
                "__doc__": FULL_DOC,
                "code": "FW901",
                "name": "pricing.x",
                "family": "pricing.nonsense",
                "legal_basis": ("cn.aml2022.art22",),
                "inputs": {},
            },
        )
    with pytest.raises(DefinitionError, match="code"):
        type(
            "BadCode",
            (Detector,),
            {
                "__doc__": "S.",
                "code": "X1",
                "name": "a.b",
                "family": "pricing.collusion",
                "legal_basis": ("k",),
                "inputs": {},
            },
        )


def test_a_cost_hint_must_be_a_positive_number() -> None:
    attrs = {
        "__doc__": FULL_DOC,
        "code": "FW902",
        "name": "pricing.x",
        "family": "pricing.collusion",
        "legal_basis": ("cn.aml2022.art22",),
        "inputs": {},
    }
    for cost in (0, -1.5, "8", True):
        with pytest.raises(DefinitionError, match="cost"):
            type("BadCost", (Detector,), {**attrs, "cost": cost})
    assert type("GoodCost", (Detector,), {**attrs, "cost": 2.5}).cost == 2.5


def test_duplicate_codes_are_rejected() -> None:
    cls = registry().get("FW101")
    with pytest.raises(DefinitionError, match="used twice"):
        Registry([cls, cls])


def test_undeclared_parameter_read_is_an_error() -> None:
    from datetime import date

    from fairwatch.detectors.base import Context

    detector = registry().get("FW101")()
    ctx = Context(engine=None, as_of=date(2025, 1, 1), run_id="t", law=default_store())  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="without declaring"):
        ctx.for_detector(detector).param("cn.price.original_price_lookback_days")


def test_catalogue_is_generated_and_current() -> None:
    text = render_catalogue()
    for cls in registry():
        assert f"## {cls.code} `{cls.name}`" in text
    committed = (ROOT / "docs" / "reference" / "detectors.md").read_text(encoding="utf-8")
    assert committed == text, (
        "regenerate: python -m fairwatch.detectors.docs > docs/reference/detectors.md"
    )
