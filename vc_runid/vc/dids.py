"""DIDs: ``did:key`` (created and resolved offline) and ``did:web`` (documents produced for the
user to host, resolved only from a local store of DID documents — never over the network).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

from .._internal.contexts import DID_V1, ED25519_2020_V1, MULTIKEY_V1
from .._internal.files import read_limited
from .._internal.multiformats import Multicodec, encode_multikey, multibase_decode
from ..errors import DidError, ErrorCode, RunIdError, UsageError
from .documents import MAX_DOCUMENT_BYTES, parse_json
from .keys import KeyType, PublicKey

ASSERTION = "assertionMethod"
AUTHENTICATION = "authentication"

# Verification method types whose key we know how to read (DID Core §5.2, Controlled Identifiers
# §2.2; Ed25519VerificationKey2020 for the Ed25519Signature2020 suite).
_MULTIBASE_TYPES = {"Multikey", "Ed25519VerificationKey2020"}
_JWK_TYPES = {"JsonWebKey2020", "JsonWebKey"}

_DID_RE = re.compile(r"^did:[a-z0-9]+:[A-Za-z0-9._%:-]*[A-Za-z0-9._%-]$")


@dataclass(frozen=True)
class VerificationMethod:
    """A key a DID document lists, with its id, type and controller."""

    id: str
    type: str
    controller: str
    public_key: PublicKey


def did_of(did_url: str) -> str:
    return did_url.split("#", 1)[0].split("?", 1)[0]


def did_key_for(public: PublicKey) -> str:
    return f"did:key:{public.multikey}"


def did_key_vm(public: PublicKey) -> str:
    """The verification method id of a did:key: ``did:key:<mb>#<mb>`` (did:key §3.1.2)."""
    return f"did:key:{public.multikey}#{public.multikey}"


def _document(did: str, methods: list[dict[str, Any]]) -> dict[str, Any]:
    ids = [m["id"] for m in methods]
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        ASSERTION: ids,
        AUTHENTICATION: ids,
        "capabilityInvocation": ids,
        "capabilityDelegation": ids,
    }


def _multikey_method(vm_id: str, controller: str, public: PublicKey) -> dict[str, Any]:
    return {"id": vm_id, "type": "Multikey", "controller": controller, "publicKeyMultibase": public.multikey}


def resolve_did_key(did: str) -> dict[str, Any]:
    """Build the DID document of a ``did:key`` from the key itself (did:key §3.1)."""
    return copy.deepcopy(_resolve_did_key(did))


@lru_cache(maxsize=1024)
def _resolve_did_key(did: str) -> dict[str, Any]:
    # A pure function of the DID string; cached because decoding the key is a measurable share
    # of a verification. resolve_did_key hands out copies; _did_key_method only reads it.
    if not did.startswith("did:key:z"):
        raise DidError(f"{did!r} is not a base58btc did:key", code=ErrorCode.DID_INVALID)
    encoded = did[len("did:key:") :]
    try:
        public = PublicKey.from_multikey(encoded)
    except RunIdError as exc:
        raise DidError(f"{did!r} does not encode a supported key: {exc.message}", code=ErrorCode.DID_INVALID) from exc
    return _document(did, [_multikey_method(f"{did}#{encoded}", did, public)])


def did_web_from_domain(domain: str) -> str:
    """``example.com`` or ``example.com:8443:path`` (a port percent-encoded as ``%3A``) → did:web."""
    domain = domain.strip()
    if not domain or "/" in domain or " " in domain:
        raise UsageError(f"invalid did:web domain {domain!r} (use host[:path:segments])", code=ErrorCode.USAGE)
    return "did:web:" + domain


def did_web_url(did: str) -> str:
    """Where the user must host the document (did:web §3.2), for the message we print."""
    parts = did[len("did:web:") :].split(":")
    host = unquote(parts[0])
    path = "/".join(parts[1:]) if len(parts) > 1 else ".well-known"
    return f"https://{host}/{path}/did.json"


#: The jws-2020 context defines ``JsonWebKey2020``; it is named for other stacks' JSON-LD readers
#: only, since vc-runid reads DID documents as JSON.
JWS_2020_V1 = "https://w3id.org/security/suites/jws-2020/v1"

# Method id suffixes of the extra listings of one key (the Multikey keeps the bare multikey).
_ED25519_2020_SUFFIX = "-ed25519-2020"
_JWK_SUFFIX = "-jwk"


def did_web_method_id(did: str, public: PublicKey, vm_type: str = "Multikey") -> str:
    """The id under which :func:`did_web_document` lists ``public`` as ``vm_type``."""
    suffix = {
        "Multikey": "",
        "Ed25519VerificationKey2020": _ED25519_2020_SUFFIX,
        "JsonWebKey2020": _JWK_SUFFIX,
    }[vm_type]
    return f"{did}#{public.multikey}{suffix}"


def did_web_document(did: str, keys: Iterable[PublicKey]) -> dict[str, Any]:
    """A did:web document listing ``keys`` in order, each in every form a major stack reads.

    Each key is a ``Multikey`` (the current W3C form, which vc-runid signs Data Integrity proofs
    with), an ``Ed25519VerificationKey2020`` for Ed25519 keys (what Credo and ACA-Py require for
    an ``Ed25519Signature2020`` proof) and a ``JsonWebKey2020`` (what JOSE stacks read; Credo 0.6
    does not know the newer ``JsonWebKey``). Fragments start with the key's multikey, so a
    rotated-in key gets new, stable method ids and old ids stop resolving once it is removed; the
    Multikey's id is the one documents before these listings used, so old credentials still verify.
    """
    if not did.startswith("did:web:"):
        raise DidError(f"{did!r} is not a did:web", code=ErrorCode.DID_INVALID)
    methods: list[dict[str, Any]] = []
    for key in keys:
        methods.append(_multikey_method(did_web_method_id(did, key), did, key))
        if key.key_type is KeyType.ED25519:
            methods.append(
                {
                    "id": did_web_method_id(did, key, "Ed25519VerificationKey2020"),
                    "type": "Ed25519VerificationKey2020",
                    "controller": did,
                    "publicKeyMultibase": key.multikey,
                }
            )
        methods.append(
            {
                "id": did_web_method_id(did, key, "JsonWebKey2020"),
                "type": "JsonWebKey2020",
                "controller": did,
                "publicKeyJwk": dict(key.jwk),
            }
        )
    if not methods:
        raise UsageError("a did:web document needs at least one key", code=ErrorCode.USAGE)
    document = _document(did, methods)
    document["@context"] = [DID_V1, MULTIKEY_V1, ED25519_2020_V1, JWS_2020_V1]
    return document


def _method_key(method: Mapping[str, Any]) -> PublicKey:
    vm_type = method.get("type")
    if vm_type in _MULTIBASE_TYPES and "publicKeyMultibase" in method:
        return PublicKey.from_multikey(method["publicKeyMultibase"])
    if vm_type in _JWK_TYPES and isinstance(method.get("publicKeyJwk"), dict):
        if "d" in method["publicKeyJwk"]:
            raise DidError("verification method exposes a private key", code=ErrorCode.DID_INVALID)
        return PublicKey.from_jwk(method["publicKeyJwk"])
    if vm_type == "Ed25519VerificationKey2018" and isinstance(method.get("publicKeyBase58"), str):
        raw = multibase_decode("z" + method["publicKeyBase58"])
        return PublicKey.from_multikey(encode_multikey(Multicodec.ED25519_PUB, raw))
    raise DidError(
        f"verification method {method.get('id')!r} has unsupported type {vm_type!r} or no key",
        code=ErrorCode.VERIFICATION_METHOD_NOT_FOUND,
    )


class DidResolver:
    """Offline resolution: did:key from the key, every other DID from documents handed in.

    ``documents`` maps a DID to its document (from a directory, an audit bundle or the service's
    own identity). Nothing is ever fetched: a DID that is not there is ``RUNID_DID_UNRESOLVED``.
    """

    def __init__(self, documents: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._documents = dict(documents or {})

    @classmethod
    def from_directory(cls, directory: Path) -> DidResolver:
        return cls(load_did_store(directory))

    def with_documents(self, documents: Mapping[str, Mapping[str, Any]]) -> DidResolver:
        return DidResolver({**self._documents, **documents})

    def resolve(self, did: str) -> Mapping[str, Any]:
        if not _DID_RE.match(did):
            raise DidError(f"{did!r} is not a valid DID", code=ErrorCode.DID_INVALID)
        if did.startswith("did:key:"):
            return resolve_did_key(did)
        document = self._documents.get(did)
        if document is not None and not isinstance(document, Mapping):
            raise DidError(f"the stored DID document of {did} is not an object", code=ErrorCode.DID_INVALID)
        if document is None:
            hint = " (add its did.json with --did-store DIR)" if did.startswith("did:web:") else ""
            raise DidError(
                f"{did} is not in the local DID store and is never fetched over the network{hint}",
                code=ErrorCode.DID_UNRESOLVED,
                detail={"did": did},
            )
        return document

    def methods_for(self, did: str, relationship: str) -> list[VerificationMethod]:
        """Every verification method ``did`` authorizes for ``relationship`` whose key we read.

        For a token without ``kid`` (it is optional, RFC 7515 §4.1.4): the caller tries each.
        A did:key has exactly one; a did:web may list several keys, or one key in several forms.
        Methods of types we cannot read are skipped; none left is ``RUNID_VERIFICATION_METHOD_NOT_FOUND``.
        """
        document = self.resolve(did)
        urls: list[str] = []
        for entry in _entries(document, relationship):
            ref = entry if isinstance(entry, str) else entry.get("id") if isinstance(entry, Mapping) else None
            if isinstance(ref, str) and _absolute(did, ref) not in urls:
                urls.append(_absolute(did, ref))
        methods: list[VerificationMethod] = []
        for url in urls:
            if did_of(url) != did:
                continue  # a key of another DID cannot speak for this issuer
            try:
                methods.append(self.verification_method(url, relationship))
            except DidError as exc:
                if exc.code is not ErrorCode.VERIFICATION_METHOD_NOT_FOUND:
                    raise
            except RunIdError:
                continue  # a key we cannot decode is not a candidate
        if not methods:
            raise DidError(
                f"{did} lists no {relationship} key that vc-runid can read",
                code=ErrorCode.VERIFICATION_METHOD_NOT_FOUND,
                detail={"did": did, "relationship": relationship},
            )
        return methods

    def verification_method(self, vm_url: str, relationship: str) -> VerificationMethod:
        """Dereference ``vm_url`` and require it to be authorized for ``relationship``."""
        did = did_of(vm_url)
        if did.startswith("did:key:") and self._resolves_as_built() and _DID_RE.match(did):
            return _did_key_method(vm_url, relationship)
        return _dereference(did, self.resolve(did), vm_url, relationship)

    def _resolves_as_built(self) -> bool:
        """Whether ``resolve`` is this class's own: a subclass, an instance or a test that
        replaces it decides every DID itself, did:key included."""
        return type(self).resolve is _BUILT_IN_RESOLVE and "resolve" not in vars(self)


@lru_cache(maxsize=1024)
def _did_key_method(vm_url: str, relationship: str) -> VerificationMethod:
    # A did:key's document is a pure function of the DID, so the answer is one of the method URL
    # (failures are not cached: they raise). Decoding the key is a measurable share of verifying.
    did = did_of(vm_url)
    return _dereference(did, _resolve_did_key(did), vm_url, relationship)


def _dereference(did: str, document: Mapping[str, Any], vm_url: str, relationship: str) -> VerificationMethod:
    """The method ``vm_url`` of ``did``'s ``document``, authorized for ``relationship``."""
    if document.get("id") != did:
        raise DidError(f"DID document id {document.get('id')!r} is not {did}", code=ErrorCode.DID_INVALID)
    embedded: dict[str, Mapping[str, Any]] = {}
    for section in ("verificationMethod", ASSERTION, AUTHENTICATION):
        for entry in _entries(document, section):
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
                embedded[_absolute(did, entry["id"])] = entry
    method = embedded.get(vm_url)
    if method is None:
        raise DidError(
            f"verification method {vm_url} is not listed in the DID document of {did} "
            "(unknown, or rotated out)",
            code=ErrorCode.VERIFICATION_METHOD_NOT_FOUND,
            detail={"verificationMethod": vm_url},
        )
    authorized = {
        _absolute(did, e if isinstance(e, str) else str(e.get("id")))
        for e in _entries(document, relationship)
        if isinstance(e, (str, Mapping))
    }
    if vm_url not in authorized:
        raise DidError(
            f"verification method {vm_url} is not authorized for {relationship} by {did}",
            code=ErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED,
            detail={"verificationMethod": vm_url, "relationship": relationship},
        )
    controller = str(method.get("controller", did))
    return VerificationMethod(vm_url, str(method.get("type")), controller, _method_key(method))


_BUILT_IN_RESOLVE: Final = DidResolver.resolve


def _entries(document: Mapping[str, Any], section: str) -> list[Any]:
    """A verification method or relationship section, which DID Core §5 requires to be a set."""
    value = document.get(section)
    if value is None:
        return []
    if not isinstance(value, list):
        raise DidError(
            f"{section} in the DID document of {document.get('id')} must be a list",
            code=ErrorCode.DID_INVALID,
        )
    return value


def _absolute(did: str, ref: str) -> str:
    return did + ref if ref.startswith("#") else ref


def load_did_store(directory: Path) -> dict[str, Mapping[str, Any]]:
    """Read every ``*.json`` DID document under ``directory`` (keyed by its ``id``)."""
    if not directory.is_dir():
        raise UsageError(f"DID store {directory} is not a directory", code=ErrorCode.USAGE)
    documents: dict[str, Mapping[str, Any]] = {}
    for path in sorted(directory.rglob("*.json")):
        try:
            document = parse_json(read_limited(path, MAX_DOCUMENT_BYTES))
        except RunIdError as exc:  # not a regular file, too large, not strict JSON
            raise DidError(f"DID document {path} is unreadable: {exc.message}", code=ErrorCode.DID_INVALID) from exc
        if not isinstance(document, dict) or not isinstance(document.get("id"), str):
            raise DidError(f"{path} is not a DID document (no id)", code=ErrorCode.DID_INVALID)
        documents[document["id"]] = document
    return documents
