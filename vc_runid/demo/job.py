"""``vc-runid demo``: the whole job, end to end, on the embedded default (zero setup).

Declares a run of the bundled local model, runs it, binds the output, verifies the pair offline,
then shows that a tampered output fails. Every file it makes is left in place to inspect.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._internal.timeutil import utc_now
from ..errors import UsageError
from ..runs.manifest import compose_from_manifest
from ..runs.runner import run
from ..runs.verify import verify_run
from ..store.files import write_secured
from ..store.home import DEMO_DIR, init_home
from ..store.runs import RunStore
from ..vc.dids import DidResolver
from ..vc.formats import ProofFormat
from ..vc.policy import TrustPolicy
from ..vc.verification import VerificationReport, Verifier
from .model import MODEL_ID, WEIGHTS_DIR, BigramModel

SYSTEM_PROMPT = "You answer questions about verifiable run declarations in one sentence.\n"
QUESTION = "What does an auditor check about a run declaration?\n"
SEARCH_TOOL = {
    "name": "search_docs",
    "description": "Search the project documentation.",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
}
PARAMETERS: dict[str, Any] = {"temperature": 0.7, "max_tokens": 24, "seed": 7}

MANIFEST = f"""# A run manifest: every path is relative to this file.
model: {{id: {MODEL_ID}, provider: local, weights: ./weights}}
parameters: {json.dumps(PARAMETERS)}
instructions: [prompts/system.txt]
retrieval: [docs/about.md]
tools: [tools/search_docs.json]
input: input.txt
executor: {{id: demo-executor, software: {{vc-runid-demo: "1"}}}}
"""


def _workspace(directory: Path) -> Path:
    if directory.exists() and any(directory.iterdir()):
        # The demo writes (and replaces) files here; it never touches a directory it did not make.
        raise UsageError(f"{directory} is not empty: give the demo a new or empty --out-dir")
    (directory / "prompts").mkdir(parents=True, exist_ok=True)
    (directory / "docs").mkdir(exist_ok=True)
    (directory / "tools").mkdir(exist_ok=True)
    shutil.copytree(WEIGHTS_DIR, directory / "weights")
    (directory / "prompts" / "system.txt").write_text(SYSTEM_PROMPT)
    (directory / "docs" / "about.md").write_text("A run declaration is issued before the run starts.\n")
    (directory / "tools" / "search_docs.json").write_text(json.dumps(SEARCH_TOOL, indent=2))
    (directory / "input.txt").write_text(QUESTION)
    manifest = directory / "manifest.yaml"
    manifest.write_text(MANIFEST)
    return manifest


def _summary(report: VerificationReport) -> list[str]:
    lines = []
    for check in report.checks:
        mark = "ok  " if check.passed else "FAIL"
        code = f" [{check.code}]" if check.code else ""
        lines.append(f"    {mark} {check.name}{code}: {check.message}")
    return lines


def run_demo(home: Path, out_dir: Path | None, echo: Callable[[str], None] = print) -> int:
    """``vc-runid demo``: declare, run, bind and verify the demo job; 0 when all went as shown."""
    issuer, created = init_home(home)
    echo(f"1. issuer  {issuer.did}  ({'new key' if created else 'existing key'} in {home / 'keys'})")
    directory = out_dir or home / DEMO_DIR / utc_now().strftime("%Y%m%dT%H%M%S%fZ")
    manifest = _workspace(directory)
    composition, disclosures = compose_from_manifest(manifest)
    store = RunStore.in_home(home)
    model = BigramModel(directory / "weights")

    with run((composition, disclosures), issuer=issuer, store=store, proof_format=ProofFormat.DI) as current:
        echo(f"2. declared run {current.run_id} before it started (declaration {current.declaration_id})")
        answer = model.generate(QUESTION, **PARAMETERS) + "\n"
        echo(f"3. ran {MODEL_ID}: {answer.strip()!r}")
        current.record_output(answer, observed={"modelId": MODEL_ID})
    echo("4. bound the output to the declaration (by id and digest)")

    write_secured(directory / "declaration.json", current.declaration)
    assert current.binding is not None
    write_secured(directory / "binding.json", current.binding)
    (directory / "output.txt").write_text(answer)

    # An auditor trusts an issuer by its DID: here, the demo home's own issuer.
    policy = TrustPolicy.trusting(issuer.did)
    verifier = Verifier(resolver=DidResolver({issuer.did: issuer.did_document()}), now=utc_now(), policy=policy)
    echo(f"   trust policy: {policy.describe()}")
    report = verify_run(current.declaration, current.binding, verifier=verifier, output=answer.encode())
    echo(f"5. verified offline: {'VALID' if report.valid else 'INVALID'} ({report.status})")
    for line in _summary(report):
        echo(line)

    tampered = answer.replace("the", "a", 1).encode()
    (directory / "output-tampered.txt").write_bytes(tampered)
    tamper_report = verify_run(current.declaration, current.binding, verifier=verifier, output=tampered)
    caught = not tamper_report.valid and "RUNID_OUTPUT_MISMATCH" in tamper_report.error_codes
    echo(f"6. a tampered output: {'INVALID' if not tamper_report.valid else 'VALID (unexpected!)'}")
    for check in tamper_report.failures:
        echo(f"    FAIL {check.name} [{check.code}]: {check.message}")

    echo(f"\nfiles in {directory}: manifest.yaml, declaration.json, binding.json, output.txt")
    echo("for wallets without VC 2.0 Data Integrity yet (Credo, Veramo, ACA-Py): declare/run --profile compatible (docs/formats.md)")
    program = command_name()
    echo(f"re-check them yourself:  {program} verify {directory / 'declaration.json'} "
         f"{directory / 'binding.json'} --output {directory / 'output.txt'} --trusted-issuer {issuer.did}")
    if program != "vc-runid":
        echo("(vc-runid is not on your PATH: run it as above, or `source .venv/bin/activate` first)")
    return 0 if report.valid and caught else 1


def command_name() -> str:
    """How the user can run vc-runid again: ``vc-runid`` when that name on the PATH is this very
    program, else this program's own path (e.g. ``.venv/bin/vc-runid`` after ``scripts/demo``)."""
    program = sys.argv[0] if sys.argv and os.path.basename(sys.argv[0]) == "vc-runid" else None
    if program is None:
        return f"{sys.executable} -m vc_runid"
    on_path = shutil.which("vc-runid")
    if on_path is not None and os.path.realpath(on_path) == os.path.realpath(program):
        return "vc-runid"
    relative = os.path.relpath(program)
    return relative if not relative.startswith("..") else os.path.abspath(program)
