"""The fast paths of issue 13 decide and write exactly what the reference does.

Two shortcuts are checked here against the reference, on documents built to hit them and to
stray just outside them:

* ``canonical.canonicalize_expanded`` writes the canonical N-Quads itself when the dataset has at
  most one blank node and every line is canonical as written; the reference is stock pyld
  (``jsonld.expand`` + the safe-mode checks + ``jsonld.to_rdf``) followed by pyld's RDFC-1.0
  (``canonicalize_nquads_reference``), each on a loader of its own.
* ``signed_form._Compactor._compact_node`` adds a node's plain literal properties itself instead
  of through pyld's loop; the reference is pyld's compaction with no memo at all, and the
  decision of ``check_compacted`` made with it.

The corpus (hypothesis): subjects with many plain fields beside nested objects, arrays, language
and typed values, ``@id``-typed terms, ``@set`` containers, ``@nest`` terms, default languages,
the same IRI under a term and its full IRI, undefined terms (an error either way), control
characters and IRIs the N-Quads reader refuses; and RDF-preserving rewrites of a signed
credential with a large subject (tests/test_signed_form.py's and some of the subject's own).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_canonical import outcome, reference_expand, reference_nquads
from test_signed_form import REWRITES, Picker, _signed

from vc_runid._internal import canonical
from vc_runid._internal.canonical import canonicalize, expand_document
from vc_runid._internal.contexts import DocumentLoader
from vc_runid._internal.rdfc import canonicalize_nquads_reference
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.vc import signed_form
from vc_runid.vc.signed_form import _compact, check_compacted

VC_V2 = "https://www.w3.org/ns/credentials/v2"
V = "https://example.org/v#"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: Term definitions a document may embed (each drawn or not).
DEFINITIONS: dict[str, Any] = {
    "title": V + "title",
    "label": {"@id": V + "label", "@language": "en"},
    "when": {"@id": V + "when", "@type": XSD + "dateTime"},
    "link": {"@id": V + "link", "@type": "@id"},
    "tags": {"@id": V + "tags", "@container": "@set"},
    "meta": "@nest",
    "nested": {"@id": V + "nested", "@nest": "meta"},
    "ordered": {"@id": V + "ordered", "@container": "@list"},
    "title2": V + "title",
}
PLAIN_STRINGS = ["value", "", "é中😀", 'q " \\ b', "tab\tnl\ncr\r", "\u2028\x85", "_:b0", "<x>"]
ODD_STRINGS = ["\x00\x07\x1f\x7f", "\x08\x0c", "\ud800"]
STRINGS = st.sampled_from(PLAIN_STRINGS * 40 + ODD_STRINGS)
ONE_IN = st.integers(0, 9)  # draw(ONE_IN) == 9: the rare branch
# Mostly what credentials hold, sometimes what the shortcuts must leave to the reference (hypothesis
# draws from a sampled list about uniformly, so repeats weight it).
GOOD_IDS = ["did:example:a", "did:example:b", "urn:uuid:1", "https://example.org/é", "_:x"]
ODD_IDS = ["_:y", "https://example.org/{curly}", "https://example.org/back\\slash", "relative"]
IDS = st.sampled_from(GOOD_IDS * 6 + ODD_IDS)
LITERALS = st.one_of(
    STRINGS,
    st.integers(-5, 10**22),
    st.sampled_from([1.5, -0.0, 1e21, True, False]),
    st.builds(lambda s, lang: {"@value": s, "@language": lang}, STRINGS, st.sampled_from(["en", "EN-us", "x--y", "1bad"])),
    st.builds(lambda s, t: {"@value": s, "@type": t}, STRINGS, st.sampled_from([XSD + "date", XSD + "string", V + "T", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"])),
)


@st.composite
def nodes(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    node: dict[str, Any] = {}
    if draw(ONE_IN) < 7:
        node["id"] = draw(IDS)
    # Many plain fields: the shape both fast paths are for.
    for index in range(draw(st.integers(0, 12))):
        node[f"field{index}"] = draw(LITERALS) if draw(ONE_IN) == 9 else draw(STRINGS)
    odd = draw(ONE_IN) >= 7  # the occasional term outside the shortcuts
    terms = [*DEFINITIONS, "undefinedTerm", V + "field0", V + "title"] if odd else ["title", "when", "link"]
    for term in draw(st.lists(st.sampled_from(terms), max_size=4, unique=True)):
        if term == "meta":
            node[term] = {"nested": draw(STRINGS)}
        elif term == "link":
            node[term] = draw(IDS)
        elif term in ("tags", "ordered"):
            node[term] = draw(st.lists(STRINGS, max_size=3))
        else:
            node[term] = draw(STRINGS)
    if depth < 2 and draw(ONE_IN) >= 7:
        node["child"] = draw(nodes(depth + 1))
    if depth < 2 and draw(ONE_IN) == 9:
        node["children"] = draw(st.lists(nodes(depth + 1), max_size=2))
    if draw(ONE_IN) >= 8:
        node["mixed"] = draw(st.lists(LITERALS, max_size=3))
    return node


@st.composite
def credentials(draw: st.DrawFn) -> dict[str, Any]:
    context: dict[str, Any] = {k: v for k, v in DEFINITIONS.items() if draw(ONE_IN) < 8}
    if draw(ONE_IN) < 9:
        context["@vocab"] = V  # else every field is an undefined term
    if draw(ONE_IN) == 9:
        context["@language"] = draw(st.sampled_from(["en", "de"]))
    credential: dict[str, Any] = {
        "@context": [VC_V2, context],
        "type": ["VerifiableCredential"],
        "issuer": draw(st.sampled_from(["did:example:issuer"] * 9 + ["https://issuer.example/{x}"])),
        "credentialSubject": draw(nodes()),
    }
    if draw(ONE_IN) < 7:
        credential["id"] = draw(IDS)
    return credential


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- canonical N-Quads written directly --------------------------------------------------------


def reference_canonical(document: dict[str, Any]) -> tuple[str, Any]:
    loader = DocumentLoader()
    status, expanded = outcome(lambda: reference_expand(document, loader))
    if status != "ok":
        return status, expanded
    status, nquads = outcome(lambda: reference_nquads(expanded, loader))
    if status != "ok":
        return status, nquads
    return outcome(lambda: canonicalize_nquads_reference(nquads))


def took_the_direct_path(document: dict[str, Any]) -> bool:
    expanded = expand_document(document, DocumentLoader()).expanded
    writer = canonical._NQuadsWriter("_:c14n")
    writer.visit(expanded, "@default")
    return writer.canonical and writer.issuer.counter <= 1


DIRECT: list[bool] = []


@SETTINGS
@given(credentials())
def test_canonical_form_is_the_reference_s(document: dict[str, Any]) -> None:
    fast = outcome(lambda: canonicalize(document, DocumentLoader()))
    assert fast == reference_canonical(document)
    if fast[0] == "ok":
        DIRECT.append(took_the_direct_path(document))


def test_the_corpus_takes_both_paths() -> None:
    # Run after the property test (file order): both branches must have been exercised.
    assert DIRECT.count(True) > 20 and DIRECT.count(False) > 20, (DIRECT.count(True), DIRECT.count(False))


def test_one_blank_node_is_c14n0_and_none_is_sorted_lines() -> None:
    document = {"@context": [VC_V2, {"@vocab": V}], "type": ["VerifiableCredential"], "issuer": "did:example:i",
                "credentialSubject": {"b": "2", "a": "1"}}
    expected = reference_canonical(document)
    assert expected[0] == "ok" and "_:c14n0" in expected[1]
    assert canonicalize(document, DocumentLoader()) == expected[1]
    document["credentialSubject"]["id"] = "did:example:s"
    document["id"] = "urn:uuid:1"
    expected = reference_canonical(document)
    assert "_:" not in expected[1] and canonicalize(document, DocumentLoader()) == expected[1]


# --- the signed-form check's node shortcut -----------------------------------------------------


@contextmanager
def reference_compaction() -> Iterator[None]:
    """check_compacted with pyld's own compaction: no memo, no node shortcut."""

    def plain(expanded: Any, context: Any, loader: DocumentLoader, *, memoize: bool = True) -> Any:
        return _compact(expanded, context, loader, memoize=False)

    with mock.patch.object(signed_form, "_compact", plain):
        yield


def decision(document: dict[str, Any], loader: DocumentLoader) -> tuple[str, str]:
    try:
        return "accepted", check_compacted(document, loader=loader)
    except RunIdError as exc:
        return exc.code.value, str(exc)


def assert_same_decision(document: dict[str, Any], fast: DocumentLoader) -> tuple[str, str]:
    reference = DocumentLoader()
    try:
        expanded = expand_document(document, fast).expanded
    except RunIdError:
        return "not expanded", ""
    element = [expanded[0]] if len(expanded) == 1 else expanded
    context = document.get("@context")
    shortcut = outcome(lambda: _compact(copy.deepcopy(element), context, fast))
    pyld = outcome(lambda: _compact(copy.deepcopy(element), context, reference, memoize=False))
    assert shortcut == pyld
    made = decision(document, fast)
    with reference_compaction():
        assert made == decision(document, reference)
    return made


OUTCOMES: list[str] = []
FAST_LOADER = DocumentLoader()  # warm across examples, as in a long-running verifier


@SETTINGS
@given(credentials())
def test_signed_form_decision_is_the_reference_s(document: dict[str, Any]) -> None:
    OUTCOMES.append(assert_same_decision(document, FAST_LOADER)[0])


def test_the_corpus_is_accepted_and_refused() -> None:
    assert OUTCOMES.count("accepted") > 20, OUTCOMES.count("accepted")
    assert OUTCOMES.count(ErrorCode.NOT_COMPACTED.value) > 20, OUTCOMES.count(ErrorCode.NOT_COMPACTED.value)


@functools.cache
def _signed_once() -> dict[str, Any]:
    return _large_signed_uncached()


def _large_signed() -> dict[str, Any]:
    return copy.deepcopy(_signed_once())


def _large_signed_uncached() -> dict[str, Any]:
    subject = {"id": "did:example:subject", **{f"field{i}": f"value {i}" for i in range(40)}}
    unsigned = {
        "@context": [VC_V2, {"@vocab": V}],
        "id": "urn:uuid:4d9a1c48-5bd4-4b1a-9d0e-3c1a2f0b7e11",
        "type": ["VerifiableCredential"],
        "issuer": signed_form_issuer(),
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2030-01-01T00:00:00Z",
        "credentialSubject": subject,
    }
    return _signed(unsigned)


def signed_form_issuer() -> str:
    from test_signed_form import ISSUER

    return str(ISSUER.did)


# Respellings of the subject that keep its RDF: each must be refused, by both paths alike.
def field_as_full_iri(subject: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    key = data.draw(st.sampled_from([k for k in subject if k.startswith("field")]))
    return {(V + k if k == key else k): v for k, v in subject.items()}


def field_as_value_object(subject: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    key = data.draw(st.sampled_from([k for k in subject if k.startswith("field")]))
    return {**subject, key: {"@value": subject[key]}}


def field_twice(subject: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    key = data.draw(st.sampled_from([k for k in subject if k.startswith("field")]))
    return {**subject, V + key: "another value"}


def field_in_array(subject: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    # The one spelling the check treats as the same (an array of one value): accepted.
    key = data.draw(st.sampled_from([k for k in subject if k.startswith("field")]))
    return {**subject, key: [subject[key]]}


SUBJECT_REWRITES = (field_as_full_iri, field_as_value_object, field_twice, field_in_array)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_rewrites_of_a_large_credential_are_decided_as_the_reference_does(data: st.DataObject) -> None:
    signed = _large_signed()
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    steps = data.draw(st.lists(st.sampled_from([*REWRITES, *SUBJECT_REWRITES]), min_size=1, max_size=3))
    for step in steps:
        try:
            if step in SUBJECT_REWRITES:
                unsecured = {**unsecured, "credentialSubject": step(unsecured["credentialSubject"], data)}
            else:
                unsecured = step(copy.deepcopy(unsecured), Picker(data))
        except (RunIdError, KeyError, TypeError, AttributeError):
            continue
    document = {**unsecured, "proof": signed["proof"]}
    made = assert_same_decision(document, FAST_LOADER)
    if {field_as_full_iri, field_as_value_object, field_twice} & set(steps):
        assert made[0] != "accepted", steps


def test_the_large_credential_itself_is_accepted_by_both() -> None:
    signed = _large_signed()
    assert assert_same_decision(signed, FAST_LOADER)[0] == "accepted"
