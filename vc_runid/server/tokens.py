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
import time
from dataclasses import dataclass

from .._internal.timeutil import format_datetime, utc_now
from ..errors import UsageError
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
    token: str = ""  # the token's SHA-256 (hex): what the writing transaction checks is still live


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
    digest = token_digest(token)
    found = storage.token_client(digest)
    return Caller(*found, token=digest) if found is not None else None


#: How long a client token found valid is taken as valid without asking the database again.
TOKEN_CACHE_SECONDS = 2.0


class TokenCache:
    """:func:`authenticate`, remembering for ``ttl`` seconds the client tokens it found valid, so
    that a request does not cost a database read (a round trip, on PostgreSQL) to authenticate.

    Revocation still takes effect at once: every entry a request writes carries its token's hash,
    and the transaction that writes it checks that the token is still live
    (``Storage.commit_batch``), so a revoked token never gets anything written or returned; and a
    request that fails before writing asks :meth:`revoked` before it answers, so a revoked token
    gets 401 rather than another refusal. Admin tokens are not remembered (an admin request can
    succeed without writing); unknown tokens are not either (a token just created works at once).
    """

    def __init__(self, storage: Storage, ttl: float = TOKEN_CACHE_SECONDS, size: int = 1024) -> None:
        self.storage = storage
        self.ttl = ttl
        self.size = size
        self._seen: dict[str, tuple[Caller, float]] = {}

    def authenticate(self, token: str | None) -> tuple[Caller | None, bool]:
        """(who ``token`` belongs to or None, whether that came from the cache)."""
        if not token or len(token) > 256:
            return None, False
        digest = token_digest(token)
        now = time.monotonic()
        hit = self._seen.get(digest)
        if hit is not None and now - hit[1] < self.ttl:
            return hit[0], True
        found = self.storage.token_client(digest)
        if found is None:
            self._seen.pop(digest, None)
            return None, False
        caller = Caller(*found, token=digest)
        if self.ttl > 0 and not caller.admin:
            if len(self._seen) >= self.size:
                self._seen.clear()  # a bound, not a policy: the next requests look their tokens up again
            self._seen[digest] = (caller, now)
        return caller, False

    def revoked(self, caller: Caller) -> bool:
        """Whether ``caller``'s token has been revoked (asks the database)."""
        if self.storage.token_client(caller.token) is not None:
            return False
        self._seen.pop(caller.token, None)
        return True


def check_token(storage: Storage, token: str | None) -> str | None:
    """The client name a presented bearer token belongs to, or None (unknown or revoked)."""
    caller = authenticate(storage, token)
    return caller.name if caller is not None else None


def list_tokens(storage: Storage) -> list[TokenRow]:
    return storage.tokens()


__all__ = [
    "TOKEN_CACHE_SECONDS",
    "Caller",
    "TokenCache",
    "authenticate",
    "check_token",
    "create_token",
    "list_tokens",
    "revoke_token",
    "token_digest",
]
