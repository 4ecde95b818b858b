"""Hashing a model directory of about 1 GB: OpenSSF Model Signing's manifest (``model-signing``,
the OMS root digest) against vc-runid's own weights digest (``hash_weights``).

    python benchmarks/bench_oms.py [--gib 1.0] [--files 4] [--repeat 3] [--dir DIR] [--json out.json]

The directory is written once with random bytes (``--dir`` to reuse one); each method then hashes
it ``--repeat`` times and the best and median wall times are reported, with the page cache warm
after the first pass (a cold read is the disk's speed, not the hasher's). Needs the ``oms`` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vc_runid.runs.digests import hash_weights
from vc_runid.runs.weights_oms import oms_root_digest


def make_model(directory: Path, total: int, files: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text('{"hidden_size": 4096}')
    chunk = os.urandom(1 << 20)
    per_file = total // files
    for i in range(files):
        with open(directory / f"model-{i + 1:05d}-of-{files:05d}.safetensors", "wb") as handle:
            handle.writelines(chunk for _ in range(per_file >> 20))


def timed(action: object, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="runid-bench-oms-")) / "model"
    if not directory.exists():
        make_model(directory, int(args.gib * (1 << 30)), args.files)
    size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
    hash_weights(directory)  # warm the page cache once, for both methods alike
    results = {"bytes": size, "files": sum(1 for p in directory.rglob("*") if p.is_file()), "cpus": os.cpu_count(),
               "loadavg_before": os.getloadavg()}
    for name, action in (("vc-runid hash_weights", lambda: hash_weights(directory)),
                         ("OMS model-signing", lambda: oms_root_digest(directory))):
        times = timed(action, args.repeat)
        results[name] = {"best_s": round(min(times), 3), "median_s": round(statistics.median(times), 3),
                         "MB_per_s": round(size / min(times) / 1e6, 1)}
        print(name, json.dumps(results[name]), flush=True)
    results["loadavg_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.dir is None:
        shutil.rmtree(directory.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
