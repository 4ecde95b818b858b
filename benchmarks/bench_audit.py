"""Bulk audit throughput: run pairs (declaration + binding) per second, end to end from files.

    python benchmarks/bench_audit.py [--pairs 2000] [--workers 1 2] [--profile 300] [--cli] [--json out.json]

The pairs are made with ``vc_runid.run`` (eddsa-rdfc-2022 by default) and written to a temporary
directory first; generating them is not timed. Then, once per worker count, what ``vc-runid
audit DIR`` does in-process: ``discover_runs`` (reading and classifying every file) and
``audit_runs`` (verifying every pair), each timed (pool start-up included: an auditor pays it
too), wall clock and CPU summed over all processes. ``--cli`` also runs the command itself
(``vc-runid audit DIR --trusted-issuer DID``, interpreter start-up included) and shows the line
it prints. Every pair must come out valid, or the figure is refused. ``--profile N`` runs
cProfile over N pairs verified in-process and says where one verification's time goes. The
issue's target is 1,000 pairs/s on 2 cores; the load average is printed with every figure.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import resource
import shutil
import subprocess
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


def discover(directory: Path, workers: int) -> list[RunFiles]:
    try:
        return discover_runs(directory, workers=workers)
    except TypeError:  # a vc-runid from before discovery took workers (a before/after run)
        return discover_runs(directory)


def timed(action: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds summed over this process and its finished children)."""
    cpu, start = cpu_seconds(), time.perf_counter()
    result = action()
    return result, time.perf_counter() - start, cpu_seconds() - cpu


def timed_audit(directory: Path, pairs: int, workers: int, policy: TrustPolicy) -> dict[str, float]:
    """Discovery and verification of every pair, as ``vc-runid audit DIR`` does them."""
    runs, discovery, discovery_cpu = timed(lambda: discover(directory, workers))
    assert len(runs) == pairs and all(r.binding is not None for r in runs)
    summary, audit, audit_cpu = timed(lambda: audit_runs(runs, now=VERIFY_AT, workers=workers, policy=policy))
    if summary.valid != len(runs):
        failed = next(row for row in summary.runs if row.verdict != "valid")
        sys.exit(f"refusing the figure: {len(runs) - summary.valid} runs are not valid, e.g. {failed}")
    return {
        "discovery_seconds": discovery, "audit_seconds": audit, "seconds": discovery + audit,
        "pairs_per_second": pairs / (discovery + audit),
        "cpu_ms_per_pair": (discovery_cpu + audit_cpu) / pairs * 1000,
        "discovery_cpu_ms_per_pair": discovery_cpu / pairs * 1000,
    }


def timed_cli(directory: Path, pairs: int, policy: TrustPolicy) -> dict[str, Any]:
    """``vc-runid audit DIR`` as an auditor runs it: a new process, imports included."""
    command = shutil.which("vc-runid", path=str(Path(sys.executable).parent)) or "vc-runid"
    issuer = policy.issuers[0]
    args = [command, "audit", str(directory), "--trusted-issuer", issuer, "--at", VERIFY_AT.isoformat()]
    done, wall, cpu = timed(lambda: subprocess.run(args, capture_output=True, text=True, check=False))
    if done.returncode != 0 or f"{pairs} runs: {pairs} valid" not in done.stdout:
        sys.exit(f"refusing the figure: vc-runid audit exited {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    printed = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    return {"seconds": wall, "pairs_per_second": pairs / wall, "cpu_ms_per_pair": cpu / pairs * 1000, "printed": printed}


#: Where a verification's time goes: (label, file suffix, function name). They nest (the
#: signature check includes canonicalization, which includes expansion), so they do not add up.
BREAKDOWN = [
    ("verify_run (one pair)", "verify.py", "verify_run"),
    ("  read + strict JSON parse", "documents.py", "read_document"),
    ("  verify_credential (x2)", "verification.py", "verify_credential"),
    ("    data model checks", "documents.py", "check_credential"),
    ("    'json-ld' check: expand_safe", "verification.py", "_json_ld"),
    ("    signature check (eddsa-rdfc)", "_rdfc_suite.py", "verify_proof"),
    ("      canonicalize (expand + RDFC)", "canonical.py", "canonicalize"),
    ("        to_nquads", "canonical.py", "to_nquads"),
    ("        RDFC-1.0, labels by first-degree hash", "rdfc.py", "canonicalize_distinct_first_degree"),
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
    parser.add_argument("--cli", action="store_true", help="also time the vc-runid audit command")
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

        def load_note() -> str:
            load = os.getloadavg()[0]
            return f"load {load:.2f}" + (" (busy: wall-clock figures are pessimistic)" if load > 0.5 else "")

        print(f"\nload average before timing: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        # CPU ms/pair is what a pair costs whatever else the machine is doing; wall-clock pairs/s
        # is what an auditor sees, and is only as good as the cores are free.
        print(f"{'workers':<9}{'discovery':>10}{'audit':>8}{'pairs/s':>9}{'vs 1,000/s':>12}{'CPU ms/pair':>13}  (discovery)")
        results["audit"] = {}
        for workers in args.workers:
            figures = timed_audit(directory, args.pairs, workers, policy)
            figures["load_average"] = os.getloadavg()[0]
            results["audit"][str(workers)] = figures
            print(
                f"{workers:<9}{figures['discovery_seconds']:>9.2f}s{figures['audit_seconds']:>7.2f}s"
                f"{figures['pairs_per_second']:>9,.0f}{figures['pairs_per_second'] / TARGET:>11.0%}"
                f"{figures['cpu_ms_per_pair']:>13.2f}  ({figures['discovery_cpu_ms_per_pair']:.2f})  {load_note()}"
            )
        if args.cli:
            figures = timed_cli(directory, args.pairs, policy)
            figures["load_average"] = os.getloadavg()[0]
            results["cli"] = figures
            print(
                f"\nvc-runid audit DIR (a new process, imports included): {figures['seconds']:.2f} s, "
                f"{figures['pairs_per_second']:,.0f} pairs/s, {figures['cpu_ms_per_pair']:.2f} CPU ms/pair, {load_note()}"
                f"\n  it printed: {figures['printed']}"
            )
        if args.profile:
            runs = discover(directory, 1)
            results["profile"] = profile(runs[: args.profile], policy)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
