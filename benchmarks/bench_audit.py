"""Bulk audit throughput: run pairs (declaration + binding) verified per second by ``audit_runs``.

    python benchmarks/bench_audit.py [--pairs 2000] [--workers 1 2] [--profile 300] [--json out.json]

The pairs are made with ``vc_runid.run`` (eddsa-rdfc-2022 by default) and written to a temporary
directory first; generating them is not timed. Then ``discover_runs`` is timed on its own, and
``audit_runs`` once per worker count (pool start-up included: an auditor pays it too). Every pair
must come out valid, or the figure is refused. ``--profile N`` runs cProfile over N pairs verified
in-process and says where one verification's time goes. The issue's target is 1,000 pairs/s on
2 cores.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import vc_runid as runid
from vc_runid import CompositionBuilder, Issuer, KeyType, ProofFormat, TrustPolicy
from vc_runid.audit.bulk import RunFiles, audit_run, audit_runs, discover_runs, make_verifier
from vc_runid.store.files import write_secured

T0 = datetime(2026, 1, 1, tzinfo=UTC)
VERIFY_AT = T0 + timedelta(days=1)
TARGET = 1000.0


def ticking_clock() -> Callable[[], datetime]:
    ticks: Iterator[int] = iter(range(1_000_000))
    return lambda: T0 + timedelta(seconds=next(ticks))


def generate(directory: Path, pairs: int, proof_format: ProofFormat) -> TrustPolicy:
    """``pairs`` runs shaped like a typical agent call: model, parameters, a system prompt, two
    retrieved documents, a tool and the input, all salted; returns the policy trusting their issuer
    (an audit without one passes no run)."""
    issuer = Issuer.generate(KeyType.P256 if proof_format is ProofFormat.ECDSA else KeyType.ED25519)
    suffix = ".jwt" if proof_format in (ProofFormat.JOSE, ProofFormat.JWT_V1) else ".json"
    for i in range(pairs):
        composition = (
            CompositionBuilder()
            .model("gpt-4o", provider="openai", revision="gpt-4o-2024-08-06")
            .parameters({"temperature": 0.2, "max_tokens": 256})
            .instruction("You are a careful billing assistant.\n")
            .retrieved("docs/a.md", "Account 42 was opened in 2019.\n")
            .retrieved("docs/b.md", "Balances are reported in EUR.\n")
            .tool({"name": "search", "parameters": {"type": "object"}})
            .input(f"What is the balance of account {i}?\n")
            .build()
        )
        with runid.run(composition, issuer=issuer, proof_format=proof_format, clock=ticking_clock()) as current:
            current.record_output(f"The balance of account {i} is 17 EUR.\n", observed={"modelId": "gpt-4o"})
        run_dir = directory / f"{i // 500:03d}" / f"run-{i:05d}"
        run_dir.mkdir(parents=True)
        write_secured(run_dir / f"declaration{suffix}", current.declaration)
        assert current.binding is not None
        write_secured(run_dir / f"binding{suffix}", current.binding)
    return TrustPolicy.trusting(issuer.did)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pool's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_audit(runs: list[RunFiles], workers: int, policy: TrustPolicy) -> tuple[float, float]:
    """(wall seconds, CPU seconds summed over all processes) of one audit."""
    cpu, start = cpu_seconds(), time.perf_counter()
    summary = audit_runs(runs, now=VERIFY_AT, workers=workers, policy=policy)
    elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    if summary.valid != len(runs):
        failed = next(row for row in summary.runs if row.verdict != "valid")
        sys.exit(f"refusing the figure: {len(runs) - summary.valid} runs are not valid, e.g. {failed}")
    return elapsed, cpu


#: Where a verification's time goes: (label, file suffix, function name). They nest (the
#: signature check includes canonicalization, which includes expansion), so they do not add up.
BREAKDOWN = [
    ("verify_run (one pair)", "run_verification.py", "verify_run"),
    ("  read + strict JSON parse", "documents.py", "read_document"),
    ("  verify_credential (x2)", "verification.py", "verify_credential"),
    ("    data model checks", "documents.py", "check_credential"),
    ("    'json-ld' check: expand_safe", "verification.py", "_json_ld"),
    ("    signature check (eddsa-rdfc)", "_rdfc_suite.py", "verify_proof"),
    ("      canonicalize (expand + RDFC)", "canonical.py", "canonicalize"),
    ("        to_nquads", "canonical.py", "to_nquads"),
    ("        RDFC-1.0 (canonicalize_nquads)", "rdfc.py", "canonicalize_nquads"),
    ("      Ed25519 verify", "keys.py", "verify"),
    ("    DID resolution + key authorization", "verification.py", "authorize_method"),
    ("  all JSON-LD expansion (expand_safe)", "canonical.py", "expand_safe"),
    ("  link: JCS digest of the declaration", "declaration.py", "secured_digest"),
    ("  subjects (pydantic)", "declaration.py", "declaration_subject"),
    ("", "binding.py", "binding_subject"),
]


def profile(runs: list[RunFiles], policy: TrustPolicy) -> list[dict[str, Any]]:
    verifier = make_verifier(VERIFY_AT, policy=policy)
    audit_run(runs[0], verifier)  # warm the context caches, as a long audit would
    profiler = cProfile.Profile()
    profiler.enable()
    for run in runs:
        audit_run(run, verifier)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in stats.values())
    rows = []
    print(f"\nwhere one pair's verification goes (cProfile, {len(runs)} pairs in-process; "
          f"profiler overhead inflates absolute times)")
    print(f"{'':<44}{'ms/pair':>9}{'share':>8}{'calls/pair':>12}")
    for label, suffix, name in BREAKDOWN:
        entries = [v for k, v in stats.items() if k[0].endswith(suffix) and k[2] == name]
        if not entries:
            continue
        cumulative = sum(e[3] for e in entries)
        calls = sum(e[1] for e in entries)
        label = label or f"  {name}"
        print(f"{label:<44}{cumulative / len(runs) * 1000:>9.3f}{cumulative / total:>8.1%}{calls / len(runs):>12.1f}")
        rows.append({"what": label.strip(), "ms_per_pair": cumulative / len(runs) * 1000, "share": cumulative / total})
    print("\ntop functions by own time:")
    own = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:12]
    for (file, line, name), (_, calls, tt, _, _) in own:
        print(f"  {tt / len(runs) * 1000:7.3f} ms/pair  {calls / len(runs):7.1f} calls/pair  {Path(file).name}:{line}({name})")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--format", default=ProofFormat.DI.value, choices=[f.value for f in ProofFormat])
    parser.add_argument("--profile", type=int, default=300, metavar="N", help="profile N pairs (0: skip)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    proof_format = ProofFormat(args.format)
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "pairs": args.pairs,
        "format": proof_format.value,
        "target_pairs_per_second": TARGET,
    }
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        directory = Path(tmp)
        start = time.perf_counter()
        policy = generate(directory, args.pairs, proof_format)
        print(f"generated {args.pairs} run pairs ({proof_format.value}) in {time.perf_counter() - start:.1f} s (not timed)")

        start = time.perf_counter()
        runs = discover_runs(directory)
        discovery = time.perf_counter() - start
        assert len(runs) == args.pairs and all(r.binding is not None for r in runs)
        results["discovery_seconds"] = discovery
        print(f"discover_runs: {discovery:.2f} s ({args.pairs / discovery:,.0f} pairs/s, single process)")

        load = os.getloadavg()[0]
        print(f"\nload average before timing: {load:.2f} on {os.cpu_count()} CPUs"
              + (" -- the machine is busy, wall-clock figures are pessimistic" if load > 0.5 else ""))
        # CPU ms/pair is what a verification costs whatever else the machine is doing; wall-clock
        # pairs/s is what an auditor sees, and is only as good as the cores are free.
        print(f"{'workers':<9}{'seconds':>9}{'pairs/s':>10}{'vs 1,000/s':>12}{'CPU ms/pair':>13}")
        results["load_average"] = load
        results["audit"] = {}
        for workers in args.workers:
            elapsed, cpu = timed_audit(runs, workers, policy)
            rate = args.pairs / elapsed
            results["audit"][str(workers)] = {
                "seconds": elapsed, "pairs_per_second": rate, "cpu_ms_per_pair": cpu / args.pairs * 1000,
            }
            print(f"{workers:<9}{elapsed:>9.2f}{rate:>10,.0f}{rate / TARGET:>11.0%}{cpu / args.pairs * 1000:>13.2f}")
        if args.profile:
            results["profile"] = profile(runs[: args.profile], policy)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
