"""Red team (issue 8): an attacker with no key of the trusted issuer tries to make a verdict VALID.

Every case signs for real (fresh keys the attacker generates, or the trusted issuer's own
credentials the attacker only respells or repackages) and verifies offline with a fixed clock.
A test that shows a bypass was written failing first; one whose attack is refused for another
reason stays as a regression test and says why it is refused.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import vc_runid as runid
from vc_runid import CompositionBuilder, ErrorCode, Issuer, Verifier, verify_run
from vc_runid.bundle.archive import create_bundle, verify_bundle
from vc_runid.vc.policy import TrustPolicy

T0 = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
AT = T0 + timedelta(hours=1)
TRUSTED_DOMAIN = "runs.example.com"
TRUSTED_WEB_DID = f"did:web:{TRUSTED_DOMAIN}"


def clock(start: datetime = T0) -> Callable[[], datetime]:
    ticks = itertools.count()
    return lambda: start + timedelta(seconds=next(ticks))


def a_run(issuer: Issuer, executor: str | None = None, store: runid.RunStore | None = None) -> runid.Run:
    builder = CompositionBuilder().model("demo-model", provider="local").input("hi")
    if executor is not None:
        builder = builder.executor(id=executor, name="agent")
    with runid.run(builder.build(), issuer=issuer, store=store, clock=clock()) as current:
        current.record_output("hello")
    return current


# --- a bundle carrying a forged DID document for a trusted did:web issuer ----------------------


def forged_web_bundle(tmp_path: Path) -> Path:
    """The attacker makes a home whose issuer *claims* did:web:runs.example.com with the
    attacker's own fresh key, runs, and bundles: the bundle carries the attacker's DID document
    for the trusted DID."""
    home = tmp_path / "attacker"
    runid.init_home(home, domain=TRUSTED_DOMAIN)
    forger = runid.load_issuer(home)
    assert forger.did == TRUSTED_WEB_DID
    run = a_run(forger, store=runid.RunStore.in_home(home))
    return create_bundle(home, [run.run_id], tmp_path / "forged.zip")


@pytest.mark.parametrize(
    "policy",
    [TrustPolicy.trusting(TRUSTED_WEB_DID), TrustPolicy(domains=(TRUSTED_DOMAIN,))],
    ids=["trusted-did", "trusted-domain"],
)
def test_a_bundles_own_did_document_does_not_make_a_trusted_did_web_issuer(tmp_path: Path, policy: TrustPolicy) -> None:
    """Before: VALID — the bundle's DID document, written by whoever assembled the bundle, was
    taken as the trusted issuer's key. Now a did:web key comes from the verifier (``--did-store``)
    under any real policy; the bundle's documents count only under --any-issuer."""
    report = verify_bundle(forged_web_bundle(tmp_path), at=AT, policy=policy)
    assert not report.valid
    assert ErrorCode.DID_UNRESOLVED.value in report.runs[0].report.error_codes
    assert "--did-store" in " ".join(c.message for c in report.runs[0].report.failures)


def test_the_real_did_document_supplied_by_the_verifier_refuses_the_forgers_key(tmp_path: Path) -> None:
    genuine = Issuer.from_key(Issuer.generate().key, TRUSTED_WEB_DID)
    report = verify_bundle(
        forged_web_bundle(tmp_path), at=AT, policy=TrustPolicy.trusting(TRUSTED_WEB_DID),
        did_documents={TRUSTED_WEB_DID: genuine.did_document()},
    )
    assert not report.valid
    assert ErrorCode.VERIFICATION_METHOD_NOT_FOUND.value in report.runs[0].report.error_codes


def test_a_genuine_did_web_bundle_is_valid_with_the_verifiers_did_document(tmp_path: Path) -> None:
    """The legitimate case still works: the auditor supplies the organisation's DID document."""
    home = tmp_path / "org"
    runid.init_home(home, domain=TRUSTED_DOMAIN)
    issuer = runid.load_issuer(home)
    run = a_run(issuer, store=runid.RunStore.in_home(home))
    bundle = create_bundle(home, [run.run_id], tmp_path / "org.zip")
    report = verify_bundle(
        bundle, at=AT, policy=TrustPolicy(domains=(TRUSTED_DOMAIN,)), did_documents={issuer.did: issuer.did_document()}
    )
    assert report.valid, [c.message for r in report.runs for c in r.report.failures]
    assert report.issuers[0].key_source == "DID document supplied by the verifier (--did-store)"


# --- a policy's witness quorum ------------------------------------------------------------------


def _pinned_log(entries: list[bytes], origin: str = "runs.example.com/log") -> tuple[Any, str, dict[str, str], Any]:
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from vc_runid.transparency import Checkpoint, MerkleTree, leaf_hash, sign_checkpoint, vkey
    from vc_runid.transparency.receipt import Receipt

    log_key = Ed25519PrivateKey.generate()
    tree = MerkleTree()
    for entry in entries:
        tree.append(leaf_hash(entry))
    note = sign_checkpoint(Checkpoint(origin=origin, tree_size=tree.size, root_hash=tree.root()), origin, log_key)

    def receipt(index: int, checkpoint: str) -> Receipt:
        proof = tree.inclusion_proof(index, tree.size)
        return Receipt(leafIndex=index, treeSize=tree.size, checkpoint=checkpoint, inclusionProof=[base64.b64encode(h).decode() for h in proof])

    return tree, note, {"origin": origin, "key": vkey(origin, log_key.public_key())}, receipt


def test_a_policys_witness_quorum_is_enforced_on_the_declarations_log_receipt() -> None:
    """Before: VALID — ``witnesses``/``witnessQuorum`` of a policy file were read and printed but
    never checked, so a log could show this verifier a checkpoint no witness ever saw (a split
    view). Now the checkpoint of the receipt that proves the declaration must carry the quorum."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from vc_runid.runs.digests import jcs
    from vc_runid.transparency.cosignature import Witness, add_cosignatures, cosign

    issuer = Issuer.generate()
    run = a_run(issuer)
    _, note, pinned, receipt = _pinned_log([b"other", jcs(run.declaration)])
    witness_key = Ed25519PrivateKey.generate()
    witness = Witness("w1.example", witness_key.public_key())
    policy = TrustPolicy.trusting(
        issuer.did, logs=[pinned], requireLogInclusion=True,
        witnesses=[{"name": "w1.example", "key": witness.vkey()}], witnessQuorum=1,
    )
    unwitnessed = verify_run(run.declaration, run.binding, policy=policy, receipts=[receipt(1, note)], verifier=Verifier(now=AT))
    assert not unwitnessed.valid
    assert unwitnessed.error_codes == [ErrorCode.LOG_INCLUSION_REQUIRED.value]
    assert "witness" in next(c.message for c in unwitnessed.failures)

    cosigned = add_cosignatures(note, [cosign(note, "w1.example", witness_key, timestamp=int(T0.timestamp()))])
    witnessed = verify_run(run.declaration, run.binding, policy=policy, receipts=[receipt(1, cosigned)], verifier=Verifier(now=AT))
    assert witnessed.valid, witnessed.failures
    assert "w1.example" in next(c.message for c in witnessed.checks if c.name == "trust.log")


def test_cli_verify_bundle_takes_the_did_web_document_from_did_store(tmp_path: Path) -> None:
    """``verify-bundle --trusted-issuer did:web:… --did-store DIR``: the forged bundle exits 1 and
    says to add the document; the genuine document in DIR (not the forger's) still refuses it."""
    import json

    from typer.testing import CliRunner

    from vc_runid.cli.main import app

    bundle = forged_web_bundle(tmp_path)
    runner = CliRunner()
    base = ["verify-bundle", str(bundle), "--at", "2025-06-01T13:00:00Z", "--trusted-issuer", TRUSTED_WEB_DID]
    alone = runner.invoke(app, base)
    assert alone.exit_code == 1 and "--did-store" in alone.output, alone.output
    store = tmp_path / "dids"
    store.mkdir()
    genuine = Issuer.from_key(Issuer.generate().key, TRUSTED_WEB_DID)
    (store / "runs.json").write_text(json.dumps(genuine.did_document()))
    with_store = runner.invoke(app, [*base, "--did-store", str(store)])
    assert with_store.exit_code == 1, with_store.output
    assert "RUNID_VERIFICATION_METHOD_NOT_FOUND" in with_store.output or "not found" in with_store.output.lower()


# --- independence: the executor is the declarer, however its DID is spelled ---------------------


def _web_issuer() -> Issuer:
    return Issuer.from_key(Issuer.generate().key, TRUSTED_WEB_DID)


@pytest.mark.parametrize(
    "spell",
    [
        lambda did: did,
        lambda did: did + "#key-1",
        lambda did: did + "?versionId=1",
        lambda did: did.replace("runs.example.com", "RUNS.Example.com"),
        lambda did: did.replace("runs.example.com", "runs.example.com%3A443"),
        lambda did: did.replace("did:web:", "DID:WEB:"),
    ],
    ids=["same", "fragment", "query", "host-case", "default-port", "scheme-case"],
)
def test_a_declarer_naming_itself_as_executor_is_not_independent_however_spelled(spell: Callable[[str], str]) -> None:
    """Before: VALID for every spelling but the first — the independence rule compared DID
    strings, so the executor's own key could vouch for its run by writing its DID with a
    fragment, a query or another case. Now DIDs are compared as the DID they name."""
    from vc_runid.vc.dids import DidResolver

    issuer = _web_issuer()
    run = a_run(issuer, executor=spell(issuer.did))
    verifier = Verifier(now=AT, resolver=DidResolver({issuer.did: issuer.did_document()}))
    report = verify_run(run.declaration, run.binding, policy=TrustPolicy(domains=(TRUSTED_DOMAIN,)), verifier=verifier)
    assert not report.valid
    assert ErrorCode.NOT_INDEPENDENT.value in report.error_codes


def test_an_executor_on_another_did_is_independent() -> None:
    from vc_runid.vc.dids import DidResolver

    issuer = _web_issuer()
    for executor in ("did:web:agents.example.com", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"):
        run = a_run(issuer, executor=executor)
        verifier = Verifier(now=AT, resolver=DidResolver({issuer.did: issuer.did_document()}))
        report = verify_run(run.declaration, run.binding, policy=TrustPolicy(domains=(TRUSTED_DOMAIN,)), verifier=verifier)
        assert report.valid, (executor, report.failures)


def test_an_executor_named_by_the_did_key_of_the_declarers_own_key_is_not_independent() -> None:
    """Before: VALID — a did:web issuer named itself as executor by the did:key of its own
    signing key, another string for the same party."""
    from vc_runid.vc.dids import DidResolver

    issuer = _web_issuer()
    run = a_run(issuer, executor=f"did:key:{issuer.key.public.multikey}")
    verifier = Verifier(now=AT, resolver=DidResolver({issuer.did: issuer.did_document()}))
    report = verify_run(run.declaration, run.binding, policy=TrustPolicy(domains=(TRUSTED_DOMAIN,)), verifier=verifier)
    assert ErrorCode.NOT_INDEPENDENT.value in report.error_codes


# --- audit: a credential whose types cannot be read is reported, never skipped ------------------


def _drifted(issuer: Issuer) -> runid.Run:
    builder = CompositionBuilder().model("demo-model", provider="local").input("hi")
    with runid.run(builder.build(), issuer=issuer, clock=clock()) as current:
        current.record_output("hello", observed={"modelId": "another-model"})
    return current


def _audit_cli(directory: Path, *args: str) -> Any:
    from typer.testing import CliRunner

    from vc_runid.cli.main import app

    return CliRunner().invoke(app, ["audit", str(directory), "--at", "2025-06-01T13:00:00Z", *args])


def test_audit_reports_a_binding_whose_types_cannot_be_read_instead_of_skipping_it(tmp_path: Path) -> None:
    """Before: exit 0, "1 unbound, 0 drift" — a drifted run's binding with one unknown context
    appended could not be expanded, so discovery took it for "not a run credential" and dropped
    it: the drift (and the binding) vanished from the audit. Now it is a failed entry."""
    import json

    issuer = Issuer.generate()
    run = _drifted(issuer)
    (tmp_path / "declaration.json").write_text(json.dumps(run.declaration))
    damaged = {**run.binding, "@context": [*run.binding["@context"], "https://unknown.example/context/v1"]}
    (tmp_path / "binding.json").write_text(json.dumps(damaged))
    result = _audit_cli(tmp_path, "--trusted-issuer", issuer.did)
    assert result.exit_code == 1, result.output
    assert "RUNID_CONTEXT_NOT_ALLOWED" in result.output or "binding.json" in result.output


def test_audit_classifies_with_the_contexts_it_was_given(tmp_path: Path) -> None:
    """A run whose credentials use an extra context (``audit --context URL=FILE``) is audited,
    not skipped as unreadable: classification expands with the audit's own contexts."""
    import json

    from vc_runid.runs.declaration import build_declaration, new_run_id
    from vc_runid.vc.credentials import issue_credential

    issuer = Issuer.generate()
    url = "https://example.com/contexts/notes/v1"
    context = {"@context": {"note": "https://example.com/vocab#note"}}
    composition = CompositionBuilder().model("demo-model", provider="local").input("hi").build()[0]
    unsigned = build_declaration(composition, issuer_did=issuer.did, declared_at=T0, run_id=new_run_id())
    unsigned["@context"] = [*unsigned["@context"], url]
    unsigned["note"] = "audited with its context"
    from vc_runid._internal.contexts import DocumentLoader

    declaration = issue_credential(unsigned, issuer, created=T0, loader=DocumentLoader({url: context}))
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "declaration.json").write_text(json.dumps(declaration))
    (tmp_path / "notes.jsonld").write_text(json.dumps(context))
    result = _audit_cli(tmp_path / "runs", "--trusted-issuer", issuer.did, "--context", f"{url}={tmp_path / 'notes.jsonld'}")
    assert "1 run:" in result.output and "1 unbound" in result.output, result.output


# --- presentations ------------------------------------------------------------------------------


def test_an_empty_presentation_from_a_stranger_is_not_valid_under_a_policy() -> None:
    """Before: VALID (exit 0 on the command line) — a stranger's presentation enclosing nothing
    passed ``verify --trusted-issuer X``, though its only signer is a key nobody trusts. With no
    credential inside, the holder is the signer, so the holder must be one the policy trusts."""
    from vc_runid.runs.presentations import verify_presentation
    from vc_runid.vc.presentations import present

    trusted, stranger = Issuer.generate(), Issuer.generate()
    empty = present([], stranger, challenge="c0ffee", domain="audit.example", created=T0)
    report = verify_presentation(
        empty, challenge="c0ffee", domain="audit.example", verifier=Verifier(now=AT, policy=TrustPolicy.trusting(trusted.did))
    )
    assert not report.valid
    assert ErrorCode.ISSUER_NOT_TRUSTED.value in report.error_codes
    # A trusted holder authenticating with nothing enclosed (DID Auth) is what it says.
    own = present([], trusted, challenge="c0ffee", domain="audit.example", created=T0)
    report = verify_presentation(
        own, challenge="c0ffee", domain="audit.example", verifier=Verifier(now=AT, policy=TrustPolicy.trusting(trusted.did))
    )
    assert report.valid, report.failures


def test_a_presentation_hiding_its_credentials_under_another_spelling_is_refused() -> None:
    """Regression (refused already): the holder is the attacker and signs whatever it likes, so
    it can write ``verifiableCredential`` as its IRI, an alias or an explicit ``@graph`` to keep
    an expired credential from being looked up. The signed-form check on the presentation
    refuses each spelling (RUNID_NOT_COMPACTED), so nothing enclosed goes unverified."""
    import uuid

    from vc_runid._internal.contexts import default_loader
    from vc_runid.runs.presentations import verify_presentation
    from vc_runid.vc.dids import AUTHENTICATION
    from vc_runid.vc.formats import ProofFormat
    from vc_runid.vc.presentations import _PROFILES, ProofOptions

    trusted, holder = Issuer.generate(), Issuer.generate()
    expired = runid.issue_credential({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "issuer": trusted.did,
        "validUntil": "2025-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:subject"},
    }, trusted, created=T0 - timedelta(days=400))
    base = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiablePresentation"], "holder": holder.did}
    vc_iri = "https://www.w3.org/2018/credentials#verifiableCredential"
    spellings = [
        {**base, vc_iri: {"@graph": [expired]}},
        {**base, "verifiableCredential": {"@graph": expired}},
        {**base, "@context": [*base["@context"], {"vcs": {"@id": vc_iri, "@type": "@id", "@container": "@graph"}}], "vcs": [expired]},
    ]
    profile = _PROFILES[ProofFormat.DI]
    options = ProofOptions(holder.verification_method, proof_purpose=AUTHENTICATION, created=T0, challenge="c", domain="d")
    for presentation in spellings:
        signed = {**presentation, "proof": profile.suite.create_proof(presentation, holder.key, options, default_loader())}
        report = verify_presentation(signed, challenge="c", domain="d", verifier=Verifier(now=AT, policy=TrustPolicy.trusting(trusted.did)))
        assert not report.valid
        assert ErrorCode.NOT_COMPACTED.value in report.error_codes


# --- never hang: embedded contexts are bounded ---------------------------------------------------


def _hostile_contexts(issuer: Issuer) -> list[tuple[str, dict[str, Any]]]:
    """Documents whose embedded @context makes pyld's context processing superlinear: before,
    2,000 type-scoped terms on one node took 47 s and 5,000 repeats of the VC context 8 s (2
    cores under load), all before any signature check — a public /credentials/verify stalled."""
    secured = runid.issue_credential({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "issuer": issuer.did,
        "credentialSubject": {"id": "did:example:subject", "name": "x"},
    }, issuer, created=T0)
    assert isinstance(secured, dict)
    n = 2000
    type_scoped = {f"T{i}": {"@id": f"https://ex.org/T{i}", "@context": {f"q{i}": f"https://ex.org/q{i}"}} for i in range(n)}
    nested: dict[str, Any] = {}
    current = nested
    for i in range(400):
        inner: dict[str, Any] = {}
        current[f"t{i}"] = {"@id": f"https://ex.org/t{i}", "@context": inner}
        current = inner
    return [
        ("type-scoped terms", {**secured, "@context": [*secured["@context"], type_scoped],
                               "credentialSubject": {"id": "did:example:s", "type": [f"T{i}" for i in range(n)]}}),
        ("repeated context", {**secured, "@context": ["https://www.w3.org/ns/credentials/v2"] * 5000}),
        ("nested scoped contexts", {**secured, "@context": [*secured["@context"], nested]}),
        ("contexts in every node", {**secured, "credentialSubject": {
            "id": "did:example:s", "description": [
                {"@context": [{f"k{i}": f"https://ex.org/k{i}"}], "name": str(i)} for i in range(2000)]}}),
    ]


def test_embedded_contexts_are_bounded_before_any_processing() -> None:
    """Each is refused by counting, before pyld processes a context (timings: the report)."""
    import json

    issuer = Issuer.generate()
    for name, document in _hostile_contexts(issuer):
        data = json.dumps(document).encode()
        assert len(data) < 1 << 20, name
        report = Verifier(now=AT, policy=TrustPolicy.trusting(issuer.did)).verify_credential(data)
        assert not report.valid, name
        assert report.error_codes == [ErrorCode.CANONICALIZATION_LIMIT.value], (name, report.error_codes)


# --- the policy file itself ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "issuers: [did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK]\nrequireIndependence: true\nrequireIndependence: false\n",
        "issuers: [did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK]\nissuers: [did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG]\n",
    ],
    ids=["relaxed-by-a-repeated-key", "issuers-replaced"],
)
def test_a_yaml_policy_with_a_repeated_key_is_refused(tmp_path: Path, text: str) -> None:
    """Before: the last value won silently (PyYAML), so a policy file reviewed as strict could
    carry a second line that relaxes it further down. Refused, as duplicate JSON keys are."""
    from vc_runid.errors import RunIdError

    path = tmp_path / "trust.yaml"
    path.write_text(text)
    with pytest.raises(RunIdError) as caught:
        TrustPolicy.from_file(path)
    assert caught.value.code is ErrorCode.TRUST_POLICY_INVALID
    assert "duplicate" in caught.value.message


def test_a_yaml_policy_with_a_complex_key_is_a_policy_error_not_a_crash(tmp_path: Path) -> None:
    from vc_runid.errors import RunIdError

    path = tmp_path / "trust.yaml"
    path.write_text("? [a, b]\n: 1\n")
    with pytest.raises(RunIdError) as caught:
        TrustPolicy.from_file(path)
    assert caught.value.code is ErrorCode.TRUST_POLICY_INVALID


def test_a_supplied_context_document_is_bounded_too() -> None:
    """Before: a context carried in an audit bundle (written by the bundle's author) with 1,000
    type-scoped terms, used by a credential naming all 1,000 types, took 9 s to refuse (2,000:
    over a minute) — before any signature check. A supplied context now has at most 64 scoped
    contexts and 4,096 term definitions; the pinned ones are unaffected."""
    from vc_runid._internal.contexts import DocumentLoader
    from vc_runid.errors import RunIdError

    url = "https://attacker.example/ctx/v1"
    hostile = {"@context": {f"T{i}": {"@id": f"https://ex.org/T{i}", "@context": {f"q{i}": f"https://ex.org/q{i}"}} for i in range(1000)}}
    with pytest.raises(RunIdError) as caught:
        DocumentLoader({url: hostile})
    assert caught.value.code is ErrorCode.CANONICALIZATION_LIMIT
    wide = {"@context": {f"t{i}": f"https://ex.org/t{i}" for i in range(5000)}}
    with pytest.raises(RunIdError):
        DocumentLoader({url: wide})
    # A real vocabulary: many plain terms and a few scoped ones.
    DocumentLoader({url: {"@context": {**{f"t{i}": f"https://ex.org/t{i}" for i in range(2000)},
                                       "Note": {"@id": "https://ex.org/Note", "@context": {"text": "https://ex.org/text"}}}}})


# --- respellings of the trusted issuer's own credentials that are refused already ---------------

XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
CRED = "https://www.w3.org/2018/credentials#"


def _one(value: Any) -> list[Any]:
    return [value]


#: (name, respelling of an expired VC 2.0 credential, why it is refused). Every respelling keeps
#: the signed RDF or is refused before the signature; none may make the verdict VALID.
EXPIRED_RESPELLINGS: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]], str]] = [
    ("validUntil as a list of one", lambda d: {**d, "validUntil": _one(d["validUntil"])},
     "the data model reads validUntil as one date-time string (RUNID_NOT_A_CREDENTIAL)"),
    ("validUntil as a typed value object", lambda d: {**d, "validUntil": {"@value": d["validUntil"], "@type": XSD_DATETIME}},
     "the data model's JSON shape, before JSON-LD"),
    ("validUntil under a compact IRI", lambda d: {**{k: v for k, v in d.items() if k != "validUntil"},
                                                  "@context": [*d["@context"], {"cred": CRED}], "cred:validUntil": d["validUntil"]},
     "another dataset (a compact IRI carries no xsd:dateTime coercion), so the signature fails"),
    ("@vocab pointing at the credentials vocabulary", lambda d: {**d, "@context": [*d["@context"], {"@vocab": CRED}]},
     "harmless: the same terms, so the expiry is still read and refused"),
    ("issuer as a list of one", lambda d: {**d, "issuer": _one(d["issuer"])}, "the data model (one issuer)"),
    ("proof.created as a list of one", lambda d: {**d, "proof": {**d["proof"], "created": _one(d["proof"]["created"])}},
     "a proof time that is not one date-time is malformed"),
    ("proofPurpose written as its IRI", lambda d: {**d, "proof": {**d["proof"], "proofPurpose": "https://w3id.org/security#assertionMethod"}},
     "not the compacted form"),
    ("credentialSubject as an @set object", lambda d: {**d, "credentialSubject": {"@set": [d["credentialSubject"]]}},
     "not the compacted form (the same RDF: a set of one)"),
    ("validUntil as an @list object", lambda d: {**d, "validUntil": {"@list": [d["validUntil"]]}},
     "the data model's JSON shape (and another dataset: an RDF list)"),
    ("subject under an @id-map alias", lambda d: {
        **{k: v for k, v in d.items() if k != "credentialSubject"},
        "@context": [*d["@context"], {"subjects": {"@id": CRED + "credentialSubject", "@container": "@id"}}],
        "subjects": {d["credentialSubject"]["id"]: {k: v for k, v in d["credentialSubject"].items() if k != "id"}},
    }, "the data model (no credentialSubject), and a second term for a core IRI"),
    ("validUntil under an @index-map alias", lambda d: {
        **{k: v for k, v in d.items() if k != "validUntil"},
        "@context": [*d["@context"], {"until": {"@id": CRED + "validUntil", "@type": XSD_DATETIME, "@container": "@index"}}],
        "until": {"any": d["validUntil"]},
    }, "a second term for a core IRI (standard terms rule)"),
    ("a type-scoped context redefining validUntil", lambda d: {
        **d, "@context": [*d["@context"], {"Extra": {"@id": "https://ex.org/Extra", "@context": {"validUntil": "https://ex.org/other"}}}],
        "type": [*d["type"], "Extra"],
    }, "another dataset (a new type), and validUntil is a protected term"),
]


@pytest.fixture(scope="module")
def expired_credential() -> tuple[Issuer, dict[str, Any]]:
    issuer = Issuer.generate()
    secured = runid.issue_credential({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "issuer": issuer.did,
        "validFrom": "2024-01-01T00:00:00Z", "validUntil": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject", "name": "x"},
    }, issuer, created=T0 - timedelta(days=200))
    assert isinstance(secured, dict)
    return issuer, secured


@pytest.mark.parametrize(("name", "respell", "why"), EXPIRED_RESPELLINGS, ids=[r[0] for r in EXPIRED_RESPELLINGS])
def test_respellings_of_an_expired_credential_stay_refused(
    expired_credential: tuple[Issuer, dict[str, Any]], name: str, respell: Callable[[dict[str, Any]], dict[str, Any]], why: str
) -> None:
    import json

    issuer, secured = expired_credential
    report = Verifier(now=AT, policy=TrustPolicy.trusting(issuer.did)).verify_credential(json.dumps(respell(secured)).encode())
    assert not report.valid, (name, why)
    assert ErrorCode.INTERNAL.value not in report.error_codes


def test_audit_unwraps_an_envelope_whose_type_is_a_list(tmp_path: Path) -> None:
    """Before: exit 0, "1 unbound" — a drifted run's JOSE binding in an
    ``EnvelopedVerifiableCredential`` whose ``type`` is ``["EnvelopedVerifiableCredential"]`` (the
    same JSON-LD, and accepted by the envelope reader) was not recognised as an envelope by the
    string test discovery used, expanded as the envelope alone, and skipped as "not a run
    credential". Envelopes are now recognised by their type however it is written."""
    import json

    from vc_runid.vc import jose
    from vc_runid.vc.formats import ProofFormat

    issuer = Issuer.generate()
    builder = CompositionBuilder().model("demo-model", provider="local").input("hi")
    with runid.run(builder.build(), issuer=issuer, clock=clock(), proof_format=ProofFormat.JOSE) as run:
        run.record_output("hello", observed={"modelId": "another-model"})
    assert isinstance(run.declaration, str) and isinstance(run.binding, str)
    (tmp_path / "declaration.json").write_text(json.dumps(jose.envelop(run.declaration)))
    envelope = {**jose.envelop(run.binding), "type": ["EnvelopedVerifiableCredential"]}
    (tmp_path / "binding.json").write_text(json.dumps(envelope))
    result = _audit_cli(tmp_path, "--trusted-issuer", issuer.did)
    assert result.exit_code == 1, result.output
    assert "1 drift" in result.output, result.output
    # and `verify` reads the same envelope as the binding it is
    from typer.testing import CliRunner

    from vc_runid.cli.main import app

    verified = CliRunner().invoke(app, [
        "verify", str(tmp_path / "declaration.json"), str(tmp_path / "binding.json"),
        "--at", "2025-06-01T13:00:00Z", "--trusted-issuer", issuer.did,
    ])
    assert verified.exit_code == 1 and "RUNID_COMPOSITION_DRIFT" in verified.output, verified.output
