#!/usr/bin/env bash
# Wrap any command in a run declaration: declare -> run the command -> bind its stdout -> verify.
#
#   bash examples/run_wrapper.sh          (from the repository root, with the venv on PATH)
#
# Keys and the run store go to $RUNID_HOME (default ./.runid); the run's files to $OUT_DIR
# (default: a new temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."

cli="${VC_RUNID:-vc-runid}"
if ! command -v "$cli" >/dev/null; then
  echo "vc-runid is not on PATH: activate the venv (or set VC_RUNID=/path/to/vc-runid)" >&2
  exit 2
fi
python="${PYTHON:-python3}"
out_dir="${OUT_DIR:-$(mktemp -d)}"

"$cli" init >/dev/null    # idempotent: an existing issuer key is kept

# Everything after -- is the command. Its exit code is passed on; its stdout is the output.
"$cli" run --manifest examples/wrapper/manifest.yaml --out-dir "$out_dir" -- \
  "$python" examples/wrapper/job.py

# What an auditor does with the three files, offline, trusting this issuer's DID (and no other):
"$cli" verify "$out_dir/declaration.json" "$out_dir/binding.json" --output "$out_dir/output.txt" \
  --trusted-issuer "$("$cli" did show)"
