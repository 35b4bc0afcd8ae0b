"""Shared dependencies: the app's context, who is calling, and the role check per route.

Every route is declared with :func:`endpoint`, naming the domain operation it performs
(a key of :data:`fairwatch.cases.service.PERMISSIONS`, or ``None`` for the few open
routes such as signing in). That puts the operation in the OpenAPI document
(``x-fairwatch-operation``, ``x-fairwatch-roles``) and adds a dependency that checks
the caller's role before anything else runs: an anonymous caller on a route the public
may not use gets 401, a signed-in caller whose role is not allowed gets 403. The
service checks the same matrix again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPBearer
from pydantic import AfterValidator, StringConstraints

from fairwatch.api.errors import STANDARD_ERRORS, NotAuthenticated, error_responses
from fairwatch.api.sessions import COOKIE_NAME, SessionSigner
from fairwatch.cases.db import Store
from fairwatch.cases.models import User
from fairwatch.cases.service import PERMISSIONS, ROLES, Actor, CaseService
from fairwatch.errors import AuthorizationError

#: who calls without credentials: the public
ANONYMOUS = Actor(None, "anonymous", "public")

OPERATION_KEY = "x-fairwatch-operation"
ROLES_KEY = "x-fairwatch-roles"


@dataclass
class ApiContext:
    """What the routes share: the store, the service, the lake and the session signer."""

    store: Store
    service: CaseService
    lake_dir: Path | None
    signer: SessionSigner
    max_upload_bytes: int = 512 * 1024 * 1024


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.fairwatch
    return ctx


Ctx = Annotated[ApiContext, Depends(context)]

# documentation of the two ways to sign in (the check itself is in current_actor)
_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer fw_...`")
_cookie = APIKeyCookie(
    name=COOKIE_NAME, auto_error=False, description="The browser session from POST /api/session"
)


def _actor_for_user(store: Store, user_id: int) -> Actor | None:
    with store.read() as s:
        user = s.get(User, user_id)
        if user is None or not user.active:
            return None
        return Actor.of(user)


def current_actor(
    request: Request,
    ctx: Ctx,
    _doc_bearer: Annotated[Any, Depends(_bearer)] = None,
    _doc_cookie: Annotated[Any, Depends(_cookie)] = None,
) -> Actor:
    """The caller: a Bearer token's user, else a session cookie's user, else the public.

    A malformed or unknown token is a 401 (never a silent fall-back to the public);
    an invalid or expired cookie is ignored. A cookie-authenticated request that
    changes something must come from the same origin when the browser says where it
    comes from (``Origin``), on top of the cookie's SameSite=Lax.
    """
    cached: Actor | None = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    actor = _resolve(request, ctx)
    request.state.actor = actor
    return actor


def _resolve(request: Request, ctx: ApiContext) -> Actor:
    from fairwatch.cases.auth import actor_for_token

    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 200:
            raise NotAuthenticated("Authorization must be 'Bearer <token>'")
        try:
            return actor_for_token(ctx.store, token)
        except AuthorizationError:
            raise NotAuthenticated("invalid or revoked token") from None
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        user_id = ctx.signer.loads(cookie)
        actor = _actor_for_user(ctx.store, user_id) if user_id is not None else None
        if actor is not None:
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                _check_origin(request)
            return actor
    return ANONYMOUS


def _check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is None:
        return
    expected = f"{request.url.scheme}://{request.url.netloc}"
    if origin.rstrip("/") != expected:
        raise AuthorizationError("cross-origin request with a session cookie refused")


CurrentActor = Annotated[Actor, Depends(current_actor)]


def _guard(operation: str) -> Callable[..., None]:
    allowed = PERMISSIONS[operation]

    def check(actor: CurrentActor) -> None:
        if actor.role in allowed:
            return
        if actor is ANONYMOUS:
            raise NotAuthenticated(f"sign in to {operation.replace('_', ' ')}")
        raise AuthorizationError(
            f"role {actor.role} may not {operation.replace('_', ' ')} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )

    check.__name__ = f"may_{operation}"
    return check


def endpoint(
    operation: str | None,
    *extra_errors: int,
    errors: tuple[int, ...] = STANDARD_ERRORS,
    responses: dict[int | str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for a route decorator: the operation, its role check and the
    responses it documents (the error ones, plus ``responses``)."""
    if operation is not None and operation not in PERMISSIONS:
        raise KeyError(f"unknown operation {operation!r}")
    # an open route keeps OPERATION_KEY = None on the route (the OpenAPI document drops
    # nulls) and lists every role
    extra: dict[str, Any] = {OPERATION_KEY: operation, ROLES_KEY: sorted(ROLES)}
    dependencies = []
    if operation is not None:
        extra[ROLES_KEY] = sorted(PERMISSIONS[operation])
        dependencies.append(Depends(_guard(operation)))
    return {
        "openapi_extra": extra,
        "dependencies": dependencies,
        "responses": {**error_responses(*errors, *extra_errors), **(responses or {})},
    }


# ---------------------------------------------------------------------- input types

_EARLIEST, _LATEST = dt.date(1980, 1, 1), dt.date(2199, 12, 31)


def _in_range(day: dt.date) -> dt.date:
    if not _EARLIEST <= day <= _LATEST:
        raise ValueError(f"date must lie between {_EARLIEST} and {_LATEST}")
    return day


#: a date the law store can reason about (1980-01-01 to 2199-12-31)
Day = Annotated[dt.date, AfterValidator(_in_range)]

#: free text: no NUL characters (PostgreSQL refuses them); lengths fit the columns
_NO_NUL = r"^[^\x00]*$"
Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_NO_NUL)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=_NO_NUL)]
Note = Annotated[str, StringConstraints(max_length=20_000, pattern=_NO_NUL)]
RequiredNote = Annotated[str, StringConstraints(min_length=1, max_length=20_000, pattern=_NO_NUL)]

#: identifiers of reported data (platforms, entities): letters, digits, _-.:
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.:]+$")
]

#: a database id (PostgreSQL ``integer``)
MAX_ID = 2**31 - 1
