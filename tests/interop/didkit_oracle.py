"""didkit 0.3.3 as an interoperability oracle, always run in a throw-away child process.

The wheel's async runtime can abort the interpreter while it shuts down, even after a call
succeeded (``PyGILState_Release: thread state ... must be current``, exit code 134, in 2 of 6
short runs here). Every call therefore runs in ``python -c CHILD_SOURCE``, which prints one JSON
line and leaves with ``os._exit``; the parent trusts that line even if the child died afterwards.

    jwk = generate_ed25519_jwk()
    vc = issue_credential(credential, jwk)  # Ed25519Signature2020, proofPurpose assertionMethod
    assert verify_credential(vc)["errors"] == []

What didkit 0.3.3 was observed to do (probed against the wheel, not taken from its docs):

Ed25519Signature2020 proofs (``proofFormat`` "ldp")
  * Without an explicit ``type`` option didkit signs Ed25519Signature2018 (a detached ``jws``),
    so this module always passes ``type``.
  * Proof fields, in didkit's order: ``type``, ``proofPurpose``, ``proofValue`` ("z" + base58btc
    of the 64-byte signature), ``verificationMethod``, ``created``; a presentation proof adds
    ``challenge`` and ``domain``. No ``id``, ``cryptosuite`` or ``nonce``.
  * ``created`` taken from the clock is UTC with milliseconds ("2026-11-24T20:40:43.638Z").
  * If the credential's ``@context`` already lists
    https://w3id.org/security/suites/ed25519-2020/v1 the proof has no ``@context``; otherwise
    didkit puts ``"@context": ["https://w3id.org/security/suites/ed25519-2020/v1"]`` inside the
    proof and the result still verifies. So the credential doesn't have to carry that context.
    But removing it from a credential that was signed with it fails ("Expansion failed").
  * The signature is over sha256(URDNA2015(proof options + credential @context)) followed by
    sha256(URDNA2015(credential without proof)): a pyld reimplementation reproduced a
    didkit proofValue byte for byte (Ed25519 is deterministic).
  * didkit re-serialises ``created`` before it canonicalises it: UTC with "Z", no fraction
    if the fraction is zero, otherwise 3, 6 or 9 digits. A proof signed over the literal
    "...00.000Z", "...00.1Z", "...00.1234Z" or "...00+00:00" therefore fails in didkit
    ("Verification equation was not satisfied"), while "...00Z", "...00.123Z", "...00.100Z" and
    "...00.123456Z" verify. To interoperate, emit whole seconds or exactly 3/6/9 digits with a
    non-zero fraction. (A created option of "+02:00" comes back converted to "Z".)

Verifying a credential (``verify_credential``, ldp)
  * The proofPurpose must match (default and here: assertionMethod). A proof made for
    authentication gives "No applicable proof"; editing or deleting proofPurpose after signing
    gives a signature error.
  * ``created`` is required (without it: "No applicable proof"), and so is a verificationMethod
    that is a DID URL with a fragment (a bare DID: "No applicable proof").
  * did:key resolves offline to one verification method ``<did>#<multibase>`` of type
    **Ed25519VerificationKey2018** with ``publicKeyJwk``, listed under authentication and
    assertionMethod. didkit accepts Ed25519Signature2020 over it; it doesn't require an
    Ed25519VerificationKey2020 / publicKeyMultibase method.
  * Only built-in context URLs: any other URL gives "Unknown context" (inline context objects
    work). The VC 2.0 context is refused outright ("Invalid context").
  * Result: ``{"checks": ["proof"], "warnings": [], "errors": []}``, valid when errors is empty.

VC-JWT 1.1 (``proofFormat`` "jwt")
  * Only ``proofFormat``, ``verificationMethod`` and ``proofPurpose`` are accepted; ``type`` or
    ``created`` fails ("Linked data proof option unencodable as JWT claim: type").
  * Header: ``{"alg": "EdDSA", "kid": "<did:key VM id>"}``. There is no ``typ``.
  * Claims: ``exp`` (from expirationDate, if present), ``iss`` (issuer), ``nbf`` (issuanceDate),
    ``jti`` (credential id, if present), ``sub`` (credentialSubject.id, if present), and ``vc``.
    exp and nbf are JSON *floats* (1704067200.0). ``vc`` is the whole credential unchanged:
    id, issuer, issuanceDate and expirationDate are **not** stripped. There is no iat and no aud.
  * Verifying: the compact string goes in as-is (a JSON-quoted string fails: "Unable to decode
    JWS"). It accepts an integer nbf, ``typ`` "JWT" or "vc+jwt", an ``iat``, and a ``vc`` claim
    with issuer/issuanceDate/id stripped (it takes them from iss/nbf/jti). It requires ``kid``
    to be the full VM id (none: "JWT header missing key id"; a bare DID: "Unable to resolve key
    for JWS") and nbf or vc.issuanceDate ("Invalid VC: Missing issuance date"), and it checks
    exp and nbf against the clock ("No applicable JWS or proof"). Result checks: ``["JWS"]``.

Presentations (VC 1.1)
  * The LDP proof has proofPurpose authentication, ``challenge`` and ``domain``. ``holder`` is
    optional.
  * A wrong challenge or domain gives "No applicable proof". But a verification that asks for no
    challenge or domain passes, so this module always sends both.
  * verify_presentation checks the presentation's proof only: a tampered embedded credential
    inside a correctly signed presentation still verifies.
  * VP-JWT claims: ``iss`` (holder), ``aud`` (domain), ``nonce`` (challenge), ``vp``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import lru_cache
from typing import Any

__all__ = [
    "CHILD_SOURCE",
    "TIMEOUT_SECONDS",
    "DidkitError",
    "available",
    "generate_ed25519_jwk",
    "issue_credential",
    "issue_presentation",
    "key_to_did",
    "unavailable_reason",
    "verification_method",
    "verify_credential",
    "verify_presentation",
]

TIMEOUT_SECONDS = 60.0

# The child calls one didkit function with string arguments (didkit's API is JSON strings in,
# JSON strings out), awaits the result if there is one, and prints a single JSON line.
# os._exit skips interpreter finalisation, which is where the wheel's runtime aborts.
CHILD_SOURCE = r"""
import asyncio, inspect, json, os, sys

def emit(message, code):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()
    os._exit(code)

async def call(fn, args):
    import didkit
    # didkit's async functions attach to the running loop, so even the call runs in here.
    value = getattr(didkit, fn)(*args)
    if inspect.isawaitable(value):
        value = await value
    return value

try:
    request = json.loads(sys.stdin.read())
    result = asyncio.run(call(request["fn"], request["args"]))
except BaseException as exc:
    emit({"exception": f"{type(exc).__name__}: {exc}"}, 3)
emit({"result": result}, 0)
"""

_FUNCTIONS = frozenset(
    {
        "get_version",
        "generate_ed25519_key",
        "key_to_did",
        "key_to_verification_method",
        "issue_credential",
        "verify_credential",
        "issue_presentation",
        "verify_presentation",
    }
)

_PROOF_FORMATS = ("ldp", "jwt")


class DidkitError(RuntimeError):
    """didkit failed, or the child process running it did."""

    def __init__(self, message: str, *, stderr: str = "", returncode: int | None = None) -> None:
        detail = f"{message} (exit code {returncode})" if returncode is not None else message
        if stderr.strip():
            detail += f"\n--- child stderr ---\n{stderr.strip()}"
        super().__init__(detail)
        self.stderr = stderr
        self.returncode = returncode


def _first_json_line(stdout: str) -> dict[str, Any] | None:
    for line in stdout.splitlines():
        if line.strip():
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                return None
            return message if isinstance(message, dict) else None
    return None


def _run_child(request: dict[str, Any], *, source: str = CHILD_SOURCE) -> Any:
    """Run ``source`` in a fresh interpreter, send it ``request``, return its ``result``."""
    try:
        completed = subprocess.run(
            [sys.executable, "-c", source],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raw = exc.stderr or ""
        stderr = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        raise DidkitError(
            f"didkit {request.get('fn')} timed out after {TIMEOUT_SECONDS:.0f} s", stderr=stderr
        ) from exc

    # Read what was printed before looking at the exit code: a crash during shutdown, after
    # the result line was flushed, must not turn a good answer into a failure.
    message = _first_json_line(completed.stdout)
    if message is not None and "result" in message:
        return message["result"]
    if message is not None and "exception" in message:
        raise DidkitError(
            f"didkit {request.get('fn')} raised {message['exception']}",
            stderr=completed.stderr,
            returncode=completed.returncode,
        )
    raise DidkitError(
        f"didkit {request.get('fn')}: the child process printed no result"
        f" (stdout: {completed.stdout[:200]!r})",
        stderr=completed.stderr,
        returncode=completed.returncode,
    )


def _call(fn: str, *args: str) -> Any:
    if fn not in _FUNCTIONS:
        raise ValueError(f"not a didkit function this oracle uses: {fn}")
    return _run_child({"fn": fn, "args": list(args)})


def _check_format(proof_format: str) -> None:
    if proof_format not in _PROOF_FORMATS:
        raise ValueError(f"proof_format must be one of {_PROOF_FORMATS}, not {proof_format!r}")


def _as_text(document: dict[str, Any] | str) -> str:
    # A VC-JWT must reach didkit as the bare compact string; a dict becomes JSON text.
    return document if isinstance(document, str) else json.dumps(document)


def _decode_signed(signed: str, proof_format: str) -> dict[str, Any] | str:
    if proof_format == "jwt":
        return signed
    document: dict[str, Any] = json.loads(signed)
    return document


@lru_cache(maxsize=1)
def unavailable_reason() -> str | None:
    """Why didkit can't be used from ``sys.executable``, or None when it can."""
    try:
        version = _call("get_version")
    except DidkitError as exc:
        return f"{sys.executable} cannot run didkit: {exc}"
    return None if isinstance(version, str) else f"didkit get_version returned {version!r}"


def available() -> bool:
    """True when didkit imports and answers in a child process."""
    return unavailable_reason() is None


def generate_ed25519_jwk() -> dict[str, Any]:
    """A fresh Ed25519 private key as an OKP JWK (``kty``, ``crv``, ``x``, ``d``)."""
    jwk: dict[str, Any] = json.loads(_call("generate_ed25519_key"))
    return jwk


def key_to_did(jwk: dict[str, Any]) -> str:
    """The did:key for ``jwk``."""
    did: str = _call("key_to_did", "key", json.dumps(jwk))
    return did


def verification_method(jwk: dict[str, Any]) -> str:
    """The did:key verification method id didkit signs with: ``did:key:z6Mk...#z6Mk...``."""
    vm: str = _call("key_to_verification_method", "key", json.dumps(jwk))
    return vm


def issue_credential(
    credential: dict[str, Any],
    jwk: dict[str, Any],
    proof_format: str = "ldp",
    created: str | None = None,
    proof_type: str = "Ed25519Signature2020",
) -> dict[str, Any] | str:
    """Sign ``credential`` with assertionMethod: the signed dict (ldp) or a compact VC-JWT (jwt).

    ``created`` and ``proof_type`` apply to ldp only; didkit cannot put them in a JWT.
    """
    _check_format(proof_format)
    options: dict[str, Any] = {
        "verificationMethod": verification_method(jwk),
        "proofPurpose": "assertionMethod",
    }
    if proof_format == "jwt":
        if created is not None:
            raise ValueError("didkit cannot encode 'created' in a VC-JWT; pass created=None")
        options["proofFormat"] = "jwt"
    else:
        options["type"] = proof_type
        if created is not None:
            options["created"] = created
    signed = _call("issue_credential", json.dumps(credential), json.dumps(options), json.dumps(jwk))
    return _decode_signed(signed, proof_format)


def verify_credential(
    credential: dict[str, Any] | str, proof_format: str = "ldp"
) -> dict[str, Any]:
    """didkit's verdict ``{"checks", "warnings", "errors"}``; valid when ``errors`` is empty.

    A VC-JWT is passed as the raw compact string.
    """
    _check_format(proof_format)
    options: dict[str, Any] = (
        {"proofFormat": "jwt"} if proof_format == "jwt" else {"proofPurpose": "assertionMethod"}
    )
    result: dict[str, Any] = json.loads(
        _call("verify_credential", _as_text(credential), json.dumps(options))
    )
    return result


def issue_presentation(
    presentation: dict[str, Any],
    jwk: dict[str, Any],
    challenge: str,
    domain: str,
    proof_format: str = "ldp",
) -> dict[str, Any] | str:
    """Sign ``presentation`` for authentication, bound to ``challenge`` and ``domain``.

    ldp proofs are Ed25519Signature2020; jwt carries challenge as ``nonce`` and domain as ``aud``.
    """
    _check_format(proof_format)
    options: dict[str, Any] = {
        "verificationMethod": verification_method(jwk),
        "proofPurpose": "authentication",
        "challenge": challenge,
        "domain": domain,
    }
    if proof_format == "jwt":
        options["proofFormat"] = "jwt"
    else:
        options["type"] = "Ed25519Signature2020"
    signed = _call(
        "issue_presentation", json.dumps(presentation), json.dumps(options), json.dumps(jwk)
    )
    return _decode_signed(signed, proof_format)


def verify_presentation(
    presentation: dict[str, Any] | str,
    challenge: str,
    domain: str,
    proof_format: str = "ldp",
) -> dict[str, Any]:
    """didkit's verdict on the presentation's own proof (embedded credentials are not checked)."""
    _check_format(proof_format)
    # didkit only compares challenge and domain when asked, so both are always sent.
    options: dict[str, Any] = {
        "proofPurpose": "authentication",
        "challenge": challenge,
        "domain": domain,
    }
    if proof_format == "jwt":
        options["proofFormat"] = "jwt"
    result: dict[str, Any] = json.loads(
        _call("verify_presentation", _as_text(presentation), json.dumps(options))
    )
    return result
