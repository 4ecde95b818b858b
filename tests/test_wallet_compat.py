"""What other wallets emit and read (issue 12): JWTs without ``kid``, did:web documents listing a
key in the forms other stacks read, and the pre-standard ``typ`` of older VC-JOSE drafts."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from vc_runid._internal.contexts import VC_V1, VC_V2
from vc_runid._internal.multiformats import b64url_encode
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.vc.credentials import Issuer, issue_credential
from vc_runid.vc.dids import DidResolver, did_key_for, did_web_document, did_web_method_id
from vc_runid.vc.formats import PROFILE_FORMATS, ProofFormat, RunProfile, profile_format
from vc_runid.vc.jose import issue_vc_jose
from vc_runid.vc.keys import KeyPair, KeyType
from vc_runid.vc.verification import VerificationReport, Verifier

ED = KeyPair.generate(KeyType.ED25519)
P256 = KeyPair.generate(KeyType.P256)
OTHER = KeyPair.generate(KeyType.ED25519)
WEB = "did:web:issuer.example"


def v2(issuer: str) -> dict[str, Any]:
    return {
        "@context": [VC_V2],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "name": "Alice"},
    }


def v1_claims(issuer: str) -> dict[str, Any]:
    """What did-jwt-vc (Veramo) puts in a VC-JWT 1.1 payload: iss/nbf/sub and a vc claim."""
    return {
        "iss": issuer,
        "nbf": 1704067200,
        "sub": "did:example:alice",
        "vc": {
            "@context": [VC_V1, {"name": "https://schema.org/name"}],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"name": "Alice"},
        },
    }


def b64json(value: Any) -> str:
    return b64url_encode(json.dumps(value).encode())


def token(header: dict[str, Any], payload: dict[str, Any], key: KeyPair) -> str:
    signing_input = f"{b64json(header)}.{b64json(payload)}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


def verify(data: Any, resolver: DidResolver | None = None) -> VerificationReport:
    return Verifier(resolver=resolver or DidResolver()).verify_credential(data)


def message(report: VerificationReport, check: str) -> str:
    return next(c.message for c in report.checks if c.name == check)


# --- kid is optional (RFC 7515 §4.1.4) ----------------------------------------------------


@pytest.mark.parametrize("key", [ED, P256], ids=["EdDSA", "ES256"])
def test_vc_jose_without_kid_verifies_with_the_did_key_issuers_key(key: KeyPair) -> None:
    alg = "EdDSA" if key is ED else "ES256"
    report = verify(token({"alg": alg, "typ": "vc+jwt"}, v2(did_key_for(key.public)), key))

    assert report.valid, report.failures
    assert report.format == "vc-jose"
    assert message(report, "proof.signature") == (
        f"{alg} signature verifies with did:key:{key.public.multikey}#{key.public.multikey}"
    )


def test_vc_jwt_11_without_kid_as_did_jwt_vc_issues_it_verifies() -> None:
    report = verify(token({"alg": "EdDSA", "typ": "JWT"}, v1_claims(did_key_for(ED.public)), ED))

    assert report.valid, report.failures
    assert report.format == "vc-jwt-1.1"


def test_without_kid_every_assertion_key_of_a_did_web_is_tried_and_the_one_that_verified_named() -> None:
    document = did_web_document(WEB, [OTHER.public, ED.public])
    report = verify(token({"alg": "EdDSA"}, v2(WEB), ED), DidResolver({WEB: document}))

    assert report.valid, report.failures
    assert message(report, "proof.signature").endswith(f"verifies with {WEB}#{ED.public.multikey}")


def test_without_kid_a_p256_token_tries_only_p256_keys() -> None:
    document = did_web_document(WEB, [ED.public, P256.public])
    report = verify(token({"alg": "ES256"}, v2(WEB), P256), DidResolver({WEB: document}))

    assert report.valid, report.failures
    assert message(report, "proof.signature").endswith(f"verifies with {WEB}#{P256.public.multikey}")


@pytest.mark.parametrize(
    ("case", "make", "check", "code"),
    [
        (
            "signed by a key the issuer does not list",
            lambda: token({"alg": "EdDSA"}, v2(did_key_for(ED.public)), OTHER),
            "proof.signature",
            ErrorCode.PROOF_INVALID,
        ),
        (
            "payload changed by one character",
            lambda: tamper(token({"alg": "EdDSA"}, v2(did_key_for(ED.public)), ED)),
            "proof.signature",
            ErrorCode.PROOF_INVALID,
        ),
        (
            "alg for a key type the issuer has not",
            lambda: token({"alg": "ES256"}, v2(did_key_for(ED.public)), P256),
            "proof.signature",
            ErrorCode.VERIFICATION_METHOD_NOT_FOUND,
        ),
        (
            "issuer is a did:web not in the local store",
            lambda: token({"alg": "EdDSA"}, v2(WEB), ED),
            "proof.issuer-key",
            ErrorCode.DID_UNRESOLVED,
        ),
        (
            "issuer is not a DID",
            lambda: token({"alg": "EdDSA"}, v2("https://issuer.example"), ED),
            "proof.issuer-key",
            ErrorCode.DID_INVALID,
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else "",
)
def test_a_kidless_token_is_refused_when_no_issuer_key_verifies_it(
    case: str, make: Any, check: str, code: ErrorCode
) -> None:
    report = verify(make())

    assert not report.valid
    failed = report.failures[0]
    assert (failed.name, failed.code) == (check, code.value), report.failures


def tamper(compact: str) -> str:
    header, payload, signature = compact.split(".")
    changed = b64json(json.loads(_b64decode(payload)) | {"credentialSubject": {"id": "did:example:alice", "name": "Alicf"}})
    return f"{header}.{changed}.{signature}"


def _b64decode(segment: str) -> bytes:
    from vc_runid._internal.multiformats import b64url_decode

    return b64url_decode(segment)


# --- did:web documents other stacks read --------------------------------------------------


def test_did_web_ed25519_signature_2020_proofs_name_the_ed25519_verification_key_2020_listing() -> None:
    issuer = Issuer.from_key(ED, did_web=WEB)
    signed = issue_credential(v2(WEB), issuer, proof_format=ProofFormat.DI_2020)

    assert isinstance(signed, dict)
    assert signed["proof"]["verificationMethod"] == did_web_method_id(WEB, ED.public, "Ed25519VerificationKey2020")
    assert verify(signed, DidResolver({WEB: issuer.did_document()})).valid


@pytest.mark.parametrize("fmt", [ProofFormat.DI, ProofFormat.DI_2020, ProofFormat.JOSE])
def test_every_listing_of_a_did_web_key_verifies_what_it_signs(fmt: ProofFormat) -> None:
    issuer = Issuer.from_key(ED, did_web=WEB)
    report = verify(issue_credential(v2(WEB), issuer, proof_format=fmt), DidResolver({WEB: issuer.did_document()}))

    assert report.valid, report.failures


def test_credentials_signed_before_the_extra_listings_verify_against_old_and_new_documents() -> None:
    issuer = Issuer.from_key(ED, did_web=WEB)
    old_document = did_web_document(WEB, [ED.public])
    old_document["verificationMethod"] = old_document["verificationMethod"][:1]
    for section in ("assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"):
        old_document[section] = old_document[section][:1]
    # Before the extra listings every format named the Multikey, as Data Integrity still does.
    old_jose = issue_vc_jose(v2(WEB), ED, did_web_method_id(WEB, ED.public))
    old_di = issue_credential(v2(WEB), issuer, proof_format=ProofFormat.DI)

    for document in (old_document, issuer.did_document()):
        for signed in (old_jose, old_di):
            assert verify(signed, DidResolver({WEB: document})).valid


def test_did_web_jose_tokens_name_the_json_web_key_2020_listing() -> None:
    issuer = Issuer.from_key(P256, did_web=WEB)
    for fmt, credential in ((ProofFormat.JOSE, v2(WEB)), (ProofFormat.JWT_V1, {**v1_claims(WEB)["vc"], "issuer": WEB, "issuanceDate": "2024-01-01T00:00:00Z"})):
        token = issue_credential(credential, issuer, proof_format=fmt)
        assert isinstance(token, str)
        header = json.loads(_b64decode(token.split(".")[0]))
        assert header["kid"] == did_web_method_id(WEB, P256.public, "JsonWebKey2020")
        assert verify(token, DidResolver({WEB: issuer.did_document()})).valid


def test_p256_did_web_keys_are_listed_as_multikey_and_json_web_key_2020() -> None:
    document = did_web_document(WEB, [P256.public])

    assert [m["type"] for m in document["verificationMethod"]] == ["Multikey", "JsonWebKey2020"]
    assert document["verificationMethod"][1]["publicKeyJwk"] == P256.public.jwk


# --- the pre-standard typ -----------------------------------------------------------------


@pytest.mark.parametrize("typ", ["vc-ld+jwt", "vc+ld+jwt", "application/vc+ld+json+jwt"])
def test_a_draft_vc_jose_typ_is_refused_with_a_message_naming_vc_jwt(typ: str) -> None:
    kid = f"did:key:{ED.public.multikey}#{ED.public.multikey}"
    report = verify(token({"alg": "EdDSA", "kid": kid, "typ": typ}, v2(did_key_for(ED.public)), ED))

    assert not report.valid
    failed = report.failures[0]
    assert (failed.name, failed.code) == ("jwt-claims", ErrorCode.NOT_A_CREDENTIAL.value)
    assert "application/vc+jwt" in failed.message and "vc+jwt" in failed.message


# --- run profiles ----------------------------------------------------------------------------


def _composition() -> Any:
    from vc_runid.runs.composition import CompositionBuilder

    return CompositionBuilder().model("m-1", provider="p").input("What is 2+2?", media_type="text/plain").build()


@pytest.mark.parametrize(
    ("profile", "proof_type"),
    [(RunProfile.STANDARD, "DataIntegrityProof"), (RunProfile.COMPATIBLE, "Ed25519Signature2020")],
)
def test_a_run_profile_picks_the_format_of_declaration_and_binding(profile: RunProfile, proof_type: str) -> None:
    from vc_runid.runs.runner import run

    with run(_composition(), issuer=Issuer.from_key(ED), profile=profile) as current:
        current.record_output("4")

    assert isinstance(current.declaration, dict) and isinstance(current.binding, dict)
    assert current.declaration["proof"]["type"] == proof_type
    assert current.binding["proof"]["type"] == proof_type
    assert PROFILE_FORMATS[RunProfile.COMPATIBLE] is ProofFormat.DI_2020


def test_a_profile_and_a_different_format_contradict_each_other() -> None:
    from vc_runid.runs.declaration import declare

    with pytest.raises(RunIdError) as caught:
        declare(
            _composition(),
            Issuer.from_key(ED),
            declared_at=datetime(2024, 1, 1, tzinfo=UTC),
            proof_format=ProofFormat.JOSE,
            profile=RunProfile.COMPATIBLE,
        )
    assert caught.value.code is ErrorCode.USAGE
    assert profile_format(RunProfile.COMPATIBLE, ProofFormat.DI_2020) is ProofFormat.DI_2020
    assert profile_format(None, None) is ProofFormat.DI


def test_cli_declare_bind_and_run_take_profile(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vc_runid.cli.main import app
    from vc_runid.store.home import init_home

    home = tmp_path / "home"
    init_home(home)
    (tmp_path / "input.txt").write_text("What is 2+2?")
    (tmp_path / "output.txt").write_text("4")
    (tmp_path / "m.yaml").write_text("model: {id: m-1, provider: p}\ninput: input.txt\n")
    runner = CliRunner(env={"RUNID_HOME": str(home)})

    def invoke(*argv: str) -> Any:
        with contextlib.chdir(tmp_path):
            result = runner.invoke(app, list(argv))
        assert result.exit_code == 0, result.stderr
        return result

    invoke("declare", "m.yaml", "--profile", "compatible", "--out", "d.json")
    invoke("bind", "d.json", "--output", "output.txt", "--profile", "compatible", "--out", "b.json")
    invoke("run", "--manifest", "m.yaml", "--profile", "compatible", "--out-dir", "r", "--", "true")
    for path in ("d.json", "b.json", "r/declaration.json", "r/binding.json"):
        assert json.loads((tmp_path / path).read_text())["proof"]["type"] == "Ed25519Signature2020", path
    with contextlib.chdir(tmp_path):
        refused = runner.invoke(app, ["declare", "m.yaml", "--profile", "compatible", "--format", "jose"])
    assert refused.exit_code != 0 and "RUNID_USAGE" in refused.stderr
