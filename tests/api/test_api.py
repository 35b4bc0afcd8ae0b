"""The API's main flows over HTTP, on SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from fairwatch.api import create_app, deliver_outbox, verify_signature
from fairwatch.api.sessions import COOKIE_NAME
from fairwatch.cases.models import DataBatch, Outbox
from tests.api.conftest import PASSWORD, World
from tests.helpers import reference_tables


def parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


# ---------------------------------------------------------------------- sessions


def test_session_cookie_signs_in_and_out(client: TestClient) -> None:
    bad = client.post("/api/session", json={"username": "supervisor", "password": "wrong pass"})
    assert bad.status_code == 401
    assert bad.json()["error"] == "not_authenticated"
    assert COOKIE_NAME not in bad.cookies

    signed = client.post("/api/session", json={"username": "supervisor", "password": PASSWORD})
    me = ok(signed)
    assert me["role"] == "supervisor" and me["authenticated"]
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert PASSWORD not in cookie

    # the client keeps the cookie: the session works on protected routes
    assert ok(client.get("/api/me"))["username"] == "supervisor"
    assert client.get("/api/audit/verify").status_code == 200
    # changes with the cookie must come from the same origin
    cross = client.post(
        "/api/webhooks", json={"url": "http://x.test/h"}, headers={"Origin": "http://evil.test"}
    )
    assert cross.status_code == 403
    same = client.post(
        "/api/webhooks", json={"url": "http://x.test/h"}, headers={"Origin": "http://testserver"}
    )
    assert same.status_code == 201

    assert client.delete("/api/session").status_code == 204
    assert ok(client.get("/api/me"))["authenticated"] is False
    assert client.get("/api/audit/verify").status_code == 401


def test_forged_or_expired_cookie_is_the_public(client: TestClient, app: FastAPI) -> None:
    signer = app.state.fairwatch.signer
    good = signer.dumps(3)
    payload, _, sig = good.partition(".")
    client.cookies.set(COOKIE_NAME, payload + "." + sig[::-1])
    assert ok(client.get("/api/me"))["authenticated"] is False
    client.cookies.set(COOKIE_NAME, signer.dumps(3, now=0))  # expired long ago
    assert ok(client.get("/api/me"))["authenticated"] is False
    client.cookies.set(COOKIE_NAME, good)
    assert ok(client.get("/api/me"))["username"] == "supervisor"


def test_bad_tokens_are_401_not_the_public(client: TestClient) -> None:
    for header in ("Bearer fw_nope", "Basic abc", "Bearer"):
        response = client.get("/api/disclosures", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/disclosures").status_code == 200  # no credentials: the public


# ---------------------------------------------------------------------- the closed loop


def test_alert_to_closed_case(client: TestClient, world: World) -> None:
    analyst, officer = world.auth("analyst"), world.auth("case_officer")
    supervisor, platform = world.auth("supervisor"), world.auth("platform")
    alerts = ok(client.get("/api/alerts", headers=analyst))
    assert [a["id"] for a in alerts] == sorted(world.alerts, reverse=True)  # by score
    alert_id = world.alerts[0]
    detail = ok(client.get(f"/api/alerts/{alert_id}", headers=officer))
    assert detail["findings"][0]["finding_id"] == "f1"

    triaged = ok(
        client.post(f"/api/alerts/{alert_id}/triage", json={"action": "lead"}, headers=analyst)
    )
    lead = triaged["lead"]
    assert triaged["outcome"] == "lead" and lead["bureau_id"] == "ZJAMR"
    again = client.post(f"/api/alerts/{alert_id}/triage", json={"action": "lead"}, headers=analyst)
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    dismiss = client.post(
        f"/api/alerts/{world.alerts[2]}/triage", json={"action": "dismiss"}, headers=analyst
    )
    assert dismiss.status_code == 422  # a dismissal needs a reason

    ok(client.post(f"/api/leads/{lead['id']}/verify", json={"note": "checked"}, headers=officer))
    case = ok(
        client.post(f"/api/leads/{lead['id']}/case", json={"sector": "retail"}, headers=officer),
        201,
    )
    assert case["status"] == "pending_approval"
    opened = ok(client.post(f"/api/cases/{case['id']}/approve", headers=supervisor))
    assert opened["status"] == "open" and opened["number"].startswith("ZJAMR-2025-")
    case_id = case["id"]

    task = ok(
        client.post(
            f"/api/cases/{case_id}/tasks",
            json={"title": "request pricing logs", "due_on": "2025-06-20"},
            headers=officer,
        ),
        201,
    )
    assert ok(client.post(f"/api/tasks/{task['id']}/complete", headers=officer))["done"]

    upload = client.post(
        f"/api/cases/{case_id}/evidence",
        files={"file": ("screenshot.png", b"\x89PNG fake", "image/png")},
        headers=officer,
    )
    evidence = ok(upload, 201)
    download = client.get(f"/api/evidence/{evidence['id']}", headers=officer)
    assert download.status_code == 200 and download.content == b"\x89PNG fake"
    assert download.headers["x-evidence-sha256"] == evidence["sha256"]
    assert "attachment" in download.headers["content-disposition"]
    custody = ok(client.get(f"/api/evidence/{evidence['id']}/custody", headers=supervisor))
    assert [e["action"] for e in custody] == ["evidence.added", "evidence.read"]

    decision = ok(
        client.post(
            f"/api/cases/{case_id}/decision",
            json={
                "kind": "penalty",
                "provision": "ecommerce.art77",
                "conduct_start": "2025-01-01",
                "conduct_end": "2025-03-31",
                "circumstances": ["first_violation"],
                "facts": "existing customers quoted more",
            },
            headers=officer,
        ),
        201,
    )
    assert decision["status"] == "proposed" and decision["fine_cny"] > 0
    approved = ok(client.post(f"/api/cases/{case_id}/decision/approve", headers=supervisor))
    assert approved["status"] == "approved" and approved["decided_on"] == "2025-06-02"

    disclosures = ok(client.get("/api/disclosures"))  # the public, not signed in
    assert disclosures[0]["case_number"] == opened["number"]
    credit = ok(client.get("/api/credit/p0"))
    assert credit["entity_id"] == "p0" and len(credit["records"]) == 1

    order = ok(
        client.post(
            f"/api/cases/{case_id}/rectification",
            json={"text": "stop charging loyal customers more", "working_days": 10},
            headers=officer,
        ),
        201,
    )
    assert order["status"] == "ordered"

    # platforms see only their own warnings
    own = ok(client.get("/api/platform/warnings", headers=platform))
    assert [w["case_id"] for w in own] == [case_id]
    assert own[0]["rectification"][0]["status"] == "ordered"
    assert ok(client.get("/api/platform/warnings", headers=world.auth("platform2"))) == []
    foreign = client.post(
        f"/api/cases/{case_id}/rectification/report",
        json={"report": "not mine"},
        headers={**world.auth("platform2"), "Idempotency-Key": "k-foreign"},
    )
    assert foreign.status_code == 404

    report = ok(
        client.post(
            f"/api/cases/{case_id}/rectification/report",
            json={"report": "prices equalised on 2025-06-03"},
            headers={**platform, "Idempotency-Key": "rect-1"},
        )
    )
    assert report["status"] == "reported"

    world.lake.mkdir()  # an empty lake: the detector finds nothing any more
    review = ok(
        client.post(f"/api/cases/{case_id}/review", json={"as_of": "2025-07-01"}, headers=officer),
        201,
    )
    assert review["stopped"] is True and review["rule"] == "FW101"
    closed = ok(client.post(f"/api/cases/{case_id}/close", json={}, headers=supervisor))
    assert closed["status"] == "closed"

    full = ok(client.get(f"/api/cases/{case_id}", headers=analyst))
    assert full["decision"]["kind"] == "penalty" and len(full["tasks"]) == 1
    assert len(full["evidence"]) == 1 and len(full["reviews"]) == 1
    actions = [
        e["action"] for e in ok(client.get(f"/api/cases/{case_id}/timeline", headers=officer))
    ]
    for expected in (
        "alert.created",
        "lead.created",
        "case.opened",
        "decision.approved",
        "rectification.reported",
        "case.reviewed",
        "case.closed",
    ):
        assert expected in actions
    assert ok(client.get("/api/audit/verify", headers=supervisor))["intact"] is True


def test_rectification_report_is_idempotent(client: TestClient, world: World) -> None:
    case_id = _decided_case(client, world)
    ok(
        client.post(
            f"/api/cases/{case_id}/rectification",
            json={"text": "fix it"},
            headers=world.auth("case_officer"),
        ),
        201,
    )
    url = f"/api/cases/{case_id}/rectification/report"
    platform = world.auth("platform")
    missing = client.post(url, json={"report": "done"}, headers=platform)
    assert missing.status_code == 400 and missing.json()["error"] == "idempotency_key_missing"

    headers = {**platform, "Idempotency-Key": "report-42"}
    first = client.post(url, json={"report": "done"}, headers=headers)
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    retry = client.post(url, json={"report": "done"}, headers=headers)
    assert retry.status_code == 200 and retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    other = client.post(url, json={"report": "something else"}, headers=headers)
    assert other.status_code == 422 and "report-42" in other.json()["message"]
    # a new key is a new submission: the case is no longer awaiting a report
    fresh = client.post(url, json={"report": "done"}, headers={**platform, "Idempotency-Key": "r2"})
    assert fresh.status_code == 409
    # the stored first outcome of a failed submission is replayed too
    assert (
        client.post(
            url, json={"report": "done"}, headers={**platform, "Idempotency-Key": "r2"}
        ).status_code
        == 409
    )


def _decided_case(client: TestClient, world: World) -> int:
    analyst, officer = world.auth("analyst"), world.auth("case_officer")
    supervisor = world.auth("supervisor")
    lead = ok(
        client.post(
            f"/api/alerts/{world.alerts[0]}/triage", json={"action": "lead"}, headers=analyst
        )
    )["lead"]
    ok(client.post(f"/api/leads/{lead['id']}/verify", json={}, headers=officer))
    case = ok(client.post(f"/api/leads/{lead['id']}/case", json={}, headers=officer), 201)
    ok(client.post(f"/api/cases/{case['id']}/approve", headers=supervisor))
    ok(
        client.post(f"/api/cases/{case['id']}/decision", json={"kind": "warning"}, headers=officer),
        201,
    )
    ok(client.post(f"/api/cases/{case['id']}/decision/approve", headers=supervisor))
    return int(case["id"])


# ---------------------------------------------------------------------- data batches


def test_batch_is_validated_appended_and_replayed(client: TestClient, world: World) -> None:
    files = [
        ("files", (f"{name}.parquet", parquet(table), "application/octet-stream"))
        for name, table in reference_tables().items()
    ]
    headers = {**world.auth("platform"), "Idempotency-Key": "batch-1"}
    first = client.post("/api/platform/batches", files=files, headers=headers)
    body = ok(first, 201)
    assert body["status"] == "accepted" and body["rows"]["platforms"] == 2
    replay = client.post("/api/platform/batches", files=files, headers=headers)
    assert replay.status_code == 201 and replay.json() == body
    assert replay.headers["idempotent-replayed"] == "true"
    # same content under a new key: accepted again, nothing new in the lake
    again = ok(
        client.post(
            "/api/platform/batches",
            files=files,
            headers={**world.auth("platform"), "Idempotency-Key": "batch-2"},
        ),
        201,
    )
    assert again["already_present"] is True and again["batch_id"] == body["batch_id"]
    listed = ok(client.get("/api/platform/batches", headers=world.auth("platform")))
    assert [b["status"] for b in listed] == ["accepted", "accepted"]


def test_malformed_csv_gets_422_with_table_column_rows(client: TestClient, world: World) -> None:
    csv = (
        "quote_id,ts,platform_id,sku_id,user_id,quoted_price,list_price\n"
        "q1,2025-03-01T00:00:00Z,p0,s1,u_0123456789ab,12.5,12.5\n"
        "q2,2025-03-01T00:07:00Z,p0,s1,u_0123456789ab,cheap,12.5\n"
        "q3,not-a-time,p0,s1,u_0123456789ab,12.5,12.5\n"
    )
    response = client.post(
        "/api/platform/batches",
        files=[("files", ("price_quotes.csv", csv.encode(), "text/csv"))],
        headers={**world.auth("platform"), "Idempotency-Key": "bad-1"},
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_batch"
    by_column = {(p["table"], p["column"]): p for p in body["problems"]}
    assert by_column[("price_quotes", "quoted_price")]["rows"] == [2]
    assert by_column[("price_quotes", "ts")]["rows"] == [3]
    assert not world.lake.exists() or not any(world.lake.rglob("*.parquet"))
    with world.store.session() as s:
        recorded = s.execute(select(DataBatch)).scalars().all()
        assert [b.status for b in recorded] == ["rejected"]
        assert recorded[0].problems
    # the rejection is the key's first response: a retry replays it
    retry = client.post(
        "/api/platform/batches",
        files=[("files", ("price_quotes.csv", csv.encode(), "text/csv"))],
        headers={**world.auth("platform"), "Idempotency-Key": "bad-1"},
    )
    assert retry.status_code == 422 and retry.json()["problems"] == body["problems"]


def test_batch_rows_of_other_platforms_are_403(client: TestClient, world: World) -> None:
    files = [
        ("files", (f"{name}.parquet", parquet(table), "application/octet-stream"))
        for name, table in reference_tables().items()
    ]
    response = client.post(
        "/api/platform/batches",
        files=files,
        headers={**world.auth("platform2"), "Idempotency-Key": "theirs"},
    )
    assert response.status_code == 403 and "p0" in response.json()["message"]
    assert not world.lake.exists() or not any(world.lake.rglob("*.parquet"))


def test_batch_file_names_must_name_a_table(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/platform/batches",
        files=[("files", ("../../etc/passwd", b"x", "text/plain"))],
        headers={**world.auth("platform"), "Idempotency-Key": "names"},
    )
    assert response.status_code == 422 and "name it <table>" in response.json()["message"]


# ---------------------------------------------------------------------- complaints


def test_public_files_complaints_analysts_read_them(client: TestClient, world: World) -> None:
    filed = ok(
        client.post(
            "/api/complaints",
            json={"complainant": "anon-7f3a", "category": "pricing", "text": "charged more"},
        ),
        201,
    )
    phone = client.post(
        "/api/complaints",
        json={"complainant": "13812345678", "category": "pricing", "text": "x"},
    )
    assert phone.status_code == 422
    assert client.get("/api/complaints").status_code == 401
    listed = ok(client.get("/api/complaints", headers=world.auth("analyst")))
    assert [c["id"] for c in listed] == [filed["id"]]


# ---------------------------------------------------------------------- webhooks


def test_webhooks_deliver_signed_status_changes(client: TestClient, world: World) -> None:
    supervisor = world.auth("supervisor")
    hook = ok(
        client.post(
            "/api/webhooks",
            json={"url": "https://receiver.test/hook", "events": ["lead.created"]},
            headers=supervisor,
        ),
        201,
    )
    everything = ok(
        client.post("/api/webhooks", json={"url": "https://all.test/h"}, headers=supervisor), 201
    )
    assert "secret" not in ok(client.get("/api/webhooks", headers=supervisor))[0]
    ok(
        client.post(
            f"/api/alerts/{world.alerts[0]}/triage",
            json={"action": "lead"},
            headers=world.auth("analyst"),
        )
    )
    ok(
        client.post(
            f"/api/alerts/{world.alerts[1]}/triage",
            json={"action": "dismiss", "reason": "duplicate"},
            headers=world.auth("analyst"),
        )
    )
    received: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(receiver)) as http:
        report = deliver_outbox(world.store, http)
    assert len(report.delivered) == 2 and not report.failed
    to_hook = [r for r in received if r.url.host == "receiver.test"]
    assert len(to_hook) == 1 and len(received) == 3  # 'all' got both events
    request = to_hook[0]
    body = json.loads(request.content)
    assert body["event"] == "lead.created" and body["payload"]["alert_id"] == world.alerts[0]
    assert request.headers["x-fairwatch-signature"].startswith("sha256=")
    assert verify_signature(
        hook["secret"],
        request.content,
        request.headers["x-fairwatch-timestamp"],
        request.headers["x-fairwatch-signature"],
    )
    assert not verify_signature(
        everything["secret"],
        request.content,
        request.headers["x-fairwatch-timestamp"],
        request.headers["x-fairwatch-signature"],
    )
    with httpx.Client(transport=httpx.MockTransport(receiver)) as http:
        assert deliver_outbox(world.store, http).delivered == []  # nothing pending


def test_failed_webhook_delivery_is_retried(client: TestClient, world: World) -> None:
    ok(
        client.post(
            "/api/webhooks", json={"url": "https://down.test/h"}, headers=world.auth("supervisor")
        ),
        201,
    )
    ok(
        client.post(
            f"/api/alerts/{world.alerts[0]}/triage",
            json={"action": "lead"},
            headers=world.auth("analyst"),
        )
    )
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503 if len(calls) == 1 else 200)

    with httpx.Client(transport=httpx.MockTransport(flaky)) as http:
        first = deliver_outbox(world.store, http)
        second = deliver_outbox(world.store, http)
    assert first.failed and not first.delivered
    assert second.delivered == first.failed
    with world.store.session() as s:
        row = s.execute(select(Outbox)).scalars().one()
        assert row.delivered and row.attempts == 1
    assert calls[0].headers["x-fairwatch-delivery"] == calls[1].headers["x-fairwatch-delivery"]


# ---------------------------------------------------------------------- errors


def test_unexpected_errors_are_500_with_a_request_id_only(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(type(world.service)):  # type: ignore[misc]
        def overdue(self, actor: Any) -> Any:
            raise RuntimeError("secret internals: password=" + "".join(["hun", "ter2"]))

    app = create_app(world.store, Broken(world.store), webhook_interval=None)
    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/api/overdue", headers=world.auth("analyst"))
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal" and body["request_id"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert "hunter2" not in response.text and "Traceback" not in response.text
    logged = caplog.text
    assert body["request_id"] in logged and "RuntimeError" in logged
    assert "/api/overdue" in logged and "hunter2" not in logged


def test_not_found_and_no_lake(world: World) -> None:
    app = create_app(world.store, world.service, webhook_interval=None)  # no lake
    with TestClient(app) as c:
        missing = c.get("/api/cases/999", headers=world.auth("analyst"))
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"
        case_id = _decided_case(c, world)
        nobody = c.post(
            f"/api/cases/{case_id}/tasks",
            json={"title": "t", "assignee_id": 9999},
            headers=world.auth("case_officer"),
        )
        assert nobody.status_code == 404 and "no user 9999" in nobody.json()["message"]
        no_lake = c.post(
            "/api/platform/batches",
            files=[("files", ("platforms.csv", b"platform_id\n", "text/csv"))],
            headers={**world.auth("platform"), "Idempotency-Key": "x"},
        )
        assert no_lake.status_code == 409


@pytest.mark.parametrize("path", ["/api/alerts/0", "/api/alerts/2147483648", "/api/credit/a%00b"])
def test_out_of_range_input_is_422(client: TestClient, world: World, path: str) -> None:
    assert client.get(path, headers=world.auth("analyst")).status_code == 422


# ---------------------------------------------------------------------- command line


def test_users_cli_adds_accounts_and_issues_tokens(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from fairwatch.cli.users import users_app

    cli = typer.Typer()
    cli.add_typer(users_app, name="users")
    db = f"sqlite:///{tmp_path / 'cases.db'}"
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [
            "users",
            "add",
            "acme",
            "--role",
            "platform",
            "--platform",
            "P01",
            "--platform",
            "P02",
            "--password-stdin",
            "--db",
            db,
        ],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    assert PASSWORD not in added.output
    no_platform = runner.invoke(
        cli,
        ["users", "add", "bad", "--role", "platform", "--password-stdin", "--db", db],
        input=PASSWORD + "\n",
    )
    assert no_platform.exit_code == 2 and "platform ids" in no_platform.output
    bad_bureau = runner.invoke(
        cli,
        [
            "users",
            "add",
            "sup",
            "--role",
            "supervisor",
            "--bureau",
            "NOPE",
            "--password-stdin",
            "--db",
            db,
        ],
        input=PASSWORD + "\n",
    )
    assert bad_bureau.exit_code == 2 and "no bureau" in bad_bureau.output
    issued = runner.invoke(cli, ["users", "token", "acme", "--db", db])
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip()
    assert token.startswith("fw_")
    assert runner.invoke(cli, ["users", "token", "nobody", "--db", db]).exit_code == 2

    from fairwatch.cases.auth import actor_for_token
    from fairwatch.cases.db import open_store

    store = open_store(db, tmp_path / "evidence")
    try:
        actor = actor_for_token(store, token)
        assert actor.role == "platform" and actor.platform_ids == ("P01", "P02")
        app = create_app(store, webhook_interval=None)
        with TestClient(app) as c:
            me = ok(c.get("/api/me", headers={"Authorization": f"Bearer {token}"}))
            assert me["platform_ids"] == ["P01", "P02"]
    finally:
        store.dispose()


def test_serve_help_has_an_example() -> None:
    import typer
    from typer.testing import CliRunner

    from fairwatch.cli.serve import serve

    cli = typer.Typer()
    cli.command("serve")(serve)
    cli.command("other")(lambda: None)
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "Example: fairwatch serve" in result.output and "--lake" in result.output


class _Receiver:
    """A local HTTP server that records the webhook deliveries it gets."""

    def __init__(self) -> None:
        import http.server
        import threading

        received = self.received = []  # type: list[tuple[dict[str, str], bytes]]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_running_app_delivers_webhooks_in_the_background(world: World) -> None:
    import time

    receiver = _Receiver()
    try:
        app = create_app(world.store, world.service, webhook_interval=0.05)
        with TestClient(app) as c:
            hook = ok(
                c.post(
                    "/api/webhooks", json={"url": receiver.url}, headers=world.auth("supervisor")
                ),
                201,
            )
            ok(
                c.post(
                    f"/api/alerts/{world.alerts[0]}/triage",
                    json={"action": "lead"},
                    headers=world.auth("analyst"),
                )
            )
            deadline = time.monotonic() + 10
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        receiver.close()
    assert receiver.received, "no delivery within 10 s"
    headers, body = receiver.received[0]
    assert json.loads(body)["event"] == "lead.created"
    assert verify_signature(
        hook["secret"], body, headers["x-fairwatch-timestamp"], headers["x-fairwatch-signature"]
    )


def test_serve_starts_the_api(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = (
        "import typer; from fairwatch.cli.serve import serve; "
        "app = typer.Typer(); app.command('serve')(serve); app.command('x')(lambda: None); app()"
    )
    env = {**__import__("os").environ, "FAIRWATCH_SESSION_SECRET": "serve-test-secret-0123456789"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "serve",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{tmp_path / 'cases.db'}",
            "--lake",
            str(tmp_path / "lake"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, proc.stdout.read().decode() if proc.stdout else ""
        assert health.json() == {"status": "ok", "database": "sqlite"}
        doc = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).json()
        assert "/api/platform/batches" in doc["paths"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
