"""Client tokens for the issuer service: random bearer secrets, stored only as SHA-256.

A token names its client; a client can only bind runs it declared itself. An *admin* token may
also revoke credentials (``POST /credentials/status``). The token is shown once
when created — the service cannot show it again, it only keeps the hash. 32 random bytes make a
salt pointless: a SHA-256 of a uniformly random 256-bit secret cannot be brute-forced.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from ..errors import UsageError
from ..timeutil import format_datetime, utc_now
from .storage import Storage, TokenRow

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_PREFIX = "runid_"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Caller:
    """Who a valid bearer token belongs to."""

    name: str
    admin: bool


def create_token(storage: Storage, name: str, *, admin: bool = False) -> str:
    """Create a token for client ``name`` and return it (the only time it is visible). An
    ``admin`` token may also revoke credentials."""
    if not _NAME.fullmatch(name):
        raise UsageError(f"invalid client name {name!r}: letters, digits, '.', '_', '-' (max 64)")
    token = _PREFIX + secrets.token_urlsafe(32)
    storage.add_token(name, token_digest(token), format_datetime(utc_now().replace(microsecond=0)), admin=admin)
    return token


def revoke_token(storage: Storage, name: str) -> bool:
    """Revoke client ``name``'s token; False if there was no live token of that name."""
    return storage.revoke_token(name)


def authenticate(storage: Storage, token: str | None) -> Caller | None:
    """Who a presented bearer token belongs to, or None (unknown or revoked)."""
    if not token or len(token) > 256:
        return None
    # Looked up by its hash: the lookup's timing can only leak bits of a SHA-256, not the token.
    found = storage.token_client(token_digest(token))
    return Caller(*found) if found is not None else None


def check_token(storage: Storage, token: str | None) -> str | None:
    """The client name a presented bearer token belongs to, or None (unknown or revoked)."""
    caller = authenticate(storage, token)
    return caller.name if caller is not None else None


def list_tokens(storage: Storage) -> list[TokenRow]:
    return storage.tokens()


__all__ = ["Caller", "authenticate", "check_token", "create_token", "list_tokens", "revoke_token", "token_digest"]
