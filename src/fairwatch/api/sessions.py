"""Browser sessions: a signed, HttpOnly, SameSite=Lax cookie naming the user.

The cookie is ``<payload>.<signature>``: the payload is base64url JSON
``{"u": user id, "exp": unix time, "n": nonce}``, the signature HMAC-SHA256 of the payload
under the server's session secret. Nothing secret is in the cookie, and nothing is kept
on the server: signing out deletes the cookie, and a deactivated user's cookie stops
working at the next request (the user is re-read every time). Sessions expire after
``max_age`` seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

COOKIE_NAME = "fw_session"
DEFAULT_MAX_AGE = 8 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Signs and checks session cookies with one secret."""

    def __init__(self, secret: str | bytes, max_age: int = DEFAULT_MAX_AGE) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < 16:
            raise ValueError("a session secret needs at least 16 bytes")
        self._key = hashlib.sha256(b"fairwatch-session:" + key).digest()
        self.max_age = max_age

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def dumps(self, user_id: int, now: float | None = None) -> str:
        exp = int((now if now is not None else time.time()) + self.max_age)
        payload = _b64(json.dumps({"u": user_id, "exp": exp, "n": secrets.token_hex(8)}).encode())
        return f"{payload}.{self._sign(payload)}"

    def loads(self, value: str, now: float | None = None) -> int | None:
        """The user id of a valid, unexpired cookie; None for anything else."""
        payload, _, signature = value.partition(".")
        if not payload or not signature or len(value) > 4096:
            return None
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            user_id, exp = int(data["u"]), int(data["exp"])
        except (ValueError, KeyError, TypeError):
            return None
        if exp < (now if now is not None else time.time()):
            return None
        return user_id


def set_session_cookie(response: Any, signer: SessionSigner, user_id: int, https: bool) -> None:
    """Sign the user in on ``response``: the HttpOnly, SameSite=Lax session cookie."""
    response.set_cookie(
        COOKIE_NAME,
        signer.dumps(user_id),
        max_age=signer.max_age,
        httponly=True,
        samesite="lax",
        secure=https,
        path="/",
    )


def clear_session_cookie(response: Any) -> None:
    """Sign out on ``response``: delete the session cookie."""
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
