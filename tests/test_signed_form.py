"""No check can be bypassed by an RDF-equivalent rewrite (docs/verification.md, "What is read").

The attack: a Data Integrity proof signs RDF, and one RDF dataset has many JSON-LD spellings. An
attacker holding no key takes a credential the verifier must refuse (expired, revoked, drifted,
from a stranger, not yet valid, with a proof from the future, a binding without its
declaration) and respells it so the canonical N-Quads — hence the signature — stay the same while
a JSON reader no longer sees the field that condemns it.

The property: for every rewrite hypothesis generates, (1) where the rewrite is a real attack — the
unsecured document canonicalizes to the same bytes — the original signature still verifies over
it, and (2) vc-runid still refuses it: with the original refusal code, or because the document is
not in the one spelling decisions are read from (``RUNID_NOT_COMPACTED``, or the VC data model's
JSON shape checked before JSON-LD: ``RUNID_NOT_A_CREDENTIAL``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import vc_runid as runid
from vc_runid import CompositionBuilder, ErrorCode, Issuer, Verifier
from vc_runid._internal.canonical import canonicalize, expand_document
from vc_runid._internal.contexts import default_loader
from vc_runid.errors import RunIdError
from vc_runid.runs.verify import verify_run
from vc_runid.store.status import StatusRegistry
from vc_runid.vc.dids import ASSERTION, DidResolver
from vc_runid.vc.policy import TrustPolicy
from vc_runid.vc.proofs import suite_for
from vc_runid.vc.signed_form import check_compacted

T0 = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
AT = T0 + timedelta(hours=1)
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
LIST_URL = "https://issuer.example/status/1"
NOT_COMPACTED = ErrorCode.NOT_COMPACTED.value
#: How a respelled document is refused when the original code cannot be reached: not in the
#: compacted form, or (types or @context respelled) not a credential by the VC data model's JSON
#: rules, which are checked before any JSON-LD processing; or, for a run, not recognisable as its
#: declaration or binding.
SPELLING_REFUSALS = frozenset({
    NOT_COMPACTED,
    ErrorCode.NOT_A_CREDENTIAL.value,
    ErrorCode.NOT_A_DECLARATION.value,
    ErrorCode.NOT_A_BINDING.value,
})

# --- the rewrites: each keeps the RDF dataset of the unsecured document ------------------------

class Picker:
    """Where a rewrite makes a choice: hypothesis draws it, or the first option is taken."""

    def __init__(self, data: st.DataObject | None = None) -> None:
        self.data = data

    def one(self, options: list[str]) -> str:
        return self.data.draw(st.sampled_from(options)) if self.data is not None else options[0]

    def some(self, options: list[str]) -> list[str]:
        if self.data is None:
            return options[:1]
        return self.data.draw(st.lists(st.sampled_from(options), min_size=1, unique=True))


Rewrite = Callable[[dict[str, Any], Picker], dict[str, Any]]


def _iris(document: dict[str, Any]) -> dict[str, Any]:
    return dict(expand_document({k: v for k, v in document.items() if k != "proof"}).top_level)


def _movable(document: dict[str, Any]) -> list[str]:
    """Top-level entries that are properties (not @context, id, type, proof)."""
    return [k for k in document if k not in ("@context", "id", "type", "proof")]


def full_iri_keys(document: dict[str, Any], pick: Picker) -> dict[str, Any]:
    """A property written with its full IRI instead of its term."""
    iris = _iris(document)
    keys = [k for k in _movable(document) if isinstance(iris.get(k), str) and not iris[k].startswith("@")]
    if not keys:
        return document
    key = pick.one(keys)
    iri = iris[key]
    # Its values as expansion writes them (coercions spelled out), so nothing but the key changes.
    expanded = expand_document({k: v for k, v in document.items() if k != "proof"}).expanded[0][iri]
    return {(iri if k == key else k): (expanded if k == key else v) for k, v in document.items()}


def type_as_iri(document: dict[str, Any], pick: Picker) -> dict[str, Any]:
    """A type written as its IRI (``VerifiableCredential`` keeps its term: its scoped context
    defines the credential's other terms, so respelling it changes the RDF)."""
    types = document.get("type")
    if not isinstance(types, list) or len(types) < 2:
        return document
    expanded = expand_document({k: v for k, v in document.items() if k != "proof"}).expanded[0]["@type"]
    if len(expanded) != len(types):
        return document
    return {**document, "type": [t if t == "VerifiableCredential" else iri for t, iri in zip(types, expanded, strict=True)]}


def into_included(document: dict[str, Any], pick: Picker) -> dict[str, Any]:
    """Some properties moved into @included, on a node with the same @id."""
    keys = _movable(document)
    if "id" not in document or not keys:
        return document
    moved = pick.some(keys)
    kept = {k: v for k, v in document.items() if k not in moved}
    # The VC context's type-scoped terms need the node's type to be in scope.
    node = {"id": document["id"], "type": document["type"], **{k: document[k] for k in moved}}
    return {**kept, "@included": [node]}


def keyword_spelling(document: dict[str, Any], pick: Picker) -> dict[str, Any]:
    """``@id``/``@type`` instead of their aliases ``id``/``type``."""
    return {{"id": "@id", "type": "@type"}.get(k, k): v for k, v in document.items()}


def dates_as_value_objects(document: dict[str, Any], pick: Picker) -> dict[str, Any]:
    """A date written as an explicit typed value object."""
    dates = [k for k in ("validFrom", "validUntil") if k in document]
    if not dates:
        return document
    key = pick.one(dates)
    return {**document, key: {"@value": document[key], "@type": XSD_DATETIME}}


def alias_term(document: dict[str, Any], pick: Picker) -> dict[str, Any]:
    """A second term, defined by an embedded context, for a property's IRI."""
    keys = [k for k in _movable(document) if k in ("validFrom", "validUntil", "credentialStatus", "credentialSubject")]
    if not keys:
        return document
    key = pick.one(keys)
    iri = _iris(document)[key]
    definition: dict[str, Any] = {"@id": iri}
    if key in ("validFrom", "validUntil"):
        definition["@type"] = XSD_DATETIME
    else:
        definition["@type"] = "@id"
    alias = "x" + key[:3]
    context = [*document["@context"], {alias: definition}]
    return {("@context" if k == "@context" else alias if k == key else k): (context if k == "@context" else v) for k, v in document.items()}


def nested(document: dict[str, Any], pick: Picker) -> dict[str, Any]:
    """Properties nested under an @nest term, which expansion folds back into the node."""
    keys = [k for k in _movable(document) if k in ("validFrom", "validUntil", "credentialStatus")]
    if not keys:
        return document
    moved = pick.some(keys)
    rest = {k: v for k, v in document.items() if k not in moved}
    return {**rest, "@context": [*document["@context"], {"meta": "@nest"}], "meta": {k: document[k] for k in moved}}


def subject_split(document: dict[str, Any], pick: Picker) -> dict[str, Any]:
    """The subject's properties split over two node objects with the same @id."""
    subject = document.get("credentialSubject")
    if not isinstance(subject, dict) or "id" not in subject or len(subject) < 2:
        return document
    keys = [k for k in subject if k != "id"]
    moved = pick.some(keys)
    first = {k: v for k, v in subject.items() if k not in moved}
    second = {"id": subject["id"], **{k: subject[k] for k in moved}}
    return {**document, "credentialSubject": [first, second]}


REWRITES: tuple[Rewrite, ...] = (
    full_iri_keys, type_as_iri, into_included, keyword_spelling, dates_as_value_objects, alias_term, nested, subject_split,
)


def rewrite(document: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    steps = data.draw(st.lists(st.sampled_from(REWRITES), min_size=1, max_size=3))
    proof = document["proof"]
    current = {k: v for k, v in document.items() if k != "proof"}
    for step in steps:
        try:
            current = step(copy.deepcopy(current), Picker(data))
        except RunIdError:  # an earlier step left nothing this one can respell
            continue
    return {**current, "proof": proof}


# --- the documents that must be refused ---------------------------------------------------------


@dataclass
class Refused:
    name: str
    document: dict[str, Any]
    code: str
    verify: Callable[[dict[str, Any]], list[str]]


ISSUER = Issuer.generate()
POLICY = TrustPolicy.trusting(ISSUER.did)


def _credential(**fields: Any) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:4d9a1c48-5bd4-4b1a-9d0e-3c1a2f0b7e11",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER.did,
        "credentialSubject": {"id": "did:example:subject", "name": "Alice", "description": "a subject"},
        **fields,
    }


def _codes(credential: dict[str, Any], **verifier: Any) -> list[str]:
    report = Verifier(now=AT, policy=POLICY, **verifier).verify_credential(credential)
    return [] if report.valid else report.error_codes


def _signed(unsigned: dict[str, Any], created: datetime = T0) -> dict[str, Any]:
    secured = runid.issue_credential(unsigned, ISSUER, created=created)
    assert isinstance(secured, dict)
    return secured


def _revoked(tmp: Any) -> Refused:
    registry = StatusRegistry(tmp)
    credential_id, entry = registry.assign(LIST_URL)
    secured = _signed(_credential(id=credential_id, credentialStatus=entry))
    registry.revoke(credential_id, "compromised", T0)
    status_list = registry.status_list_credential(ISSUER, LIST_URL, T0 + timedelta(minutes=1))
    return Refused(
        "revoked", secured, ErrorCode.CREDENTIAL_REVOKED.value,
        lambda c: _codes(c, status_lists={LIST_URL: status_list}),
    )


def _stale_list(tmp: Any) -> Refused:
    """A status list published before the revocation, and expired since: it must not clear the
    credential, however it is spelled."""
    registry = StatusRegistry(tmp)
    credential_id, entry = registry.assign(LIST_URL)
    secured = _signed(_credential(id=credential_id, credentialStatus=entry))
    stale = registry.status_list_credential(ISSUER, LIST_URL, T0, valid_for=timedelta(minutes=10))
    registry.revoke(credential_id, "compromised", T0 + timedelta(minutes=30))
    codes = _codes(secured, status_lists={LIST_URL: stale})
    return Refused("expired pre-revocation status list (list rewritten)", stale, codes[0] if codes else "",
                   lambda status_list: _codes(secured, status_lists={LIST_URL: status_list}))


def _run_cases() -> list[Refused]:
    ticks = iter(range(1000))

    def clock() -> datetime:
        return T0 + timedelta(seconds=next(ticks))

    composition = CompositionBuilder().model("demo-model", provider="local").input("hi").build()
    with runid.run(composition, issuer=ISSUER, clock=clock) as drifted:
        drifted.record_output("hello", observed={"modelId": "another-model"})
    stranger = Issuer.generate()
    with runid.run(composition, issuer=stranger, clock=clock) as foreign:
        foreign.record_output("hello")
    assert isinstance(drifted.binding, dict) and isinstance(foreign.binding, dict) and isinstance(foreign.declaration, dict)

    def run_codes(declaration: Any, binding: Any) -> list[str]:
        report = verify_run(declaration, binding, policy=POLICY, verifier=Verifier(now=AT))
        return [] if report.valid else report.error_codes

    return [
        Refused("drift (binding rewritten)", drifted.binding, ErrorCode.COMPOSITION_DRIFT.value,
                lambda b: run_codes(drifted.declaration, b)),
        Refused("stranger's declaration", foreign.declaration, ErrorCode.ISSUER_NOT_TRUSTED.value,
                lambda d: run_codes(d, foreign.binding)),
        Refused("binding without its declaration", drifted.binding, ErrorCode.BINDING_WITHOUT_DECLARATION.value,
                lambda b: run_codes(None, b)),
    ]


@pytest.fixture(scope="module")
def refused(tmp_path_factory: pytest.TempPathFactory) -> list[Refused]:
    cases = [
        Refused("expired", _signed(_credential(validFrom="2024-01-01T00:00:00Z", validUntil="2025-01-01T00:00:00Z")),
                ErrorCode.CREDENTIAL_EXPIRED.value, _codes),
        Refused("not yet valid", _signed(_credential(validFrom="2030-01-01T00:00:00Z")),
                ErrorCode.CREDENTIAL_NOT_YET_VALID.value, _codes),
        Refused("proof created in the future", _signed(_credential(validFrom="2024-01-01T00:00:00Z"), created=AT + timedelta(days=1)),
                ErrorCode.PROOF_CREATED_IN_FUTURE.value, _codes),
        _revoked(tmp_path_factory.mktemp("status")),
        _stale_list(tmp_path_factory.mktemp("stale")),
        *_run_cases(),
    ]
    for case in cases:  # the originals are refused for the reason under test, and only for it
        assert case.verify(case.document) == [case.code], case.name
    return cases


def _signature_still_verifies(document: dict[str, Any]) -> bool:
    """Whether the original proof verifies over the rewrite: the rewrite is a real attack."""
    proof = document["proof"]
    method = DidResolver().verification_method(proof["verificationMethod"], ASSERTION)
    try:
        suite_for(proof).verify_proof(document, proof, method.public_key, default_loader())
    except RunIdError:
        return False
    return True


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_rdf_equivalent_rewrite_turns_a_refusal_into_valid(refused: list[Refused], data: st.DataObject) -> None:
    case = data.draw(st.sampled_from(refused))
    original = case.document
    attacked = rewrite(original, data)
    if attacked == original:
        return
    unsecured = {k: v for k, v in attacked.items() if k != "proof"}
    try:
        same_rdf = canonicalize(unsecured) == canonicalize({k: v for k, v in original.items() if k != "proof"})
    except RunIdError:
        same_rdf = False  # safe mode refuses this spelling outright
    event("same signed RDF (a real attack)" if same_rdf else "another dataset (refused by safe mode or the signature)")
    codes = case.verify(attacked)
    assert codes, f"{case.name}: rewrite verified VALID:\n{json.dumps(attacked, indent=1)}"
    assert set(codes) & {case.code, *SPELLING_REFUSALS}, (case.name, codes)
    if same_rdf:
        # The rewrite keeps the signed statements: only the spelling rule can refuse it.
        assert _signature_still_verifies(attacked), case.name


@pytest.mark.parametrize("step", REWRITES, ids=lambda step: step.__name__)
def test_each_rewrite_is_a_real_attack_that_is_refused(refused: list[Refused], step: Rewrite) -> None:
    """Every rewrite class, on the first document it applies to: the same canonical bytes, the
    same valid signature — and refused, as not in the compacted form."""
    for case in refused:
        document = {k: v for k, v in case.document.items() if k != "proof"}
        try:
            attacked = step(copy.deepcopy(document), Picker())
            same = attacked != document and canonicalize(attacked) == canonicalize(document)
        except RunIdError:
            continue
        if same:
            break
    else:
        pytest.fail(f"{step.__name__} keeps the RDF of none of the documents: not an attack")
    secured = {**attacked, "proof": case.document["proof"]}
    assert _signature_still_verifies(secured), step.__name__
    with pytest.raises(RunIdError) as caught:
        check_compacted(secured)
    assert caught.value.code is ErrorCode.NOT_COMPACTED
    codes = case.verify(secured)
    assert codes and set(codes) & {case.code, *SPELLING_REFUSALS}, (case.name, codes)


def test_a_proof_with_a_null_type_is_refused_not_an_internal_error() -> None:
    """Found by tests/test_fuzz.py: pyld's compaction sorted a null @type and raised TypeError."""
    document = copy.deepcopy(_signed(_credential()))
    document["proof"]["@type"] = None
    report = Verifier(now=AT, policy=POLICY).verify_credential(document)
    assert not report.valid
    assert ErrorCode.INTERNAL.value not in report.error_codes
