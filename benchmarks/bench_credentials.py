"""Issue and verify throughput per proof format, against didkit in the same run.

    python benchmarks/bench_credentials.py [--seconds 2] [--json results.json]

Figures are operations per second on this machine; the ratio column is vc-runid's rate divided by
didkit's (VC 1.1 + Ed25519Signature2020) on a credential with the same subject fields. didkit runs
in a child process (its async runtime can crash the interpreter at exit).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from vc_runid import Issuer, ProofFormat, issue_credential, verify_credential
from vc_runid._rdfc import ACTIVE_IMPLEMENTATION as RDFC_IMPLEMENTATION
from vc_runid.contexts import ED25519_2020_V1, VC_V1, VC_V2
from vc_runid.keys import KeyType

NOW = datetime(2026, 1, 1, tzinfo=UTC)
BENCH_VOCAB = {"@vocab": "https://example.org/bench#"}


def subject(fields: int) -> dict[str, Any]:
    return {"id": "did:example:subject", **{f"field{i}": f"value number {i}" for i in range(fields - 1)}}


def credential_v2(fields: int) -> dict[str, Any]:
    return {
        "@context": [VC_V2, BENCH_VOCAB],
        "id": "urn:uuid:5b4f5bd4-3f0e-4c3a-9d7e-6ad0a8d2d1a0",
        "type": ["VerifiableCredential"],
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": subject(fields),
    }


def credential_v1(fields: int) -> dict[str, Any]:
    return {
        "@context": [VC_V1, ED25519_2020_V1, BENCH_VOCAB],
        "id": "urn:uuid:5b4f5bd4-3f0e-4c3a-9d7e-6ad0a8d2d1a0",
        "type": ["VerifiableCredential"],
        "issuanceDate": "2025-01-01T00:00:00Z",
        "credentialSubject": subject(fields),
    }


def rate(action: Callable[[], Any], seconds: float) -> float:
    action()  # warm caches (processed contexts) as any long-running verifier would
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        action()
        count += 1
    return count / elapsed


_DIDKIT_CHILD = r"""
import asyncio, json, os, sys, time
import didkit
req = json.loads(sys.stdin.read())
async def main():
    jwk = didkit.generate_ed25519_key()
    did = didkit.key_to_did("key", jwk)
    vm = await didkit.key_to_verification_method("key", jwk)
    cred = dict(req["credential"], issuer=did)
    opts = json.dumps({"proofPurpose": "assertionMethod", "verificationMethod": vm, "type": "Ed25519Signature2020"})
    async def issue():
        return await didkit.issue_credential(json.dumps(cred), opts, jwk)
    signed = await issue()
    assert not json.loads(await didkit.verify_credential(signed, "{}"))["errors"]
    async def verify():
        result = json.loads(await didkit.verify_credential(signed, "{}"))
        assert not result["errors"], result
    out = {}
    for name, fn in (("issue", issue), ("verify", verify)):
        await fn()
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < req["seconds"]:
            await fn(); count += 1
        out[name] = count / (time.perf_counter() - start)
    return out
print(json.dumps(asyncio.run(main())), flush=True)
os._exit(0)
"""


def didkit_rates(fields: int, seconds: float) -> dict[str, float] | None:
    request = json.dumps({"credential": credential_v1(fields), "seconds": seconds})
    done = subprocess.run(
        [sys.executable, "-c", _DIDKIT_CHILD], input=request, capture_output=True, text=True, timeout=600
    )
    line = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    if not line:
        print(f"didkit unavailable: {done.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return dict(json.loads(line))


def measure(fmt: ProofFormat, fields: int, seconds: float) -> dict[str, float]:
    issuer = Issuer.generate(KeyType.P256 if fmt is ProofFormat.ECDSA else KeyType.ED25519)
    unsigned = credential_v1(fields) if fmt in (ProofFormat.DI_2020, ProofFormat.JWT_V1) else credential_v2(fields)
    unsigned = {**unsigned, "issuer": issuer.did}
    signed = issue_credential(unsigned, issuer, proof_format=fmt, created=NOW)
    report = verify_credential(signed, now=NOW)
    assert report.valid, report.failures
    return {
        "issue": rate(lambda: issue_credential(unsigned, issuer, proof_format=fmt, created=NOW), seconds),
        "verify": rate(lambda: verify_credential(signed, now=NOW), seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "rdfc": RDFC_IMPLEMENTATION},
        "typical": {},
        "scaling": {},
    }
    fields = 20
    peer = didkit_rates(fields, args.seconds)
    results["typical"]["didkit Ed25519Signature2020 (VC 1.1)"] = peer
    print(f"typical credential, {fields} subject fields (ops/s; ratio = vc-runid / didkit)")
    print(f"{'format':<28}{'issue/s':>10}{'verify/s':>10}{'issue x':>9}{'verify x':>9}")
    if peer:
        print(f"{'didkit Ed25519Signature2020':<28}{peer['issue']:>10.0f}{peer['verify']:>10.0f}{1.0:>9.2f}{1.0:>9.2f}")
    for fmt in ProofFormat:
        figures = measure(fmt, fields, args.seconds)
        if peer:
            figures["issue_ratio"] = figures["issue"] / peer["issue"]
            figures["verify_ratio"] = figures["verify"] / peer["verify"]
        results["typical"][fmt.value] = figures
        ratios = f"{figures.get('issue_ratio', 0):>9.2f}{figures.get('verify_ratio', 0):>9.2f}" if peer else ""
        print(f"{fmt.value:<28}{figures['issue']:>10.0f}{figures['verify']:>10.0f}{ratios}")
    print("\nscaling with subject size (eddsa-rdfc-2022 vs didkit)")
    print(f"{'fields':<8}{'issue/s':>10}{'verify/s':>10}{'didkit issue/s':>16}{'didkit verify/s':>17}{'issue x':>9}{'verify x':>9}")
    for size in (10, 100, 1000):
        ours = measure(ProofFormat.DI, size, args.seconds)
        theirs = didkit_rates(size, args.seconds) or {"issue": float("nan"), "verify": float("nan")}
        results["scaling"][str(size)] = {"vc-runid": ours, "didkit": theirs}
        print(
            f"{size:<8}{ours['issue']:>10.1f}{ours['verify']:>10.1f}{theirs['issue']:>16.1f}{theirs['verify']:>17.1f}"
            f"{ours['issue'] / theirs['issue']:>9.2f}{ours['verify'] / theirs['verify']:>9.2f}"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
