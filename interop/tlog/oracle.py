"""An independent C2SP signed-note / tlog-cosignature implementation (PyPI ``aics-tlog``), asked
one question per run: JSON on stdin, JSON on stdout. Runs under interop/tlog/.venv (Python 3.12,
which aics-tlog needs), never imported by vc-runid.

    {"op": "verify", "note": ..., "log_vkey": ..., "witness_vkeys": [...], "quorum": K}
        -> {"ok": bool, "log_ok": bool, "cosignatures": n, "witnesses": [...], "error": ...}
    {"op": "cosign", "note": ..., "name": ..., "seed": hex, "timestamp": T}
        -> {"line": "— name base64\\n", "vkey": "..."}
    {"op": "sign", "origin": ..., "size": n, "root": base64, "name": ..., "seed": hex}
        -> {"note": ..., "vkey": ...}
"""

import base64
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import aics_tlog
from aics_tlog.checkpoint import checkpoint_from_note


def main() -> None:
    request = json.load(sys.stdin)
    op = request["op"]
    if op == "verify":
        note = aics_tlog.parse_note(request["note"])
        result = aics_tlog.verify_checkpoint(
            note,
            aics_tlog.parse_vkey(request["log_vkey"]),
            [aics_tlog.parse_vkey(v) for v in request.get("witness_vkeys", [])],
            int(request.get("quorum", 0)),
        )
        out = {"ok": result.ok, "log_ok": result.log_ok, "cosignatures": result.cosignature_count,
               "witnesses": result.witnesses, "error": result.error}
    elif op == "cosign":
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(request["seed"]))
        checkpoint, _ = checkpoint_from_note(request["note"])
        _, line = aics_tlog.sign_cosignature(
            key, request["name"], int(request["timestamp"]), checkpoint.origin, checkpoint.size, checkpoint.root,
        )
        rendered = "\u2014 " + line.name + " " + base64.b64encode(line.key_id + line.signature).decode() + "\n"
        out = {"line": rendered, "vkey": aics_tlog.format_vkey(aics_tlog.cosignature_vkey(request["name"], key.public_key()))}
    elif op == "sign":
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(request["seed"]))
        cp = aics_tlog.Checkpoint(request["origin"], int(request["size"]), base64.b64decode(request["root"]))
        note = aics_tlog.sign_checkpoint(cp, key, request["name"])
        out = {"note": note.serialise(), "vkey": aics_tlog.format_vkey(aics_tlog.vkey_from_ed25519(request["name"], key.public_key()))}
    else:
        raise SystemExit(f"unknown op {op!r}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
