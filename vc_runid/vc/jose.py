"""JOSE-secured credentials: compact JWS around a VC 2.0 credential (VC-JOSE-COSE 1.0 §3.1.1) and
the older VC 1.1 JWT encoding (VC Data Model 1.1 §6.3.1).

    token = issue_vc_jose(credential, key, kid="did:key:z6Mk…#z6Mk…")
    jwt = parse_jwt(token)                      # structure, strict JSON, alg allow-list
    method = resolver.verification_method(kid_of(jwt), "assertionMethod")
    verify_jwt_signature(jwt, method.public_key)
    credential, profile = credential_from_jwt(jwt)

Signing and signature checking are done by jwcrypto. Everything a token must satisfy *before*
a key is looked at (three base64url segments, duplicate-free JSON objects, an allowed ``alg``, no
``crit``, no ``b64``) is checked here first, so jwcrypto only ever sees tokens we already accept.

Only asymmetric algorithms bound to one key type are allowed. A verifier that lets the token pick
its algorithm can be fooled into checking an ``HS256`` MAC keyed with the issuer's *public* key,
or into skipping the check altogether with ``none`` (RFC 8725 §2.1, §3.1). We refuse both with
``RUNID_JWS_ALG_NOT_ALLOWED``, and we refuse an allowed ``alg`` that doesn't fit the resolved key.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final, Literal

from .._internal.contexts import VC_V1, VC_V2
from .._internal.multiformats import b64url_decode, b64url_encode
from .._internal.timeutil import format_datetime, parse_datetime
from ..errors import DataModelError, DidError, ErrorCode, InputError, ProofError, UsageError
from .dids import VerificationMethod, did_of
from .documents import (
    MAX_DOCUMENT_BYTES,
    VcVersion,
    check_credential,
    contexts_of,
    issuer_id,
    parse_json,
)
from .keys import KeyPair, KeyType, PublicKey

__all__ = [
    "ALLOWED_ALGS",
    "VC_JOSE",
    "VC_JWT_MEDIA_TYPE",
    "VC_JWT_V1",
    "Jwt",
    "Profile",
    "credential_from_jwt",
    "envelop",
    "has_kid",
    "issue_vc_jose",
    "issue_vc_jwt_v1",
    "kid_of",
    "parse_jwt",
    "token_validity",
    "unwrap_envelope",
    "verify_jwt_signature",
    "verify_with_issuer_keys",
]

#: Accepted JWS ``alg`` values and the only key type each may be checked with. ``EdDSA`` is the
#: RFC 8037 §3.1 name; ``Ed25519`` is the fully-specified name from the IETF JOSE working group's
#: fully-specified-algorithms document, accepted when verifying but never emitted, because
#: didkit 0.3.3 and most deployed verifiers know only ``EdDSA``. ``ES256`` is RFC 7518 §3.4.
ALLOWED_ALGS: Final[Mapping[str, KeyType]] = MappingProxyType(
    {"EdDSA": KeyType.ED25519, "Ed25519": KeyType.ED25519, "ES256": KeyType.P256}
)

_SIGNING_ALG: Final[Mapping[KeyType, str]] = MappingProxyType(
    {KeyType.ED25519: "EdDSA", KeyType.P256: "ES256"}
)

# Both are 64 bytes: Ed25519 (RFC 8032 §5.1.6) and ES256 as R || S (RFC 7518 §3.4). jwcrypto
# splits an ECDSA signature in half whatever its length, so we check the length ourselves.
_SIGNATURE_BYTES: Final = 64

Profile = Literal["vc-jose", "vc-jwt-1.1"]
VC_JOSE: Final[Profile] = "vc-jose"
VC_JWT_V1: Final[Profile] = "vc-jwt-1.1"

#: The media type of a JOSE-secured VC 2.0 credential (VC-JOSE-COSE §3.1.1).
VC_JWT_MEDIA_TYPE: Final = "application/vc+jwt"
_ENVELOPED_TYPE: Final = "EnvelopedVerifiableCredential"

# RFC 7515 §2: base64url without padding, over the URL-safe alphabet only.
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_-]*")

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Jwt:
    """A compact JWS that passed :func:`parse_jwt`. Its signature is *not* checked yet."""

    token: str
    header: dict[str, Any]
    payload: dict[str, Any]
    #: ``ASCII(BASE64URL(header) || '.' || BASE64URL(payload))``, what was signed (RFC 7515 §5.1).
    signing_input: bytes
    signature: bytes


# --- parsing -------------------------------------------------------------------------------


def _jws_invalid(message: str, **detail: Any) -> ProofError:
    return ProofError(message, code=ErrorCode.JWS_INVALID, detail=detail or None)


def _decode_segment(segment: str, what: str) -> bytes:
    # A length of 1 mod 4 cannot come from any byte string (RFC 4648 §5).
    if len(segment) % 4 == 1:
        raise _jws_invalid(f"JWS {what} is not valid base64url", segment=what)
    try:
        data = b64url_decode(segment)
    except ValueError as exc:
        raise _jws_invalid(f"JWS {what} is not valid base64url: {exc}", segment=what) from exc
    # Unused trailing bits must be zero: otherwise several strings decode to the same bytes,
    # and the token a verifier logs would not be the one that was signed.
    if b64url_encode(data) != segment:
        raise _jws_invalid(f"JWS {what} is not canonical base64url", segment=what)
    return data


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = parse_json(data)
    except InputError as exc:
        raise _jws_invalid(
            f"JWS {what} is not valid JSON: {exc.message}", segment=what, cause=exc.code.value
        ) from exc
    if not isinstance(value, dict):
        raise _jws_invalid(f"JWS {what} must be a JSON object", segment=what)
    return value


def _check_header(header: dict[str, Any]) -> None:
    """The JOSE header rules we enforce before any key is touched (RFC 7515 §4, RFC 8725 §3.1)."""
    if "alg" not in header or not isinstance(header["alg"], str):
        raise _jws_invalid("JWS header alg is missing or not a string (RFC 7515 §4.1.1)")
    alg = header["alg"]
    if alg not in ALLOWED_ALGS:
        raise ProofError(
            f"JWS alg {alg[:40]!r} is not allowed; accepted: {', '.join(ALLOWED_ALGS)}",
            code=ErrorCode.JWS_ALG_NOT_ALLOWED,
            detail={"alg": alg[:40]},
        )
    if "kid" in header and (not isinstance(header["kid"], str) or not header["kid"]):
        raise _jws_invalid("JWS header kid must be a non-empty string")
    # We implement no extension parameters, and RFC 7515 §4.1.11 says a recipient that does not
    # understand every name in crit MUST reject the JWS. An empty crit is itself forbidden.
    if "crit" in header:
        raise _jws_invalid(
            "JWS header crit names extensions this verifier does not implement (RFC 7515 §4.1.11)",
            crit=header["crit"] if isinstance(header["crit"], list) else None,
        )
    # RFC 7797's unencoded payload changes what is signed; it is only legal under crit, and we
    # refuse it in any form rather than guess which payload bytes were meant.
    if "b64" in header:
        raise _jws_invalid("JWS header b64 (RFC 7797 unencoded payload) is not accepted")
    for name in ("typ", "cty"):
        if name in header and not isinstance(header[name], str):
            raise _jws_invalid(f"JWS header {name} must be a string")


def parse_jwt(token: str) -> Jwt:
    """Parse a compact JWS (RFC 7515 §7.1) strictly; the signature is not checked here.

    Raises ``RUNID_INPUT_TOO_LARGE`` above :data:`MAX_DOCUMENT_BYTES`, ``RUNID_JWS_ALG_NOT_ALLOWED``
    for any ``alg`` outside :data:`ALLOWED_ALGS`, and ``RUNID_JWS_INVALID`` for everything else that
    is malformed (``detail["cause"]`` keeps the JSON error code, e.g. a duplicate key).
    """
    if not isinstance(token, str):
        raise _jws_invalid("a compact JWS must be a string")
    # Counted in characters before anything is decoded; any non-ASCII character is refused below,
    # so for an accepted token this is also its size in bytes.
    if len(token) > MAX_DOCUMENT_BYTES:
        raise InputError(
            f"JWS is {len(token)} characters; the limit is {MAX_DOCUMENT_BYTES}",
            code=ErrorCode.INPUT_TOO_LARGE,
        )
    segments = token.split(".")
    if len(segments) != 3:
        # Five segments would be a JWE (RFC 7516 §7.1): encrypted, not signed.
        raise _jws_invalid(f"a compact JWS has 3 dot-separated segments, this has {len(segments)}")
    for what, segment in zip(("header", "payload", "signature"), segments, strict=True):
        if not _SEGMENT_RE.fullmatch(segment):
            raise _jws_invalid(f"JWS {what} has characters outside base64url", segment=what)
    header_b64, payload_b64, signature_b64 = segments
    if not header_b64:
        raise _jws_invalid("JWS header is empty", segment="header")
    header = _json_object(_decode_segment(header_b64, "header"), "header")
    _check_header(header)
    if not payload_b64:
        # A detached payload (RFC 7515 Appendix F) would be signed content we never see.
        raise _jws_invalid(
            "JWS payload is empty (detached payloads are not accepted)", segment="payload"
        )
    payload = _json_object(_decode_segment(payload_b64, "payload"), "payload")
    if not signature_b64:
        raise _jws_invalid("JWS has no signature", segment="signature")
    signature = _decode_segment(signature_b64, "signature")
    return Jwt(
        token=token,
        header=header,
        payload=payload,
        signing_input=f"{header_b64}.{payload_b64}".encode("ascii"),
        signature=signature,
    )


def kid_of(jwt: Jwt) -> str:
    """The ``kid`` header: the DID URL of the verification method that signed (RFC 7515 §4.1.4).

    Keys are found only by dereferencing this DID URL; keys embedded in the header (``jwk``,
    ``x5c``) or fetched from ``jku``/``x5u`` are never used. A token without any ``kid`` is
    checked against the issuer's assertion keys instead (:func:`verify_with_issuer_keys`).
    """
    kid = jwt.header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _jws_invalid("JWS header has no kid; the signing key is resolved only through it")
    if not _is_did_url_with_fragment(kid):
        raise _jws_invalid(
            f"JWS kid {kid[:80]!r} is not a DID URL naming a verification method (did:…#…)",
            kid=kid[:200],
        )
    return kid


def has_kid(jwt: Jwt) -> bool:
    """Whether the header names its key. ``kid`` is optional (RFC 7515 §4.1.4) and did-jwt-vc,
    Veramo's JWT issuer, leaves it out; the verifier then tries the issuer's assertion keys."""
    return "kid" in jwt.header


def verify_with_issuer_keys(jwt: Jwt, methods: Sequence[VerificationMethod]) -> VerificationMethod:
    """Check a kid-less token against each of the issuer's authorized methods; return the one
    whose key verified it (the report names it).

    The methods come from the issuer's own DID document (its ``assertionMethod`` list), never
    from the token, and only those whose key type fits ``alg`` are tried, so this is no weaker
    than a ``kid`` naming one of them: whichever verifies, the issuer signed.
    """
    alg = jwt.header.get("alg")
    fitting = [m for m in methods if isinstance(alg, str) and ALLOWED_ALGS.get(alg) is m.public_key.key_type]
    if not fitting:
        raise DidError(
            f"the JWS has no kid and none of the issuer's {len(methods)} assertion key(s) is a key "
            f"for alg {alg}",
            code=ErrorCode.VERIFICATION_METHOD_NOT_FOUND,
            detail={"alg": alg, "tried": [m.id for m in methods]},
        )
    for method in fitting:
        try:
            verify_jwt_signature(jwt, method.public_key)
        except ProofError as exc:
            if exc.code is not ErrorCode.PROOF_INVALID:
                raise
            continue
        return method
    raise ProofError(
        f"the JWS has no kid and its signature verifies with none of the issuer's "
        f"{len(fitting)} {alg} assertion key(s)",
        code=ErrorCode.PROOF_INVALID,
        detail={"tried": [m.id for m in fitting]},
    )


def _is_did_url_with_fragment(value: str) -> bool:
    did, sep, fragment = value.partition("#")
    return did.startswith("did:") and did.count(":") >= 2 and bool(sep) and bool(fragment)


# --- signatures ----------------------------------------------------------------------------


def verify_jwt_signature(jwt: Jwt, public_key: PublicKey) -> None:
    """Check ``jwt``'s signature with ``public_key``; raise ``RUNID_PROOF_INVALID`` if it fails.

    The key comes from the caller (resolved from :func:`kid_of`), never from the token, and the
    token's ``alg`` must be the one algorithm that key type is used with, so an attacker cannot
    switch the verification algorithm (RFC 8725 §3.1).
    """
    alg = jwt.header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
        raise ProofError(f"JWS alg {alg!r} is not allowed", code=ErrorCode.JWS_ALG_NOT_ALLOWED)
    # A Jwt can be built by hand; make sure the fields claims are read from are the token's.
    if parse_jwt(jwt.token) != jwt:
        raise ProofError("Jwt fields do not match its token", code=ErrorCode.PROOF_INVALID)
    if ALLOWED_ALGS[alg] is not public_key.key_type:
        raise ProofError(
            f"JWS alg {alg} is for {ALLOWED_ALGS[alg].value} keys; {_kid_for_message(jwt)} "
            f"is a key of type {public_key.key_type.value}",
            code=ErrorCode.PROOF_INVALID,
            detail={"alg": alg, "keyType": public_key.key_type.value},
        )
    if len(jwt.signature) != _SIGNATURE_BYTES:
        raise ProofError(
            f"an {alg} signature is {_SIGNATURE_BYTES} bytes, this one is {len(jwt.signature)}",
            code=ErrorCode.PROOF_INVALID,
        )
    # Imported here, not at the top: jwcrypto costs ~0.1 s of every CLI start (docs/performance.md).
    from jwcrypto import jwk as jwcrypto_jwk
    from jwcrypto import jws as jwcrypto_jws
    from jwcrypto.common import JWException

    verifier = jwcrypto_jws.JWS()
    verifier.allowed_algs = [alg]
    try:
        verifier.deserialize(jwt.token)
        verifier.verify(jwcrypto_jwk.JWK(**public_key.jwk), alg=alg)
    except (JWException, ValueError) as exc:
        raise ProofError(
            "JWS signature does not verify with the issuer's key", code=ErrorCode.PROOF_INVALID
        ) from exc


def _kid_for_message(jwt: Jwt) -> str:
    kid = jwt.header.get("kid")
    return kid if isinstance(kid, str) else "the key"


def _json_bytes(value: Mapping[str, Any], what: str) -> bytes:
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise DataModelError(f"{what} cannot be serialized as JSON: {exc}") from exc
    return text.encode("utf-8")


def _sign(header: dict[str, Any], payload: Mapping[str, Any], key: KeyPair) -> str:
    from jwcrypto import jwk as jwcrypto_jwk
    from jwcrypto import jws as jwcrypto_jws

    protected = _json_bytes(header, "JWS header").decode("utf-8")
    signer = jwcrypto_jws.JWS(_json_bytes(payload, "JWT payload"))
    signer.allowed_algs = [header["alg"]]
    signer.add_signature(jwcrypto_jwk.JWK(**key.jwk), protected=protected)
    token: str = signer.serialize(compact=True)
    if len(token) > MAX_DOCUMENT_BYTES:
        # Never issue what our own verifier would refuse to read.
        raise InputError(
            f"the signed JWT would be {len(token)} characters; the limit is {MAX_DOCUMENT_BYTES}",
            code=ErrorCode.INPUT_TOO_LARGE,
        )
    return token


def _check_kid(kid: str, credential: Mapping[str, Any]) -> None:
    if not isinstance(kid, str) or not _is_did_url_with_fragment(kid):
        raise UsageError(f"kid must be a DID URL naming a verification method, got {kid!r}")
    issuer = issuer_id(dict(credential))
    if did_of(kid) != issuer:
        # A verifier binds the key to the issuer through the DID; a mismatch can never verify.
        raise UsageError(f"kid {kid} does not belong to the issuer {issuer}")


# --- issuing -------------------------------------------------------------------------------


def issue_vc_jose(credential: dict[str, Any], key: KeyPair, kid: str) -> str:
    """Secure a VC 2.0 credential with JOSE (VC-JOSE-COSE §3.1.1): the payload is the credential.

    The protected header is ``{"alg", "kid", "typ": "vc+jwt", "cty": "vc"}``; ``kid`` must be a DID
    URL of the issuer's DID.
    """
    if check_credential(credential) is not VcVersion.V2:
        raise DataModelError(
            "VC-JOSE-COSE secures VC 2.0 credentials; use issue_vc_jwt_v1 for a VC 1.1 credential"
        )
    # VC-JOSE-COSE §3.1.1: the JWT claim names vc and vp MUST NOT be present.
    for claim in ("vc", "vp"):
        if claim in credential:
            raise DataModelError(f"a VC 2.0 credential secured with JOSE must not have {claim!r}")
    _check_kid(kid, credential)
    header = {"alg": _SIGNING_ALG[key.key_type], "kid": kid, "typ": "vc+jwt", "cty": "vc"}
    return _sign(header, credential, key)


def issue_vc_jwt_v1(credential: dict[str, Any], key: KeyPair, kid: str) -> str:
    """Encode a VC 1.1 credential as a JWT (VC Data Model 1.1 §6.3.1) and sign it.

    Claims: ``iss`` (issuer id), ``nbf`` (issuanceDate), ``exp`` (expirationDate, if any), ``jti``
    (id, if any), ``sub`` (credentialSubject.id, if one subject has one) and ``vc``. Properties a
    claim carries are removed from ``vc`` ("instead of", §6.3.1), so they cannot disagree; a
    property a claim cannot reproduce exactly (an issuer object with a name, a date in another time
    zone) stays in ``vc``. didkit 0.3.3 accepts both forms.
    """
    if check_credential(credential) is not VcVersion.V1:
        raise DataModelError(
            "the VC-JWT 1.1 encoding is for VC 1.1 credentials; use issue_vc_jose for VC 2.0"
        )
    _check_kid(kid, credential)
    vc = copy.deepcopy(credential)
    claims: dict[str, Any] = {"iss": issuer_id(credential)}
    if isinstance(vc["issuer"], str):
        del vc["issuer"]
    for prop, claim in (("issuanceDate", "nbf"), ("expirationDate", "exp")):
        if prop in credential:
            moment = parse_datetime(credential[prop], prop)
            claims[claim] = _to_numeric_date(moment)
            if format_datetime(_from_numeric_date(claims[claim], claim)) == credential[prop]:
                del vc[prop]
    if "id" in credential:
        claims["jti"] = credential["id"]
        del vc["id"]
    subject = vc["credentialSubject"]
    if isinstance(subject, dict) and isinstance(subject.get("id"), str):
        claims["sub"] = subject["id"]
        # Keep the object non-empty: VC 1.1 §4.4 asks for claims about the subject.
        if len(subject) > 1:
            del subject["id"]
    claims["vc"] = vc
    header = {"alg": _SIGNING_ALG[key.key_type], "kid": kid, "typ": "JWT"}
    return _sign(header, claims, key)


# --- reading the credential ----------------------------------------------------------------


def _to_numeric_date(moment: datetime) -> int | float:
    """RFC 7519 §2 NumericDate: seconds since the epoch, an integer when there is no fraction."""
    delta = moment - _EPOCH
    whole = delta.days * 86400 + delta.seconds
    return whole if not delta.microseconds else whole + delta.microseconds / 1_000_000


def _from_numeric_date(value: Any, claim: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DataModelError(
            f"JWT claim {claim} must be a NumericDate (RFC 7519 §2), got {value!r}"
        )
    try:
        # timedelta rounds a float to the microsecond, the precision of a parsed dateTime.
        return _EPOCH + timedelta(seconds=value)
    except OverflowError as exc:
        raise DataModelError(f"JWT claim {claim} is out of range: {value!r}") from exc


def _conflict(claim: str, prop: str, claim_value: Any, credential_value: Any) -> DataModelError:
    return DataModelError(
        f"JWT claim {claim} ({claim_value!r}) conflicts with the credential's {prop} "
        f"({credential_value!r})",
        code=ErrorCode.NOT_A_CREDENTIAL,
        detail={"claim": claim, "property": prop},
    )


def _string_claim(payload: Mapping[str, Any], claim: str) -> str | None:
    value = payload.get(claim)
    if claim in payload and not isinstance(value, str):
        raise DataModelError(f"JWT claim {claim} must be a string, got {value!r}")
    return value


def _media_type(value: str) -> str:
    # RFC 7515 §4.1.9: "application/" may be left out, and media types are case-insensitive.
    value = value.lower()
    return value.removeprefix("application/")


def _check_media_types(
    header: Mapping[str, Any], typ: set[str | None], cty: set[str | None]
) -> None:
    """Explicit typing (RFC 8725 §3.11): a JWT typed as something else is not this credential."""
    found_typ = _media_type(header["typ"]) if "typ" in header else None
    found_cty = _media_type(header["cty"]) if "cty" in header else None
    if found_typ not in typ or found_cty not in cty:
        raise DataModelError(
            f"a JWT with typ {header.get('typ')!r} and cty {header.get('cty')!r} is not "
            "a credential of this profile",
            detail={"typ": header.get("typ"), "cty": header.get("cty")},
        )


#: ``typ`` values of VC-JOSE-COSE drafts (Transmute's libraries emitted ``vc-ld+jwt``), never
#: registered, and issued under payload rules that changed from draft to draft.
_DRAFT_TYPS: Final = frozenset({"vc-ld+jwt", "vc+ld+jwt", "vc+ld+json+jwt", "vc-ld+json+jwt"})


def _refuse_draft_media_types(header: Mapping[str, Any]) -> None:
    """Refuse a pre-standard ``typ`` with a message naming the registered one, rather than the
    generic "not a credential of this profile": the issuer only has to re-issue with ``vc+jwt``."""
    typ = header.get("typ")
    if isinstance(typ, str) and _media_type(typ) in _DRAFT_TYPS:
        raise DataModelError(
            f"JWS typ {typ!r} is a pre-standard draft media type; VC-JOSE-COSE 1.0 §3.1.1 registers "
            f"{VC_JWT_MEDIA_TYPE} (typ \"vc+jwt\"): re-issue the token with that typ",
            detail={"typ": typ, "expected": "vc+jwt"},
        )


def _rebuild_v1(payload: Mapping[str, Any]) -> dict[str, Any]:
    """VC 1.1 §6.3.1 decoding: start from ``vc`` and set what the registered claims carry.

    Where ``vc`` keeps a property a claim also carries, both must say the same: two readers of
    one token must never see different issuers, subjects or dates.
    """
    vc = payload["vc"]
    if not isinstance(vc, dict):
        raise DataModelError("JWT claim vc must be a JSON object")
    if "@context" in payload:
        raise DataModelError(
            "a JWT payload with both vc and @context is neither a VC-JWT 1.1 "
            "nor a VC-JOSE credential"
        )
    contexts = contexts_of(vc)
    if not contexts or contexts[0] != VC_V1:
        raise DataModelError(
            f"the vc claim must hold a VC 1.1 credential (first @context {VC_V1}); "
            "VC 2.0 credentials are secured without it (VC-JOSE-COSE §3.1.1)"
        )
    credential = copy.deepcopy(vc)

    iss = _string_claim(payload, "iss")
    if iss is not None:
        issuer = credential.get("issuer")
        if issuer is None:
            credential["issuer"] = iss
        elif isinstance(issuer, dict):
            if "id" not in issuer:
                issuer["id"] = iss
            elif issuer["id"] != iss:
                raise _conflict("iss", "issuer.id", iss, issuer["id"])
        elif issuer != iss:
            raise _conflict("iss", "issuer", iss, issuer)

    for claim, prop in (("nbf", "issuanceDate"), ("exp", "expirationDate")):
        if claim not in payload:
            continue
        moment = _from_numeric_date(payload[claim], claim)
        if prop not in credential:
            credential[prop] = format_datetime(moment)
        elif parse_datetime(credential[prop], prop) != moment:
            raise _conflict(claim, prop, payload[claim], credential[prop])

    jti = _string_claim(payload, "jti")
    if jti is not None:
        if "id" not in credential:
            credential["id"] = jti
        elif credential["id"] != jti:
            raise _conflict("jti", "id", jti, credential["id"])

    sub = _string_claim(payload, "sub")
    if sub is not None:
        subject = credential.get("credentialSubject")
        if subject is None:
            credential["credentialSubject"] = {"id": sub}
        elif isinstance(subject, dict):
            if "id" not in subject:
                subject["id"] = sub
            elif subject["id"] != sub:
                raise _conflict("sub", "credentialSubject.id", sub, subject["id"])
        elif not (
            isinstance(subject, list)
            and any(isinstance(s, dict) and s.get("id") == sub for s in subject)
        ):
            # With several subjects there is no single one sub could name.
            raise _conflict("sub", "credentialSubject", sub, subject)
    return credential


def _check_jose_claims(payload: Mapping[str, Any]) -> None:
    """VC-JOSE-COSE §3.1.1: no vc/vp claim; iss/jti/sub, when present, must agree with the
    credential (the spec recommends issuers avoid conflicts; we refuse them, fail-closed)."""
    for claim in ("vc", "vp"):
        if claim in payload:
            raise DataModelError(
                f"a VC 2.0 credential secured with JOSE must not have a {claim} claim"
            )
    iss = _string_claim(payload, "iss")
    if iss is not None:
        issuer = payload.get("issuer")
        issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
        if issuer != iss:
            raise _conflict("iss", "issuer", iss, issuer)
    jti = _string_claim(payload, "jti")
    if jti is not None and payload.get("id") != jti:
        raise _conflict("jti", "id", jti, payload.get("id"))
    sub = _string_claim(payload, "sub")
    if sub is not None:
        subject = payload.get("credentialSubject")
        subjects = subject if isinstance(subject, list) else [subject]
        if not any(isinstance(s, dict) and s.get("id") == sub for s in subjects):
            raise _conflict("sub", "credentialSubject.id", sub, subject)


def credential_from_jwt(jwt: Jwt) -> tuple[dict[str, Any], Profile]:
    """The credential a (signature-checked) JWT secures, and which profile it uses.

    ``"vc-jose"``: the payload is a VC 2.0 credential (first ``@context`` VC 2.0, no ``vc``
    claim) and is returned as is, JWT claims included. ``"vc-jwt-1.1"``: the payload has a ``vc``
    claim, and the credential is rebuilt from it and ``iss``/``nbf``/``exp``/``jti``/``sub``.
    Anything else, or claims that contradict the credential, is ``RUNID_NOT_A_CREDENTIAL``. The
    result still has to pass :func:`vc_runid.vc.documents.check_credential`.
    """
    payload = jwt.payload
    if "vc" in payload:
        _check_media_types(jwt.header, typ={None, "jwt"}, cty={None})
        return _rebuild_v1(payload), VC_JWT_V1
    contexts = contexts_of(payload)
    if contexts and contexts[0] == VC_V2:
        _refuse_draft_media_types(jwt.header)
        _check_media_types(jwt.header, typ={None, "vc+jwt"}, cty={None, "vc"})
        _check_jose_claims(payload)
        return copy.deepcopy(payload), VC_JOSE
    raise DataModelError(
        f"the JWT payload is not a credential: no vc claim (VC-JWT 1.1) and its first @context is "
        f"not {VC_V2} (VC-JOSE-COSE)"
    )


def token_validity(jwt: Jwt) -> tuple[datetime | None, datetime | None]:
    """The token's own ``nbf`` and ``exp`` (RFC 7519 §4.1.4–4.1.5) as (not before, expires).

    For VC-JWT 1.1 these are the credential's issuanceDate and expirationDate. For VC-JOSE they
    bound the validity of the securing JWT, independently of validFrom/validUntil, and a verifier
    must refuse the token outside them.
    """
    bounds = [
        _from_numeric_date(jwt.payload[claim], claim) if claim in jwt.payload else None
        for claim in ("nbf", "exp")
    ]
    return bounds[0], bounds[1]


# --- EnvelopedVerifiableCredential ---------------------------------------------------------


def is_envelope(document: Any) -> bool:
    """Whether ``document`` says it is an ``EnvelopedVerifiableCredential``, its ``type`` written
    as the string or as a list (the same JSON-LD): a reader that tested only the string would
    take a list-typed envelope for a plain credential and never open it."""
    if not isinstance(document, dict):
        return False
    types = document.get("type")
    return _ENVELOPED_TYPE in (types if isinstance(types, list) else [types])


def envelop(token: str) -> dict[str, Any]:
    """Wrap a VC-JOSE token as an ``EnvelopedVerifiableCredential`` (VC 2.0, "Enveloped
    Verifiable Credentials"), the form a VC 2.0 presentation or the VC API carries it in."""
    if (
        not isinstance(token, str)
        or token.count(".") != 2
        or not all(part and _SEGMENT_RE.fullmatch(part) for part in token.split("."))
    ):
        raise _jws_invalid("only a compact JWS can be enveloped")
    # A compact JWS uses only URL-safe characters, so the data URL needs no percent-encoding.
    return {
        "@context": [VC_V2],
        "id": f"data:{VC_JWT_MEDIA_TYPE},{token}",
        "type": _ENVELOPED_TYPE,
    }


def unwrap_envelope(document: dict[str, Any]) -> str:
    """The compact JWS inside an ``EnvelopedVerifiableCredential``'s ``data:`` URL (RFC 2397).

    Only ``application/vc+jwt`` is accepted: SD-JWT, COSE, base64 data URLs or any other media type
    are ``RUNID_NOT_A_CREDENTIAL``. Members beside ``@context``, ``id`` and ``type`` would not be
    secured: they are refused, not ignored (a reader of the envelope must not see an ``issuer`` or a
    ``credentialSubject`` the signature does not cover).
    """
    if not isinstance(document, dict):
        raise DataModelError("an enveloped credential must be a JSON object")
    extra = sorted(set(document) - {"@context", "id", "type"})
    if extra:
        raise DataModelError(
            f"an {_ENVELOPED_TYPE} holds @context, id and type only; {', '.join(extra)[:200]} would not be secured"
        )
    types = document.get("type")
    if _ENVELOPED_TYPE not in (types if isinstance(types, list) else [types]):
        raise DataModelError(f"type must include {_ENVELOPED_TYPE}")
    contexts = contexts_of(document)
    if not contexts or contexts[0] != VC_V2:
        raise DataModelError(f"an {_ENVELOPED_TYPE} must have {VC_V2} as its first @context")
    url = document.get("id")
    if not isinstance(url, str) or url[:5].lower() != "data:":
        raise DataModelError(f"the id of an {_ENVELOPED_TYPE} must be a data: URL")
    media_type, comma, data = url[5:].partition(",")
    if not comma or media_type.lower() != VC_JWT_MEDIA_TYPE:
        raise DataModelError(
            f"enveloped media type {media_type[:60]!r} is not supported; only {VC_JWT_MEDIA_TYPE}",
            detail={"mediaType": media_type[:200]},
        )
    if not data:
        raise DataModelError(f"the {_ENVELOPED_TYPE} data: URL is empty")
    return data
