"""The fast JSON-LD path of ``vc_runid._internal.canonical`` gives the same bytes as stock pyld.

``canonicalize`` expands once, with context processing memoized (``_Processor``), and writes
N-Quads straight from the expansion (``to_nquads``) instead of calling ``jsonld.to_rdf``, which
expands a second time. The reference below is the pipeline it replaced, built from stock pyld
only: ``jsonld.expand`` + the safe-mode checks + ``jsonld.to_rdf`` + ``canonicalize_nquads``.
Every comparison runs the reference on its own loader, so no cache is shared between the two.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from pyld import jsonld
from test_w3c_vectors import LOADER as VECTOR_LOADER
from test_w3c_vectors import OPTIONS as VECTOR_OPTIONS
from test_w3c_vectors import UNSIGNED as VECTOR_UNSIGNED

from vc_runid._internal.canonical import (
    _check_expanded,
    _json_ld_failure,
    canonicalize,
    expand_document,
    expand_safe,
    to_nquads,
    without_entry,
)
from vc_runid._internal.contexts import (
    DATA_INTEGRITY_V2,
    ED25519_2020_V1,
    VC_V1,
    VC_V2,
    DocumentLoader,
)
from vc_runid._internal.rdfc import canonicalize_nquads
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.vc.proofs import ECDSA_RDFC_2019, ED25519_SIGNATURE_2020, EDDSA_RDFC_2022

EX = "https://example.org/ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"


def reference_expand(document: dict[str, Any], loader: DocumentLoader) -> list[Any]:
    """Safe-mode expansion with stock pyld (what ``expand_safe`` did before the caches)."""
    dropped: list[Any] = []
    try:
        expanded = jsonld.expand(
            copy.deepcopy(document),
            {"documentLoader": loader, "contextResolver": loader.resolver(), "base": None},
            on_property_dropped=dropped.append,
        )
    except RunIdError:
        raise
    except Exception as exc:
        raise _json_ld_failure(exc) from exc
    if dropped:
        raise RunIdError(f"dropped {dropped}", code=ErrorCode.UNDEFINED_TERM)
    _check_expanded(expanded)
    return list(expanded)


def reference_nquads(expanded: list[Any], loader: DocumentLoader) -> str:
    nquads: str = jsonld.to_rdf(
        copy.deepcopy(expanded),
        {
            "format": "application/n-quads",
            "documentLoader": loader,
            "contextResolver": loader.resolver(),
        },
    )
    return nquads


def lines(nquads: str) -> list[str]:
    # "\n" only: U+2028 and U+0085 stand raw inside literals.
    return nquads.split("\n")[:-1]


def outcome(run: Any) -> tuple[str, Any]:
    """("ok", value) or ("error", code): safe mode must fail on the same inputs either way."""
    try:
        return "ok", run()
    except RunIdError as exc:
        return "error", exc.code.value
    except Exception as exc:  # noqa: BLE001 - stock to_rdf's own errors, mapped by canonical.py
        return "error", type(exc).__name__


def assert_same(document: dict[str, Any], extra: dict[str, Any] | None = None) -> str | None:
    """Compare expansion, N-Quads and canonical form; return the canonical form (None on error)."""
    fast_loader, reference_loader = DocumentLoader(extra), DocumentLoader(extra)
    status, expanded = outcome(lambda: expand_safe(document, fast_loader))
    ref_status, ref_expanded = outcome(lambda: reference_expand(document, reference_loader))
    if ref_status == "error" or status == "error":
        assert status == "error" and ref_status == "error", (
            status,
            expanded,
            ref_status,
            ref_expanded,
        )
        assert expanded == ref_expanded
        return None
    assert expanded == ref_expanded
    before = json.dumps(expanded, sort_keys=True)
    status, nquads = outcome(lambda: to_nquads(expanded))
    assert json.dumps(expanded, sort_keys=True) == before, "to_nquads modified its input"
    ref_status, ref_nquads = outcome(lambda: reference_nquads(ref_expanded, reference_loader))
    assert (status == "ok") == (ref_status == "ok"), (nquads, ref_nquads)
    if status != "ok":
        return None
    quads, ref_quads = lines(nquads), lines(ref_nquads)
    if "_:" not in ref_nquads:
        # No blank nodes: the very same quads (the reference may repeat one; a dataset is a set).
        assert quads == sorted(set(ref_quads))
    assert len(quads) == len(set(ref_quads))
    canonical = outcome(lambda: canonicalize_nquads(nquads))
    assert canonical == outcome(lambda: canonicalize_nquads(ref_nquads))
    assert outcome(lambda: canonicalize(document, fast_loader)) == canonical  # from warm caches
    return canonical[1] if canonical[0] == "ok" else None


# --- the W3C vectors and the documents the suites sign -----------------------------------------


@pytest.mark.parametrize(
    "suite", [EDDSA_RDFC_2022, ECDSA_RDFC_2019, ED25519_SIGNATURE_2020], ids=lambda s: s.name
)
def test_w3c_vector_document_and_proof_configuration_match_stock_pyld(suite: Any) -> None:
    extra = {url: VECTOR_LOADER(url)["document"] for url in VECTOR_LOADER.allowed_urls}
    document = suite.prepare_document(VECTOR_UNSIGNED)
    assert assert_same(document, extra) is not None
    config = suite.proof_config(VECTOR_OPTIONS, document["@context"])
    assert assert_same(config, extra) is not None
    signed = {**document, "proof": {k: v for k, v in config.items() if k != "@context"}}
    assert assert_same(signed, extra) is not None


# --- a randomized corpus of credentials --------------------------------------------------------

INLINE_CONTEXT: dict[str, Any] = {
    "ex": EX,
    "xsd": XSD,
    "date": {"@id": "ex:date", "@type": "xsd:dateTime"},
    "count": {"@id": "ex:count", "@type": "xsd:integer"},
    "ratio": {"@id": "ex:ratio", "@type": "xsd:double"},
    "custom": {"@id": "ex:custom", "@type": "ex:Datatype"},
    "link": {"@id": "ex:link", "@type": "@id"},
    "kind": {"@id": "ex:kind", "@type": "@vocab"},
    "names": {"@id": "ex:names", "@container": "@language"},
    "label": {"@id": "ex:label", "@language": "en"},
    "ordered": {"@id": "ex:ordered", "@container": "@list"},
    "many": {"@id": "ex:many", "@container": "@set"},
    "graph": {"@id": "ex:graph", "@container": "@graph"},
    "namedGraph": {"@id": "ex:namedGraph", "@container": ["@graph", "@id"]},
    "indexed": {"@id": "ex:indexed", "@container": "@index"},
    "byId": {"@id": "ex:byId", "@container": "@id"},
    "byType": {"@id": "ex:byType", "@container": "@type"},
    "data": {"@id": "ex:data", "@type": "@json"},
    "parentOf": {"@reverse": "ex:childOf"},
    "scoped": {
        "@id": "ex:scoped",
        "@context": {"inner": "ex:inner", "innerDate": {"@id": "ex:d", "@type": "xsd:date"}},
    },
    "Special": {
        "@id": "ex:Special",
        "@context": {"special": "ex:special", "specialLink": {"@id": "ex:sl", "@type": "@id"}},
    },
    "Plain": "ex:Plain",
    "meta": "@nest",
    "title": "ex:title",
    "note": "ex:note",
    "nullTerm": None,
}
KEYS = [k for k in INLINE_CONTEXT if k not in ("ex", "xsd", "Special", "Plain", "nullTerm")]
STRINGS = [
    "",
    "plain",
    "é中ß😀",
    'quote " and \\ backslash',
    "tab\tnew\nline\rcr",
    "\u2028\x85",
    "\x00\x1f\x7f",
    "C:\\new",
    "@en",
]
IRIS = [
    "did:example:a",
    "did:example:b",
    "urn:uuid:1",
    "https://example.org/é",
    "_:shared",
    "_:other",
]
# Identifiers that safe mode or to_rdf must refuse: relative, with a space, a null-mapped term.
ODD_IRIS = ["https://example.org/x y", "relative", "", "nullTerm", "@unknown", "did:example:a\n"]


def random_string(rng: random.Random) -> str:
    return "".join(rng.choice(STRINGS) for _ in range(rng.randrange(3)))


def random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if roll < 0.2:
        return random_string(rng)
    if roll < 0.3:
        return rng.choice([0, -7, 42, 10**21, 2**70, 1.5, -0.0, 1e-7, 3.0, True, False, None])
    if roll < 0.37:
        return {"@value": random_string(rng), "@language": rng.choice(["en", "de-CH", "EN-us"])}
    if roll < 0.44:
        return {
            "@value": rng.choice(["1.50", "2025-01-01T00:00:00Z", "x"]),
            "@type": rng.choice([XSD + "double", XSD + "dateTime", "ex:T", XSD + "string"]),
        }
    if roll < 0.5:
        return {"@list": [random_value(rng, depth + 1) for _ in range(rng.randrange(3))]}
    if roll < 0.58 or depth > 2:
        identifier = rng.choice(IRIS) if rng.random() < 0.95 else rng.choice(ODD_IRIS)
        return identifier if rng.random() < 0.5 else {"id": identifier}
    if roll < 0.7:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return random_node(rng, depth + 1)


def random_node(rng: random.Random, depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {}
    if rng.random() < 0.6:
        node["id"] = rng.choice(IRIS)
    if rng.random() < 0.4:
        node["type"] = rng.sample(["Special", "Plain", "ex:Other", "_:T"], rng.randrange(1, 3))
        if rng.random() < 0.05:
            node["type"].append(rng.choice(ODD_IRIS))
    if rng.random() < 0.05:
        node["_:blankProperty"] = random_value(rng, depth + 1)
    if rng.random() < 0.05:
        node["@included"] = [random_node(rng, depth + 1)]
    if rng.random() < 0.05:
        node["title"] = {
            "@value": random_string(rng),
            "@index": "i",
            "@direction": rng.choice(["ltr", "rtl"]),
        }
    for key in rng.sample(KEYS, rng.randrange(1, 6)):
        node[key] = value_for(key, rng, depth)
    if rng.random() < 0.05:
        node["undefinedTerm"] = "dropped without @vocab"
    if rng.random() < 0.03:
        node["specialLink"] = "relative/iri"
    if rng.random() < 0.02:
        node["nullTerm"] = "mapped to null"
    return node


def value_for(key: str, rng: random.Random, depth: int) -> Any:
    if key == "names":
        return {
            rng.choice(["en", "fr", "@none"]): random_string(rng)
            for _ in range(rng.randrange(1, 3))
        }
    if key == "indexed":
        return {
            random_string(rng) or "i": random_value(rng, depth) for _ in range(rng.randrange(1, 3))
        }
    if key in ("byId", "namedGraph"):
        return {rng.choice(IRIS): random_node(rng, depth + 1) for _ in range(rng.randrange(1, 3))}
    if key == "byType":
        return {rng.choice(["Special", "Plain", "ex:Other"]): random_node(rng, depth + 1)}
    if key == "data":
        return rng.choice([{"b": [1, 2.5, None], "a": "é"}, [True, "x"], 7, "s"])
    if key == "meta":
        return {"title": random_string(rng), "note": random_value(rng, depth)}
    if key in ("date", "count", "ratio", "custom", "label"):
        return rng.choice([random_string(rng), 12, 2.25, True, "2025-01-01", ["x", "y"]])
    if key in ("link", "kind"):
        return rng.choice(
            ["Special", "did:example:z", "_:shared", ["did:example:a", "ex:b"], *ODD_IRIS[:1]]
        )
    if key == "scoped":
        return {"inner": random_string(rng), "innerDate": "2025-02-03", "title": "t"}
    if key == "parentOf":
        return random_node(rng, depth + 1)
    return random_value(rng, depth)


def random_credential(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    context: dict[str, Any] = dict(INLINE_CONTEXT)
    if rng.random() < 0.6:
        context["@vocab"] = "https://example.org/vocab#"
    if rng.random() < 0.2:
        context["@base"] = "https://example.org/base/"
    credential: dict[str, Any] = {
        "@context": [VC_V2, context],
        "type": ["VerifiableCredential", *rng.sample(["Special", "Plain"], rng.randrange(3))],
        "issuer": rng.choice(
            ["did:example:issuer", {"id": "did:example:issuer", "name": "Issuer"}]
        ),
        "credentialSubject": random_node(rng, 0)
        if rng.random() < 0.8
        else [random_node(rng, 0), random_node(rng, 0)],
    }
    if rng.random() < 0.7:
        credential["id"] = rng.choice(
            ["urn:uuid:5b4f5bd4", "_:credential", "https://example.org/c/1"]
        )
    if rng.random() < 0.3:
        credential["@included"] = [random_node(rng, 1)]
    if rng.random() < 0.3:
        credential["proof"] = {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2025-01-01T00:00:00Z",
            "verificationMethod": "did:example:issuer#key-1",
            "proofPurpose": "assertionMethod",
            "proofValue": "z111",
        }
        credential["@context"] = (
            [VC_V2, DATA_INTEGRITY_V2, context] if rng.random() < 0.3 else credential["@context"]
        )
    return credential


CORPUS = 400


def test_randomized_credentials_match_stock_pyld() -> None:
    canonical, refused = 0, 0
    for seed in range(CORPUS):
        try:
            result = assert_same(random_credential(seed))
        except AssertionError as exc:
            raise AssertionError(f"seed {seed}: {exc}") from exc
        canonical += result is not None
        refused += result is None
    # The corpus must exercise both outcomes substantially, or it proves little.
    assert canonical > CORPUS // 4 and refused > CORPUS // 10, (canonical, refused)


def test_vc_1_1_credentials_with_ed25519_2020_context_match_stock_pyld() -> None:
    for seed in range(60):
        credential = random_credential(seed)
        credential["@context"] = [VC_V1, ED25519_2020_V1, credential["@context"][-1]]
        credential["issuanceDate"] = "2025-01-01T00:00:00Z"
        assert_same(credential)


@pytest.mark.parametrize(
    "value",
    [
        {"ordered": []},
        {"ordered": [[], [["x"]], {"@list": [1, {"id": "did:example:a"}]}]},
        {"ordered": [{"title": "in a list"}, {"title": "in a list"}]},
        {
            "graph": [{"id": "did:example:g", "title": "named by a blank node"}],
            "namedGraph": {"did:example:n": {"title": "named"}},
        },
        {"parentOf": [{"id": "_:child", "title": "reverse"}, {"title": "anonymous"}]},
        {"data": {"z": 1, "a": [1.0, 1e21, "\u2028"]}},
        {"ratio": ["1.50", 1.5, 1e21], "count": [10**21, -3, 4.0], "custom": [True, False]},
        {
            "id": "_:x",
            "link": ["_:x", "did:example:self"],
            "meta": {"title": {"@value": "t", "@direction": "rtl", "@language": "ar"}},
        },
        {
            "graph": [
                {"@list": [{"id": "did:example:in-list", "title": "dropped by to_rdf"}]},
                "loose",
                {"id": "did:example:only-id"},
            ]
        },
        {
            "indexed": {
                "a": {"id": "did:example:i", "title": "one"},
                "b": {"id": "did:example:j", "title": "one"},
            }
        },
    ],
)
def test_shapes_a_credential_can_take_match_stock_pyld(value: dict[str, Any]) -> None:
    credential = {
        "@context": [VC_V2, INLINE_CONTEXT],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": value,
    }
    assert assert_same(credential) is not None


def test_one_node_with_two_indexes_is_refused_like_stock_pyld() -> None:
    credential = {
        "@context": [VC_V2, INLINE_CONTEXT],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {
            "indexed": {"a": {"id": "did:example:i"}, "b": {"id": "did:example:i"}}
        },
    }
    assert assert_same(credential) is None
    # pyld also fails (in its own comparison) when the second index is the same as the first.
    credential["credentialSubject"] = {
        "indexed": {"a": [{"id": "did:example:i", "title": "x"}, {"id": "did:example:i"}]}
    }
    assert assert_same(credential) is None
    with pytest.raises(RunIdError) as refused:
        canonicalize(credential, DocumentLoader())
    assert refused.value.code is ErrorCode.JSONLD_INVALID


# --- the caches are keyed on what the result depends on ---------------------------------------


def test_context_cache_is_private_to_a_loader() -> None:
    url = "https://example.org/contexts/bench"
    first = DocumentLoader({url: {"@context": {"@vocab": "https://example.org/first#"}}})
    second = DocumentLoader({url: {"@context": {"@vocab": "https://example.org/second#"}}})
    document = {
        "@context": [VC_V2, url],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:i",
        "credentialSubject": {"name2": "x"},
    }
    assert "first#name2" in canonicalize(document, first)
    assert "second#name2" in canonicalize(document, second)
    assert "first#name2" in canonicalize(document, first)


def test_a_changed_inline_context_is_processed_again() -> None:
    loader = DocumentLoader()
    inline = {"@vocab": "https://example.org/one#"}
    document = {
        "@context": [VC_V2, inline],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:i",
        "credentialSubject": {"term": "x"},
    }
    assert "one#term" in canonicalize(document, loader)
    inline["@vocab"] = "https://example.org/two#"  # the caller mutates its own document
    assert "two#term" in canonicalize(document, loader)
    del inline["@vocab"]
    with pytest.raises(RunIdError) as refused:
        canonicalize(document, loader)
    assert refused.value.code.value == "RUNID_UNDEFINED_TERM"


# --- the unsecured document's expansion, taken from the secured document's ---------------------

PROOF = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-rdfc-2022",
    "created": "2025-01-01T00:00:00Z",
    "verificationMethod": "did:example:issuer#key-1",
    "proofPurpose": "assertionMethod",
    "proofValue": "z111",
}


def test_without_proof_equals_expanding_the_unsecured_document() -> None:
    derived = 0
    for seed in range(CORPUS):
        credential = {
            **random_credential(seed),
            "proof": [PROOF, {**PROOF, "proofValue": "z222"}][: 1 + seed % 2],
        }
        unsecured = {k: v for k, v in credential.items() if k != "proof"}
        loader = DocumentLoader()
        try:
            expansion = expand_document(credential, loader)
        except RunIdError:
            continue
        result = without_entry(expansion, "proof")
        if result is not None:
            derived += 1
            assert result == expand_safe(unsecured, DocumentLoader()), seed
    assert derived > CORPUS // 4


@pytest.mark.parametrize(
    "change",
    [
        {
            "@context": [VC_V2, {**INLINE_CONTEXT, "alsoProof": "https://w3id.org/security#proof"}],
            "alsoProof": {"title": "x"},
        },
        {"meta": {"title": "nested into the root node"}},
        {"@included": [{"id": "did:example:included", "title": "x"}]},
        {"@reverse": {"ex:childOf": {"id": "did:example:child"}}},
        {"@graph": [{"id": "did:example:g", "title": "x"}]},
    ],
    ids=["another key expands to sec:proof", "@nest", "@included", "@reverse", "@graph"],
)
def test_without_proof_is_refused_where_entries_are_not_independent(change: dict[str, Any]) -> None:
    credential = {
        "@context": [VC_V2, INLINE_CONTEXT],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:s"},
        "proof": PROOF,
        **change,
    }
    assert without_entry(expand_document(credential, DocumentLoader()), "proof") is None


def test_without_proof_keeps_reverse_terms() -> None:
    # A reverse term's values go under "@reverse", apart from the proof's: still derivable.
    credential = {
        "@context": [VC_V2, INLINE_CONTEXT],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:s"},
        "parentOf": {"id": "did:example:child"},
        "proof": PROOF,
    }
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    derived = without_entry(expand_document(credential, DocumentLoader()), "proof")
    assert derived is not None and "@reverse" in derived[0]
    assert derived == expand_safe(unsecured, DocumentLoader())


def test_without_proof_is_refused_when_only_an_identifier_would_remain() -> None:
    credential = {"@context": [VC_V2, DATA_INTEGRITY_V2], "id": "urn:uuid:1", "proof": PROOF}
    assert (
        expand_safe({"@context": [VC_V2, DATA_INTEGRITY_V2], "id": "urn:uuid:1"}, DocumentLoader())
        == []
    )
    assert without_entry(expand_document(credential, DocumentLoader()), "proof") is None


def test_signature_check_gets_the_same_hash_with_or_without_the_expansion() -> None:
    for seed in range(60):
        credential = {**random_credential(seed), "proof": PROOF}
        loader = DocumentLoader()
        try:
            expansion = expand_document(credential, loader)
        except RunIdError:
            continue
        config = {k: v for k, v in PROOF.items() if k != "proofValue"} | {
            "@context": credential["@context"]
        }
        with_expansion = outcome(
            lambda c=credential, o=config, e=expansion, lo=loader: EDDSA_RDFC_2022.hash_data(
                c, o, lo, e
            )
        )
        without = outcome(
            lambda c=credential, o=config: EDDSA_RDFC_2022.hash_data(c, o, DocumentLoader())
        )
        assert with_expansion == without
