"""The cost of one run's identity: declare + bind + verify, per proof format.

    python benchmarks/bench_runs.py [--runs 200]

Prints milliseconds per step and per run (median over ``--runs`` runs) on this machine, for a
typical composition (model, parameters, a system prompt, two retrieved documents, a tool, input).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import vc_runid as runid
from vc_runid import CompositionBuilder, Issuer, ProofFormat
from vc_runid._internal.timeutil import utc_now
from vc_runid.runs import output_digest
from vc_runid.vc.keys import KeyType

TOOL = {"name": "search", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}


def composition() -> tuple[runid.RunComposition, runid.Disclosures]:
    return (
        CompositionBuilder()
        .model("gpt-4o", provider="openai", revision="gpt-4o-2024-08-06")
        .parameters({"temperature": 0.2, "max_tokens": 256, "seed": 7})
        .instruction("You are a billing assistant. Answer in one sentence.")
        .retrieved("docs/a.md", "Account 42 was opened in 2019.")
        .retrieved("docs/b.md", "Balances are reported in EUR.")
        .tool(TOOL)
        .input("What is the balance of account 42?")
        .build()
    )


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = action()
    return value, (time.perf_counter() - start) * 1000


def measure(fmt: ProofFormat, runs: int) -> dict[str, float]:
    issuer = Issuer.generate(KeyType.P256 if fmt is ProofFormat.ECDSA else KeyType.ED25519)
    built = composition()
    steps: dict[str, list[float]] = {"declare": [], "bind": [], "verify": []}
    for _ in range(runs):
        declared_at = utc_now()
        declaration, ms = timed(lambda: runid.declare(built[0], issuer, declared_at=declared_at, proof_format=fmt))
        steps["declare"].append(ms)
        document = declaration if isinstance(declaration, dict) else None
        declaration_id = document["id"] if document else _jwt_id(declaration)
        run_id = document["credentialSubject"]["id"] if document else _jwt_run(declaration)
        now = utc_now()
        binding, ms = timed(lambda: runid.bind(
            declaration, issuer, declaration_id=declaration_id, run_id=run_id,
            output=output_digest(b"The balance is 17 EUR."), started_at=now, completed_at=now,
            bound_at=now, proof_format=fmt,
        ))
        steps["bind"].append(ms)
        report, ms = timed(lambda: runid.verify_run(declaration, binding, output=b"The balance is 17 EUR."))
        assert report.valid, report.failures
        steps["verify"].append(ms)
    medians = {name: statistics.median(values) for name, values in steps.items()}
    medians["total"] = sum(medians.values())
    return medians


def _decoded(token: str) -> dict[str, Any]:
    from vc_runid.vc import jose

    return jose.credential_from_jwt(jose.parse_jwt(token))[0]


def _jwt_id(token: str) -> str:
    return str(_decoded(token)["id"])


def _jwt_run(token: str) -> str:
    return str(_decoded(token)["credentialSubject"]["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    print(f"median ms per step over {args.runs} runs")
    print(f"{'format':<10}{'declare':>10}{'bind':>10}{'verify':>10}{'total':>10}")
    for fmt in ProofFormat:
        m = measure(fmt, args.runs)
        print(f"{fmt.value:<10}{m['declare']:>10.2f}{m['bind']:>10.2f}{m['verify']:>10.2f}{m['total']:>10.2f}")


if __name__ == "__main__":
    main()
