"""The signed-form check's memoized compaction decides exactly as pyld's own compaction.

``signed_form._Compactor`` remembers, across documents, the term pyld chooses for an IRI given a
value's shape and whether a plain literal compacts to itself (per processed context). The check
(`check_compacted`) is a pure function of what compaction returns (the compacted document and
the terms chosen for IRIs), so the memoized path must return exactly what pyld returns without
it, for every document, whatever was memoized before. The reference below is pyld's compaction
with the memo off, on a loader of its own so that no cache is shared.

The corpus: the randomized credentials of tests/test_canonical.py (containers, coercions,
language and typed literals, lists, scoped contexts, @vocab, @base), credentials whose embedded
contexts give the same IRIs different coercions from one document to the next, and each
RDF-preserving rewrite of tests/test_signed_form.py, run in one sequence so the memo is warm.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from test_canonical import random_credential
from test_signed_form import REWRITES, Picker, _credential, _signed

from vc_runid._internal.canonical import expand_document
from vc_runid._internal.contexts import DocumentLoader, contexts_dir
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.vc.signed_form import (
    STANDARD_TERMS_FILE,
    _compact,
    _same,
    _shipped_standard_terms,
    _standard_terms,
    _standard_terms_document,
    _standard_terms_for,
    _standard_terms_origin,
    _terms_from_document,
    check_compacted,
)

VC_V2 = "https://www.w3.org/ns/credentials/v2"
XSD = "http://www.w3.org/2001/XMLSchema#"


def _outcome(compact: Any) -> tuple[str, Any]:
    try:
        return "ok", compact()
    except Exception as exc:  # noqa: BLE001 - whatever pyld raises, both paths must raise it
        return "error", (type(exc).__name__, str(exc))


def _decision(document: dict[str, Any], loader: DocumentLoader) -> tuple[str, str]:
    try:
        return "accepted", check_compacted(document, loader=loader)
    except RunIdError as exc:
        return exc.code.value, str(exc)


def assert_same_compaction(document: dict[str, Any], fast: DocumentLoader, reference: DocumentLoader) -> bool:
    """Compare memoized and reference compaction of ``document``; True when it expands at all."""
    try:
        expanded = expand_document(document, fast).expanded
        reference_expanded = expand_document(document, reference).expanded
    except RunIdError:
        return False
    assert expanded == reference_expanded
    context = document.get("@context")
    element = [expanded[0]] if len(expanded) == 1 else expanded
    memoized = _outcome(lambda: _compact(copy.deepcopy(element), context, fast))
    plain = _outcome(lambda: _compact(copy.deepcopy(element), context, reference, memoize=False))
    assert memoized == plain, (document, memoized, plain)
    return True


def varied_credential(seed: int) -> dict[str, Any]:
    """Plain fields whose terms an embedded context coerces differently from seed to seed."""
    rng = random.Random(seed)
    definitions: dict[str, Any] = {"@vocab": "https://example.org/v#"}
    for name in ("a", "b", "c", "d"):
        roll = rng.random()
        if roll < 0.2:
            definitions[name] = {"@id": f"https://example.org/v#{name}", "@type": XSD + "string"}
        elif roll < 0.4:
            definitions[name] = {"@id": f"https://example.org/v#{name}", "@language": rng.choice(["en", None])}
        elif roll < 0.5:
            definitions[name] = {"@id": f"https://example.org/v#{name}", "@type": "@id"}
        elif roll < 0.6:
            definitions[name] = {"@id": f"https://example.org/v#{name}", "@container": "@set"}
        elif roll < 0.7:
            # a second term for the same IRI: term selection must pick the same one either way
            definitions[name + "2"] = f"https://example.org/v#{name}"
    if rng.random() < 0.3:
        definitions["@language"] = rng.choice(["en", "de"])
    values = [
        "text", "", 3, -1.5, True, False, "did:example:x",
        {"@value": "t", "@language": "en"}, {"@value": "t", "@language": "fr"},
        {"@value": "2025-01-01", "@type": XSD + "date"}, {"@value": "s", "@type": XSD + "string"},
        ["x", "y"], ["x"],
        # A string without language under a default @language stays a value object; a number
        # beside it compacts to itself: the literal's type is part of what is memoized.
        {"@value": "no language"}, {"@value": 7},
    ]
    subject = {"id": "did:example:s", **{name: rng.choice(values) for name in ("a", "b", "c", "d", "e")}}
    subject["mixed"] = [rng.choice(values[7:]) for _ in range(rng.randrange(1, 4))]
    return {
        "@context": [VC_V2, definitions],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": subject,
    }


def test_randomized_credentials_compact_as_pyld_does() -> None:
    fast, reference = DocumentLoader(), DocumentLoader()
    compacted = 0
    for seed in range(300):
        document = random_credential(seed)
        compacted += assert_same_compaction(document, fast, reference)
    for seed in range(300):
        document = varied_credential(seed)
        compacted += assert_same_compaction(document, fast, reference)
    # The same documents again, now with every answer memoized.
    for seed in range(0, 300, 7):
        assert_same_compaction(random_credential(seed), fast, reference)
        assert_same_compaction(varied_credential(seed), fast, reference)
    assert compacted > 300, compacted


def test_rewrites_of_a_signed_credential_compact_as_pyld_does() -> None:
    fast, reference = DocumentLoader(), DocumentLoader()
    signed = _signed(_credential(validFrom="2025-01-01T00:00:00Z", validUntil="2030-01-01T00:00:00Z"))
    assert assert_same_compaction(signed, fast, reference)
    refused = 0
    for step in REWRITES:
        unsecured = {k: v for k, v in signed.items() if k != "proof"}
        try:
            document = {**step(copy.deepcopy(unsecured), Picker()), "proof": signed["proof"]}
        except RunIdError:
            continue
        assert_same_compaction(document, fast, reference)
        # And the decision itself, memo warm, against a cold loader's.
        decision = _decision(document, fast)
        assert decision == _decision(document, DocumentLoader())
        refused += decision[0] != "accepted"
    assert _decision(signed, fast)[0] == "accepted"
    assert refused >= len(REWRITES) - 2, refused
    assert ErrorCode.NOT_COMPACTED.value in {_decision(
        {**step(copy.deepcopy({k: v for k, v in signed.items() if k != "proof"}), Picker()), "proof": signed["proof"]},
        fast,
    )[0] for step in REWRITES}


def test_the_standard_terms_are_the_same_with_each_scoped_context_processed_once() -> None:
    by_iri, by_term = _standard_terms(DocumentLoader())
    assert (by_iri, by_term) == _standard_terms(DocumentLoader(), memoize=False)
    # Terms only a scoped context defines are among them (VerifiableCredential's, say).
    assert "https://www.w3.org/2018/credentials#validFrom" in by_iri
    assert "credentialSubject" in by_term


def test_the_shipped_standard_terms_are_the_ones_the_pinned_contexts_define() -> None:
    # Made by scripts/standard_terms.py; run it again after changing a pinned core context, the
    # code that makes the table (then raise _STANDARD_TERMS_ALGORITHM) or the pyld version.
    computed = _standard_terms(DocumentLoader(), memoize=False)
    shipped = json.loads((contexts_dir() / STANDARD_TERMS_FILE).read_text())
    assert shipped == json.loads(json.dumps(_standard_terms_document(computed, _standard_terms_origin())))
    assert _shipped_standard_terms() == computed
    assert _standard_terms_for(DocumentLoader()) is _shipped_standard_terms()


def test_a_table_is_used_only_when_made_from_what_this_verifier_runs() -> None:
    origin = _standard_terms_origin()
    sentinel = {"https://example.org/v#a": ["a", "b"], "https://example.org/v#c": ["b"]}
    document = {"madeFrom": origin, "termsByIri": sentinel}
    by_iri, by_term = _terms_from_document(json.loads(json.dumps(document)), origin)  # type: ignore[misc]
    assert by_iri == {"https://example.org/v#a": {"a", "b"}, "https://example.org/v#c": {"b"}}
    assert by_term == {"a": {"https://example.org/v#a"}, "b": {"https://example.org/v#a", "https://example.org/v#c"}}
    other_files = {**origin, "contexts": {**origin["contexts"], VC_V2: "0" * 64}}
    for made_from in (other_files, {**origin, "algorithm": origin["algorithm"] + 1}, {**origin, "pyld": "0.0"}):
        assert _terms_from_document({**document, "madeFrom": made_from}, origin) is None
    not_tables = ({"x": "ab"}, {"x": [1]}, ["a"])
    for broken in (None, [], {"madeFrom": origin}, *({**document, "termsByIri": t} for t in not_tables)):
        assert _terms_from_document(broken, origin) is None


def test_the_one_sided_key_named_is_the_same_whatever_the_key_order() -> None:
    # Set order follows the hash seed: the answer must not (it names the offending key).
    written = {"b": "1", "https://example.org/v#a": "2", "c": "3"}
    compacted = {"c": "3", "a": "2", "b": "1"}
    assert _same(written, compacted, "") == "a"
    assert _same(dict(reversed(written.items())), dict(reversed(compacted.items())), "") == "a"
    assert _same({"x": {**written}}, {"x": compacted}, "") == "x.a"
