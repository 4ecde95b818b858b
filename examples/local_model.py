"""A run of a local model whose weights directory is hashed into the declaration.

The model is the small deterministic word-bigram model bundled with vc-runid
(`vc_runid.demo`); it loads its weights from files, like any local model. The declaration
commits to those files by one root digest; an auditor with the same weights recomputes it.

    python examples/local_model.py

Keys and the run store go to $RUNID_HOME, else ./.runid.
"""

from __future__ import annotations

import os
from pathlib import Path

import vc_runid as runid
from vc_runid.demo import MODEL_ID, WEIGHTS_DIR, BigramModel
from vc_runid.runs import verify_weights

PROMPT = "What does the issuer sign?"
PARAMETERS = {"max_tokens": 24, "temperature": 0.7, "seed": 3}


def main() -> int:
    home = Path(os.environ.get("RUNID_HOME") or ".runid")
    issuer, _ = runid.init_home(home)
    store = runid.RunStore.in_home(home)

    composition = (
        runid.CompositionBuilder()
        # every file under WEIGHTS_DIR is hashed; the root digest goes into the declaration
        .model(MODEL_ID, provider="local", weights=WEIGHTS_DIR)
        .parameters(PARAMETERS)
        .instruction("Continue the text.")
        .input(PROMPT)
        .build()
    )
    model = BigramModel(WEIGHTS_DIR)

    with runid.run(composition, issuer=issuer, store=store) as run:
        answer = model.generate(PROMPT, **PARAMETERS)
        run.record_output(answer, observed={"modelId": MODEL_ID})

    assert isinstance(run.declaration, dict) and run.output is not None
    weights = run.declaration["credentialSubject"]["model"]["weights"]
    print(f"model    {MODEL_ID}")
    files, size = weights["fileCount"], weights["size"]
    print(f"weights  {weights['digestMultibase']}  ({files} files, {size} bytes)")
    print(f"output   {answer!r}")

    report = runid.verify_run(run.declaration, run.binding, policy=runid.TrustPolicy.trusting(issuer.did), output=run.output)
    print(f"run {run.run_id}: {'VALID' if report.valid else 'INVALID'} ({report.status})")

    # The auditor's side of the weights: hash the weights they were given and compare.
    same = verify_weights(WEIGHTS_DIR, weights["digestMultibase"])
    print(f"weights on disk match the declaration: {same}")
    return 0 if report.valid and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
