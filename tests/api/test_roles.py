"""The role x endpoint matrix: every API route, called as every role and anonymously.

A role that ``PERMISSIONS`` allows for the route's operation never gets 401 or 403
(its request is valid, so it reaches the service, which checks the same matrix: a
route declaring the wrong operation shows up here as a 403). Any other signed-in role
gets 403; an anonymous caller gets 401 unless the public may use the route.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fairwatch.api import create_app, route_operations
from fairwatch.api.deps import OPERATION_KEY, ROLES_KEY
from fairwatch.cases.db import open_store
from fairwatch.cases.service import PERMISSIONS, ROLES
from tests.api.conftest import PASSWORD, World, build_world

#: routes anyone may call (signing in and out, who am I, health)
OPEN = {
    ("POST", "/api/session"),
    ("DELETE", "/api/session"),
    ("GET", "/api/me"),
    ("GET", "/api/health"),
}

_FINDING = {
    "finding_id": "f_roles",
    "rule": "FW101",
    "family": "pricing.personalized_discrimination",
    "subject_type": "sku",
    "subject_id": "s_roles",
    "platform_id": "p0",
    "period_start": "2025-03-01",
    "period_end": "2025-03-31",
    "severity": "low",
    "score": 0.2,
}

#: a valid request body per route that takes one (JSON unless multipart)
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/session"): {"username": "analyst", "password": PASSWORD},
    ("POST", "/api/findings"): {"run_id": "run-roles", "findings": [_FINDING]},
    ("POST", "/api/alerts/{alert_id}/triage"): {"action": "dismiss", "reason": "duplicate"},
    ("POST", "/api/alerts/{alert_id}/assign"): {"user_id": 1},
    ("POST", "/api/leads/{lead_id}/assign"): {"user_id": 1},
    ("POST", "/api/leads/{lead_id}/verify"): {"note": "ok"},
    ("POST", "/api/leads/{lead_id}/close"): {"reason": "no case"},
    ("POST", "/api/leads/{lead_id}/case"): {"sector": "retail"},
    ("POST", "/api/cases/{case_id}/joint-bureaus"): {"bureau_id": "HZAMR"},
    ("POST", "/api/cases/{case_id}/tasks"): {"title": "a task"},
    ("POST", "/api/cases/{case_id}/decision"): {"kind": "warning"},
    ("POST", "/api/cases/{case_id}/rectification"): {"text": "fix"},
    ("POST", "/api/cases/{case_id}/rectification/report"): {"report": "fixed"},
    ("POST", "/api/cases/{case_id}/review"): {"as_of": "2025-07-01"},
    ("POST", "/api/cases/{case_id}/close"): {"note": ""},
    ("POST", "/api/complaints"): {"complainant": "anon-1234", "category": "c", "text": "t"},
    ("POST", "/api/webhooks"): {"url": "https://example.test/hook"},
}
MULTIPART: dict[tuple[str, str], list[tuple[str, Any]]] = {
    ("POST", "/api/cases/{case_id}/evidence"): [("file", ("e.txt", b"evidence", "text/plain"))],
    ("POST", "/api/platform/batches"): [("files", ("platforms.csv", b"platform_id\n", "text/csv"))],
}
PATH_VALUES = {"entity_id": "p0"}  # ids default to 1


@pytest.fixture(scope="module")
def matrix_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("roles")
    store = open_store(f"sqlite:///{base / 'cases.db'}", base / "evidence")
    (base / "lake").mkdir()
    try:
        yield build_world(store, base / "lake")
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def matrix_app(matrix_world: World) -> FastAPI:
    return create_app(
        matrix_world.store,
        matrix_world.service,
        lake_dir=matrix_world.lake,
        session_secret="roles-session-secret-0123456789",
        webhook_interval=None,
    )


def _operations() -> dict[tuple[str, str], str | None]:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/routes.db", Path(tmp) / "evidence")
        try:
            return route_operations(create_app(store, webhook_interval=None))
        finally:
            store.dispose()


OPERATIONS = _operations()
ROUTES = sorted(OPERATIONS)
CALLERS = [*ROLES, "anonymous"]


def test_every_route_declares_its_operation(matrix_app: FastAPI) -> None:
    doc = matrix_app.openapi()
    seen_operations = set()
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            key = (method.upper(), path)
            if key in OPEN:
                assert OPERATION_KEY not in op and op[ROLES_KEY] == sorted(ROLES), key
                continue
            operation = op[OPERATION_KEY]
            assert operation in PERMISSIONS, key
            assert op[ROLES_KEY] == sorted(PERMISSIONS[operation]), key
            seen_operations.add(operation)
    assert seen_operations == set(PERMISSIONS), "operations without a route"
    assert {k for k, v in OPERATIONS.items() if v is None} == OPEN


def test_bodies_cover_every_route_with_a_body(matrix_app: FastAPI) -> None:
    doc = matrix_app.openapi()
    with_body = {
        (m.upper(), p)
        for p, ms in doc["paths"].items()
        for m, op in ms.items()
        if "requestBody" in op
    }
    assert with_body == set(BODIES) | set(MULTIPART)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_role_matrix(
    matrix_app: FastAPI, matrix_world: World, method: str, path: str, caller: str
) -> None:
    operation = OPERATIONS[(method, path)]
    url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "1"), path)
    headers = {"Idempotency-Key": f"roles-{caller}-{method}-{path}"}
    if caller != "anonymous":
        headers.update(matrix_world.auth(caller))
    kwargs: dict[str, Any] = {"headers": headers}
    if (method, path) in BODIES:
        kwargs["json"] = BODIES[(method, path)]
    if (method, path) in MULTIPART:
        kwargs["files"] = [(n, (f, io.BytesIO(c), t)) for n, (f, c, t) in MULTIPART[(method, path)]]
    with TestClient(matrix_app) as client:
        response = client.request(method, url, **kwargs)
    role = "public" if caller == "anonymous" else caller
    allowed = operation is None or role in PERMISSIONS[operation]
    if allowed:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
        # the request was valid, so it reached the service (which checks the role again)
        if response.status_code == 422:
            assert response.json()["error"] != "invalid_request", response.text
    elif caller == "anonymous":
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "not_authenticated"
    else:
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "forbidden"


def test_matrix_is_not_vacuous() -> None:
    # every protected route refuses someone: the matrix tests both sides
    for key, operation in OPERATIONS.items():
        if operation is not None and operation != "read_disclosures":
            assert set(ROLES) - PERMISSIONS[operation], key
