"""Run the W3C and W3C-CCG Verifiable Credentials test suites against a real ``vc-runid serve``.

    bash scripts/conformance                      # every suite; fails on an unexplained failure
    bash scripts/conformance --suite vc-api-verifier-test-suite --write-doc

The suites (sources at pinned commits, their GitHub-only npm dependencies packed as tarballs) live
in ``../shared/conformance/w3c`` beside the repository. For each suite this copies the sources
into ``.cache/conformance/<suite>-<hash>`` (the hash covers the rewritten ``package.json`` and the
tarballs, so a second run reuses the installed ``node_modules``), points its ``github:``
dependencies at the tarballs, installs the rest from the npm registry, writes vc-runid's
``localConfig.cjs``, and runs mocha with the JSON reporter against one service started over TLS
on 127.0.0.1 with a certificate made for this run.

A failing test is accepted only when it is listed in ``known_fixture_defects.json`` (suite,
full title, reason, what the reference verifier answers): those fixtures are wrong and vc-runid
must keep rejecting them. Everything else that fails fails the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import hashlib
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEFECTS_FILE = HERE / "known_fixture_defects.json"
RESULTS_FILE = HERE / "results.json"
DOC_FILE = REPO / "docs" / "conformance.md"
CACHE = REPO / ".cache" / "conformance"

#: How long one suite's mocha run may take before it is killed (the slowest takes ~30 s).
SUITE_TIMEOUT = 300
#: Per mocha test and hook. The suites' own npm script says 15 s; CI machines shared by several
#: jobs have been seen to need more for a single request, and a slow answer is not a failure here
#: (speed is measured in benchmarks/, not in tests).
MOCHA_TIMEOUT_MS = 60000
#: How long ``npm install`` of one suite may take on a cold cache.
INSTALL_TIMEOUT = 600

#: The suites, in the order of the results table.
SUITES = [
    "vc-data-model-2.0-test-suite",
    "vc-di-eddsa-test-suite",
    "vc-di-ecdsa-test-suite",
    "vc-di-ed25519signature2020-test-suite",
    "vc-api-issuer-test-suite",
    "vc-api-verifier-test-suite",
    "vc-bitstring-status-list-test-suite",
]

#: The implementation name the suites report and the vc-api-verifier suite looks its JWT
#: fixtures' issuer up by (ISSUER_NAME / ISSUER_NAME_JWT).
NAME = "vc-runid"


def shared_dir() -> Path | None:
    """``../shared/conformance/w3c`` beside the repository (``VC_RUNID_W3C_SUITES`` overrides)."""
    override = os.environ.get("VC_RUNID_W3C_SUITES")
    candidate = Path(override) if override else REPO.parent / "shared" / "conformance" / "w3c"
    return candidate if (candidate / "suites").is_dir() and (candidate / "deps").is_dir() else None


# --- installing a suite ---------------------------------------------------------------------------


def rewritten_package(suite_dir: Path, deps_dir: Path) -> dict[str, Any]:
    """The suite's package.json, installable here: ``github:`` dependencies point at the packed
    tarballs; the did-io range the ECDSA suite asks for resolves to a version whose tarball the
    registry does not serve, so it is pinned (README of the shared folder); the interop reporter
    is not needed (mocha's JSON reporter is used)."""
    package: dict[str, Any] = json.loads((suite_dir / "package.json").read_text())
    for section in ("dependencies", "devDependencies"):
        for name, spec in list(package.get(section, {}).items()):
            if isinstance(spec, str) and spec.startswith("github:"):
                owner_repo = spec.removeprefix("github:").split("#")[0]
                tarball = deps_dir / (owner_repo.replace("/", "+") + ".tgz")
                if not tarball.is_file():
                    raise SystemExit(f"conformance: {suite_dir.name} needs {spec}: no {tarball}")
                package[section][name] = f"file:{tarball}"
    # Linters are never run here: dropping them halves the install.
    package.pop("devDependencies", None)
    deps = package.setdefault("dependencies", {})
    if "mocha" not in deps:
        deps["mocha"] = "^10.7.3"
    if "@digitalbazaar/did-io" in deps:
        deps["@digitalbazaar/did-io"] = "2.1.0"
        package.setdefault("overrides", {})["@digitalbazaar/did-io"] = "$@digitalbazaar/did-io"
    package.pop("scripts", None)  # no postinstall git clone: the ECDSA test vectors are copied
    return package


def cache_key(package: dict[str, Any], deps_dir: Path) -> str:
    digest = hashlib.sha256(json.dumps(package, sort_keys=True).encode())
    for tarball in sorted(deps_dir.glob("*.tgz")):
        digest.update(hashlib.sha256(tarball.read_bytes()).digest())
    return digest.hexdigest()[:16]


def prepare(suite: str, shared: Path, log: Any) -> Path:
    """A directory holding the suite's sources and its installed node_modules."""
    source = shared / "suites" / suite
    package = rewritten_package(source, shared / "deps")
    work = CACHE / f"{suite}-{cache_key(package, shared / 'deps')}"
    work.mkdir(parents=True, exist_ok=True)
    # Sources are copied afresh every run (they are small); node_modules is kept.
    for item in source.iterdir():
        if item.name in ("node_modules", "package-lock.json", "reports"):
            continue
        target = work / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True, copy_function=shutil.copyfile)
        else:
            shutil.copyfile(item, target)
    (work / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    if suite == "vc-di-ecdsa-test-suite":
        provide_ecdsa_vectors(work)
    marker = work / "node_modules" / ".vc-runid-installed"
    if not marker.exists():
        started = time.monotonic()
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--no-package-lock"],
            cwd=work, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"conformance: npm install failed for {suite}:\n{result.stderr[-4000:]}")
        marker.write_text(f"{time.monotonic() - started:.1f}\n")
        if log is not None:
            print(f"conformance: installed {suite} in {time.monotonic() - started:.0f} s", file=log, flush=True)
    return work


def prepare_all(suites: Sequence[str], shared: Path, log: Any) -> dict[str, Path]:
    """:func:`prepare` every suite, four npm installs at a time (they wait on the network and the
    disk more than on the CPU: a cold install of the seven takes half as long)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(suites, pool.map(lambda suite: prepare(suite, shared, log), suites), strict=True))


def provide_ecdsa_vectors(work: Path) -> None:
    """The ECDSA suite signs its verifier fixtures with the spec's P-256/P-384 test key pairs,
    which its postinstall clones from w3c/vc-di-ecdsa. When the shared snapshot lacks that folder,
    the two key pairs kept beside this file (TestVectors/ of w3c/vc-di-ecdsa at the commit in
    COMMITS.txt) are used; nothing is cloned."""
    target = work / "tests" / "input" / "vc-di-ecdsa" / "TestVectors"
    if (target / "p256KeyPair.json").exists():
        return
    target.mkdir(parents=True, exist_ok=True)
    for vector in (HERE / "vc-di-ecdsa-TestVectors").glob("*.json"):
        shutil.copy2(vector, target / vector.name)


# --- the service ----------------------------------------------------------------------------------


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid for a day (the suites do not check it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Service:
    url: str
    token: str
    #: The DID ``POST /credentials/issue`` signs as, per key type ("Ed25519", "P-256").
    dids: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    home: Path


def cli() -> list[str]:
    return [sys.executable, "-m", "vc_runid"]


@contextmanager
def running_service(directory: Path, extra_args: Sequence[str] = ()) -> Iterator[Service]:
    """``vc-runid serve`` over TLS on a free port of 127.0.0.1, with a fresh home and a token."""
    home = directory / "home"
    subprocess.run([*cli(), "init", "--home", str(home)], check=True, capture_output=True, timeout=60)
    token = subprocess.run(
        [*cli(), "tokens", "create", "w3c-suites", "--home", str(home)],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout.strip()
    dids = issuing_dids(home)
    cert, key = make_certificate(directory)
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    log_path = directory / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*cli(), "serve", "--home", str(home), "--port", str(port), "--public-url", url,
             "--tls-cert", str(cert), "--tls-key", str(key), *extra_args],
            stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        run_issuer = wait_until_up(url, process, log_path)
        yield Service(url, token, dids or {"Ed25519": run_issuer, "P-256": run_issuer}, process, log_path, home)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


_DIDS_SCRIPT = """
import json, sys
from pathlib import Path
from vc_runid.store.home import load_issuer
try:
    from vc_runid.server.issuance import GenericIssuer
except ImportError:  # a service without a generic issuer signs requested credentials as itself
    print("{}")
    sys.exit(0)
generic = GenericIssuer.in_home(Path(sys.argv[1]), load_issuer(Path(sys.argv[1])))
print(json.dumps({key_type.value: signer.did for key_type, signer in generic.signers.items()}))
"""


def issuing_dids(home: Path) -> dict[str, str]:
    """The generic issuer's DIDs in ``home`` (its keys are made here, before the service starts,
    as the service itself would on its first request), read by the code the service runs."""
    answer = subprocess.run([sys.executable, "-c", _DIDS_SCRIPT, str(home)], check=True, capture_output=True,
                            text=True, timeout=60)
    found: dict[str, str] = json.loads(answer.stdout)
    names = {"ed25519": "Ed25519", "p256": "P-256", "P-256": "P-256", "Ed25519": "Ed25519"}
    return {names.get(k, k): v for k, v in found.items()}


def wait_until_up(url: str, process: subprocess.Popen[bytes], log_path: Path) -> str:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"conformance: vc-runid serve exited:\n{log_path.read_text()[-4000:]}")
        try:
            response = httpx.get(f"{url}/log/checkpoint", verify=False, timeout=2)
            if response.status_code == 200:
                return response.text.split("\n", 1)[0]
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"conformance: vc-runid serve did not answer within 60 s:\n{log_path.read_text()[-4000:]}")


# --- localConfig.cjs ------------------------------------------------------------------------------


def endpoint(service: Service, path: str, tags: list[str], key_type: str = "Ed25519", **extra: Any) -> dict[str, Any]:
    return {
        "id": service.dids.get(key_type, service.dids["Ed25519"]),
        "endpoint": f"{service.url}{path}",
        "headers": {"Authorization": f"Bearer {service.token}"},
        "tags": tags,
        **extra,
    }


def implementations(suite: str, service: Service) -> list[dict[str, Any]]:
    """What vc-runid offers each suite: the endpoints, the tags that select the tests, and the
    VC API ``options`` that select a proof format on issue."""
    def issuer(tags: list[str], options: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        if options:
            extra = {**extra, "options": options}
        return endpoint(service, "/credentials/issue", tags, **extra)

    def verifier(tags: list[str], **extra: Any) -> dict[str, Any]:
        return endpoint(service, "/credentials/verify", tags, **extra)

    def vp_verifier(tags: list[str]) -> dict[str, Any]:
        return endpoint(service, "/presentations/verify", tags)

    base = {"name": NAME, "implementation": "vc-runid"}
    vc2 = {"supports": {"vc": ["1.1", "2.0"]}}
    if suite == "vc-data-model-2.0-test-suite":
        return [{**base, "issuers": [issuer(["vc2.0"], {"format": "di"}), issuer(["EnvelopingProof"], {"format": "jose"})],
                 "verifiers": [verifier(["vc2.0", "EnvelopingProof"])],
                 "vpVerifiers": [vp_verifier(["vc2.0", "EnvelopingProof"])]}]
    if suite == "vc-di-eddsa-test-suite":
        return [{**base,
                 "issuers": [issuer(["eddsa-rdfc-2022"], {"format": "di"}, **vc2),
                             issuer(["eddsa-jcs-2022"], {"format": "eddsa-jcs"}, **vc2)],
                 "verifiers": [verifier(["eddsa-rdfc-2022"], **vc2), verifier(["eddsa-jcs-2022"], **vc2)]}]
    if suite == "vc-di-ecdsa-test-suite":
        p256 = {"supportedEcdsaKeyTypes": ["P-256"], "key_type": "P-256", **vc2}
        return [{**base,
                 "issuers": [issuer(["ecdsa-rdfc-2019"], {"format": "ecdsa"}, **p256),
                             issuer(["ecdsa-jcs-2019"], {"format": "ecdsa-jcs"}, **p256)],
                 "verifiers": [verifier(["ecdsa-rdfc-2019"], **p256), verifier(["ecdsa-jcs-2019"], **p256)]}]
    if suite == "vc-di-ed25519signature2020-test-suite":
        return [{**base, "issuers": [issuer(["Ed25519Signature2020"], {"format": "di-2020"})],
                 "verifiers": [verifier(["Ed25519Signature2020"])]}]
    if suite == "vc-api-issuer-test-suite":
        return [{**base, "issuers": [issuer(["vc-api"], {"format": "di"}),
                                     issuer(["vc-api", "JWT"], {"format": "jwt-1.1"})]}]
    if suite == "vc-api-verifier-test-suite":
        return [{**base,
                 "issuers": [issuer(["vc-api"], {"format": "di"}), issuer(["vc-api", "JWT"], {"format": "jwt-1.1"})],
                 "verifiers": [verifier(["vc-api"]), verifier(["vc-api", "JWT"])],
                 "vpVerifiers": [vp_verifier(["vc-api"]), vp_verifier(["vc-api", "JWT"])]}]
    if suite == "vc-bitstring-status-list-test-suite":
        status = {"format": "di", "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}
        return [{**base, "issuers": [issuer(["BitstringStatusList"], status)],
                 "verifiers": [verifier(["BitstringStatusList"])],
                 "vpVerifiers": [vp_verifier(["BitstringStatusList"])]}]
    raise SystemExit(f"conformance: no configuration for {suite}")


def write_local_config(work: Path, suite: str, service: Service) -> None:
    config = {
        "settings": {"enableInteropTests": False, "testAllImplementations": False},
        "implementations": implementations(suite, service),
    }
    (work / "localConfig.cjs").write_text(
        "// Written by vc-runid's tests/conformance/runner.py for this run.\n"
        f"module.exports = {json.dumps(config, indent=2)};\n"
    )


# --- running mocha --------------------------------------------------------------------------------


@dataclass
class SuiteResult:
    suite: str
    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # full title -> error message
    pending: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


def run_suite(work: Path, suite: str, service: Service) -> SuiteResult:
    write_local_config(work, suite, service)
    output = work / "mocha-results.json"
    output.unlink(missing_ok=True)
    env = {
        **os.environ,
        "APP_ROOT_PATH": str(work),  # where vc-test-suite-implementations looks for localConfig.cjs
        "ISSUER_NAME": NAME, "ISSUER_NAME_JWT": NAME,
        "NODE_TLS_REJECT_UNAUTHORIZED": "0",  # the service's certificate is made for this run
        "NODE_NO_WARNINGS": "1",
    }
    started = time.monotonic()
    mocha = work / "node_modules" / ".bin" / "mocha"
    try:
        completed = subprocess.run(
            [str(mocha), "tests/", "--timeout", str(MOCHA_TIMEOUT_MS), "--preserve-symlinks",
             "--reporter", "json", "--reporter-option", f"output={output}"],
            cwd=work, env=env, capture_output=True, text=True, timeout=SUITE_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired:
        return SuiteResult(suite, seconds=time.monotonic() - started, error=f"mocha ran over {SUITE_TIMEOUT} s")
    result = SuiteResult(suite, seconds=time.monotonic() - started)
    if not output.exists():
        result.error = f"mocha wrote no results (exit {completed.returncode}):\n{completed.stderr[-4000:]}"
        return result
    report = json.loads(output.read_text())
    for test in report.get("passes", []):
        result.passed.append(test["fullTitle"])
    for test in report.get("failures", []):
        err = test.get("err") or {}
        result.failed[test["fullTitle"]] = str(err.get("message", ""))[:500]
    for test in report.get("pending", []):
        result.pending.append(test["fullTitle"])
    return result


# --- the verdict ----------------------------------------------------------------------------------


def load_defects() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(DEFECTS_FILE.read_text())["defects"]
    return entries


def unexplained(results: list[SuiteResult], defects: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(suite, test, message) of every failure not on the fixture-defect list."""
    known = {(d["suite"], test) for d in defects for test in d["tests"]}
    bad = [(r.suite, "(suite did not run)", r.error) for r in results if r.error]
    for r in results:
        bad += [(r.suite, t, m) for t, m in r.failed.items() if (r.suite, t) not in known]
        # A defective fixture that now verifies: fixed upstream, or verification was weakened.
        bad += [
            (r.suite, t, "listed as a fixture defect, but it passed: re-check the fixture and the verifier")
            for t in r.passed if (r.suite, t) in known
        ]
    return bad


def counts(result: SuiteResult) -> dict[str, int]:
    return {"passed": len(result.passed), "failed": len(result.failed), "pending": len(result.pending)}


def save_results(results: list[SuiteResult], *, as_before: bool = False) -> None:
    """Record the counts and failures of this run in results.json (the doc's source); with
    ``as_before``, also as the baseline the table compares with."""
    previous = json.loads(RESULTS_FILE.read_text()) if RESULTS_FILE.exists() else {"suites": {}}
    for r in results:
        before = counts(r) if as_before else previous["suites"].get(r.suite, {}).get("before")
        previous["suites"][r.suite] = {**counts(r), "failures": r.failed, "error": r.error, "before": before}
    RESULTS_FILE.write_text(json.dumps(previous, indent=2, sort_keys=True) + "\n")


def render_table(results: dict[str, Any]) -> str:
    rows = ["| Suite | Passed | Failed | Pending | Before (passed/total) |", "|---|---:|---:|---:|---|"]
    totals = {"passed": 0, "failed": 0, "pending": 0}
    before_passed = before_total = 0
    for suite in SUITES:
        entry = results["suites"].get(suite)
        if entry is None:
            rows.append(f"| {suite} | – | – | – | – |")
            continue
        before = entry.get("before")
        before_text = f"{before['passed']}/{before['passed'] + before['failed']}" if before else "–"
        if before:
            before_passed += before["passed"]
            before_total += before["passed"] + before["failed"]
        rows.append(f"| {suite} | {entry['passed']} | {entry['failed']} | {entry['pending']} | {before_text} |")
        for key in totals:
            totals[key] += entry[key]
    rows.append(
        f"| **all** | **{totals['passed']}** | **{totals['failed']}** | **{totals['pending']}** | "
        f"{before_passed}/{before_total} |"
    )
    return "\n".join(rows)


def render_defects(defects: list[dict[str, Any]]) -> str:
    lines = []
    for d in defects:
        tests = "".join(f"\n  - “{test}”" for test in d["tests"])
        fixture = f" Fixture: `tests/conformance/{d['fixture']}`." if d.get("fixture") else ""
        lines.append(f"- **{d['suite']}**, {len(d['tests'])} test{'s' if len(d['tests']) > 1 else ''}:{tests}\n"
                     f"  - Why: {d['reason']}{fixture}\n  - Reference: {d['reference']}")
    return "\n".join(lines)


TABLE_START, TABLE_END = "<!-- results table: generated by tests/conformance/runner.py -->", "<!-- end of results table -->"
DEFECTS_START, DEFECTS_END = "<!-- fixture defects: generated -->", "<!-- end of fixture defects -->"


def write_doc() -> None:
    """Replace the generated regions of docs/conformance.md (the prose around them is kept)."""
    results = json.loads(RESULTS_FILE.read_text())
    text = DOC_FILE.read_text()
    text = _replace(text, TABLE_START, TABLE_END, render_table(results))
    text = _replace(text, DEFECTS_START, DEFECTS_END, render_defects(load_defects()))
    DOC_FILE.write_text(text)


def _replace(text: str, start: str, end: str, body: str) -> str:
    head, found, rest = text.partition(start)
    if not found or end not in rest:
        raise SystemExit(f"conformance: {DOC_FILE} has no {start} … {end} region")
    return f"{head}{start}\n{body}\n{end}{rest.split(end, 1)[1]}"


# --- main -----------------------------------------------------------------------------------------


@contextmanager
def locked() -> Iterator[None]:
    """One conformance run at a time per checkout: runs share the cached suite directories."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def run(suites: list[str], *, log: Any = sys.stderr) -> list[SuiteResult]:
    shared = shared_dir()
    if shared is None:
        raise SystemExit("conformance: ../shared/conformance/w3c is not beside the repository")
    results: list[SuiteResult] = []
    with locked(), tempfile.TemporaryDirectory(prefix="vc-runid-w3c-") as scratch:
        works = prepare_all(suites, shared, log)
        with running_service(Path(scratch)) as service:
            for suite in suites:
                result = run_suite(works[suite], suite, service)
                c = counts(result)
                print(f"conformance: {suite}: {c['passed']} passed, {c['failed']} failed, {c['pending']} pending "
                      f"({result.seconds:.0f} s){' — ' + result.error if result.error else ''}", file=log, flush=True)
                results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", action="append", choices=SUITES, help="run only this suite (repeatable)")
    parser.add_argument("--write-doc", action="store_true", help="regenerate the table in docs/conformance.md")
    parser.add_argument("--before", action="store_true", help="record these counts as the 'before' column")
    parser.add_argument("--install-only", action="store_true", help="install the suites and stop")
    args = parser.parse_args(argv)
    suites = args.suite or SUITES
    if args.install_only:
        shared = shared_dir()
        if shared is None:
            raise SystemExit("conformance: ../shared/conformance/w3c is not beside the repository")
        with locked():
            prepare_all(suites, shared, None)  # silent: scripts/test prints one line per step
        return 0
    results = run(suites)
    save_results(results, as_before=args.before)
    if args.write_doc:
        write_doc()
    if args.before:
        return 0
    bad = unexplained(results, load_defects())
    for suite, test, message in bad:
        print(f"FAIL {suite}: {test}\n     {message}", file=sys.stderr)
    print(f"conformance: {len(bad)} failure(s) not on the fixture-defect list", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
