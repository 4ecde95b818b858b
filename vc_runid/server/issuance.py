"""What ``POST /credentials/issue`` signs, and with which key: the generic issuer.

The service holds two identities. The **run issuer** (``keys/issuer.jwk``, the DID the service is
known by) signs run declarations, output bindings, the status list and the log's checkpoints — the
statements an auditor trusts the service for. The **generic issuer** (``keys/credential-issuer.jwk``)
signs whatever a client asks ``POST /credentials/issue`` for. Were they one key, any client token
could have the service "sign" a status list with every bit clear, a back-dated run pair, or a
binding for another client's declaration, and every verifier would take it for the service's word.

    generic = GenericIssuer.in_home(home, run_issuer)          # creates its key the first time
    guard = IssuanceGuard(loader, ["https://runs.example.com"], storage.issued_ids)
    credential = guard.admit(request_credential, generic, now)  # refuses, or stamps the time
    secured = issue_credential(credential, generic.for_format(fmt), proof_format=fmt, created=now)

:meth:`IssuanceGuard.admit` refuses (``RUNID_ISSUANCE_REFUSED``) a credential that is, by its
*expanded* types, a run declaration, a binding or a status list (however the type is spelled: term,
IRI, or another term an inline context maps to the same IRI); one whose identifiers fall in the
service's own URL space or name a run or credential the service issued; one naming another issuer;
and one whose validity start is stated anywhere but its own ``validFrom``/``issuanceDate`` entry.
The signing time is the service's clock, never the client's: it is the proof's ``created`` (and
the log entry's time), and a VC 1.1 ``issuanceDate`` — which *is* the issuance time — in the past
is replaced by the service's now. A VC 2.0 ``validFrom`` is the credential's validity period, a
claim the client makes (VC 2.0 §4.9): it is kept as asked, and set to now when absent
(docs/deployment.md, "What the service signs").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from .._internal.canonical import expand_document
from .._internal.contexts import BINDING_TYPE_IRI, DECLARATION_TYPE_IRI, DocumentLoader
from .._internal.timeutil import format_datetime, parse_datetime
from ..errors import DataModelError, ErrorCode, HttpServiceError, KeyMaterialError, RunIdError
from ..store.home import KeyStore
from ..vc.credentials import Issuer, key_type_for
from ..vc.dids import did_web_document
from ..vc.documents import VcVersion, issuer_id, vc_version
from ..vc.formats import ProofFormat
from ..vc.keys import KeyPair, KeyType
from ..vc.signed_form import check_compacted

#: The key file (in ``<home>/keys``) of the generic issuer's Ed25519 key. Further key types (a
#: P-256 key for ecdsa-rdfc-2019) get a name of their own here.
GENERIC_KEY_NAMES: Final[Mapping[KeyType, str]] = {
    KeyType.ED25519: "credential-issuer",
    KeyType.P256: "credential-issuer-p256",  # ecdsa-rdfc-2019 / ecdsa-jcs-2019
}
#: The did:web path segment of the generic issuer under the run issuer's did:web: its document is
#: served at ``/credentials/did.json``.
DID_WEB_SEGMENT: Final = "credentials"

_CRED: Final = "https://www.w3.org/2018/credentials#"
#: Types only the run issuer may sign. BitstringStatusListCredential is listed under both the IRI
#: the pinned VC 2.0 / status list contexts give it and the one under the credentials vocabulary;
#: StatusList2021Credential is the list's predecessor, which verifiers still read.
RESERVED_TYPES: Final = frozenset({
    DECLARATION_TYPE_IRI,
    BINDING_TYPE_IRI,
    "https://www.w3.org/ns/credentials/status#BitstringStatusListCredential",
    _CRED + "BitstringStatusListCredential",
    "https://w3id.org/vc/status-list#StatusList2021Credential",
})
_VALID_FROM: Final = _CRED + "validFrom"
_ISSUANCE_DATE: Final = _CRED + "issuanceDate"


def _refused(message: str, **detail: Any) -> RunIdError:
    return HttpServiceError(message, code=ErrorCode.ISSUANCE_REFUSED, detail=detail or None)


@dataclass(frozen=True)
class GenericIssuer:
    """The generic issuer: one DID, and a signing key per key type. Under a did:web every key is a
    verification method of the one DID; without a domain each key is a did:key of its own, and
    :attr:`did` is the Ed25519 one."""

    did: str
    signers: Mapping[KeyType, Issuer]

    @classmethod
    def in_home(cls, home: Path, run_issuer: Issuer) -> GenericIssuer:
        """Load the generic issuer's keys from ``home``, creating them the first time. Its DID is
        ``<run issuer's did:web>:credentials`` when the run issuer is a did:web, else a did:key."""
        store = KeyStore(home)
        did_web = f"{run_issuer.did}:{DID_WEB_SEGMENT}" if run_issuer.did.startswith("did:web:") else None
        signers: dict[KeyType, Issuer] = {}
        for key_type, name in GENERIC_KEY_NAMES.items():
            if not store.exists(name):
                try:
                    store.save(name, KeyPair.generate(key_type))
                except KeyMaterialError as exc:  # another worker created it first: use that one
                    if exc.code is not ErrorCode.KEY_EXISTS:
                        raise
            signers[key_type] = Issuer.from_key(store.load(name), did_web)
        if any(s.key.public.multikey == run_issuer.key.public.multikey for s in signers.values()):
            raise KeyMaterialError(
                "the generic issuer's key is the run issuer's key; they must differ", code=ErrorCode.KEY_INVALID
            )
        return cls(did_web or signers[KeyType.ED25519].did, signers)

    @property
    def dids(self) -> frozenset[str]:
        return frozenset(s.did for s in self.signers.values())

    def for_format(self, proof_format: ProofFormat) -> Issuer:
        key_type = key_type_for(proof_format)
        signer = self.signers.get(key_type)
        if signer is None:
            raise HttpServiceError(
                f"the generic issuer has no {key_type.value} key for the {proof_format.value} format",
                code=ErrorCode.REQUEST_INVALID,
            )
        return signer

    def did_document(self) -> dict[str, Any] | None:
        """The did:web document listing every key, or None for did:key issuers."""
        if not self.did.startswith("did:web:"):
            return None
        return did_web_document(self.did, [s.key.public for s in self.signers.values()])


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object of an expanded document (nodes, value objects, lists, graphs)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            yield item
            stack.extend(v for k, v in item.items() if isinstance(v, (list, dict)))


@dataclass
class IssuanceGuard:
    """The rules a client's credential must meet before the generic issuer signs it.

    ``service_urls`` are the service's own URL prefixes (its public base URL, and its status list's
    base when that was fixed under another URL); ``issued_ids`` answers which of some ``urn:``
    identifiers name runs or credentials the service issued."""

    loader: DocumentLoader
    service_urls: Sequence[str]
    issued_ids: Callable[[Sequence[str]], set[str]] = field(default=lambda ids: set())

    def admit(self, credential: dict[str, Any], issuer: GenericIssuer, now: datetime) -> dict[str, Any]:
        """The credential to sign: ``credential`` with the generic issuer and the service's time
        in it. Raises ``RUNID_ISSUANCE_REFUSED`` (or the data model / JSON-LD error that makes it
        no credential)."""
        version = vc_version(credential)
        if "issuer" not in credential:
            # The VC API: the request's credential names its issuer; the service does not pick one.
            raise DataModelError(
                f"the credential has no issuer; name {issuer.did} (or another DID of this endpoint: "
                f"{', '.join(sorted(issuer.dids))})",
                code=ErrorCode.NOT_A_CREDENTIAL,
            )
        if "issuer" in credential:
            named = issuer_id(credential)
            if named not in issuer.dids:
                raise _refused(
                    f"the credential names issuer {named}; this endpoint signs as {issuer.did} only "
                    "(the service's run issuer signs runs and the status list, never requested credentials)",
                    issuer=named,
                )
            admitted = dict(credential)
        else:
            admitted = {**credential, "issuer": issuer.did}
        date_key = "validFrom" if version is VcVersion.V2 else "issuanceDate"
        stated = admitted.get(date_key)
        if stated is None or (version is VcVersion.V1 and parse_datetime(stated, date_key) < now):
            # VC 1.1's issuanceDate says when the service issued it: the service's clock. VC 2.0's
            # validFrom is the validity the client asks for; when it signed is the proof's created.
            admitted[date_key] = format_datetime(now)
        expansion = expand_document(admitted, self.loader)
        self._check(expansion.expanded, expansion.top_level, date_key)
        # Last: the refusals above name what is wrong; this one names a spelling.
        check_compacted(admitted, expansion, self.loader)
        return admitted

    def _check(self, expanded: list[Any], top_level: Mapping[str, Any], date_key: str) -> None:
        for key, iri in top_level.items():
            if iri in (_VALID_FROM, _ISSUANCE_DATE) and key != date_key:
                raise _refused(f"{key!r} states the issuance time; the service sets {date_key!r} itself", key=key)
        dates = 0
        urns: list[str] = []
        for node in _nodes(expanded):
            reserved = RESERVED_TYPES.intersection(t for t in _strings(node.get("@type")) if "@value" not in node)
            if reserved:
                first = min(reserved)
                raise _refused(
                    f"a {first.rsplit('#', 1)[-1]} is signed by the service's run issuer only: declare "
                    "runs with POST /runs, bind them with POST /runs/{id}/output; the status list is the service's own",
                    type=first,
                )
            identifier = node.get("@id")
            if isinstance(identifier, str):
                self._check_id(identifier)
                if identifier.lower().startswith("urn:"):
                    urns.append(identifier)
            dates += sum(len(v) if isinstance(v, list) else 1 for k, v in node.items() if k in (_VALID_FROM, _ISSUANCE_DATE))
        if dates != 1:
            raise _refused(
                f"the credential states a validity start {dates} times; only its own {date_key!r} entry, "
                "which the service sets, may",
            )
        known = self.issued_ids(sorted(set(urns))) if urns else set()
        if known:
            raise _refused(f"{min(known)} names a run or credential this service issued", id=min(known))

    def _check_id(self, identifier: str) -> None:
        lowered = identifier.lower()
        for base in self.service_urls:
            prefix = base.lower().rstrip("/")
            if lowered == prefix or lowered.startswith((prefix + "/", prefix + "?", prefix + "#")):
                raise _refused(f"{identifier} is in the service's own URL space ({base})", id=identifier)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return (v for v in value if isinstance(v, str))
    return ()


__all__ = ["DID_WEB_SEGMENT", "GENERIC_KEY_NAMES", "RESERVED_TYPES", "GenericIssuer", "IssuanceGuard"]
