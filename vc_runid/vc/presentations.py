"""Verifiable Presentations: a holder hands run credentials to an auditor, bound to the auditor's
challenge and domain so that the presentation cannot be replayed to someone else.

    vp = present([declaration, binding], holder, challenge="c0ffee", domain="audit.example")
    report = verify_presentation(vp, challenge="c0ffee", domain="audit.example", verifier=Verifier())
    assert report.valid  # the holder's proof, every enclosed credential, every run

Two profiles, as for credentials: VC 2.0 with a ``DataIntegrityProof`` (``eddsa-rdfc-2022``, or
``ecdsa-rdfc-2019`` for a P-256 holder), which the Digital Bazaar stack verifies; and VC 1.1 with
``Ed25519Signature2020``, which didkit verifies. Only presentations secured with an embedded proof
are made or read here (no VP-JWT).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, computed_field

from .._internal.canonical import expand_document, expand_safe
from .._internal.contexts import ED25519_2020_V1, VC_V1, VC_V2, DocumentLoader, default_loader
from .._internal.timeutil import utc_now
from ..errors import DataModelError, ErrorCode, ProofError, UsageError
from . import jose
from .credentials import Issuer
from .dids import AUTHENTICATION
from .documents import (
    PRESENTATION_TYPE,
    SecuredWire,
    VcVersion,
    check_credential,
    check_presentation,
    declared_types,
    is_presentation,
    proofs_of,
    read_document,
)
from .formats import ProofFormat
from .proofs import (
    ECDSA_RDFC_2019,
    ED25519_SIGNATURE_2020,
    EDDSA_RDFC_2022,
    ProofOptions,
    RdfcSuite,
    suite_for,
)
from .secured import SecuredCredential, SecuredFormat
from .signed_form import check_compacted
from .verification import (
    Failed,
    Recorder,
    VerificationReport,
    Verifier,
    authorize_method,
    check_proof_purpose,
    check_proof_times,
    contexts_allowed,
    unique_proofs,
)

_ENVELOPED_TYPE = "EnvelopedVerifiableCredential"
#: VC 2.0 §4.13.2: a presentation secured by an enveloping mechanism, carried as a data: URL.
ENVELOPED_PRESENTATION_TYPE = "EnvelopedVerifiablePresentation"
#: VC-JOSE-COSE §3.2.1: a presentation secured with JOSE (``typ`` ``vp+jwt``).
VP_JWT_MEDIA_TYPE = "application/vp+jwt"


@dataclass(frozen=True)
class _Profile:
    version: VcVersion
    suite: RdfcSuite
    contexts: tuple[str, ...]


# The presentation's own @context: the VC 2.0 context defines DataIntegrityProof; VC 1.1 needs the
# suite context for Ed25519Signature2020 (which didkit knows built in).
_PROFILES: dict[ProofFormat, _Profile] = {
    ProofFormat.DI: _Profile(VcVersion.V2, EDDSA_RDFC_2022, (VC_V2,)),
    ProofFormat.ECDSA: _Profile(VcVersion.V2, ECDSA_RDFC_2019, (VC_V2,)),
    ProofFormat.DI_2020: _Profile(VcVersion.V1, ED25519_SIGNATURE_2020, (VC_V1, ED25519_2020_V1)),
}


# --- presenting ----------------------------------------------------------------------------


def _enclose(credential: SecuredWire, version: VcVersion, index: int) -> dict[str, Any]:
    """The form in which ``credential`` travels inside a presentation of ``version``."""
    where = f"credential {index}"
    if isinstance(credential, str):
        secured_format = SecuredCredential.parse(credential).format
        if version is VcVersion.V2 and secured_format is SecuredFormat.VC_JOSE:
            # VC 2.0 §4.13: a JOSE-secured credential is carried as an enveloped credential.
            return jose.envelop(credential)
        raise UsageError(
            f"{where} is a {secured_format.value} token; a VC {version} presentation with an embedded proof "
            "can carry only VC-JOSE (VC 2.0) tokens, enveloped"
        )
    if not isinstance(credential, dict):
        raise UsageError(f"{where} is neither a credential object nor a compact JWS")
    if jose.is_envelope(credential):
        jose.unwrap_envelope(credential)  # refuses anything but a data: URL with a vc+jwt
        if version is not VcVersion.V2:
            raise UsageError(
                f"{where} is an {_ENVELOPED_TYPE}, which only VC 2.0 presentations carry"
            )
        return copy.deepcopy(credential)
    credential_version = check_credential(credential)
    if credential_version is not version:
        # The VC 1.1 and 2.0 contexts protect conflicting definitions of the same terms, so one
        # cannot be nested in the other: JSON-LD processing of the presentation would fail.
        raise UsageError(
            f"{where} is a VC {credential_version} credential; a VC {version} presentation "
            f"carries VC {version} credentials only (present it with the other format)"
        )
    if not proofs_of(credential):
        raise UsageError(f"{where} has no proof: only secured credentials can be presented")
    # A copy: the caller's credential must not change if someone edits the presentation.
    return copy.deepcopy(credential)


def present(
    credentials: Sequence[SecuredWire],
    holder: Issuer,
    *,
    challenge: str,
    domain: str,
    proof_format: ProofFormat = ProofFormat.DI,
    created: datetime | None = None,
    loader: DocumentLoader | None = None,
) -> dict[str, Any]:
    """A Verifiable Presentation of ``credentials``, signed by ``holder`` for ``authentication``
    and bound to the verifier's ``challenge`` and ``domain`` (Data Integrity §2.1, VC 2.0 §4.13).

    ``proof_format`` ``di`` (default) or ``ecdsa`` makes a VC 2.0 presentation; ``di-2020`` the
    VC 1.1 one, whose credentials must be VC 1.1 too. JOSE credentials go in as
    ``EnvelopedVerifiableCredential`` (VC 2.0 only).
    """
    profile = _PROFILES.get(proof_format)
    if profile is None:
        supported = ", ".join(f.value for f in _PROFILES)
        raise UsageError(
            f"a presentation is secured with {supported}, not {proof_format.value} "
            "(the credentials inside may use any format)"
        )
    for name, value in (("challenge", challenge), ("domain", domain)):
        if not isinstance(value, str) or not value:
            raise UsageError(f"a presentation needs the verifier's {name} (a non-empty string)")
    if isinstance(credentials, (str, dict)):
        raise UsageError("credentials must be a list of credentials, not a single one")
    loader = loader or default_loader()
    presentation: dict[str, Any] = {
        "@context": list(profile.contexts),
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": [PRESENTATION_TYPE],
        "holder": holder.did,
    }
    enclosed = [_enclose(c, profile.version, i) for i, c in enumerate(credentials)]
    if enclosed:
        presentation["verifiableCredential"] = enclosed
    check_presentation(presentation)
    # Before any proof work, so that an undefined term is named as such (not as a bad proof).
    expand_safe(presentation, loader)
    options = ProofOptions(
        holder.verification_method,
        proof_purpose=AUTHENTICATION,
        # Whole seconds: several verifiers (didkit among them) reject other fractional forms.
        created=(created or utc_now()).replace(microsecond=0),
        challenge=challenge,
        domain=domain,
    )
    proof = profile.suite.create_proof(presentation, holder.key, options, loader)
    return {**presentation, "proof": proof}


# --- the report ------------------------------------------------------------------------------


class PresentationReport(VerificationReport):
    """The presentation's own checks and one report per enclosed credential.

    ``checks``, ``failures`` and ``error_codes`` are the presentation's own; ``valid`` is true
    only when those all pass (at least one proof checked) *and* every enclosed credential is
    valid. A domain layer may extend it with reports of what the credentials say together
    (``vc_runid.runs`` adds one report per run).
    """

    model_config = ConfigDict(extra="forbid")

    kind: str = "presentation"
    holder: str | None = None
    challenge: str | None = None
    domain: str | None = None
    credentials: list[VerificationReport] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def presentation_valid(self) -> bool:
        """The presentation's own checks (holder proof, challenge, domain), nothing enclosed."""
        return bool(self.checks) and self.proofs_checked > 0 and all(c.passed for c in self.checks)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def valid(self) -> bool:
        return self.presentation_valid and all(c.valid for c in self.credentials)


# --- verifying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _VerifyOnce(Verifier):
    """A verifier that verifies each enclosed credential once: a domain check (runs) re-verifies the
    declaration and binding it is given, which here are the very objects already verified."""

    seen: dict[int, tuple[Any, VerificationReport]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def wrapping(cls, verifier: Verifier) -> _VerifyOnce:
        return cls(**{f.name: getattr(verifier, f.name) for f in fields(verifier) if f.init})

    def verify_credential(self, credential: dict[str, Any] | str | bytes) -> VerificationReport:
        cached = self.seen.get(id(credential))
        if cached is not None and cached[0] is credential:
            return cached[1]
        report = super().verify_credential(credential)
        # The credential is kept with its report, so its id() cannot be reused meanwhile.
        self.seen[id(credential)] = (credential, report)
        return report


def _enclosed(presentation: dict[str, Any], version: VcVersion) -> list[Any]:
    value = presentation.get("verifiableCredential")
    if value is None:
        return []
    entries = value if isinstance(value, list) else [value]
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise DataModelError(
                f"verifiableCredential[{i}] must be a credential object"
                + (
                    f" (a JOSE credential travels as an {_ENVELOPED_TYPE})"
                    if version is VcVersion.V2
                    else ""
                ),
                code=ErrorCode.NOT_A_PRESENTATION,
            )
    return entries


def _read(data: str | bytes) -> dict[str, Any] | str:
    try:
        return read_document(data)
    except DataModelError as exc:
        # read_document speaks of credentials; here a presentation was expected.
        raise DataModelError(exc.message, code=ErrorCode.NOT_A_PRESENTATION) from exc


def _holder_id(presentation: dict[str, Any]) -> str | None:
    holder = presentation.get("holder")
    holder = holder.get("id") if isinstance(holder, dict) else holder
    return holder if isinstance(holder, str) else None


def _check_challenge(proof: dict[str, Any], expected: str | None) -> str:
    # Data Integrity §4.3 (verify proof), step on challenge: a presentation that answers no
    # challenge, or another verifier's, may be a replay. Not checking is never the default.
    if expected is None:
        raise ProofError(
            "no challenge was expected: a presentation verified without the verifier's own "
            "challenge could be a replay (pass the challenge you issued)",
            code=ErrorCode.PROOF_CHALLENGE_MISMATCH,
        )
    actual = proof.get("challenge")
    if actual != expected:
        raise ProofError(
            f"the proof answers challenge {actual!r}, not {expected!r}",
            code=ErrorCode.PROOF_CHALLENGE_MISMATCH,
        )
    return f"challenge {expected!r}"


def _check_domain(proof: dict[str, Any], expected: str | None) -> str:
    if expected is None:
        raise ProofError(
            "no domain was expected: a presentation verified without the verifier's domain "
            "could have been made for another verifier (pass your domain)",
            code=ErrorCode.PROOF_DOMAIN_MISMATCH,
        )
    actual = proof.get("domain")
    # Data Integrity §2.1: domain is a string or an unordered set of strings.
    domains = actual if isinstance(actual, list) else [actual]
    if expected not in domains:
        raise ProofError(
            f"the proof is for domain {actual!r}, not {expected!r}",
            code=ErrorCode.PROOF_DOMAIN_MISMATCH,
        )
    return f"domain {expected!r}"


#: What a domain layer checks across the enclosed credentials once each has its report: it gets
#: the presentation's report, the enclosed entries, and a verifier that verifies each entry once.
RelatedCheck = Callable[[PresentationReport, list[Any], Verifier], None]


class _PresentationRun:
    def __init__(
        self,
        verifier: Verifier,
        challenge: str | None,
        domain: str | None,
        report: PresentationReport,
        related: RelatedCheck | None,
    ) -> None:
        self.verifier = verifier
        self.challenge = challenge
        self.domain = domain
        self.report = report
        self.related = related
        self.record = Recorder(self.report)
        self.jwt: jose.Jwt | None = None  # set for an EnvelopedVerifiablePresentation

    def verify(self, data: dict[str, Any] | str | bytes) -> PresentationReport:
        entries: list[Any] | None = None
        try:
            presentation, entries = self._parse(data)
            self._verify_proof(presentation)
        except Failed:
            pass
        if entries:
            self._verify_enclosed(entries)
        elif entries is not None:
            self.report.warnings.append("the presentation encloses no credentials")
            policy = self.verifier.policy
            if policy is not None and not policy.any_issuer:
                # With nothing enclosed the holder is the only signer: VALID under a policy must
                # still mean "signed by someone I trust" (DID Auth by a trusted party passes).
                self.record.soft("trust.holder", lambda: policy.check_issuer(self.report.holder))
        return self.report

    def _parse(self, data: dict[str, Any] | str | bytes) -> tuple[dict[str, Any], list[Any]]:
        document = (
            data
            if isinstance(data, dict)
            else self.record.run("parse", lambda: _read(data), "strict JSON")
        )
        if not isinstance(document, dict):
            self.record.fail(
                "data-model",
                DataModelError(
                    "a presentation secured as a bare JWT is not supported; present it with an "
                    "embedded proof, or as an EnvelopedVerifiablePresentation (application/vp+jwt)",
                    code=ErrorCode.NOT_A_PRESENTATION,
                ),
            )
        if ENVELOPED_PRESENTATION_TYPE in declared_types(document):
            envelope = document
            token = self.record.run("envelope", lambda: unwrap_presentation_envelope(envelope))
            jwt = self.jwt = self.record.run("jws", lambda: jose.parse_jwt(token), "compact JWS")
            document = self.record.run("vp-jose", lambda: presentation_from_jwt(jwt), "VC-JOSE-COSE presentation")
        presentation = document
        self.report.document = presentation

        def data_model() -> tuple[VcVersion, list[Any]]:
            version = check_presentation(presentation)
            return version, _enclosed(presentation, version)

        _, entries = self.record.run("data-model", data_model, "well-formed presentation")
        self.report.id = presentation.get("id") if isinstance(presentation.get("id"), str) else None
        self.report.holder = _holder_id(presentation)
        return presentation, entries

    def _verify_proof(self, presentation: dict[str, Any]) -> None:
        verifier = self.verifier
        self.record.run("contexts", lambda: contexts_allowed(presentation, verifier.loader))
        if self.jwt is not None:
            self._verify_jose(presentation, self.jwt)
            return
        proofs = self.record.run(
            "proofs", lambda: unique_proofs(presentation, "presentation"), "present, no duplicates"
        )
        labels = ["proof" if len(proofs) == 1 else f"proof[{i}]" for i in range(len(proofs))]
        suites = [self._suite(label, proof) for label, proof in zip(labels, proofs, strict=True)]
        expansion = self.record.run(
            "json-ld",
            lambda: expand_document(presentation, verifier.loader),
            "every term is defined",
        )
        self.record.run("signed-form", lambda: check_compacted(
                presentation, expansion, verifier.loader, checked_separately=frozenset({"verifiableCredential"})
            ),
        )
        holder = self.report.holder
        if holder is None:
            self.report.warnings.append(
                "the presentation names no holder: the signer is authenticated only as the "
                "controller of its own key"
            )
        unsecured = {k: v for k, v in presentation.items() if k != "proof"}
        for label, proof, suite in zip(labels, proofs, suites, strict=True):
            self._verify_one(unsecured, label, proof, suite)
        self.report.format = ",".join(suite.name for suite in suites)

    def _verify_jose(self, presentation: dict[str, Any], jwt: jose.Jwt) -> None:
        """The holder's JOSE signature over the whole presentation (VC-JOSE-COSE §3.2.1): by a key
        of the holder authorized for authentication, answering this verifier's challenge
        (``nonce``) and domain (``aud``) — the same holder binding an embedded proof gives."""
        verifier, holder = self.verifier, self.report.holder
        expansion = self.record.run(
            "json-ld", lambda: expand_document(presentation, verifier.loader), "every term is defined"
        )
        self.record.run("signed-form", lambda: check_compacted(
            presentation, expansion, verifier.loader, checked_separately=frozenset({"verifiableCredential"})
        ))
        if "proof" in presentation:
            self.record.fail("proofs", DataModelError(
                "a presentation secured with JOSE must not also carry an embedded proof",
                code=ErrorCode.NOT_A_PRESENTATION,
            ))
        if holder is None:
            self.record.fail("holder", DataModelError(
                "an enveloped presentation must name its holder: the JOSE signature binds it to the holder's key",
                code=ErrorCode.NOT_A_PRESENTATION,
            ))
        claims = {"challenge": jwt.payload.get("nonce"), "domain": jwt.payload.get("aud")}
        self.record.soft("challenge", lambda: _check_challenge(claims, self.challenge))
        self.record.soft("domain", lambda: _check_domain(claims, self.domain))
        self.record.soft("jwt-validity", lambda: _token_window(jwt, verifier.now), "nbf/exp consistent with the verification time")
        method = self.record.run(
            "holder-key",
            lambda: authorize_method(verifier.resolver, jose.kid_of(jwt), AUTHENTICATION, holder),
            "the JWS kid is the holder's, authorized for authentication",
        )
        self.record.run(
            "signature", lambda: jose.verify_jwt_signature(jwt, method.public_key), "JWS signature verifies"
        )
        self.report.format = "vp-jose"
        self.report.proofs_checked += 1

    def _suite(self, label: str, proof: dict[str, Any]) -> RdfcSuite:
        return self.record.run(f"{label}.type", lambda: suite_for(proof), "supported")

    def _verify_one(
        self, unsecured: dict[str, Any], label: str, proof: dict[str, Any], suite: RdfcSuite
    ) -> None:
        verifier, holder = self.verifier, self.report.holder
        self.record.run(
            f"{label}.purpose", lambda: check_proof_purpose(proof, AUTHENTICATION), AUTHENTICATION
        )
        self.record.soft(f"{label}.challenge", lambda: _check_challenge(proof, self.challenge))
        self.record.soft(f"{label}.domain", lambda: _check_domain(proof, self.domain))
        self.record.soft(
            f"{label}.time",
            lambda: check_proof_times(proof, verifier.now, verifier.clock_skew),
            "created/expires consistent with the verification time",
        )
        method = self.record.run(
            f"{label}.holder-key",
            lambda: authorize_method(
                verifier.resolver, proof.get("verificationMethod"), AUTHENTICATION, holder
            ),
            "verification method is the holder's, authorized for authentication",
        )
        self.record.run(
            f"{label}.signature",
            lambda: suite.verify_proof(unsecured, proof, method.public_key, verifier.loader),
            f"{suite.name} signature verifies",
        )
        self.report.proofs_checked += 1

    def _verify_enclosed(self, entries: list[Any]) -> None:
        once = _VerifyOnce.wrapping(self.verifier)
        self.report.credentials = [once.verify_credential(entry) for entry in entries]
        if self.related is not None:
            self.related(self.report, entries, once)


def unwrap_presentation_envelope(document: dict[str, Any]) -> str:
    """The compact JWS in an ``EnvelopedVerifiablePresentation``'s ``data:`` URL (VC 2.0 §4.13.2,
    RFC 2397). Only ``application/vp+jwt`` is read; ``@context``, ``id`` and ``type`` are all the
    envelope may hold: anything beside them is not secured, and is refused rather than ignored."""
    extra = sorted(set(document) - {"@context", "id", "type"})
    if extra:
        raise DataModelError(
            f"an {ENVELOPED_PRESENTATION_TYPE} holds @context, id and type only; {', '.join(extra)} "
            "would not be secured", code=ErrorCode.NOT_A_PRESENTATION,
        )
    if document.get("type") not in (ENVELOPED_PRESENTATION_TYPE, [ENVELOPED_PRESENTATION_TYPE]):
        raise DataModelError(f"type must be {ENVELOPED_PRESENTATION_TYPE}", code=ErrorCode.NOT_A_PRESENTATION)
    contexts = document.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    if not contexts or contexts[0] != VC_V2:
        raise DataModelError(f"an {ENVELOPED_PRESENTATION_TYPE} must have {VC_V2} as its first @context",
                             code=ErrorCode.NOT_A_PRESENTATION)
    url = document.get("id")
    if not isinstance(url, str) or url[:5].lower() != "data:":
        raise DataModelError(f"the id of an {ENVELOPED_PRESENTATION_TYPE} must be a data: URL",
                             code=ErrorCode.NOT_A_PRESENTATION)
    media_type, comma, data = url[5:].partition(",")
    if not comma or media_type.lower() != VP_JWT_MEDIA_TYPE or not data:
        raise DataModelError(
            f"enveloped media type {media_type[:60]!r} is not supported; only {VP_JWT_MEDIA_TYPE}",
            code=ErrorCode.NOT_A_PRESENTATION, detail={"mediaType": media_type[:200]},
        )
    return data


def presentation_from_jwt(jwt: jose.Jwt) -> dict[str, Any]:
    """The presentation a ``vp+jwt`` secures: its payload (VC-JOSE-COSE §3.2.1), which is a VC 2.0
    presentation — not the VC 1.1 ``vp`` claim encoding. The signature is checked separately."""
    header = jwt.header
    typ = str(header.get("typ", "vp+jwt")).lower().removeprefix("application/")
    cty = str(header.get("cty", "vp")).lower().removeprefix("application/")
    if typ != "vp+jwt" or cty != "vp":
        raise DataModelError(f"a JWS with typ {header.get('typ')!r} and cty {header.get('cty')!r} is not a vp+jwt",
                             code=ErrorCode.NOT_A_PRESENTATION)
    payload = jwt.payload
    if "vp" in payload or "vc" in payload:
        raise DataModelError("a VC-JOSE-COSE presentation is the payload itself, without a vp or vc claim",
                             code=ErrorCode.NOT_A_PRESENTATION)
    iss = payload.get("iss")
    if iss is not None and iss != _holder_id(payload):
        raise DataModelError(f"the iss claim {iss!r} is not the presentation's holder", code=ErrorCode.NOT_A_PRESENTATION)
    # The JWT's own claims (RFC 7519 §4.1, and nonce, aud as challenge and domain) secure the
    # token, and are checked as such; the presentation is the rest, read as JSON-LD.
    return {k: copy.deepcopy(v) for k, v in payload.items() if k not in _JWT_CLAIMS}


_JWT_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "nonce", "cnf"})


def _token_window(jwt: jose.Jwt, now: datetime) -> str:
    not_before, expires = jose.token_validity(jwt)
    if not_before is not None and now < not_before:
        raise ProofError(f"the presentation JWT is not valid before {not_before.isoformat()}",
                         code=ErrorCode.PROOF_EXPIRED)
    if expires is not None and now >= expires:
        raise ProofError(f"the presentation JWT expired at {expires.isoformat()}", code=ErrorCode.PROOF_EXPIRED)
    return "ok"


def verify_presentation(
    presentation: dict[str, Any] | str | bytes,
    *,
    challenge: str | None,
    domain: str | None,
    verifier: Verifier,
    report: PresentationReport | None = None,
    related: RelatedCheck | None = None,
) -> PresentationReport:
    """Verify a presentation against the ``challenge`` and ``domain`` this verifier issued, and
    every credential it encloses, offline.

    ``report`` (an empty report of a subclass) and ``related`` let a domain layer add the checks
    that span several enclosed credentials; ``vc_runid.runs.presentations.verify_presentation`` pairs
    declarations with bindings this way.

    ``challenge``/``domain`` are required arguments on purpose: passing ``None`` is allowed but
    makes the presentation invalid (``RUNID_PROOF_CHALLENGE_MISMATCH`` /
    ``RUNID_PROOF_DOMAIN_MISMATCH``), because a presentation accepted without them can be replayed.
    """
    if report is None:
        report = PresentationReport(challenge=challenge, domain=domain)
    return _PresentationRun(verifier, challenge, domain, report, related).verify(presentation)


__all__ = [
    "PRESENTATION_TYPE",
    "PresentationReport",
    "is_presentation",
    "present",
    "verify_presentation",
]
