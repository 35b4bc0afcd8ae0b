"""Domain errors to HTTP, in one place.

==========================================  ======  =========================
error                                       status  ``error`` field
==========================================  ======  =========================
``NotAuthenticated``                        401     ``not_authenticated``
``AuthorizationError``                      403     ``forbidden``
``NotFoundError``                           404     ``not_found``
``ConflictError``                           409     ``conflict``
``InvalidBatch``                            422     ``invalid_batch`` (+ ``problems``)
``UsageError``, ``DataError``, parameters   422     ``unprocessable``
request validation (FastAPI)                422     ``invalid_request`` (+ ``detail``)
``IdempotencyKeyMissing``                   400     ``idempotency_key_missing``
``PayloadTooLarge``                         413     ``payload_too_large``
anything else                               500     ``internal`` (+ request id; logged)
==========================================  ======  =========================

Domain code never raises HTTP errors; routes raise domain errors and this module turns
them into :class:`ErrorBody` responses. An unexpected exception is logged with the
request id and the client gets only that id, never a stack trace.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from fairwatch.cases.service import ConflictError, NotFoundError
from fairwatch.errors import (
    AuthorizationError,
    DataError,
    FairwatchError,
    InvalidBatch,
    ParameterLookupError,
    UsageError,
)

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"


class NotAuthenticated(FairwatchError):
    """The route needs a signed-in user (a Bearer token or a session cookie)."""


class IdempotencyKeyMissing(FairwatchError):
    """A platform submission came without its ``Idempotency-Key`` header."""


class PayloadTooLarge(FairwatchError):
    """An upload is larger than the server accepts."""


class ProblemOut(BaseModel):
    """One broken rule of a rejected data batch: where, which rule, which rows."""

    table: str
    column: str | None = None
    rule: str
    message: str
    rows: list[int] = Field(default_factory=list, description="First offending rows (1-based).")
    count: int = Field(0, description="How many rows break the rule.")
    samples: list[str] = Field(default_factory=list)


class ErrorBody(BaseModel):
    """Every error response: a machine-readable kind, a message and the request id."""

    error: str = Field(description="Kind of error, e.g. not_found, conflict, invalid_batch.")
    message: str
    request_id: str | None = None
    problems: list[ProblemOut] = Field(
        default_factory=list, description="The batch's problems (invalid_batch only)."
    )
    detail: list[dict[str, Any]] = Field(
        default_factory=list, description="Request validation errors (invalid_request only)."
    )


_DESCRIPTIONS = {
    400: "Bad request: a body that cannot be parsed, or a missing Idempotency-Key.",
    401: "Not signed in: send a Bearer token or a session cookie.",
    403: "The caller's role (or ownership) does not allow this.",
    404: "No such object, or not visible to the caller.",
    409: "The object is not in a state that allows this, or changed concurrently.",
    413: "The upload is too large.",
    422: "The request breaks a rule (invalid body, parameters or data batch).",
    500: "Unexpected server error; quote the request id.",
}

STANDARD_ERRORS = (400, 401, 403, 404, 409, 422, 500)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entries of the given error statuses (all use ErrorBody)."""
    return {
        code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]}
        for code in sorted(set(codes or STANDARD_ERRORS))
    }


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def classify(exc: FairwatchError) -> tuple[int, str, str]:
    """Status, kind and client message of a domain error."""
    if isinstance(exc, NotAuthenticated):
        return 401, "not_authenticated", str(exc)
    if isinstance(exc, IdempotencyKeyMissing):
        return 400, "idempotency_key_missing", str(exc)
    if isinstance(exc, PayloadTooLarge):
        return 413, "payload_too_large", str(exc)
    if isinstance(exc, AuthorizationError):
        return 403, "forbidden", str(exc)
    if isinstance(exc, NotFoundError):
        return 404, "not_found", str(exc)
    if isinstance(exc, ConflictError):
        return 409, "conflict", str(exc)
    if isinstance(exc, InvalidBatch):
        n = len(exc.problems)
        return 422, "invalid_batch", f"batch rejected: {n} problem(s); nothing was stored"
    if isinstance(exc, UsageError | DataError | ParameterLookupError):
        return 422, "unprocessable", str(exc)
    # definition and engine errors are the server's fault
    return 500, "internal", "internal error"


def error_payload(exc: FairwatchError, rid: str | None) -> tuple[int, dict[str, Any]]:
    """The status and JSON body for a domain error (also what idempotency records store)."""
    status, kind, message = classify(exc)
    body = ErrorBody(error=kind, message=message, request_id=rid)
    if isinstance(exc, InvalidBatch):
        body.problems = [
            ProblemOut(
                table=p.table,
                column=p.column,
                rule=p.rule,
                message=p.message,
                rows=list(p.rows),
                count=p.count,
                samples=[str(s) for s in p.samples],
            )
            for p in exc.problems
        ]
    return status, body.model_dump(mode="json")


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FairwatchError)
    rid = request_id(request)
    status, body = error_payload(exc, rid)
    if status >= 500:
        log.error(
            "request %s: %s in %s\n%s",
            rid,
            type(exc).__name__,
            _route_template(request.scope),
            "".join(traceback.format_tb(exc.__traceback__)),
        )
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = []
    for err in exc.errors():
        # the offending input can be large or personal: keep location, type and message
        detail.append(
            {"loc": list(err.get("loc", ())), "type": err.get("type"), "msg": err.get("msg")}
        )
    body = ErrorBody(
        error="invalid_request",
        message="the request does not match the API's schema",
        request_id=request_id(request),
        detail=jsonable_encoder(detail),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(
        exc.status_code, "http_error"
    )
    body = ErrorBody(error=kind, message=str(exc.detail), request_id=request_id(request))
    return JSONResponse(
        body.model_dump(mode="json"), status_code=exc.status_code, headers=exc.headers
    )


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RequestIdMiddleware:
    """Gives each request an id (``X-Request-ID``) and turns any unhandled exception
    into a 500 :class:`ErrorBody` carrying that id; the traceback goes to the log only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.lower().encode(), rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # the exception's type and where it happened, not its message: messages
            # (e.g. a database error's SQL parameters) may carry submitted data
            log.error(
                "request %s: unhandled %s in %s %s\n%s",
                rid,
                type(exc).__name__,
                scope.get("method"),
                _route_template(scope),
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            if started:
                raise
            body = ErrorBody(error="internal", message="internal error", request_id=rid)
            response = JSONResponse(body.model_dump(mode="json"), status_code=500)
            await response(scope, receive, send_with_id)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    return str(getattr(route, "path", "?"))


def install(app: FastAPI) -> None:
    """Register the handlers and the request-id middleware on ``app``."""
    app.add_exception_handler(FairwatchError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(RequestIdMiddleware)
