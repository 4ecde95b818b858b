"""Shared fixtures: an issuer per key type, a fixed clock, sample VC 2.0 and VC 1.1 credentials,
a verifier, an ``issue`` helper that picks the right key and credential for each proof format, and
``no_network``, which makes any attempt to open a socket fail loudly.

Keep these generic: every test file may use them.
"""

from __future__ import annotations

import copy
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

# An error raised with a class that is not its code's family fails loudly in the suite (and in the
# CLI and service processes it starts, which inherit the variable): tests/test_errors.py. Set
# before vc_runid is imported, which reads it once.
os.environ["RUNID_STRICT_ERRORS"] = "1"

from vc_runid._internal.contexts import VC_V1, VC_V2
from vc_runid.vc.credentials import Issuer, issue_credential
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.keys import KeyType
from vc_runid.vc.verification import Verifier

#: The verification time every test uses unless it says otherwise.
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
#: When the test credentials' proofs are created: an hour before ``NOW``.
CREATED = NOW - timedelta(hours=1)

_SUBJECT = {"id": "did:example:alice", "name": "Alice"}

_CREDENTIAL_V2: dict[str, Any] = {
    "@context": [VC_V2],
    "id": "urn:uuid:6a0b1f0e-3c55-4d7e-9c1a-0d6a2b1f7e01",
    "type": ["VerifiableCredential"],
    "name": "Sample credential",
    "validFrom": "2025-01-01T00:00:00Z",
    "credentialSubject": _SUBJECT,
}

# The VC 1.1 context defines no "name": an inline context does (and keeps it didkit-compatible).
_CREDENTIAL_V1: dict[str, Any] = {
    "@context": [VC_V1, {"name": "https://schema.org/name"}],
    "id": "urn:uuid:6a0b1f0e-3c55-4d7e-9c1a-0d6a2b1f7e02",
    "type": ["VerifiableCredential"],
    "issuanceDate": "2025-01-01T00:00:00Z",
    "credentialSubject": _SUBJECT,
}

#: The key type each proof format signs with.
FORMAT_KEY_TYPE: dict[ProofFormat, KeyType] = {
    ProofFormat.DI: KeyType.ED25519,
    ProofFormat.DI_2020: KeyType.ED25519,
    ProofFormat.ECDSA: KeyType.P256,
    ProofFormat.EDDSA_JCS: KeyType.ED25519,
    ProofFormat.ECDSA_JCS: KeyType.P256,
    ProofFormat.JOSE: KeyType.ED25519,
    ProofFormat.JWT_V1: KeyType.ED25519,
}


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def ed25519_issuer() -> Issuer:
    return Issuer.generate(KeyType.ED25519)


@pytest.fixture(scope="session")
def p256_issuer() -> Issuer:
    return Issuer.generate(KeyType.P256)


@pytest.fixture(scope="session")
def issuers(ed25519_issuer: Issuer, p256_issuer: Issuer) -> dict[KeyType, Issuer]:
    return {KeyType.ED25519: ed25519_issuer, KeyType.P256: p256_issuer}


@pytest.fixture
def credential_v2() -> dict[str, Any]:
    """An unsigned VC 2.0 credential without an issuer (issuing adds the issuer's DID)."""
    return copy.deepcopy(_CREDENTIAL_V2)


@pytest.fixture
def credential_v1() -> dict[str, Any]:
    """An unsigned VC 1.1 credential without an issuer."""
    return copy.deepcopy(_CREDENTIAL_V1)


@pytest.fixture
def verifier(now: datetime) -> Verifier:
    """A verifier with the default (did:key only) resolver and pinned contexts, at ``now``."""
    return Verifier(now=now)


Issue = Callable[..., "dict[str, Any] | str"]


@pytest.fixture
def issue(issuers: dict[KeyType, Issuer]) -> Issue:
    """``issue(proof_format, credential=None, issuer=None, **kwargs)``: a secured credential.

    Without ``credential`` it signs the sample credential the format needs (VC 1.1 for
    ``jwt-1.1``, VC 2.0 otherwise); without ``issuer``, the session issuer of the right key type.
    """

    def _issue(
        proof_format: ProofFormat = ProofFormat.DI,
        credential: dict[str, Any] | None = None,
        issuer: Issuer | None = None,
        **kwargs: Any,
    ) -> dict[str, Any] | str:
        if credential is None:
            sample = _CREDENTIAL_V1 if proof_format is ProofFormat.JWT_V1 else _CREDENTIAL_V2
            credential = copy.deepcopy(sample)
        issuer = issuer or issuers[FORMAT_KEY_TYPE[proof_format]]
        kwargs.setdefault("created", CREATED)
        return issue_credential(credential, issuer, proof_format=proof_format, **kwargs)

    return _issue


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Make creating a socket (or resolving a host name) raise; return the list of attempts.

    A test that uses it proves that what it exercises never even tries the network: it would fail
    with an ``OSError``, and the returned list records every attempt.
    """
    attempts: list[tuple[Any, ...]] = []

    class _NoSocket(socket.socket):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            attempts.append(("socket", *args))
            raise OSError("network access attempted in a test that forbids it")

    def _no_getaddrinfo(*args: Any, **kwargs: Any) -> Any:
        attempts.append(("getaddrinfo", *args))
        raise OSError("name resolution attempted in a test that forbids it")

    monkeypatch.setattr(socket, "socket", _NoSocket)
    monkeypatch.setattr(socket, "getaddrinfo", _no_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", _no_getaddrinfo)
    return attempts
