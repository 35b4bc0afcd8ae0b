"""Mounting the pages on the API app, and what every page handler shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from fairwatch.cases.service import PERMISSIONS, Actor
from fairwatch.web import i18n

HERE = Path(__file__).parent
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(HERE / "templates")),
    autoescape=jinja2.select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    undefined=jinja2.StrictUndefined,
)
_env.policies["ext.i18n.trimmed"] = True
#: the language of the page being rendered (pages render in their own worker threads)
_lang: ContextVar[str] = ContextVar("fairwatch_lang", default=i18n.DEFAULT)


def gettext(message: str) -> str:
    return i18n.translations(_lang.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translations(_lang.get()).ngettext(singular, plural, n)


_env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
templates = Jinja2Templates(env=_env)
LANG_COOKIE = "fw_lang"

#: navigation: (path, label, operation that must be allowed; None = everyone)
NAV: tuple[tuple[str, str, str | None], ...] = (
    ("/console", "Cockpit", "read_alerts"),
    ("/console/alerts", "Alerts", "read_alerts"),
    ("/console/leads", "Leads", "read_leads"),
    ("/console/cases", "Cases", "read_cases"),
    ("/console/deals", "Deal screening", "read_alerts"),
    ("/console/law", "Law", "read_alerts"),
    ("/console/detectors", "Detectors", "read_alerts"),
    ("/console/platforms", "Platforms", "read_alerts"),
    ("/platform", "My platform", "read_own_warnings"),
    ("/public", "Decisions", None),
    ("/public/complaint", "Complaint", "file_complaint"),
)


def allowed(actor: Actor, operation: str | None) -> bool:
    return operation is None or actor.role in PERMISSIONS[operation]


def actor_of(request: Request) -> Actor:
    """The signed-in user from the session cookie, else the public."""
    from fairwatch.api.deps import context
    from fairwatch.api.sessions import COOKIE_NAME

    ctx = context(request)
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        user_id = ctx.signer.loads(cookie)
        if user_id is not None:
            from fairwatch.api.deps import _actor_for_user

            actor = _actor_for_user(ctx.store, user_id)
            if actor is not None:
                return actor
    return Actor(None, "public", "public")


def language(request: Request) -> str:
    return i18n.pick(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def page(
    request: Request,
    template: str,
    title: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page (or an htmx fragment) in the caller's language."""
    lang = language(request)
    _lang.set(lang)
    actor = context.pop("actor", None) or actor_of(request)
    nav = [(path, label) for path, label, op in NAV if allowed(actor, op)]
    response = templates.TemplateResponse(
        request,
        template,
        {
            "title": title,
            "actor": actor,
            "lang": lang,
            "languages": i18n.LANGUAGE_NAMES,
            "nav": nav,
            "_t": gettext,
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def require_page(request: Request, operation: str) -> Actor | Response:
    """The actor if allowed, else a redirect to the sign-in page (or 403 when signed in)."""
    actor = actor_of(request)
    if allowed(actor, operation):
        return actor
    if actor.role == "public":
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return page(
        request,
        "error.html",
        "Not allowed",
        status_code=403,
        actor=actor,
        message=f"{actor.role} may not open this page",
    )


def mount(app: FastAPI, routers: Iterable[Callable[[], Any]] | None = None) -> None:
    """Add the static files and every page router to ``app``."""
    from fairwatch.web.pages import console, insight, platform, public, session

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (session, console, insight, platform, public):
        app.include_router(module.router)


def check_same_origin(request: Request) -> None:
    """Refuse a state-changing page request from another site (the session is a cookie)."""
    from fairwatch.api.deps import _check_origin

    _check_origin(request)


def service_of(request: Request) -> Any:
    """The :class:`~fairwatch.cases.service.CaseService` (and ``.store``) of the app."""
    from fairwatch.api.deps import context

    return context(request).service


def lake_of(request: Request) -> Path | None:
    """The lake the server was started with (``fairwatch serve --lake``), if any."""
    from fairwatch.api.deps import context

    return context(request).lake_dir
