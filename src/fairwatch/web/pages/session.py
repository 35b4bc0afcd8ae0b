"""Sign in and out from the browser; the front door sends each role to its home page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fairwatch.web.app import actor_of, page

router = APIRouter(include_in_schema=False)

HOME = {
    "analyst": "/console",
    "case_officer": "/console/cases",
    "supervisor": "/console",
    "platform": "/platform",
    "public": "/public",
}


@router.get("/", response_class=HTMLResponse)
def front(request: Request) -> Response:
    return RedirectResponse(HOME.get(actor_of(request).role, "/public"), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> Response:
    return page(request, "login.html", "Sign in", next=_local(next), error=False)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    from fairwatch.api.deps import context
    from fairwatch.api.sessions import set_session_cookie
    from fairwatch.cases.auth import authenticate
    from fairwatch.errors import AuthorizationError

    ctx = context(request)
    try:
        actor = authenticate(ctx.store, username, password)
    except AuthorizationError:
        return page(
            request, "login.html", "Sign in", status_code=401, next=_local(next), error=True
        )
    assert actor.user_id is not None
    target = _local(next) or HOME.get(actor.role, "/")
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, ctx.signer, actor.user_id, request.url.scheme == "https")
    return response


@router.post("/logout")
def logout() -> Response:
    from fairwatch.api.sessions import clear_session_cookie

    response = RedirectResponse("/public", status_code=303)
    clear_session_cookie(response)
    return response


def _local(path: str) -> str:
    """Only same-site paths as redirect targets (no open redirect)."""
    return path if path.startswith("/") and not path.startswith("//") else ""
