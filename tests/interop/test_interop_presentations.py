"""Presentations of runs in the peers, both ways.

  * VC 2.0 (eddsa-rdfc-2022): a presentation from vc-runid holding a run's declaration and binding
    verifies in the Digital Bazaar JS verifier (its proof *and* the enclosed credentials), and one
    the JS stack signs over vc-runid's run credentials verifies in vc-runid.
  * VC 1.1 (Ed25519Signature2020): the same with didkit. didkit checks the presentation's proof
    only (not the enclosed credentials), so vc-runid's own verdict on those is asserted separately.
  * A presentation verified with another challenge fails on both sides.

Peer-signed presentations take ``created`` from the peer's wall clock, so vc-runid verifies them
at the current time; vc-runid's own use a fixed clock.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.trust import ANY_ISSUER
from vc_runid._internal.contexts import ED25519_2020_V1, VC_V1, VC_V2
from vc_runid._internal.timeutil import utc_now
from vc_runid.errors import ErrorCode
from vc_runid.runs.composition import CompositionBuilder
from vc_runid.runs.presentations import RunPresentationReport, verify_presentation
from vc_runid.runs.runner import Run, run
from vc_runid.runs.verify import BOUND
from vc_runid.vc.credentials import Issuer
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.presentations import present
from vc_runid.vc.verification import Verifier

from . import dbjs
from . import didkit_oracle as oracle

pytestmark = pytest.mark.interop

needs_node = pytest.mark.skipif(
    not dbjs.node_available(),
    reason="DIGITAL BAZAAR JS NOT AVAILABLE - VC 2.0 presentation interop tests skipped: "
    + dbjs.MISSING_REASON,
)
needs_didkit = pytest.mark.skipif(
    not oracle.available(),
    reason=(
        "DIDKIT NOT AVAILABLE - VC 1.1 presentation interop tests skipped: "
        f"{oracle.unavailable_reason()}. Install it with: pip install 'vc-runid[didkit]'"
    ),
)

CHALLENGE = "0d9e6c4a-7f3b-4c1e-9a55-auditor"
DOMAIN = "auditor.example"
OTHER_CHALLENGE = "replayed-challenge"
START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
CREATED = START + timedelta(hours=1)
VERIFY_AT = START + timedelta(hours=2)


def stepping_clock(start: datetime) -> Callable[[], datetime]:
    ticks = itertools.count()
    return lambda: start + next(ticks) * timedelta(seconds=1)


def make_run(issuer: Issuer, proof_format: ProofFormat) -> Run:
    composition = (
        CompositionBuilder()
        .model("example-llm-7b", provider="example-ai", revision="2024-04-rev3")
        .instruction("Answer in one sentence.")
        .input("What is the capital of France?", media_type="text/plain")
        .build()
    )
    with run(
        composition, issuer=issuer, proof_format=proof_format, clock=stepping_clock(START)
    ) as current:
        current.record_output("Paris.", observed={"modelId": "example-llm-7b"})
    assert current.binding is not None
    return current


def assert_valid_run_presentation(report: RunPresentationReport, current: Run) -> None:
    assert report.valid, (
        [(c.name, c.code, c.message) for c in report.failures],
        [c.failures for c in report.credentials],
        [r.failures for r in report.runs],
    )
    assert [(r.run_id, r.status) for r in report.runs] == [(current.run_id, BOUND)]


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer.generate()


@pytest.fixture(scope="module")
def holder() -> Issuer:
    return Issuer.generate()


# -- VC 2.0, eddsa-rdfc-2022: Digital Bazaar JS ---------------------------------------------------


@pytest.fixture(scope="module")
def di_run(issuer: Issuer) -> Run:
    return make_run(issuer, ProofFormat.DI)


@pytest.fixture(scope="module")
def di_presentation(di_run: Run, holder: Issuer) -> dict[str, Any]:
    assert di_run.binding is not None
    return present(
        [di_run.declaration, di_run.binding],
        holder,
        challenge=CHALLENGE,
        domain=DOMAIN,
        created=CREATED,
    )


@pytest.fixture(scope="module")
def db_signed_presentation(di_run: Run) -> dict[str, Any]:
    """Signed by the JS stack (did:key holder) over vc-runid's run credentials."""
    if not dbjs.node_available():
        pytest.skip(dbjs.MISSING_REASON)
    js_holder = Issuer.generate()
    unsigned = {
        "@context": [VC_V2],
        "type": ["VerifiablePresentation"],
        "holder": js_holder.did,
        "verifiableCredential": [copy.deepcopy(di_run.declaration), copy.deepcopy(di_run.binding)],
    }
    return dbjs.issue_presentation(
        unsigned,
        CHALLENGE,
        DOMAIN,
        js_holder.key.public.multikey,
        js_holder.key.secret_multikey,
    )


@needs_node
def test_vc_2_0_presentation_of_a_run_verifies_in_db_js(di_presentation: dict[str, Any]) -> None:
    assert dbjs.verify_presentation(di_presentation, CHALLENGE, DOMAIN) == {
        "verified": True,
        "error": None,
    }


@needs_node
def test_vc_2_0_presentation_with_another_challenge_fails_in_db_js(
    di_presentation: dict[str, Any],
) -> None:
    result = dbjs.verify_presentation(di_presentation, OTHER_CHALLENGE, DOMAIN)
    assert result["verified"] is False
    assert "challenge" in result["error"]


@needs_node
def test_vc_2_0_presentation_with_a_tampered_credential_fails_in_db_js(
    di_presentation: dict[str, Any],
) -> None:
    vp = copy.deepcopy(di_presentation)
    vp["verifiableCredential"][0]["credentialSubject"]["model"]["modelId"] = "another-model"
    result = dbjs.verify_presentation(vp, CHALLENGE, DOMAIN)
    assert result["verified"] is False
    # Both the holder's proof and the credential's own proof are refused.
    assert result["error"].startswith("Invalid signature.")
    assert "verifiableCredential[0]" in result["error"]


def test_vc_2_0_presentation_of_a_run_verifies_in_vc_runid(
    di_presentation: dict[str, Any], di_run: Run
) -> None:
    report = verify_presentation(
        di_presentation, challenge=CHALLENGE, domain=DOMAIN, verifier=Verifier(now=VERIFY_AT, policy=ANY_ISSUER)
    )
    assert_valid_run_presentation(report, di_run)


@needs_node
def test_db_js_presentation_of_a_run_verifies_in_vc_runid(
    db_signed_presentation: dict[str, Any], di_run: Run
) -> None:
    assert db_signed_presentation["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    report = verify_presentation(
        db_signed_presentation, challenge=CHALLENGE, domain=DOMAIN, verifier=Verifier(now=utc_now(), policy=ANY_ISSUER)
    )
    assert_valid_run_presentation(report, di_run)


@needs_node
def test_db_js_presentation_with_another_challenge_fails_in_vc_runid(
    db_signed_presentation: dict[str, Any],
) -> None:
    report = verify_presentation(
        db_signed_presentation,
        challenge=OTHER_CHALLENGE,
        domain=DOMAIN,
        verifier=Verifier(now=utc_now(), policy=ANY_ISSUER),
    )
    assert not report.valid
    assert report.error_codes == [ErrorCode.PROOF_CHALLENGE_MISMATCH.value]


# -- VC 1.1, Ed25519Signature2020: didkit ---------------------------------------------------------


@pytest.fixture(scope="module")
def di_2020_run(issuer: Issuer) -> Run:
    return make_run(issuer, ProofFormat.DI_2020)


@pytest.fixture(scope="module")
def di_2020_presentation(di_2020_run: Run, holder: Issuer) -> dict[str, Any]:
    assert di_2020_run.binding is not None
    return present(
        [di_2020_run.declaration, di_2020_run.binding],
        holder,
        challenge=CHALLENGE,
        domain=DOMAIN,
        proof_format=ProofFormat.DI_2020,
        created=CREATED,
    )


@pytest.fixture(scope="module")
def didkit_signed_presentation(di_2020_run: Run) -> dict[str, Any]:
    """Signed by didkit (its own did:key holder) over vc-runid's VC 1.1 run credentials."""
    if not oracle.available():
        pytest.skip(f"DIDKIT NOT AVAILABLE: {oracle.unavailable_reason()}")
    jwk = oracle.generate_ed25519_jwk()
    unsigned = {
        "@context": [VC_V1, ED25519_2020_V1],
        "type": ["VerifiablePresentation"],
        "holder": oracle.key_to_did(jwk),
        "verifiableCredential": [
            copy.deepcopy(di_2020_run.declaration),
            copy.deepcopy(di_2020_run.binding),
        ],
    }
    signed = oracle.issue_presentation(unsigned, jwk, CHALLENGE, DOMAIN)
    assert isinstance(signed, dict)
    return signed


@needs_didkit
def test_vc_1_1_presentation_of_a_run_verifies_in_didkit(
    di_2020_presentation: dict[str, Any],
) -> None:
    result = oracle.verify_presentation(di_2020_presentation, CHALLENGE, DOMAIN)
    assert result["errors"] == [], result


@needs_didkit
def test_vc_1_1_presentation_with_another_challenge_fails_in_didkit(
    di_2020_presentation: dict[str, Any],
) -> None:
    result = oracle.verify_presentation(di_2020_presentation, OTHER_CHALLENGE, DOMAIN)
    assert result["errors"] != []


@needs_didkit
def test_vc_1_1_run_credentials_inside_verify_in_didkit(
    di_2020_presentation: dict[str, Any],
) -> None:
    # didkit's verify_presentation does not look inside; check the enclosed credentials one by one.
    for credential in di_2020_presentation["verifiableCredential"]:
        assert oracle.verify_credential(credential)["errors"] == []


def test_vc_1_1_presentation_of_a_run_verifies_in_vc_runid(
    di_2020_presentation: dict[str, Any], di_2020_run: Run
) -> None:
    report = verify_presentation(
        di_2020_presentation, challenge=CHALLENGE, domain=DOMAIN, verifier=Verifier(now=VERIFY_AT, policy=ANY_ISSUER)
    )
    assert_valid_run_presentation(report, di_2020_run)


@needs_didkit
def test_didkit_presentation_of_a_run_verifies_in_vc_runid(
    didkit_signed_presentation: dict[str, Any], di_2020_run: Run
) -> None:
    proof = didkit_signed_presentation["proof"]
    assert (proof["type"], proof["proofPurpose"]) == ("Ed25519Signature2020", "authentication")
    report = verify_presentation(
        didkit_signed_presentation,
        challenge=CHALLENGE,
        domain=DOMAIN,
        verifier=Verifier(now=utc_now(), policy=ANY_ISSUER),
    )
    assert_valid_run_presentation(report, di_2020_run)


@needs_didkit
def test_didkit_presentation_with_another_challenge_fails_in_vc_runid(
    didkit_signed_presentation: dict[str, Any],
) -> None:
    report = verify_presentation(
        didkit_signed_presentation,
        challenge=OTHER_CHALLENGE,
        domain=DOMAIN,
        verifier=Verifier(now=utc_now(), policy=ANY_ISSUER),
    )
    assert not report.valid
    assert report.error_codes == [ErrorCode.PROOF_CHALLENGE_MISMATCH.value]
