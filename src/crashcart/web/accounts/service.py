"""Users and API tokens: creating, listing, revoking, and turning an ``Auth-Token`` header into a ``Caller``.

Plain functions on Django's models, called by the CLI (``crashcart user``/``crashcart token``) and by the
token middleware; Django must be configured (``crashcart.database.configure``) first.

A token is ``<public id><secret>``: 8 hex digits that name it in listings and for revoking, then 32 hex
digits (128 random bits). Only the SHA-256 of the whole token is stored, so the database (a backup, a
replica, a log of its queries) never holds a usable key; it is shown once, when it is made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Permission, User
from django.db import IntegrityError, transaction

from crashcart.errors import AccountError
from crashcart.web.accounts.models import PERMISSIONS, Token
from crashcart.web.api.base import ANONYMOUS, Caller

APP_LABEL = "accounts"
CODENAMES: tuple[str, ...] = tuple(code for code, _ in PERMISSIONS)
PUBLIC_ID_HEX = 8
SECRET_HEX = 32  # 128 bits
TOKEN_LENGTH = PUBLIC_ID_HEX + SECRET_HEX
#: How stale ``last_used`` may get before a request writes it again (one write a minute, not one a request).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

# Socorro's messages, word for word: crashstats-tools prints them.
NOT_MATCHED = "API Token not matched"
EXPIRED = "API Token found but expired"
USER_INACTIVE = "User of API token not active"


class TokenRefused(Exception):
    """The ``Auth-Token`` header names no usable token; ``message`` is the 403 body's ``error``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: everything but the key."""

    public_id: str
    username: str
    permissions: tuple[str, ...]
    created: dt.datetime
    expires: dt.datetime
    revoked: bool
    last_used: dt.datetime | None
    notes: str

    def state(self, now: dt.datetime) -> str:
        if self.revoked:
            return "revoked"
        return "expired" if self.expires <= now else "active"


def hash_token(key: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def parse_permissions(text: str | None) -> list[str]:
    """``"view_pii,view_rawdump"`` → codenames; an unknown name is an error that names it and lists the known."""
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    unknown = [name for name in names if name not in CODENAMES]
    if unknown:
        raise AccountError(f"unknown permission(s) {', '.join(unknown)}: choose from {', '.join(CODENAMES)}")
    return list(dict.fromkeys(names))


def permission_objects(codenames: Iterable[str]) -> list[Any]:
    """Django's ``Permission`` rows for ``codenames`` (created by ``migrate``)."""
    wanted = list(codenames)
    found = list(Permission.objects.filter(content_type__app_label=APP_LABEL, codename__in=wanted))
    missing = set(wanted) - {perm.codename for perm in found}
    if missing:
        raise AccountError(f"permission(s) {', '.join(sorted(missing))} missing from the database: run migrations")
    return found


def user_permissions(user: Any) -> frozenset[str]:
    """The user's current Crashcart permissions (direct, through groups, or all for an active superuser)."""
    if not user.is_active:
        return frozenset()
    return frozenset(code for code in CODENAMES if user.has_perm(f"{APP_LABEL}.{code}"))


def create_user(
    username: str, permissions: Sequence[str], *, superuser: bool = False, password: str | None = None
) -> Any:
    """A new active user; without a password it cannot log in (API tokens are its only credential)."""
    codes = parse_permissions(",".join(permissions))
    if not username or len(username) > 150:
        raise AccountError("a user name has 1 to 150 characters")
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise AccountError(f"user {username!r} already exists")
        user = User(username=username, is_superuser=superuser, is_staff=superuser)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        try:
            user.save()
        except IntegrityError as exc:  # created by someone else between the check and the save
            raise AccountError(f"user {username!r} already exists") from exc
        user.user_permissions.set(permission_objects(codes))
    return user


def create_token(
    username: str, permissions: Sequence[str], *, days: int, notes: str = "", now: dt.datetime | None = None
) -> tuple[TokenInfo, str]:
    """A new token for ``username`` and its key (shown once). Every permission must be the user's own."""
    codes = parse_permissions(",".join(permissions))
    if days < 1:
        raise AccountError("--days must be at least 1")
    now = now or dt.datetime.now(dt.UTC)
    user = _user(username)
    if not user.is_active:
        raise AccountError(f"user {username!r} is not active")
    lacking = [code for code in codes if code not in user_permissions(user)]
    if lacking:
        raise AccountError(f"user {username!r} lacks permission(s) {', '.join(lacking)}, so a token of theirs cannot")
    for _ in range(5):  # a public id collision (1 in 4 billion per pair) just draws again
        public_id = secrets.token_hex(PUBLIC_ID_HEX // 2)
        key = public_id + secrets.token_hex(SECRET_HEX // 2)
        try:
            with transaction.atomic():
                token = Token.objects.create(
                    user=user,
                    public_id=public_id,
                    key_hash=hash_token(key),
                    permissions=codes,
                    notes=notes,
                    created=now,
                    expires=now + dt.timedelta(days=days),
                )
        except IntegrityError:
            continue
        return _info(token, username), key
    raise AccountError("could not draw a unique token id; try again")


def list_tokens(username: str | None = None) -> list[TokenInfo]:
    """Every token (of ``username``), oldest first; never the key, which is not stored anyway."""
    tokens = Token.objects.select_related("user").order_by("created", "id")
    if username is not None:
        _user(username)  # an unknown name is an error, not an empty list
        tokens = tokens.filter(user__username=username)
    return [_info(token, token.user.username) for token in tokens]


def revoke_token(public_id: str) -> TokenInfo:
    """Revoke the token named ``public_id`` (revoking twice is harmless)."""
    public_id = public_id.strip().lower()
    if len(public_id) != PUBLIC_ID_HEX:  # never echoed: it may be a whole token pasted by mistake
        raise AccountError(f"a token id has {PUBLIC_ID_HEX} hex digits (the first column of crashcart token list)")
    try:
        token = Token.objects.select_related("user").get(public_id=public_id)
    except Token.DoesNotExist:
        raise AccountError(f"no token with id {public_id!r} (see crashcart token list)") from None
    if not token.revoked:
        token.revoked = True
        token.save(update_fields=["revoked"])
    return _info(token, token.user.username)


def authenticate(key: str | None, now: dt.datetime) -> Caller:
    """The caller an ``Auth-Token`` header value stands for: anonymous without one; ``TokenRefused`` when it
    matches nothing usable. The effective permissions are the token's that its user still holds now."""
    if key is None:
        return ANONYMOUS
    key = key.strip()
    if len(key) != TOKEN_LENGTH:  # no query for a value that cannot be a token
        raise TokenRefused(NOT_MATCHED)
    try:
        token = Token.objects.select_related("user").get(key_hash=hash_token(key))
    except Token.DoesNotExist:
        raise TokenRefused(NOT_MATCHED) from None
    if token.revoked:
        raise TokenRefused(NOT_MATCHED)
    if token.expires <= now:
        raise TokenRefused(EXPIRED)
    user = token.user
    if not user.is_active:
        raise TokenRefused(USER_INACTIVE)
    if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
        Token.objects.filter(pk=token.pk).update(last_used=now)
    effective = frozenset(token.permissions) & user_permissions(user)
    return Caller(permissions=effective, user_id=user.pk, token_id=token.pk)


def _user(username: str) -> Any:
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise AccountError(f"no user {username!r} (crashcart user create {username})") from None


def _info(token: Any, username: str) -> TokenInfo:
    return TokenInfo(
        public_id=token.public_id,
        username=username,
        permissions=tuple(token.permissions),
        created=token.created,
        expires=token.expires,
        revoked=token.revoked,
        last_used=token.last_used,
        notes=token.notes,
    )
