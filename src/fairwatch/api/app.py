"""The HTTP API: ``create_app(store)`` gives the FastAPI application.

Routes live in :mod:`fairwatch.api.routes` (one router per resource), each declaring
the domain operation it performs (:func:`fairwatch.api.deps.endpoint`); errors map to
HTTP in :mod:`fairwatch.api.errors`; sign-in is a Bearer API token or a browser session
cookie (:mod:`fairwatch.api.sessions`); platform submissions are idempotent
(:mod:`fairwatch.api.idempotency`); status changes reach webhooks through the outbox
(:mod:`fairwatch.api.webhooks`), delivered by a background task while the app runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from fairwatch.api import errors
from fairwatch.api.deps import OPERATION_KEY, ApiContext
from fairwatch.api.sessions import SessionSigner
from fairwatch.api.webhooks import deliver_outbox
from fairwatch.cases.db import Store
from fairwatch.cases.service import CaseService

log = logging.getLogger(__name__)

API_VERSION = "1"


def create_app(
    store: Store,
    service: CaseService | None = None,
    *,
    lake_dir: Path | None = None,
    session_secret: str | None = None,
    webhook_interval: float | None = 5.0,
    max_upload_bytes: int = 512 * 1024 * 1024,
    web: bool = True,
) -> FastAPI:
    """The API over ``store``.

    ``lake_dir`` is the managed lake that platform batches are appended to and that
    case reviews scan (without it those routes answer 409). ``session_secret`` signs
    browser session cookies; without it a random one is made, so sessions end when the
    process does. ``webhook_interval`` is the seconds between outbox delivery passes
    while the app runs (``None``: no background delivery; call
    :func:`~fairwatch.api.webhooks.deliver_outbox` yourself).
    """
    from fairwatch.api.routes import admin, alerts, cases, platform, public, session

    ctx = ApiContext(
        store=store,
        service=service or CaseService(store),
        lake_dir=lake_dir,
        signer=SessionSigner(session_secret or secrets.token_urlsafe(32)),
        max_upload_bytes=max_upload_bytes,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = None
        client = httpx.Client()
        if webhook_interval:
            task = asyncio.create_task(_deliver_forever(store, client, webhook_interval))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            client.close()

    app = FastAPI(
        title="fairwatch",
        version=API_VERSION,
        summary="Supervision of the platform economy: alerts, leads, cases, decisions, "
        "rectification, disclosures, platform data submissions.",
        description=(
            "Sign in with an API token (`Authorization: Bearer fw_...`, from "
            "`fairwatch users token`) or a browser session (`POST /api/session`). "
            "Routes the public may use work without signing in. Each operation names "
            "its domain operation and the roles allowed (`x-fairwatch-operation`, "
            "`x-fairwatch-roles`). Errors share one body (`ErrorBody`)."
        ),
        lifespan=lifespan,
    )
    app.state.fairwatch = ctx
    errors.install(app)
    for module in (session, alerts, cases, public, platform, admin):
        app.include_router(module.router)
    _check_declared(app)
    if web:  # the browser console and public portal (fairwatch.web), same session cookie
        from fairwatch.web import mount

        mount(app)
    return app


async def _deliver_forever(store: Store, client: httpx.Client, interval: float) -> None:
    while True:
        try:
            await asyncio.to_thread(deliver_outbox, store, client)
        except Exception:  # keep delivering; the next pass retries
            log.exception("webhook delivery pass failed")
        await asyncio.sleep(interval)


def _api_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """Every API route with its full path (routers are included lazily)."""
    out = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and (context.path or "").startswith("/api"):
            out.append((str(context.path), route))
    return out


def _check_declared(app: FastAPI) -> None:
    """Every API route declares its operation (or None for open routes)."""
    routes = _api_routes(app)
    if not routes:
        raise RuntimeError("no API routes found")
    for path, route in routes:
        if OPERATION_KEY not in (route.openapi_extra or {}):
            raise RuntimeError(f"route {path} declares no {OPERATION_KEY}")


def route_operations(app: FastAPI) -> dict[tuple[str, str], str | None]:
    """(method, path) -> the operation each route performs (None: open to everyone)."""
    out: dict[tuple[str, str], str | None] = {}
    for path, route in _api_routes(app):
        extra: dict[str, Any] = route.openapi_extra or {}
        for method in sorted(route.methods or ()):
            out[(method, path)] = extra[OPERATION_KEY]
    return out
