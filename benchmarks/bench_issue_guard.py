"""What refusing to be a signing oracle costs ``POST /credentials/issue``: the admission checks
(server/issuance.py: expansion, reserved types, the service's URL space, the issuance time, the
compacted form) next to signing the same credential, in one process, no HTTP.

    python benchmarks/bench_issue_guard.py [--fields 20] [--seconds 2]

The declaration hot path (``POST /runs``) does not pass through these checks.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from vc_runid._internal.contexts import VC_V2, default_loader
from vc_runid.server.issuance import GenericIssuer, IssuanceGuard
from vc_runid.vc.credentials import Issuer, issue_credential
from vc_runid.vc.formats import ProofFormat


def credential(fields: int, issuer: str) -> dict[str, Any]:
    return {
        "@context": [VC_V2, {"@vocab": "https://example.org/bench#"}],
        "id": "urn:uuid:5b4f5bd4-3f0e-4c3a-9d7e-6ad0a8d2d1a0",
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "credentialSubject": {"id": "did:example:subject", **{f"field{i}": f"value {i}" for i in range(fields - 1)}},
    }


def rate(action: Callable[[], object], seconds: float) -> tuple[float, float]:
    """(operations per second, milliseconds per operation) over about ``seconds``."""
    action()  # warm caches
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        action()
        count += 1
    return count / elapsed, 1000 * elapsed / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fields", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    with TemporaryDirectory() as home:
        generic = GenericIssuer.in_home(Path(home), Issuer.generate())
    loader = default_loader()
    guard = IssuanceGuard(loader, ["https://runs.example.com"], lambda ids: set())
    document = credential(args.fields, generic.did)
    signer = generic.for_format(ProofFormat.DI)
    now = datetime.now(UTC)
    admitted = guard.admit(document, generic, now)

    rows = [
        ("admission checks (IssuanceGuard.admit)", rate(lambda: guard.admit(document, generic, now), args.seconds)),
        ("signing (issue_credential, eddsa-rdfc-2022)",
         rate(lambda: issue_credential(admitted, signer, proof_format=ProofFormat.DI, created=now, loader=loader), args.seconds)),
    ]
    print(f"{platform.python_implementation()} {platform.python_version()}, {args.fields} subject fields")
    for name, (per_second, ms) in rows:
        print(f"  {name:46} {per_second:8.0f}/s  {ms:6.2f} ms")


if __name__ == "__main__":
    main()
