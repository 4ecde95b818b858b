"""Rates of RDFC-1.0 canonicalization: pyld reference against the pyoxigraph fast path.

A third column, for context, times stock ``jsonld.normalize(nquads, inputFormat=n-quads)``. Its
N-Quads reader de-duplicates quads in quadratic time; the reference uses its own reader.

Run: ``python benchmarks/bench_rdfc.py [seconds-per-case]``. The script prints figures and asserts
only that both paths agree (correctness is tested in tests/test_rdfc.py).

Cases:
* the W3C vc-di-eddsa credential and its proof configuration (TestVectors/eddsa-rdfc-2022),
  as pyld's ``to_rdf`` writes them (``_:b0`` labels, document order);
* synthetic credentials with 10 / 100 / 1000 fields on a blank-node credentialSubject, written by
  pyld's ``to_rdf`` from JSON-LD with an inline context. Every tenth field is a nested object, so
  there are blank nodes to relate.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from pyld import jsonld

from vc_runid._internal.rdfc import (
    ACTIVE_IMPLEMENTATION,
    canonicalize_nquads_fast,
    canonicalize_nquads_reference,
)

XSD = "http://www.w3.org/2001/XMLSchema#"
CRED = "https://www.w3.org/2018/credentials#"
SEC = "https://w3id.org/security#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
UUID = "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33"
KEY = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"

# The W3C credential and proof configuration in the order to_rdf writes them.
W3C_CREDENTIAL = (
    f'<did:example:abcdefgh> <https://www.w3.org/ns/credentials/examples#alumniOf> "The School of Examples" .\n'
    f"<{UUID}> <{RDF_TYPE}> <{CRED}VerifiableCredential> .\n"
    f"<{UUID}> <{RDF_TYPE}> <https://www.w3.org/ns/credentials/examples#AlumniCredential> .\n"
    f'<{UUID}> <https://schema.org/description> "A minimum viable example of an Alumni Credential." .\n'
    f'<{UUID}> <https://schema.org/name> "Alumni Credential" .\n'
    f"<{UUID}> <{CRED}credentialSubject> <did:example:abcdefgh> .\n"
    f"<{UUID}> <{CRED}issuer> <https://vc.example/issuers/5678> .\n"
    f'<{UUID}> <{CRED}validFrom> "2023-01-01T00:00:00Z"^^<{XSD}dateTime> .\n'
)
W3C_PROOF_CONFIG = (
    f'_:b0 <http://purl.org/dc/terms/created> "2023-02-24T23:36:38Z"^^<{XSD}dateTime> .\n'
    f"_:b0 <{RDF_TYPE}> <{SEC}DataIntegrityProof> .\n"
    f'_:b0 <{SEC}cryptosuite> "eddsa-rdfc-2022"^^<{SEC}cryptosuiteString> .\n'
    f"_:b0 <{SEC}proofPurpose> <{SEC}assertionMethod> .\n"
    f"_:b0 <{SEC}verificationMethod> <{KEY}#{KEY.removeprefix('did:key:')}> .\n"
)


def synthetic_credential(fields: int) -> str:
    """N-Quads of a credential with ``fields`` subject fields, as pyld's to_rdf writes them."""
    subject: dict[str, Any] = {"type": "RunSubject"}
    for i in range(fields):
        if i % 10 == 9:
            subject[f"field{i}"] = {"name": f"nested {i}", "value": i}
        elif i % 3 == 0:
            subject[f"field{i}"] = {
                "@value": f"2024-01-{i % 28 + 1:02d}T00:00:00Z",
                "@type": f"{XSD}dateTime",
            }
        else:
            subject[f"field{i}"] = f"value number {i} \u00e9\u4e2d"
    document = {
        "@context": {"@vocab": "https://example.org/vocab#", "id": "@id", "type": "@type"},
        "id": "urn:uuid:00000000-0000-4000-8000-000000000000",
        "type": ["VerifiableCredential", "RunCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": subject,
    }
    nquads: str = jsonld.to_rdf(document, {"format": "application/n-quads"})
    return nquads


def rate(function: Callable[[str], str], nquads: str, budget: float) -> float:
    """Calls per second, timed for about ``budget`` seconds (at least 3 calls)."""
    function(nquads)  # warm up
    calls, started = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - started < budget:
        function(nquads)
        calls += 1
    return calls / (time.perf_counter() - started)


def stock_pyld(nquads: str) -> str:
    options = {"algorithm": "URDNA2015", "inputFormat": "application/n-quads"}
    normalized: str = jsonld.normalize(nquads, {**options, "format": "application/n-quads"})
    return normalized


def main(budget: float = 1.0) -> None:
    cases = [
        ("W3C credential (eddsa-rdfc-2022)", W3C_CREDENTIAL),
        ("W3C proof configuration", W3C_PROOF_CONFIG),
        ("synthetic, 10 fields", synthetic_credential(10)),
        ("synthetic, 100 fields", synthetic_credential(100)),
        ("synthetic, 1000 fields", synthetic_credential(1000)),
    ]
    print(f"canonicalize_nquads uses: {ACTIVE_IMPLEMENTATION}")
    print(
        f"{'case':<34} {'quads':>6} {'reference/s':>12} {'fast/s':>10} {'fast/ref':>9}"
        f" {'stock pyld/s':>13} {'fast/stock':>11}"
    )
    for name, nquads in cases:
        canonical = canonicalize_nquads_reference(nquads)
        assert canonicalize_nquads_fast(nquads) == canonical == stock_pyld(nquads)
        reference = rate(canonicalize_nquads_reference, nquads, budget)
        fast = rate(canonicalize_nquads_fast, nquads, budget)
        stock = rate(stock_pyld, nquads, budget)
        print(
            f"{name:<34} {nquads.count(chr(10)):>6} {reference:>12,.1f} {fast:>10,.1f}"
            f" {fast / reference:>8.1f}x {stock:>13,.1f} {fast / stock:>10.1f}x"
        )


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
