"""RDFC-1.0 without Hash N-Degree Quads: ``canonicalize_distinct_first_degree`` labels blank nodes
in the order of their first-degree hashes (RDFC-1.0 §4.4.3 step 5) when no two share one, and
declines (None) whenever any do.

The reference is pyld's RDFC-1.0 as corrected in ``rdfc.py`` (``canonicalize_nquads_reference``):
it decides every input of the corpus, and whether it had to run Hash N-Degree Quads (§4.8) says
whether the input had a first-degree tie. The inputs: the W3C vc-di-eddsa canonical vectors
(tests/test_rdfc.py), test_rdfc's tie-heavy randomized corpus (rings, cliques, isomorphic copies,
graphs named by blank nodes, escapes and language tags), regression shapes, and real run
credentials through ``canonicalize`` (JSON-LD in, canonical N-Quads out) against stock pyld.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from test_rdfc import (
    CANONICAL_DOCUMENT,
    CANONICAL_PROOF_CONFIG,
    CORPUS_SIZE,
    input_labels,
    pyld_nquads,
    random_builder,
    scramble,
)

from vc_runid._internal import canonical, rdfc
from vc_runid._internal.canonical import canonicalize, expand_document, without_entry
from vc_runid._internal.contexts import DocumentLoader
from vc_runid._internal.rdfc import (
    canonicalize_distinct_first_degree,
    canonicalize_nquads_reference,
)


def canonical_quads(nquads: str) -> list[str]:
    """The quads of ``nquads``, each in canonical N-Quads form (RDFC-1.0 §A), labels kept."""
    quads = []
    for graph, triples in rdfc._parse_nquads(nquads).items():
        for triple in triples:
            quad = dict(triple)
            if graph != "@default":
                quad["name"] = {"type": "blank node" if graph.startswith("_:") else "IRI", "value": graph}
            quads.append(rdfc._write_quad(quad, rdfc._same))
    return quads


def reference(nquads: str) -> tuple[str, bool]:
    """The reference's canonical form, and whether it ran Hash N-Degree Quads (a tie)."""
    algorithm = rdfc._Rdfc10()
    text = algorithm.canonical_nquads(rdfc._parse_nquads(nquads))
    assert text == canonicalize_nquads_reference(nquads)
    return text, algorithm.n_degree_calls > 0


def check(nquads: str) -> str | None:
    expected, tied = reference(nquads)
    quads = canonical_quads(nquads)
    random.Random(len(nquads)).shuffle(quads)
    labelled = canonicalize_distinct_first_degree(quads)
    assert (labelled is None) == tied, nquads
    if labelled is not None:
        assert labelled == expected, nquads
    return labelled


# --- the W3C vectors --------------------------------------------------------------------------


@pytest.mark.parametrize("vector", [CANONICAL_DOCUMENT, CANONICAL_PROOF_CONFIG], ids=["canonDocDataInt", "proofCanonDataInt"])
@pytest.mark.parametrize("seed", range(5))
def test_w3c_vector_is_reproduced(vector: str, seed: int) -> None:
    assert canonicalize_distinct_first_degree(canonical_quads(scramble(vector, random.Random(seed)))) == vector


# --- the randomized corpus --------------------------------------------------------------------


def test_randomized_corpus_agrees_with_the_reference_and_declines_exactly_the_ties() -> None:
    answered = declined = 0
    for seed in range(2 * CORPUS_SIZE):
        builder = random_builder(seed)
        rng = random.Random(seed + 20_000)
        text = pyld_nquads(builder.dataset(input_labels(rng)), rng)
        if check(text) is None:
            declined += 1
        else:
            answered += 1
    # Both outcomes must be common for the comparison to mean anything.
    assert answered > CORPUS_SIZE // 4 and declined > CORPUS_SIZE // 4, (answered, declined)


# --- the shapes that matter, one by one ------------------------------------------------------

EX = "http://example.org/"


@pytest.mark.parametrize(
    "nquads",
    [
        # A quad naming a node twice is one of its quads, not two (§4.4.3 step 2: a set).
        f"_:x <{EX}p> _:x .\n_:x <{EX}q> _:y .\n_:y <{EX}r> \"v\" .\n",
        # A blank node naming a graph, and blank nodes inside it (a Data Integrity proof graph).
        f"<{EX}s> <{EX}proof> _:g .\n_:p <{EX}type> <{EX}Proof> _:g .\n_:p <{EX}v> \"x\"@en-US _:g .\n",
        # Literals holding what looks like a label, a quote, " . " and escapes.
        f'_:a <{EX}p> "_:b \\" . _:c" .\n_:b <{EX}p> "_:a"^^<{EX}dt> <{EX}g> .\n_:a <{EX}q> _:b .\n',
        # Hash order, not input order: the labels come out permuted.
        f'_:z1 <{EX}p> "1" .\n_:z2 <{EX}p> "2" .\n_:z3 <{EX}p> "3" .\n_:z4 <{EX}p> "4" .\n',
        # Nodes told apart only by the IRIs or literals beside them, two hops apart.
        f'<{EX}a> <{EX}p> _:a .\n<{EX}b> <{EX}p> _:b .\n_:a <{EX}q> _:c .\n_:b <{EX}q> _:d .\n_:c <{EX}v> "1" .\n_:d <{EX}v> "2" .\n',
        # Characters RDFC-1.0 escapes, raw in the input.
        f'_:a <{EX}p> "tab\\tline\\nbell\\u0007del\\u007F" .\n_:b <{EX}p> "é😀\u2028" .\n',
    ],
    ids=["self-loop", "blank-graph", "literal-lookalikes", "hash-order", "two-hops", "escapes"],
)
def test_shape_is_labelled_as_the_reference_labels_it(nquads: str) -> None:
    assert check(nquads) is not None


@pytest.mark.parametrize(
    "nquads",
    [
        f"_:a <{EX}p> \"same\" .\n_:b <{EX}p> \"same\" .\n",  # two look-alikes
        f"_:a <{EX}p> _:b .\n_:b <{EX}p> _:a .\n",  # a ring of two
        # Told apart only at the second degree: the first-degree hashes of _:a and _:b tie.
        f'_:a <{EX}q> _:c .\n_:b <{EX}q> _:d .\n_:c <{EX}v> "1" .\n_:d <{EX}v> "2" .\n',
    ],
    ids=["look-alikes", "ring", "second-degree"],
)
def test_a_first_degree_tie_is_left_to_the_full_algorithm(nquads: str) -> None:
    assert check(nquads) is None


def test_a_dataset_without_blank_nodes_is_its_sorted_quads() -> None:
    assert canonicalize_distinct_first_degree(list(reversed(canonical_quads(CANONICAL_DOCUMENT)))) == CANONICAL_DOCUMENT


def test_a_line_not_in_canonical_shape_is_declined() -> None:
    assert canonicalize_distinct_first_degree([f"_:a <{EX}p> \"x\"\n"]) is None
    assert canonicalize_distinct_first_degree([f"_:a <{EX}p> <{EX}o> <{EX}g> <{EX}h> .\n"]) is None


def test_a_lone_surrogate_is_declined() -> None:
    assert canonicalize_distinct_first_degree([f'_:a <{EX}p> "\ud800" .\n', f'_:b <{EX}p> "x" .\n']) is None
    assert canonicalize_distinct_first_degree([f'<{EX}a> <{EX}p> "\ud800" .\n']) is None


# --- through canonicalize: run credentials -----------------------------------------------------


def _run_credentials() -> list[dict[str, Any]]:
    from datetime import UTC, datetime, timedelta

    import vc_runid as runid
    from vc_runid import CompositionBuilder, Issuer, KeyType

    issuer = Issuer.generate(KeyType.ED25519)
    ticks = iter(range(100))

    def clock() -> datetime:
        return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=next(ticks))

    composition = (
        CompositionBuilder()
        .model("gpt-4o", provider="openai", revision="gpt-4o-2024-08-06")
        .parameters({"temperature": 0.2})
        .instruction("Be careful.\n")
        .retrieved("docs/a.md", "A\n")
        .retrieved("docs/b.md", "B\n")
        .tool({"name": "search"})
        .input("What?\n")
        .build()
    )
    with runid.run(composition, issuer=issuer, clock=clock) as current:
        current.record_output("That.\n", observed={"modelId": "gpt-4o"})
    assert current.binding is not None
    assert isinstance(current.declaration, dict) and isinstance(current.binding, dict)
    return [current.declaration, current.binding]


def test_run_credentials_take_this_path_and_match_stock_pyld() -> None:
    from test_fast_path import reference_canonical

    for credential in _run_credentials():
        unsecured = {k: v for k, v in credential.items() if k != "proof"}
        expected = reference_canonical(unsecured)
        assert expected[0] == "ok"
        assert canonicalize(unsecured, DocumentLoader()) == expected[1]
        # ... and it was this function that answered, not the full algorithm.
        expanded = without_entry(expand_document(credential, DocumentLoader()), "proof")
        assert expanded is not None
        writer = canonical._NQuadsWriter("_:c14n")
        writer.visit(expanded, "@default")
        assert writer.canonical and writer.issuer.counter > 1
        assert canonicalize_distinct_first_degree(writer.lines) == expected[1]
