"""Users, passwords and API tokens.

Passwords are stored as argon2id hashes; API tokens are random 256-bit secrets shown
once and stored as their SHA-256 (a token is high-entropy, so a fast hash suffices and
lets a request be matched by an indexed lookup).
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from fairwatch.cases import audit
from fairwatch.cases.db import Store
from fairwatch.cases.models import ApiToken, User
from fairwatch.cases.service import ROLES, Actor
from fairwatch.errors import AuthorizationError, UsageError

_hasher = PasswordHasher()
TOKEN_PREFIX = "fw_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    store: Store,
    username: str,
    password: str,
    role: str,
    *,
    bureau_id: str | None = None,
    platform_ids: list[str] | None = None,
    actor: str = "system",
) -> User:
    if role not in ROLES:
        raise UsageError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < 10:
        raise UsageError("a password needs at least 10 characters")
    if role == "platform" and not platform_ids:
        raise UsageError("a platform account needs the platform ids it speaks for")
    with store.session() as s:
        if s.execute(select(User).where(User.username == username)).first():
            raise UsageError(f"user {username!r} exists already")
        user = User(
            username=username,
            password_hash=_hasher.hash(password),
            role=role,
            bureau_id=bureau_id,
            platform_ids=list(platform_ids or []),
        )
        s.add(user)
        s.flush()
        audit.append(
            s, actor, "user.created", "user", user.id, {"username": username, "role": role}
        )
        return user


def authenticate(store: Store, username: str, password: str) -> Actor:
    """The actor for a username and password (the same error whatever is wrong)."""
    with store.session() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
        ok = False
        if user is not None and user.active:
            try:
                ok = _hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                ok = False
        else:
            _hasher.hash(password)  # same work either way: no user enumeration by timing
        if not ok or user is None:
            raise AuthorizationError("unknown user or wrong password")
        return Actor.of(user)


def issue_token(store: Store, user_id: int, label: str = "") -> str:
    """A new API token for a user (returned once; only its hash is kept)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.session() as s:
        s.add(ApiToken(user_id=user_id, token_hash=hash_token(token), label=label))
        audit.append(s, "system", "token.issued", "user", user_id, {"label": label})
    return token


def actor_for_token(store: Store, token: str) -> Actor:
    with store.read() as s:
        row = s.execute(
            select(User)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked.is_(False))
        ).scalar_one_or_none()
        if row is None or not row.active:
            raise AuthorizationError("invalid or revoked token")
        return Actor.of(row)
