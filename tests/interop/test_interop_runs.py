"""A whole run (declaration + output binding, made by ``vc_runid.runs.runner.run``) in the peers.

  * VC 2.0 (``ProofFormat.DI``): both credentials verify in the Digital Bazaar JS stack, which
    loads https://w3id.org/vc-runid/v1 from contexts/index.json like any pinned context.
  * VC 1.1 (``ProofFormat.DI_2020`` and ``ProofFormat.JWT_V1``): both credentials verify in
    didkit; the project vocabulary rides inline in ``@context``, the only way didkit takes it.
  * vc-runid's own ``verify_run`` agrees, and a declaration with one digest character changed
    fails in the peer and in vc-runid.

The runs use a stepping clock instead of the wall clock so that every date is reproducible (see
the last test for why the exact microseconds matter to didkit).
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vc_runid._internal.contexts import RUNID_V1, VC_V1
from vc_runid.errors import ErrorCode
from vc_runid.runs.composition import CompositionBuilder, Disclosures, RunComposition
from vc_runid.runs.runner import Run, run
from vc_runid.runs.verify import BOUND, verify_run
from vc_runid.vc.credentials import Issuer
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.policy import TrustPolicy
from vc_runid.vc.verification import VerificationReport

from . import dbjs
from . import didkit_oracle as oracle

pytestmark = pytest.mark.interop

needs_didkit = pytest.mark.skipif(
    not oracle.available(),
    reason=(
        f"DIDKIT NOT AVAILABLE - VC 1.1 run interop tests skipped: {oracle.unavailable_reason()}."
        " Install it with: pip install 'vc-runid[didkit]' (didkit==0.3.3)"
    ),
)
needs_node = pytest.mark.skipif(
    not dbjs.node_available(),
    reason="DIGITAL BAZAAR JS NOT AVAILABLE - VC 2.0 run interop tests skipped: "
    + dbjs.MISSING_REASON,
)

OUTPUT = "The capital of France is Paris."
# Microseconds that are not a whole number of milliseconds: vc-runid writes them with six digits
# and didkit keeps six digits, so the signed text survives didkit's re-serialisation.
MICROSECOND_START = datetime(2024, 5, 1, 12, 0, 0, 250_001, tzinfo=UTC)
# A clock with millisecond resolution (Date.now(), many databases and log formats).
MILLISECOND_START = datetime(2024, 5, 1, 12, 0, 0, 123_000, tzinfo=UTC)

PROOF_INVALID = ErrorCode.PROOF_INVALID.value
DECLARATION_MISMATCH = ErrorCode.DECLARATION_MISMATCH.value


def stepping_clock(
    start: datetime, step: timedelta = timedelta(seconds=1)
) -> Callable[[], datetime]:
    """Each call is one ``step`` later than the previous one, starting at ``start``."""
    ticks = itertools.count()
    return lambda: start + next(ticks) * step


def composition() -> tuple[RunComposition, Disclosures]:
    return (
        CompositionBuilder()
        .model("example-llm-7b", provider="example-ai", revision="2024-04-rev3")
        .parameters({"temperature": 0.2, "max_tokens": 256})
        .instruction("Answer in one sentence.")
        .retrieved("kb://geo/france", "France is a country in Western Europe. Capital: Paris.")
        .tool({"name": "lookup", "parameters": {"type": "object"}})
        .input("What is the capital of France?", media_type="text/plain")
        .build()
    )


def make_run(issuer: Issuer, proof_format: ProofFormat, start: datetime = MICROSECOND_START) -> Run:
    with run(
        composition(), issuer=issuer, proof_format=proof_format, clock=stepping_clock(start)
    ) as current:
        current.record_output(
            OUTPUT,
            observed={"modelId": "example-llm-7b", "provider": "example-ai"},
            usage={"inputTokens": 21, "outputTokens": 8, "totalTokens": 29},
        )
    assert current.binding is not None
    return current


def change_digest_character(digest: str) -> str:
    """A multibase digest with one character near the middle replaced (the last base64url
    character may carry padding bits only, so it is not the one to change)."""
    i = len(digest) // 2
    return digest[:i] + ("A" if digest[i] != "A" else "B") + digest[i + 1 :]


def tamper_declaration(declaration: dict[str, Any]) -> dict[str, Any]:
    tampered = copy.deepcopy(declaration)
    subject_input = tampered["credentialSubject"]["input"]
    subject_input["digestMultibase"] = change_digest_character(subject_input["digestMultibase"])
    return tampered


def _b64url_json(segment: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def _b64url_of_json(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def tamper_jwt_declaration(token: str) -> str:
    header, payload_b64, signature = token.split(".")
    payload = _b64url_json(payload_b64)
    subject_input = payload["vc"]["credentialSubject"]["input"]
    subject_input["digestMultibase"] = change_digest_character(subject_input["digestMultibase"])
    return ".".join([header, _b64url_of_json(payload), signature])


def assert_run_valid(current: Run) -> None:
    report = verify_run(
        current.declaration, current.binding, output=OUTPUT.encode(), policy=TrustPolicy.unsafe_any_issuer()
    )
    assert report.valid, [(c.name, c.code, c.message) for c in report.failures]
    assert report.status == BOUND
    assert report.run_id == current.run_id
    assert report.proofs_checked == 2


def assert_tampered_declaration_refused(report: VerificationReport) -> None:
    assert not report.valid
    failed = {c.name: c.code for c in report.failures}
    assert failed.get("declaration.proof.signature") == PROOF_INVALID, failed
    # The binding commits to the digest of the declaration it was issued for.
    assert failed.get("link") == DECLARATION_MISMATCH, failed
    assert report.passed("binding.proof.signature")


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer.generate()


# -- VC 2.0, eddsa-rdfc-2022: Digital Bazaar JS -------------------------------------------------


@pytest.fixture(scope="module")
def di_run(issuer: Issuer) -> Run:
    return make_run(issuer, ProofFormat.DI)


@needs_node
def test_di_run_names_the_vocabulary_by_url(di_run: Run) -> None:
    assert isinstance(di_run.declaration, dict) and isinstance(di_run.binding, dict)
    assert di_run.declaration["@context"][-1] == RUNID_V1
    assert di_run.binding["@context"][-1] == RUNID_V1


@needs_node
def test_di_run_declaration_verifies_in_db_js(di_run: Run) -> None:
    assert isinstance(di_run.declaration, dict)
    assert dbjs.verify_credential(di_run.declaration) == {"verified": True, "error": None}


@needs_node
def test_di_run_binding_verifies_in_db_js(di_run: Run) -> None:
    assert isinstance(di_run.binding, dict)
    assert dbjs.verify_credential(di_run.binding) == {"verified": True, "error": None}


def test_di_run_verifies_in_vc_runid(di_run: Run) -> None:
    assert_run_valid(di_run)


@needs_node
def test_di_run_with_tampered_declaration_digest_fails_in_db_js(di_run: Run) -> None:
    assert isinstance(di_run.declaration, dict)
    result = dbjs.verify_credential(tamper_declaration(di_run.declaration))
    assert result["verified"] is False
    assert "Invalid signature." in result["error"]


def test_di_run_with_tampered_declaration_digest_fails_in_vc_runid(di_run: Run) -> None:
    assert isinstance(di_run.declaration, dict)
    tampered = tamper_declaration(di_run.declaration)
    assert_tampered_declaration_refused(verify_run(tampered, di_run.binding))


# -- VC 1.1, Ed25519Signature2020: didkit -------------------------------------------------------


@pytest.fixture(scope="module")
def di_2020_run(issuer: Issuer) -> Run:
    return make_run(issuer, ProofFormat.DI_2020)


@needs_didkit
def test_di_2020_run_carries_the_vocabulary_inline(di_2020_run: Run) -> None:
    for credential in (di_2020_run.declaration, di_2020_run.binding):
        assert isinstance(credential, dict)
        contexts = credential["@context"]
        assert contexts[0] == VC_V1
        assert RUNID_V1 not in contexts
        assert isinstance(contexts[-1], dict)


@needs_didkit
def test_di_2020_run_declaration_verifies_in_didkit(di_2020_run: Run) -> None:
    assert oracle.verify_credential(di_2020_run.declaration)["errors"] == []


@needs_didkit
def test_di_2020_run_binding_verifies_in_didkit(di_2020_run: Run) -> None:
    assert di_2020_run.binding is not None
    assert oracle.verify_credential(di_2020_run.binding)["errors"] == []


def test_di_2020_run_verifies_in_vc_runid(di_2020_run: Run) -> None:
    assert_run_valid(di_2020_run)


@needs_didkit
def test_di_2020_run_with_tampered_declaration_digest_fails_in_didkit(di_2020_run: Run) -> None:
    assert isinstance(di_2020_run.declaration, dict)
    assert oracle.verify_credential(tamper_declaration(di_2020_run.declaration))["errors"] != []


def test_di_2020_run_with_tampered_declaration_digest_fails_in_vc_runid(di_2020_run: Run) -> None:
    assert isinstance(di_2020_run.declaration, dict)
    tampered = tamper_declaration(di_2020_run.declaration)
    assert_tampered_declaration_refused(verify_run(tampered, di_2020_run.binding))


# -- VC 1.1, JWT encoding: didkit ---------------------------------------------------------------


@pytest.fixture(scope="module")
def jwt_v1_run(issuer: Issuer) -> Run:
    return make_run(issuer, ProofFormat.JWT_V1)


@needs_didkit
def test_jwt_v1_run_declaration_verifies_in_didkit(jwt_v1_run: Run) -> None:
    assert isinstance(jwt_v1_run.declaration, str)
    assert oracle.verify_credential(jwt_v1_run.declaration, proof_format="jwt")["errors"] == []


@needs_didkit
def test_jwt_v1_run_binding_verifies_in_didkit(jwt_v1_run: Run) -> None:
    assert isinstance(jwt_v1_run.binding, str)
    assert oracle.verify_credential(jwt_v1_run.binding, proof_format="jwt")["errors"] == []


def test_jwt_v1_run_verifies_in_vc_runid(jwt_v1_run: Run) -> None:
    assert_run_valid(jwt_v1_run)


@needs_didkit
def test_jwt_v1_run_with_tampered_declaration_digest_fails_in_didkit(jwt_v1_run: Run) -> None:
    assert isinstance(jwt_v1_run.declaration, str)
    tampered = tamper_jwt_declaration(jwt_v1_run.declaration)
    assert oracle.verify_credential(tampered, proof_format="jwt")["errors"] != []


def test_jwt_v1_run_with_tampered_declaration_digest_fails_in_vc_runid(jwt_v1_run: Run) -> None:
    assert isinstance(jwt_v1_run.declaration, str)
    tampered = tamper_jwt_declaration(jwt_v1_run.declaration)
    assert_tampered_declaration_refused(verify_run(tampered, jwt_v1_run.binding))


# -- dates on a millisecond boundary --------------------------------------------------------
# didkit re-serialises dates with the shortest of 0/3/6/9 fraction digits before canonicalising,
# so vc-runid must write ".123Z", not ".123000Z", or the Ed25519Signature2020 proof fails there.


@needs_didkit
def test_di_2020_run_from_a_millisecond_clock_verifies_in_didkit(issuer: Issuer) -> None:
    current = make_run(issuer, ProofFormat.DI_2020, start=MILLISECOND_START)
    assert oracle.verify_credential(current.declaration)["errors"] == []
    assert current.binding is not None
    assert oracle.verify_credential(current.binding)["errors"] == []
