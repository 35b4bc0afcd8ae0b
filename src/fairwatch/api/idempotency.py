"""Idempotent platform submissions (``Idempotency-Key``).

The first request with a key reserves it (per user), runs, and stores its response
(status and JSON body, errors included) in :class:`~fairwatch.cases.models.IdempotencyRecord`.
A retry with the same key and the same request gets that response again (header
``Idempotent-Replayed: true``) without running anything; the same key with a different
request is a 422 naming the key; a retry while the first is still running is a 409. An
unexpected failure releases the key, so the client can retry.

"The same request" is the route plus a fingerprint of the request's content (for
multipart uploads: file names and the SHA-256 of each file, so a different multipart
boundary is still the same request).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from fairwatch.api.errors import IdempotencyKeyMissing, error_payload
from fairwatch.cases.db import Store
from fairwatch.cases.models import IdempotencyRecord
from fairwatch.cases.service import Actor, ConflictError
from fairwatch.errors import FairwatchError, UsageError

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description="Required: a unique key per submission (1-200 printable ASCII "
        "characters); a retry with the same key and request replays the first response.",
        pattern=r"^[\x21-\x7e]{1,200}$",
    ),
]


def fingerprint(route: str, content: Any) -> str:
    """A stable hash of a request's route and content (JSON-serialisable)."""
    blob = json.dumps({"route": route, "content": content}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def run_once(
    store: Store,
    actor: Actor,
    key: str | None,
    route: str,
    request_hash: str,
    request_id: str | None,
    work: Callable[[], tuple[int, dict[str, Any]]],
) -> JSONResponse:
    """Run ``work`` once per (key, user); replay its stored response on retries."""
    if key is None:
        raise IdempotencyKeyMissing(f"this submission needs an {HEADER} header")
    if actor.user_id is None:
        raise UsageError("idempotent submissions need a signed-in user")
    replay = _reserve(store, actor.user_id, key, route, request_hash)
    if replay is not None:
        return replay
    try:
        try:
            status, body = work()
        except FairwatchError as exc:
            status, body = error_payload(exc, request_id)
    except BaseException:
        _release(store, actor.user_id, key)
        raise
    with store.session() as s:
        record = s.get(IdempotencyRecord, (key, actor.user_id))
        if record is not None:
            record.status_code, record.response = status, body
    return JSONResponse(body, status_code=status)


def _reserve(
    store: Store, user_id: int, key: str, route: str, request_hash: str
) -> JSONResponse | None:
    for _ in range(2):
        with store.session() as s:
            record = s.get(IdempotencyRecord, (key, user_id))
            if record is not None:
                return _replay(record, key, route, request_hash)
        try:
            with store.session() as s:
                s.add(
                    IdempotencyRecord(
                        key=key,
                        user_id=user_id,
                        route=route,
                        request_hash=request_hash,
                        status_code=0,  # in progress
                        response={},
                    )
                )
            return None
        except IntegrityError:
            continue  # a concurrent request took the key: replay (or refuse) its outcome
    raise ConflictError(f"{HEADER} {key!r} is being used by a concurrent request")


def _replay(record: IdempotencyRecord, key: str, route: str, request_hash: str) -> JSONResponse:
    if record.route != route or record.request_hash != request_hash:
        raise UsageError(
            f"{HEADER} {key!r} was already used for a different request; "
            "use a new key for a new submission"
        )
    if record.status_code == 0:
        raise ConflictError(f"the request with {HEADER} {key!r} is still being processed")
    return JSONResponse(record.response, status_code=record.status_code, headers={REPLAYED: "true"})


def _release(store: Store, user_id: int, key: str) -> None:
    try:
        with store.session() as s:
            record = s.get(IdempotencyRecord, (key, user_id))
            if record is not None and record.status_code == 0:
                s.delete(record)
    except Exception as exc:  # the original error matters more
        log.error("could not release an idempotency key: %s", type(exc).__name__)
