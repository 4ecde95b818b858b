"""The declaring gateway end to end, on this machine, with no key and no download:

1. serve the bundled demo model over HTTP (an OpenAI-compatible server, 127.0.0.1:8000-ish);
2. start ``vc-runid gateway`` in front of it, signing with the issuer key in $RUNID_HOME;
3. call it with the official ``openai`` client, streaming and not — the client is unchanged,
   only its base URL points at the gateway;
4. fetch each run's declaration and binding from the gateway and verify them offline with
   ``vc-runid verify --trust`` (a policy trusting the gateway's issuer), output included.

    python examples/gateway_demo.py
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import openai

from vc_runid.demo import MODEL_ID


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(command: list[str], ready: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(ready, timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"{command} did not start")


def verify(run_url: str, output: bytes, workdir: Path, name: str) -> int:
    deadline = time.monotonic() + 10
    while (run := httpx.get(run_url, timeout=10).json())["status"] != "bound" and time.monotonic() < deadline:
        time.sleep(0.05)  # a stream is bound once its last byte has gone out
    files = {kind: workdir / f"{name}.{kind}.json" for kind in ("declaration", "binding")}
    for kind, path in files.items():
        path.write_text(json.dumps(run[kind], indent=2))
    (workdir / f"{name}.output").write_bytes(output)
    policy = workdir / "trust.json"
    policy.write_text(json.dumps({"issuers": [run["declaration"]["issuer"]]}))
    result = subprocess.run(
        [sys.executable, "-m", "vc_runid", "verify", str(files["declaration"]), str(files["binding"]),
         "--output", str(workdir / f"{name}.output"), "--trust", str(policy)],
        capture_output=True, text=True, check=False,
    )
    print(result.stdout.splitlines()[0] if result.stdout else result.stderr)
    return result.returncode


def main() -> int:
    upstream_port, gateway_port = free_port(), free_port()
    upstream = start([sys.executable, "-m", "vc_runid.gateway.demo_upstream", "--port", str(upstream_port)],
                     f"http://127.0.0.1:{upstream_port}/v1/models")
    gateway = start([sys.executable, "-m", "vc_runid", "gateway", "--upstream", f"http://127.0.0.1:{upstream_port}/v1",
                     "--port", str(gateway_port)], f"http://127.0.0.1:{gateway_port}/v1/models")
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{gateway_port}/v1", api_key="unused", max_retries=0)
        messages = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "what is a run"}]
        raw = client.chat.completions.with_raw_response.create(model=MODEL_ID, messages=messages, temperature=0)
        print(f"answer: {raw.parse().choices[0].message.content!r}")
        print(f"run {raw.headers['Runid-Run-Id']} declared before the call, pair at {raw.headers['Runid-Run-Url']}")
        stream = client.chat.completions.create(model=MODEL_ID, messages=messages, stream=True)
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        stream_url = stream.response.headers["Runid-Run-Url"]
        with tempfile.TemporaryDirectory() as directory:
            workdir = Path(directory)
            codes = [verify(raw.headers["Runid-Run-Url"], raw.content, workdir, "chat"),
                     verify(stream_url, text.encode(), workdir, "stream")]
    finally:
        for process in (gateway, upstream):
            process.terminate()
            process.wait(10)
    return max(codes)


if __name__ == "__main__":
    os.environ.setdefault("RUNID_HOME", ".runid")
    sys.exit(main())
