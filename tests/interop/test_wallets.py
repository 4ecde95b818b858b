"""vc-runid against the wallets people run: Credo, Veramo, ACA-Py and panva jose, both ways.

Each peer is the real library from its registry (installed by scripts/test: ``npm ci`` in
interop/wallets, acapy-agent in interop/acapy/.venv), run offline: contexts come from contexts/,
DIDs from the key itself or from documents handed over. For every format a peer offers:

  * the peer verifies vc-runid's credential, and refuses it with one character changed;
  * vc-runid verifies the peer's credential, and refuses it with one character changed;
  * the same for run credentials: the peer verifies a declaration and its binding (and refuses
    the declaration with one digest character changed), and vc-runid verifies a declaration the
    peer signed.

What each cell must measure is ``wallet_matrix.EXPECTED``, the table docs/formats.md prints.

npm ``overrides`` in interop/wallets/package.json, and why (Veramo's JSON-LD packages name
GitHub repositories, which a registry-only install cannot fetch):
  * ``@veramo-community/lds-ecdsa-secp256k1-recovery2020`` (a GitHub dependency of
    @veramo/credential-ld) → ``@transmute/lds-ecdsa-secp256k1-recovery2020@0.0.7``, the registry
    package it was forked from; only its secp256k1 suite uses it, which no test here touches.
  * ``jsonld`` under ``@digitalcredentials/vc`` and ``@digitalcredentials/jsonld-signatures`` (a
    GitHub branch ``digitalcredentials/jsonld.js#v10.x``) → ``@digitalcredentials/jsonld@9.0.0``,
    the registry release of that fork, the one Credo 0.6 itself depends on.
  * ``ky`` under ``ky-universal`` → ``0.25.1``: ky-universal 0.8 loads ``ky/umd``, which ky 1.x
    (hoisted for other packages) no longer ships.

Harness choices that are not the peers' defaults, and why:
  * Credo runs with an in-memory key management backend and storage (its Askar backend fetches a
    native binary at install time); signatures are still real, made and checked by node:crypto.
  * Credo's DID URL dereferencing is done by the harness's document loader (Credo's own would
    fetch the contexts it does not bundle); jws-2020 comes from Veramo's bundled copy.
  * Veramo resolves did:key as ``Ed25519VerificationKey2020`` (its Ed25519Signature2020 suite
    reads no other type) and issues with a string ``issuer``: vc-runid requires the compacted form,
    where ``{"id": …}`` alone is the string.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from vc_runid._internal.contexts import ED25519_2020_V1, VC_V1, VC_V2, default_loader
from vc_runid.runs.composition import CompositionBuilder
from vc_runid.runs.runner import Run, run
from vc_runid.vc.credentials import Issuer, issue_credential
from vc_runid.vc.dids import DidResolver
from vc_runid.vc.formats import PROFILE_FORMATS, ProofFormat, RunProfile
from vc_runid.vc.keys import KeyPair, KeyType
from vc_runid.vc.proofs import ED25519_SIGNATURE_2020, ProofOptions
from vc_runid.vc.verification import Verifier

from . import wallet_matrix, wallets

pytestmark = pytest.mark.interop

REPO = Path(__file__).resolve().parents[2]
WEB = "did:web:issuer.example"
ED = KeyPair.generate(KeyType.ED25519)
P256 = KeyPair.generate(KeyType.P256)
JS_PEERS = [p for p in wallet_matrix.PEERS if p != "acapy"]


def peer_param(peer: str) -> Any:
    if peer == "acapy":
        return pytest.param(peer, marks=pytest.mark.skipif(not wallets.acapy_available(), reason=wallets.MISSING_ACAPY))
    return pytest.param(peer, marks=pytest.mark.skipif(not wallets.js_available(), reason=wallets.MISSING_JS))


PEERS = [peer_param(p) for p in wallet_matrix.PEERS]

V1 = {
    "@context": [VC_V1, {"name": "https://schema.org/name"}],
    "type": ["VerifiableCredential"],
    "issuanceDate": "2024-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:alice", "name": "Alice"},
}
V2 = {
    "@context": [VC_V2],
    "type": ["VerifiableCredential"],
    "validFrom": "2024-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:alice", "name": "Alice"},
}


def _format(name: str) -> ProofFormat:
    return ProofFormat(name.split(" ")[0])


def _is_v1(fmt: ProofFormat) -> bool:
    return fmt in (ProofFormat.DI_2020, ProofFormat.JWT_V1)


def _issuer_for(cell: str) -> Issuer:
    fmt = _format(cell)
    if cell.endswith("did:web"):
        return Issuer.from_key(ED, did_web=WEB)
    return Issuer.from_key(P256 if fmt.value.startswith("ecdsa") else ED)


# --- one-character tampering ----------------------------------------------------------------


def _b64json(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _enc(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=").decode()


def tamper(secured: dict[str, Any] | str, path: tuple[str, ...] = ("credentialSubject", "name")) -> dict[str, Any] | str:
    """Change one character of a signed value: the last character of the value at ``path``
    (inside the ``vc`` claim for a VC-JWT 1.1 token)."""
    if isinstance(secured, str):
        header, payload, signature = secured.split(".")
        claims = _b64json(payload)
        _change_last_character(claims.get("vc", claims), path)
        return f"{header}.{_enc(claims)}.{signature}"
    changed = copy.deepcopy(secured)
    _change_last_character(changed, path)
    return changed


def _change_last_character(document: dict[str, Any], path: tuple[str, ...]) -> None:
    *parents, leaf = path
    for key in parents:
        document = document[key]
    value = document[leaf]
    # The middle of a base64url digest, not its last character, which may carry padding bits only.
    i = len(value) // 2 if leaf == "digestMultibase" else len(value) - 1
    document[leaf] = value[:i] + ("x" if value[i] != "x" else "y") + value[i + 1 :]


# --- batches: a peer's start-up is paid once per module ---------------------------------------


def batch(peer: str, requests: list[dict[str, Any]], **shared: Any) -> list[dict[str, Any]]:
    responses = wallets.run(peer, {"op": "batch", "requests": requests, **shared})["responses"]
    assert len(responses) == len(requests)
    return responses


@pytest.fixture(scope="module")
def ours() -> dict[str, dict[str, Any] | str]:
    """vc-runid's credential in every format the matrix lists."""
    issued = {}
    for cell in wallet_matrix.EXPECTED:
        fmt = _format(cell)
        issued[cell] = issue_credential(copy.deepcopy(V1 if _is_v1(fmt) else V2), _issuer_for(cell), proof_format=fmt)
    return issued


def did_documents() -> dict[str, Any]:
    return {WEB: Issuer.from_key(ED, did_web=WEB).did_document()}


@pytest.fixture(scope="module")
def peer_verdicts(ours: dict[str, dict[str, Any] | str]) -> Iterator[dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]]]:
    """(peer, format) → the peer's verdict on vc-runid's credential and on its tampered copy."""
    verdicts: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
    for peer in wallet_matrix.PEERS:
        if not (wallets.acapy_available() if peer == "acapy" else wallets.js_available()):
            continue
        cells = [c for c, row in wallet_matrix.EXPECTED.items() if row[peer]["peer"] is not None]
        requests = []
        for cell in cells:
            for secured in (ours[cell], tamper(ours[cell])):
                requests.append({"op": "verify", "credential": secured, "format": _format(cell).value})
        answers = iter(batch(peer, requests, didDocuments=did_documents()))
        for cell in cells:
            verdicts[(peer, cell)] = (next(answers), next(answers))
    yield verdicts


def _cells(direction: str) -> list[Any]:
    return [
        pytest.param(peer, cell, id=f"{peer}-{cell.replace(' ', '-')}", marks=peer_param(peer).marks)
        for cell, row in wallet_matrix.EXPECTED.items()
        for peer in wallet_matrix.PEERS
        if row[peer][direction] is not None
    ]


@pytest.mark.parametrize(("peer", "cell"), _cells("peer"))
def test_peer_verifies_vc_runid_credential_as_the_matrix_says(
    peer: str, cell: str, peer_verdicts: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    original, tampered = peer_verdicts[(peer, cell)]
    assert "verified" in original, original
    assert original["verified"] is wallet_matrix.EXPECTED[cell][peer]["peer"], original.get("error")
    assert tampered.get("verified") is False, f"{peer} accepted a tampered {cell} credential"


# --- the peers' credentials in vc-runid -------------------------------------------------------


@pytest.fixture(scope="module")
def theirs() -> dict[tuple[str, str], dict[str, Any] | str]:
    issued: dict[tuple[str, str], dict[str, Any] | str] = {}
    for peer in wallet_matrix.PEERS:
        if not (wallets.acapy_available() if peer == "acapy" else wallets.js_available()):
            continue
        cells = [c for c, row in wallet_matrix.EXPECTED.items() if row[peer]["runid"] is not None]
        requests = [
            {
                "op": "issue",
                "format": _format(cell).value,
                "credential": {**copy.deepcopy(V1 if _is_v1(_format(cell)) else V2), "issuer": Issuer.from_key(ED).did},
                "privateJwk": ED.jwk,
            }
            for cell in cells
        ]
        for cell, answer in zip(cells, batch(peer, requests), strict=True):
            assert "credential" in answer, f"{peer} could not issue {cell}: {answer.get('error')}"
            issued[(peer, cell)] = answer["credential"]
    return issued


@pytest.mark.parametrize(("peer", "cell"), _cells("runid"))
def test_vc_runid_verifies_the_peers_credential_as_the_matrix_says(
    peer: str, cell: str, theirs: dict[tuple[str, str], dict[str, Any] | str]
) -> None:
    secured = theirs[(peer, cell)]
    verifier = Verifier(resolver=DidResolver())
    report = verifier.verify_credential(secured)
    assert report.valid is wallet_matrix.EXPECTED[cell][peer]["runid"], [
        (c.name, c.code, c.message) for c in report.failures
    ]
    assert report.issuer == Issuer.from_key(ED).did
    assert not verifier.verify_credential(tamper(secured)).valid


# --- run credentials --------------------------------------------------------------------------

OUTPUT = "The capital of France is Paris."


def make_run(fmt: ProofFormat, issuer: Issuer | None = None) -> Run:
    composition = (
        CompositionBuilder()
        .model("example-llm-7b", provider="example-ai", revision="2024-04-rev3")
        .instruction("Answer in one sentence.")
        .input("What is the capital of France?", media_type="text/plain")
        .build()
    )
    start = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    ticks = iter(range(100))
    with run(composition, issuer=issuer or Issuer.from_key(ED), proof_format=fmt, clock=lambda: start + timedelta(seconds=next(ticks))) as current:
        current.record_output(OUTPUT)
    assert current.binding is not None
    return current


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    return {
        name: make_run(_format(name), Issuer.from_key(ED, did_web=WEB) if name.endswith("did:web") else None)
        for name in wallet_matrix.RUNS_EXPECTED
    }


DIGEST = ("credentialSubject", "input", "digestMultibase")


def _run_cells(table: dict[str, dict[str, bool | None]]) -> list[Any]:
    return [
        pytest.param(peer, fmt, id=f"{peer}-{fmt.replace(' ', '-')}", marks=peer_param(peer).marks)
        for fmt, row in table.items()
        for peer, expected in row.items()
        if expected is not None
    ]


@pytest.mark.parametrize(("peer", "fmt"), _run_cells(wallet_matrix.RUNS_EXPECTED))
def test_peer_verifies_a_vc_runid_run_declaration_and_binding_as_the_matrix_says(
    peer: str, fmt: str, runs: dict[str, Run]
) -> None:
    current = runs[fmt]
    declaration, binding = current.declaration, current.binding
    answers = batch(
        peer,
        [
            {"op": "verify", "credential": declaration, "format": _format(fmt).value},
            {"op": "verify", "credential": binding, "format": _format(fmt).value},
            {"op": "verify", "credential": tamper(declaration, DIGEST), "format": _format(fmt).value},
        ],
        didDocuments=did_documents(),
    )
    expected = wallet_matrix.RUNS_EXPECTED[fmt][peer]
    verified = answers[0].get("verified") is True and answers[1].get("verified") is True
    assert verified is expected, answers[:2]
    assert answers[2].get("verified") is False, f"{peer} accepted a declaration with a changed digest"


def _unsigned_declaration(fmt: str, runs: dict[str, Run]) -> dict[str, Any]:
    """The declaration vc-runid signed, without its proof: what the peer is asked to sign."""
    declaration = runs["di-2020"].declaration
    assert isinstance(declaration, dict)
    unsigned = {k: v for k, v in copy.deepcopy(declaration).items() if k != "proof"}
    if fmt == "jwt-1.1":
        unsigned["@context"] = [c for c in unsigned["@context"] if c != ED25519_2020_V1]
    return unsigned


@pytest.mark.parametrize(("peer", "fmt"), _run_cells(wallet_matrix.PEER_DECLARATIONS_EXPECTED))
def test_vc_runid_verifies_a_run_declaration_the_peer_signed(peer: str, fmt: str, runs: dict[str, Run]) -> None:
    unsigned = _unsigned_declaration(fmt, runs)
    answer = wallets.run(peer, {"op": "issue", "format": fmt, "credential": unsigned, "privateJwk": ED.jwk})
    assert "credential" in answer, answer.get("error")
    signed = answer["credential"]
    report = Verifier().verify_credential(signed)
    assert report.valid is wallet_matrix.PEER_DECLARATIONS_EXPECTED[fmt][peer], [
        (c.name, c.code, c.message) for c in report.failures
    ]
    assert not Verifier().verify_credential(tamper(signed, DIGEST)).valid


@pytest.mark.parametrize(
    ("peer", "verified"),
    [pytest.param(p, v, marks=peer_param(p).marks) for p, v in (("credo", False), ("veramo", False), ("acapy", True))],
)
def test_why_did_web_lists_ed25519_verification_key_2020(peer: str, verified: bool) -> None:
    """The same Ed25519Signature2020 proof naming the key's Multikey listing, against a document
    that lists only the Multikey (vc-runid's did:web documents before issue 12)."""
    issuer = Issuer.from_key(ED, did_web=WEB)
    multikey_only = copy.deepcopy(issuer.did_document())
    for section in ("verificationMethod", "assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"):
        multikey_only[section] = multikey_only[section][:1]
    credential = {**copy.deepcopy(V1), "issuer": WEB}
    credential["@context"] = [*credential["@context"], ED25519_2020_V1]
    options = ProofOptions(issuer.verification_method, created=datetime(2024, 1, 1, tzinfo=UTC))
    proof = ED25519_SIGNATURE_2020.create_proof(credential, ED, options, default_loader())
    answer = wallets.run(peer, {"op": "verify", "credential": {**credential, "proof": proof}, "didDocuments": {WEB: multikey_only}})
    assert answer.get("verified") is verified, answer.get("error")


# --- the documentation is the matrix ----------------------------------------------------------


def test_formats_doc_table_is_the_measured_matrix() -> None:
    doc = (REPO / "docs" / "formats.md").read_text(encoding="utf-8")
    begin, end = "<!-- wallet-matrix:begin -->\n", "<!-- wallet-matrix:end -->"
    assert begin in doc and end in doc, "docs/formats.md lost its wallet matrix markers"
    table = doc.split(begin, 1)[1].split(end, 1)[0]
    assert table == wallet_matrix.render(), "regenerate it: python -m tests.interop.wallet_matrix"


def test_the_compatible_profile_is_the_format_with_the_widest_measured_reach() -> None:
    assert PROFILE_FORMATS[RunProfile.COMPATIBLE].value == wallet_matrix.widest_reach()
