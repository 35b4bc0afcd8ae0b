"""Every legal number a detector, screen or calculator uses resolves to a cited parameter.

The users of parameters are the registered detectors (each class's ``parameters``) and
the penalty and credit modules (their ``PARAMETERS``). Each name must exist in the law
store, be in force at some date, and every dated value in force must carry a citation
that resolves. The calculators must read parameters only through their helpers
``_entry`` and ``_meta`` (which refuse undeclared names), and their source may hold no
numeric literal beyond 0, 1, 2, 100 (percent) and 10 / 1000 (unit conversions): a legal
number in code fails here, listed.
"""

from __future__ import annotations

import ast
import inspect
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

from fairwatch.detectors.registry import registry
from fairwatch.errors import DefinitionError
from fairwatch.law import LawStore, default_store
from fairwatch.law import credit as credit_module
from fairwatch.law import penalty as penalty_module

CALCULATORS: tuple[ModuleType, ...] = (penalty_module, credit_module)
ALLOWED_LITERALS = {0, 1, 2, 100, 10, 1000}
#: Store methods that read a parameter; calculators call them only inside the helpers.
READERS = {"value", "entry", "parameter"}
#: The helpers: ``_entry`` (dated values) and ``_meta`` (unit, source); both refuse
#: names missing from the module's PARAMETERS.
HELPERS = ("_entry", "_meta")


def _users() -> list[tuple[str, str]]:
    users: list[tuple[str, str]] = []
    for detector in registry():
        users.extend((f"detector {detector.code}", name) for name in detector.parameters)
    for module in CALCULATORS:
        users.extend((module.__name__, name) for name in module.PARAMETERS)
    return users


USERS = _users()


@pytest.fixture(scope="module")
def store() -> LawStore:
    return default_store()


def test_there_are_users_of_each_kind() -> None:
    kinds = {user.split()[0] for user, _ in USERS}
    assert kinds == {"detector", "fairwatch.law.penalty", "fairwatch.law.credit"}


@pytest.mark.parametrize(("user", "name"), USERS, ids=[f"{u}:{n}" for u, n in USERS])
def test_parameter_resolves_with_citation(user: str, name: str, store: LawStore) -> None:
    assert store.has(name), f"{user} uses {name!r}, which is not in the law store"
    parameter = store.parameter(name)
    in_force = [dated for dated in parameter.values if not dated.repealed]
    assert in_force, f"{name} (used by {user}) is never in force"
    for dated in in_force:
        entry = store.entry(name, dated.start)
        citation = entry.citation
        assert citation.instrument and citation.issuer, name
        assert citation.label(), name
        assert citation.effective_on <= dated.start, name
        if citation.key is not None:
            assert store.has_citation(citation.key), (name, citation.key)
        for key in citation.implements:
            assert store.has_citation(key), (name, key)


@pytest.mark.parametrize("module", CALCULATORS, ids=lambda m: m.__name__)
def test_parameters_are_declared_once(module: ModuleType) -> None:
    names = list(module.PARAMETERS)
    assert len(names) == len(set(names)), "duplicate names in PARAMETERS"


def _tree(module: ModuleType) -> ast.Module:
    return ast.parse(Path(inspect.getfile(module)).read_text(encoding="utf-8"))


@pytest.mark.parametrize("module", CALCULATORS, ids=lambda m: m.__name__)
def test_no_legal_numbers_in_code(module: ModuleType) -> None:
    found = []
    for node in ast.walk(_tree(module)):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int | float | complex)
            and not isinstance(node.value, bool)
            and node.value not in ALLOWED_LITERALS
        ):
            found.append(f"line {node.lineno}: {node.value!r}")
    assert not found, (
        f"{module.__name__} holds numeric literals (legal numbers belong in the law store):\n"
        + "\n".join(found)
    )


@pytest.mark.parametrize("module", CALCULATORS, ids=lambda m: m.__name__)
def test_parameters_are_read_through_the_helpers(module: ModuleType) -> None:
    """Store reads (``.value`` / ``.entry`` / ``.parameter``) happen only in the helpers."""
    offending = []
    for function in ast.walk(_tree(module)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if function.name in HELPERS:
            continue
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in READERS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("store", "law")
            ):
                offending.append(f"{function.name} line {node.lineno}: .{node.func.attr}(...)")
    assert not offending, "parameters read outside the helpers:\n" + "\n".join(offending)


@pytest.mark.parametrize("module", CALCULATORS, ids=lambda m: m.__name__)
def test_helpers_refuse_undeclared_names(module: ModuleType, store: LawStore) -> None:
    undeclared = next(n for n in store.names() if n not in module.PARAMETERS)
    for helper in HELPERS:
        function = getattr(module, helper)
        args = (store, undeclared) if helper == "_meta" else (store, undeclared, date.today())
        with pytest.raises(DefinitionError, match="PARAMETERS"):
            function(*args)


def test_literal_scan_catches_a_legal_number() -> None:
    """The scan itself works: a fine cap typed into code is reported."""
    tree = ast.parse("CAP = 500_000\nRATE = 0.1\nok = 100\n")
    bad = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, int | float)
        and n.value not in ALLOWED_LITERALS
    ]
    assert bad == [500_000, 0.1]
