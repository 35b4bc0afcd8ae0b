"""Signing in and out of the browser session; who am I; health."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

from fairwatch.api.deps import Ctx, CurrentActor, endpoint
from fairwatch.api.errors import NotAuthenticated
from fairwatch.api.schemas import Credentials, Health, Me
from fairwatch.api.sessions import clear_session_cookie, set_session_cookie
from fairwatch.cases.service import PERMISSIONS, ROLES, Actor
from fairwatch.errors import AuthorizationError

router = APIRouter(prefix="/api", tags=["session"])


def _me(actor: Actor, authenticated: bool) -> Me:
    role = actor.role if actor.role in ROLES else "public"
    return Me(
        authenticated=authenticated,
        username=actor.username,
        role=role,
        bureau_id=actor.bureau_id,
        platform_ids=list(actor.platform_ids),
        operations=sorted(op for op, roles in PERMISSIONS.items() if role in roles),
    )


@router.post("/session", response_model=Me, **endpoint(None, errors=(400, 401, 422, 500)))
def sign_in(body: Credentials, request: Request, response: Response, ctx: Ctx) -> Me:
    """Sign in with a username and password: sets the HttpOnly session cookie."""
    from fairwatch.cases.auth import authenticate

    try:
        actor = authenticate(ctx.store, body.username, body.password)
    except AuthorizationError:
        raise NotAuthenticated("unknown user or wrong password") from None
    assert actor.user_id is not None
    set_session_cookie(response, ctx.signer, actor.user_id, request.url.scheme == "https")
    return _me(actor, True)


@router.delete("/session", status_code=204, **endpoint(None, errors=(422, 500)))
def sign_out(response: Response) -> Response:
    """Sign out: deletes the session cookie."""
    clear_session_cookie(response)
    response.status_code = 204
    return response


@router.get("/me", response_model=Me, **endpoint(None, errors=(401, 500)))
def me(actor: CurrentActor) -> Me:
    """The caller's identity and the operations its role may perform."""
    return _me(actor, actor.user_id is not None)


@router.get("/health", response_model=Health, **endpoint(None, errors=(500,)))
def health(ctx: Ctx) -> Health:
    """Liveness: the case store answers."""
    with ctx.store.session() as s:
        s.execute(text("SELECT 1"))
    return Health(status="ok", database=ctx.store.dialect)
