"""The per-context tables of issue 13's second pass decide and write exactly what the reference does.

Three tables are remembered across documents, keyed by a processed context (pyld's ``_uuid``) or by
an IRI, so they are checked here *warm* — one loader over many documents, as in a long-running
verifier — and with their bounds shrunk so that they are replaced in the middle of a document:

* ``canonical._TERM_TABLES``: per active context, how each term's string values expand (the
  plain-entry shortcut of ``_Processor._expand_object`` and the ``@type`` search of
  ``_prepare_nested_context``); the reference is stock pyld's ``jsonld.expand`` with the same
  safe-mode checks, on a loader of its own;
* ``canonical._PLAIN_PREDICATES``: the predicates whose plain-string quads the N-Quads writer
  writes in one go; the reference is ``jsonld.to_rdf`` and the reference RDFC-1.0;
* ``signed_form._STRING_TERMS``: per context, the term a string-valued IRI compacts to; the
  reference is pyld's compaction with no memo at all, and ``check_compacted``'s decision with it.

The corpus: wide nodes (many plain fields, as the benchmark's 1000-field subject) mixed with every
term shape the tables must leave to pyld or handle differently: a language or a datatype on the
term, ``@id``-typed terms, two terms for one IRI, containers, ``@nest``, numbers and value objects
under plain terms, undefined terms, the full IRI beside its term, strings to escape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_canonical import outcome, reference_expand
from test_fast_path import (
    DEFINITIONS,
    IDS,
    LITERALS,
    ONE_IN,
    STRINGS,
    VC_V2,
    V,
    assert_same_decision,
    reference_canonical,
)

from vc_runid._internal import canonical
from vc_runid._internal.canonical import canonicalize, expand_document
from vc_runid._internal.contexts import DocumentLoader
from vc_runid.errors import ErrorCode
from vc_runid.vc import signed_form

#: A type whose scoped context redefines plain fields: under a node of this type, ``field1`` is
#: an IRI, ``field2`` another property, ``field3`` undefined (an error), the others unchanged.
SCOPED = {
    "@id": V + "Scoped",
    "@context": {"field1": {"@id": V + "field1", "@type": "@id"}, "field2": V + "other", "field3": None},
}
#: Terms of a wide node beside its plain fields, and how their values are drawn.
SHAPED_TERMS = [*DEFINITIONS, "undefinedTerm", V + "field0", V + "title", "@type"]


@st.composite
def wide_nodes(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    node: dict[str, Any] = {}
    if draw(ONE_IN) < 7:
        node["id"] = draw(IDS)
    for index in range(draw(st.integers(4, 40))):
        roll = draw(ONE_IN)
        node[f"field{index}"] = draw(LITERALS) if roll == 9 else draw(STRINGS)
    for term in draw(st.lists(st.sampled_from(SHAPED_TERMS), max_size=5, unique=True)):
        roll = draw(ONE_IN)
        if term == "meta":
            node[term] = {"nested": draw(STRINGS)}
        elif term == "link":
            node[term] = draw(IDS) if roll < 8 else [draw(IDS), draw(IDS)]
        elif term == "@type":
            node[term] = draw(st.sampled_from(["Thing", V + "Thing", ["Thing", "Other"], "Scoped", ["Thing", "Scoped"]]))
        elif term in ("tags", "ordered"):
            node[term] = draw(st.lists(STRINGS, max_size=3))
        elif roll == 9:
            node[term] = draw(LITERALS)  # a number or a value object under a plain term
        else:
            node[term] = draw(STRINGS)
    if depth < 1 and draw(ONE_IN) >= 6:
        node["child"] = draw(wide_nodes(depth + 1))
    return node


@st.composite
def wide_credentials(draw: st.DrawFn) -> dict[str, Any]:
    context: dict[str, Any] = {k: v for k, v in DEFINITIONS.items() if draw(ONE_IN) < 8}
    if draw(ONE_IN) < 7:
        context["Scoped"] = SCOPED
    if draw(ONE_IN) < 9:
        context["@vocab"] = V
    if draw(ONE_IN) == 9:
        context["@language"] = draw(st.sampled_from(["en", "de"]))
    credential: dict[str, Any] = {
        "@context": [VC_V2, context],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": draw(wide_nodes()),
    }
    if draw(ONE_IN) < 7:
        credential["id"] = draw(IDS)
    return credential


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WARM = DocumentLoader()  # one loader for every example: the tables stay warm across documents
ENTRIES: list[Any] = []


def assert_expansion_and_canonical_form_are_the_reference_s(document: dict[str, Any], loader: DocumentLoader) -> None:
    fast = outcome(lambda: expand_document(document, loader).expanded)
    reference = outcome(lambda: reference_expand(document, DocumentLoader()))
    assert fast == reference
    assert outcome(lambda: canonicalize(document, loader)) == reference_canonical(document)


#: Every kind of table entry at least once whatever hypothesis draws (the coverage test below).
SCOPED_EXAMPLE = {
    "@context": [VC_V2, {"Scoped": SCOPED, "@vocab": V}],
    "type": ["VerifiableCredential"],
    "issuer": "did:example:issuer",
    "credentialSubject": {"type": "Scoped", "field0": "a", "field2": "b", "field4": "c", "field5": "d"},
}


@SETTINGS
@example(SCOPED_EXAMPLE)
@given(wide_credentials())
def test_warm_expansion_and_canonical_form_are_the_reference_s(document: dict[str, Any]) -> None:
    assert_expansion_and_canonical_form_are_the_reference_s(document, WARM)
    for table in canonical._TERM_TABLES.values():
        ENTRIES.extend(table.values())


def test_the_corpus_takes_every_kind_of_table_entry() -> None:
    # Run after the property test (file order): the shortcut and each way out of it were taken.
    templates = [entry[1] for entry in ENTRIES if type(entry) is tuple]
    assert any(template is None for template in templates)
    assert any(template is canonical._DELEGATE for template in templates)  # @id-typed terms
    assert any(type(template) is dict and "@language" in template for template in templates)
    assert any(type(template) is dict and "@type" in template for template in templates)
    assert "" in ENTRIES and "@nest" in ENTRIES  # pyld's own path
    assert (V + "other") in [entry[0] for entry in ENTRIES if type(entry) is tuple]  # type-scoped


@pytest.fixture
def tiny_tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Bounds small enough that tables are replaced, and all dropped, within one document."""
    monkeypatch.setattr(canonical, "_TERM_TABLE_MAX", 3)
    monkeypatch.setattr(canonical, "_TERM_TABLES_MAX", 2)
    monkeypatch.setattr(signed_form, "_STRING_TABLES_MAX", 1)
    yield


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(wide_credentials())
def test_tables_replaced_mid_document_change_nothing(tiny_tables: None, document: dict[str, Any]) -> None:
    assert_expansion_and_canonical_form_are_the_reference_s(document, DocumentLoader())
    assert_same_decision(document, DocumentLoader())


DECISIONS: list[str] = []
DECIDING = DocumentLoader()


@SETTINGS
@given(wide_credentials())
def test_warm_signed_form_decision_is_the_reference_s(document: dict[str, Any]) -> None:
    DECISIONS.append(assert_same_decision(document, DECIDING)[0])


def test_wide_documents_are_accepted_and_refused() -> None:
    assert DECISIONS.count("accepted") > 10, DECISIONS.count("accepted")
    assert DECISIONS.count(ErrorCode.NOT_COMPACTED.value) > 10, DECISIONS.count(ErrorCode.NOT_COMPACTED.value)
    assert any(signed_form._STRING_TERMS.values()), "the signed-form table was never used"


def test_a_term_redefined_by_a_child_context_is_not_read_from_the_parent_s_table() -> None:
    # The same key, a plain term in the subject's context and @id-typed in its child's: each
    # node's entry comes from its own active context.
    document: dict[str, Any] = {
        "@context": [VC_V2, {"@vocab": V}],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {
            **{f"field{i}": f"v{i}" for i in range(6)},
            "child": {
                "@context": {"field1": {"@id": V + "field1", "@type": "@id"}, "field2": None},
                "field1": "did:example:target",
                "field3": "plain",
            },
        },
    }
    loader = DocumentLoader()
    for _ in range(2):  # cold, then warm
        assert_expansion_and_canonical_form_are_the_reference_s(document, loader)
    document["credentialSubject"]["child"]["field2"] = "now undefined"
    for _ in range(2):
        assert outcome(lambda: expand_document(document, loader)) == ("error", ErrorCode.UNDEFINED_TERM.value)
        assert_expansion_and_canonical_form_are_the_reference_s(document, loader)
