"""The Digital Bazaar JavaScript VC stack as an interoperability oracle.

Each call spawns ``node interop/js/dbverify.mjs`` with one JSON request on stdin. The script's
document loader is offline: it serves the pinned contexts in ``contexts/index.json``, the
caller's ``extra_contexts`` and did:key documents derived from the key itself, and refuses any
other URL with an error that names it.

    vc = issue_credential(credential, pk, sk, created="2023-02-24T23:36:38Z")
    assert verify_credential(vc)["verified"]

Install the JavaScript side once with ``npm ci --prefix interop/js``.

What the JS stack (@digitalbazaar/vc 7.3.0, data-integrity 2.5.0, eddsa-rdfc-2022-cryptosuite
1.3.0) was observed to do:

  * Issued proofs carry ``type``, ``created``, ``verificationMethod``, ``cryptosuite``,
    ``proofPurpose``, ``proofValue`` (a presentation proof adds ``challenge`` and ``domain``),
    and never an ``@context``: the proof options are canonicalised with the *document's*
    ``@context``, which is what the W3C proofConfig vector shows.
  * ``created`` from the clock is whole seconds UTC ("2023-02-24T23:36:38Z").
  * A VC 2.0 document is signed as is. A VC 1.1 document gets
    https://w3id.org/security/data-integrity/v2 appended to its ``@context`` and, if missing,
    an ``issuanceDate`` from the clock.
  * Verifying a credential (default ``check_issuer=True``) also requires ``issuer`` to equal
    the verification method's controller ("Credential issuer must match the verification method
    controller."). The W3C vectors fail that (https issuer, did:key signer), hence
    ``check_issuer=False``, which keeps only the assertionMethod authorisation check.
  * ``validFrom`` is optional; ``validFrom``/``validUntil`` are checked against the clock (or
    ``now``) with 300 s of skew. A credential with ``credentialStatus`` is refused unless
    ``ignore_status=True``.
  * verify_presentation checks the presentation proof (authentication, challenge and domain)
    *and* every enclosed credential.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
JS_DIR = REPO_ROOT / "interop" / "js"
SCRIPT = JS_DIR / "dbverify.mjs"
CONTEXTS_DIR = REPO_ROOT / "contexts"
TIMEOUT_S = 60

MISSING_REASON = (
    "Digital Bazaar JS interop harness unavailable: needs `node` (v20+) on PATH and the npm "
    "packages in interop/js/node_modules. Install them with: npm ci --prefix interop/js"
)


def _declared_packages() -> list[str]:
    manifest = json.loads((JS_DIR / "package.json").read_text(encoding="utf-8"))
    return list(manifest.get("dependencies", {}))


def node_available() -> bool:
    """True when node is on PATH and every package interop/js depends on is installed."""
    if shutil.which("node") is None:
        return False
    modules = JS_DIR / "node_modules"
    if not modules.is_dir():
        return False
    return all((modules / name / "package.json").is_file() for name in _declared_packages())


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Send one request to dbverify.mjs and return its JSON response.

    Raises AssertionError (with the script's stderr) if node cannot be run, times out, exits
    non-zero (a bad request, or an issuance the JS side refused) or prints something that is not
    one JSON object.
    """
    node = shutil.which("node")
    if node is None:
        raise AssertionError(MISSING_REASON)
    request = {"contextsDir": str(CONTEXTS_DIR), **request}
    try:
        proc = subprocess.run(
            [node, str(SCRIPT)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            cwd=JS_DIR,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"dbverify.mjs timed out after {TIMEOUT_S} s (op={request.get('op')!r}); "
            f"stderr:\n{exc.stderr or ''}"
        ) from exc
    if proc.returncode != 0:
        raise AssertionError(
            f"dbverify.mjs failed (exit {proc.returncode}, op={request.get('op')!r}): "
            f"{proc.stdout.strip()}\nstderr:\n{proc.stderr.strip()}"
        )
    try:
        response = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(
            f"dbverify.mjs printed no JSON (op={request.get('op')!r}): {proc.stdout!r}\n"
            f"stderr:\n{proc.stderr.strip()}"
        ) from exc
    if not isinstance(response, dict):
        raise AssertionError(f"dbverify.mjs answered with a non-object: {response!r}")
    return response


def _verify_options(
    extra_contexts: dict[str, Any] | None,
    check_issuer: bool,
    now: str | None,
    ignore_status: bool,
) -> dict[str, Any]:
    options: dict[str, Any] = {"extraContexts": extra_contexts or {}}
    if not check_issuer:
        options["checkIssuer"] = False
    if now is not None:
        options["now"] = now
    if ignore_status:
        options["ignoreStatus"] = True
    return options


def _signing_options(
    public_key_multibase: str,
    secret_key_multibase: str,
    created: str | None,
    extra_contexts: dict[str, Any] | None,
) -> dict[str, Any]:
    options: dict[str, Any] = {
        "publicKeyMultibase": public_key_multibase,
        "secretKeyMultibase": secret_key_multibase,
        "extraContexts": extra_contexts or {},
    }
    if created is not None:
        options["created"] = created
    return options


def verify_credential(
    cred: dict[str, Any],
    extra_contexts: dict[str, Any] | None = None,
    *,
    check_issuer: bool = True,
    now: str | None = None,
    ignore_status: bool = False,
) -> dict[str, Any]:
    """Verify an eddsa-rdfc-2022 credential; returns ``{"verified": bool, "error": str|None}``."""
    return run(
        {
            "op": "verifyCredential",
            "credential": cred,
            **_verify_options(extra_contexts, check_issuer, now, ignore_status),
        }
    )


def issue_credential(
    cred: dict[str, Any],
    public_key_multibase: str,
    secret_key_multibase: str,
    created: str | None = None,
    extra_contexts: dict[str, Any] | None = None,
    cryptosuite: str = "eddsa-rdfc-2022",
) -> dict[str, Any]:
    """Sign ``cred`` with did:key:<pk>#<pk> (assertionMethod) in ``cryptosuite``
    (``eddsa-rdfc-2022`` or ``eddsa-jcs-2022``); returns the signed credential."""
    response = run(
        {
            "op": "issueCredential",
            "credential": cred,
            "cryptosuite": cryptosuite,
            **_signing_options(
                public_key_multibase, secret_key_multibase, created, extra_contexts
            ),
        }
    )
    signed: dict[str, Any] = response["verifiableCredential"]
    return signed


def verify_presentation(
    vp: dict[str, Any],
    challenge: str,
    domain: str,
    extra_contexts: dict[str, Any] | None = None,
    *,
    check_issuer: bool = True,
    now: str | None = None,
    ignore_status: bool = False,
) -> dict[str, Any]:
    """Verify the VP proof (authentication, challenge, domain) and every enclosed credential."""
    return run(
        {
            "op": "verifyPresentation",
            "presentation": vp,
            "challenge": challenge,
            "domain": domain,
            **_verify_options(extra_contexts, check_issuer, now, ignore_status),
        }
    )


def issue_presentation(
    vp: dict[str, Any],
    challenge: str,
    domain: str,
    public_key_multibase: str,
    secret_key_multibase: str,
    created: str | None = None,
    extra_contexts: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Sign ``vp`` for authentication with did:key:<pk>#<pk>; returns the signed presentation."""
    response = run(
        {
            "op": "issuePresentation",
            "presentation": vp,
            "challenge": challenge,
            "domain": domain,
            **_signing_options(
                public_key_multibase, secret_key_multibase, created, extra_contexts
            ),
        }
    )
    signed: dict[str, Any] = response["verifiablePresentation"]
    return signed
