"""Issue and verify throughput per proof format, against didkit and the Digital Bazaar stack in the same run.

    python benchmarks/bench_credentials.py [--seconds 2] [--repeat 1] [--json results.json]
    python benchmarks/bench_credentials.py --scaling-only --sizes 10 100 1000 --seconds 2 --repeat 2
    python benchmarks/bench_credentials.py --profile [--fields 20]

Figures are operations per second on this machine. In the per-format table the ratio is vc-runid's
rate divided by didkit's (VC 1.1 + Ed25519Signature2020) on a credential with the same subject
fields; in the scaling table it is eddsa-rdfc-2022 divided by the faster of didkit and the Digital
Bazaar stack (node, interop/js: @digitalbazaar/vc with eddsa-rdfc-2022 on the same VC 2.0
credential, benchmarks/bench_dbjs.mjs). didkit runs
in a child process (its async runtime can crash the interpreter at exit). With ``--repeat N``
each figure, ours and the peers' alike, is the best of N runs (for a machine shared with other work);
in the scaling table the three take turns, one run each per round.
``--profile`` prints where the time of one eddsa-rdfc-2022 issue and verify goes instead.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from vc_runid import Issuer, ProofFormat, issue_credential, verify_credential
from vc_runid._internal.canonical import canonicalize, expand_document, to_nquads, without_entry
from vc_runid._internal.contexts import ED25519_2020_V1, VC_V1, VC_V2, default_loader
from vc_runid._internal.multiformats import multibase_decode
from vc_runid._internal.rdfc import ACTIVE_IMPLEMENTATION as RDFC_IMPLEMENTATION
from vc_runid._internal.rdfc import canonicalize_nquads
from vc_runid.vc.credentials import key_type_for
from vc_runid.vc.dids import DidResolver
from vc_runid.vc.keys import KeyType
from vc_runid.vc.proofs import EDDSA_RDFC_2022

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


def rate(action: Callable[[], Any], seconds: float, repeat: int = 1) -> float:
    action()  # warm caches (processed contexts) as any long-running verifier would
    best = 0.0
    for _ in range(repeat):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            action()
            count += 1
        best = max(best, count / elapsed)
    return best


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
        out[name] = 0.0
        for _ in range(req["repeat"]):
            count, start = 0, time.perf_counter()
            while time.perf_counter() - start < req["seconds"]:
                await fn(); count += 1
            out[name] = max(out[name], count / (time.perf_counter() - start))
    return out
print(json.dumps(asyncio.run(main())), flush=True)
os._exit(0)
"""


def didkit_rates(fields: int, seconds: float, repeat: int = 1) -> dict[str, float] | None:
    request = json.dumps({"credential": credential_v1(fields), "seconds": seconds, "repeat": repeat})
    done = subprocess.run(
        [sys.executable, "-c", _DIDKIT_CHILD], input=request, capture_output=True, text=True, timeout=600, check=False
    )
    line = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    if not line:
        print(f"didkit unavailable: {done.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return dict(json.loads(line))


_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_DBJS = os.path.join(_REPO, "interop", "js")


def dbjs_rates(fields: int, seconds: float, repeat: int = 1) -> dict[str, float] | None:
    """The Digital Bazaar stack (node, interop/js) on the same VC 2.0 credential, eddsa-rdfc-2022."""
    if not os.path.isdir(os.path.join(_DBJS, "node_modules")):
        print("Digital Bazaar stack unavailable: run `npm ci` in interop/js", file=sys.stderr)
        return None
    with open(os.path.join(_REPO, "benchmarks", "bench_dbjs.mjs")) as handle:
        source = handle.read()
    request = json.dumps({
        "credential": credential_v2(fields),
        "contextsDir": os.path.join(_REPO, "contexts"),
        "seconds": seconds,
        "repeat": repeat,
    })
    try:
        done = subprocess.run(
            ["node", "--input-type=module", "-e", source],
            input=request, capture_output=True, text=True, timeout=600, check=False, cwd=_DBJS,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"Digital Bazaar stack unavailable: {exc}", file=sys.stderr)
        return None
    line = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    if done.returncode != 0 or not line:
        print(f"Digital Bazaar stack unavailable: {done.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return dict(json.loads(line))


def _best(kept: dict[str, float], new: dict[str, float]) -> dict[str, float]:
    """Per operation, the higher rate of two runs (NaN, for a peer that is missing, loses)."""
    return {op: max((r for r in (kept[op], new[op]) if r == r), default=float("nan")) for op in kept}


def prepared(fmt: ProofFormat, fields: int) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(issue, verify) of a credential with ``fields`` subject fields, checked once."""
    issuer = Issuer.generate(key_type_for(fmt))
    unsigned = credential_v1(fields) if fmt in (ProofFormat.DI_2020, ProofFormat.JWT_V1) else credential_v2(fields)
    unsigned = {**unsigned, "issuer": issuer.did}
    signed = issue_credential(unsigned, issuer, proof_format=fmt, created=NOW)
    report = verify_credential(signed, now=NOW)
    assert report.valid, report.failures
    return (
        lambda: issue_credential(unsigned, issuer, proof_format=fmt, created=NOW),
        lambda: verify_credential(signed, now=NOW),
    )


def measure(fmt: ProofFormat, fields: int, seconds: float, repeat: int = 1) -> dict[str, float]:
    issue, verify = prepared(fmt, fields)
    return {"issue": rate(issue, seconds, repeat), "verify": rate(verify, seconds, repeat)}


# Where the time goes: the functions each share of a profile is read from (cumulative time).
# Nested ones are subtracted from the ones they run in, so the shares add up to the whole.
# canonicalize_expanded writes the canonical N-Quads itself when RDFC-1.0 has nothing to decide
# (at most one blank node, as here); otherwise it calls canonicalize_nquads, counted in both rows.
PROFILE_PARTS = {
    "JSON-LD expansion (pyld + safe-mode checks)": ("canonical.py", "expand_document"),
    "expanded form -> canonical N-Quads": ("canonical.py", "canonicalize_expanded"),
    "RDFC-1.0 canonicalization (_rdfc)": ("rdfc.py", "canonicalize_nquads"),
    "signed-form check (compaction, comparison)": ("signed_form.py", "check_compacted"),
    "DID resolution": ("dids.py", "verification_method"),
    "Ed25519 sign/verify": ("keys.py", None),
}


def stage_times(fields: int) -> dict[str, float]:
    """Milliseconds per call of each stage of an eddsa-rdfc-2022 verification (best of 5 runs)."""
    issuer = Issuer.generate(KeyType.ED25519)
    unsigned = {**credential_v2(fields), "issuer": issuer.did}
    signed = issue_credential(unsigned, issuer, proof_format=ProofFormat.DI, created=NOW)
    assert isinstance(signed, dict)
    loader = default_loader()
    expansion = expand_document(signed, loader)
    unsecured = without_entry(expansion, "proof")
    assert unsecured is not None
    nquads = to_nquads(unsecured)
    config = {k: v for k, v in signed["proof"].items() if k != "proofValue"}
    config["@context"] = signed["@context"]
    resolver = DidResolver()
    method = resolver.verification_method(signed["proof"]["verificationMethod"], "assertionMethod")
    data = EDDSA_RDFC_2022.hash_data(signed, config, loader, expansion)
    signature = multibase_decode(signed["proof"]["proofValue"])
    stages: dict[str, Callable[[], Any]] = {
        "expand the secured credential (json-ld check)": lambda: expand_document(signed, loader),
        "unsecured document from that expansion": lambda: without_entry(expansion, "proof"),
        "unsecured document -> N-Quads": lambda: to_nquads(unsecured),
        "RDFC-1.0 of those N-Quads": lambda: canonicalize_nquads(nquads),
        "proof configuration, expanded and canonical": lambda: canonicalize(config, loader),
        "DID -> verification method": lambda: resolver.verification_method(
            signed["proof"]["verificationMethod"], "assertionMethod"
        ),
        "Ed25519 verify": lambda: method.public_key.verify(signature, data),
        "whole verification": lambda: verify_credential(signed, now=NOW),
    }
    number = max(3, 4000 // fields)
    return {
        name: min(timeit.repeat(action, number=number, repeat=5)) / number * 1e3
        for name, action in stages.items()
    }


def profile(fields: int, runs: int = 300) -> None:
    print(f"eddsa-rdfc-2022 verification, {fields} fields: ms per call, no profiler")
    for name, ms in stage_times(fields).items():
        print(f"  {name:<46}{ms:>8.3f}")
    issue, verify = prepared(ProofFormat.DI, fields)
    for name, action in (("issue", issue), ("verify", verify)):
        action()
        profiler = cProfile.Profile()
        profiler.enable()
        start = time.perf_counter()
        for _ in range(runs):
            action()
        elapsed = time.perf_counter() - start
        profiler.disable()
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        print(f"eddsa-rdfc-2022 {name}, {fields} fields: {elapsed / runs * 1e3:.3f} ms per operation under cProfile")
        shown = 0.0
        for label, (file, function) in PROFILE_PARTS.items():
            spent = sum(
                ct
                for (path, _line, fn), (_cc, _nc, _tt, ct, _c) in stats.items()
                if path.endswith(file) and (fn == function or (function is None and fn in ("sign", "verify")))
            )
            shown += spent
            print(f"  {label:<46}{spent / elapsed:>7.1%}")
        print(f"  {'the rest (data model, report, hashing...)':<46}{1 - shown / elapsed:>7.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs per figure")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--profile", action="store_true", help="profile issue/verify instead")
    parser.add_argument("--fields", type=int, default=20, help="subject fields, with --profile")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000], help="subject fields to scale over")
    parser.add_argument("--scaling-only", action="store_true", help="skip the per-format table")
    args = parser.parse_args()
    if args.profile:
        profile(args.fields)
        return
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "rdfc": RDFC_IMPLEMENTATION,
            "load_average": os.getloadavg(),
            "seconds": args.seconds,
            "repeat": args.repeat,
        },
        "typical": {},
        "scaling": {},
    }
    fields = 20
    machine = results["machine"]
    print(
        f"Python {machine['python']}, {machine['cpus']} CPUs, RDFC-1.0 by {machine['rdfc']}, "
        f"load average {machine['load_average'][0]:.2f} at start\n"
    )
    peer = None if args.scaling_only else didkit_rates(fields, args.seconds, args.repeat)
    results["typical"]["didkit Ed25519Signature2020 (VC 1.1)"] = peer
    if not args.scaling_only:
        print(f"typical credential, {fields} subject fields (ops/s; ratio = vc-runid / didkit)")
        print(f"{'format':<28}{'issue/s':>10}{'verify/s':>10}{'issue x':>9}{'verify x':>9}")
    if peer:
        print(f"{'didkit Ed25519Signature2020':<28}{peer['issue']:>10.0f}{peer['verify']:>10.0f}{1.0:>9.2f}{1.0:>9.2f}")
    for fmt in [] if args.scaling_only else ProofFormat:
        figures = measure(fmt, fields, args.seconds, args.repeat)
        if peer:
            figures["issue_ratio"] = figures["issue"] / peer["issue"]
            figures["verify_ratio"] = figures["verify"] / peer["verify"]
        results["typical"][fmt.value] = figures
        ratios = f"{figures.get('issue_ratio', 0):>9.2f}{figures.get('verify_ratio', 0):>9.2f}" if peer else ""
        print(f"{fmt.value:<28}{figures['issue']:>10.0f}{figures['verify']:>10.0f}{ratios}")
    print("\nscaling with subject size: eddsa-rdfc-2022 against didkit and the Digital Bazaar stack (db)")
    print("ratio = vc-runid / the faster peer at that size")
    print(
        f"{'fields':<8}{'issue/s':>9}{'verify/s':>9}{'didkit i':>10}{'didkit v':>10}{'db i':>8}{'db v':>8}"
        f"{'issue x':>9}{'verify x':>9}"
    )
    nan = {"issue": float("nan"), "verify": float("nan")}
    for size in args.sizes:
        # The three take turns, one timed run each per round, best of the rounds: on a VM whose
        # speed drifts over a minute (this one does, by up to a third), a drift then meets all
        # three alike instead of whichever happened to run during it.
        ours, theirs, db = dict(nan), dict(nan), dict(nan)
        for _ in range(args.repeat):
            ours = _best(ours, measure(ProofFormat.DI, size, args.seconds))
            theirs = _best(theirs, didkit_rates(size, args.seconds) or nan)
            db = _best(db, dbjs_rates(size, args.seconds) or nan)
        best = {op: max((p[op] for p in (theirs, db) if p[op] == p[op]), default=float("nan")) for op in ours}
        ratio = {op: ours[op] / best[op] for op in ours}
        results["scaling"][str(size)] = {"vc-runid": ours, "didkit": theirs, "digitalbazaar": db, "ratio": ratio}
        print(
            f"{size:<8}{ours['issue']:>9.1f}{ours['verify']:>9.1f}{theirs['issue']:>10.1f}{theirs['verify']:>10.1f}"
            f"{db['issue']:>8.1f}{db['verify']:>8.1f}{ratio['issue']:>9.2f}{ratio['verify']:>9.2f}"
        )
    results["machine"]["load_average_end"] = os.getloadavg()
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
