"""The issuer service is not a signing oracle (issue 8 §2).

A client token may ask ``POST /credentials/issue`` for any credential. These tests are the attacks
that worked when that endpoint signed with the run/status key, kept the client's ``validFrom`` and
refused run credentials only by the literal strings in ``type``; each runs against the real
service process on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from vc_runid._internal.contexts import VC_V2
from vc_runid._internal.timeutil import format_datetime
from vc_runid.audit.log import AuditEntry, AuditReport, audit_entries
from vc_runid.cli.serve import log_app
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.runs.binding import build_binding, output_digest
from vc_runid.store.home import load_issuer
from vc_runid.store.runs import RunStore
from vc_runid.vc.status.bitstring import build_status_list_credential, check_status
from vc_runid.vc.verification import Verifier, verify_credential

from .conftest import Server
from .helpers import all_entries, bind, declare_and_wait, log_size

VOCAB = "https://w3id.org/vc-runid#"
STATUS_VOCAB = "https://www.w3.org/ns/credentials/status#"
RUN_CONTEXT = "https://w3id.org/vc-runid/v1"


@pytest.fixture
def alice(shared_server: Server) -> Iterator[httpx.Client]:
    with shared_server.client("alice") as c:
        yield c


@pytest.fixture
def bob(shared_server: Server) -> Iterator[httpx.Client]:
    with shared_server.client("bob") as c:
        yield c


@pytest.fixture
def admin(shared_server: Server) -> Iterator[httpx.Client]:
    with shared_server.client("admin") as c:
        yield c


#: base URL -> the generic issuer's DID: a VC API client names the issuer it asks for.
_GENERIC_DID: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _generic_did(shared_server: Server) -> None:
    from vc_runid.server.issuance import GenericIssuer

    _GENERIC_DID[shared_server.url] = GenericIssuer.in_home(shared_server.home, load_issuer(shared_server.home)).did


def issue(client: httpx.Client, credential: dict[str, Any], **options: Any) -> httpx.Response:
    if "issuer" not in credential:
        credential = {**credential, "issuer": _GENERIC_DID[str(client.base_url).rstrip("/")]}
    body: dict[str, Any] = {"credential": credential}
    if options:
        body["options"] = options
    return client.post("/credentials/issue", json=body)


def refused(response: httpx.Response, *codes: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] in codes, response.text


def unsigned(secured: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in secured.items() if k not in ("proof", "issuer", "credentialStatus")}


def generic(**extra: Any) -> dict[str, Any]:
    return {
        "@context": [VC_V2, {"@vocab": "https://example.org/vocab#"}],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:subject", "name": "Alice"},
        **extra,
    }


# --- attack 1: forging the service's status list ---------------------------------------------


def test_a_client_cannot_forge_the_services_status_list(alice: httpx.Client, admin: httpx.Client) -> None:
    declaration = declare_and_wait(alice)["declaration"]
    revoked = admin.post("/credentials/status", json={"credentialId": declaration["id"], "reason": "test"})
    assert revoked.status_code == 200, revoked.text
    real = alice.get("/status/1").json()
    size = log_size(alice)
    # The same id, every bit clear: were it signed by the run key it would hide the revocation.
    forged = build_status_list_credential(
        issuer_did=real["issuer"], list_url=real["id"], bitstring=bytearray(16384),
        valid_from=datetime.now(UTC), valid_until=datetime.now(UTC) + timedelta(days=1),
    )
    attempts = [
        {k: v for k, v in forged.items() if k != "issuer"},
        {**{k: v for k, v in forged.items() if k != "issuer"}, "type": ["VerifiableCredential", STATUS_VOCAB + "BitstringStatusListCredential"]},
        {**{k: v for k, v in forged.items() if k != "issuer"}, "id": "urn:uuid:7f2b6c7e-1d0c-4a57-9b0e-5bd1f0f7b0a1"},
    ]
    for attempt in attempts:
        refused(issue(alice, attempt), "RUNID_ISSUANCE_REFUSED")
    assert log_size(alice) == size
    with pytest.raises(RunIdError) as revoked_still:  # the genuine list still says revoked
        check_status(declaration, {real["id"]: real}, verifier=Verifier())
    assert revoked_still.value.code is ErrorCode.CREDENTIAL_REVOKED


def test_ids_in_the_services_url_space_are_refused(alice: httpx.Client, shared_server: Server) -> None:
    run_id = declare_and_wait(alice)["runId"]
    size = log_size(alice)
    for credential_id in (f"{shared_server.url}/status/1", f"{shared_server.url}/runs/{run_id}",
                          f"{shared_server.url}/anything", run_id):
        refused(issue(alice, generic(id=credential_id)), "RUNID_ISSUANCE_REFUSED")
    # nested, too: a subject pointing at the status list
    nested = generic(credentialSubject={"id": f"{shared_server.url}/status/1", "name": "x"})
    refused(issue(alice, nested), "RUNID_ISSUANCE_REFUSED")
    # a status entry of the client's own making, pointing at a bit of the service's list
    status = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "0",
              "statusListCredential": f"{shared_server.url}/status/1"}
    refused(issue(alice, generic(credentialStatus=status)), "RUNID_ISSUANCE_REFUSED")
    assert log_size(alice) == size


# --- attack 2: minting a back-dated run pair ---------------------------------------------------


@pytest.mark.parametrize("spelling", ["term", "iri", "other-term"])
def test_a_client_cannot_mint_a_back_dated_run_pair(alice: httpx.Client, spelling: str) -> None:
    real = declare_and_wait(alice)["declaration"]
    size = log_size(alice)
    declaration = {**unsigned(real), "id": "urn:uuid:0b7f8a34-9c3e-4c55-8f0e-1a2b3c4d5e6f", "validFrom": "2020-01-01T00:00:00Z"}
    declaration["credentialSubject"] = {**real["credentialSubject"], "id": "urn:uuid:5d0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"}
    if spelling == "iri":
        declaration["type"] = ["VerifiableCredential", VOCAB + "RunDeclarationCredential"]
    elif spelling == "other-term":
        declaration["@context"] = [*real["@context"], {"Harmless": VOCAB + "RunDeclarationCredential"}]
        declaration["type"] = ["VerifiableCredential", "Harmless"]
    refused(issue(alice, declaration), "RUNID_ISSUANCE_REFUSED")
    binding = build_binding(
        {**declaration, "proof": real["proof"]}, declaration_id=declaration["id"],
        run_id=declaration["credentialSubject"]["id"], issuer_did=real["issuer"],
        output=output_digest(b"forged"), started_at=datetime(2020, 1, 1, 0, 1, tzinfo=UTC),
        completed_at=datetime(2020, 1, 1, 0, 2, tzinfo=UTC), bound_at=datetime(2020, 1, 1, 0, 3, tzinfo=UTC),
    )
    binding.pop("issuer")
    binding["type"] = ["VerifiableCredential", VOCAB + "RunOutputCredential"]
    refused(issue(alice, binding), "RUNID_ISSUANCE_REFUSED")
    assert log_size(alice) == size


def test_the_service_sets_the_issuance_time(alice: httpx.Client) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    response = issue(alice, generic(validFrom="2020-01-01T00:00:00Z"))
    assert response.status_code == 201, response.text
    vc = response.json()["verifiableCredential"]
    # VC 2.0 validFrom is the validity the client asks for; when the service signed is the proof's
    # created, its own clock.
    assert vc["validFrom"] == "2020-01-01T00:00:00Z"
    assert datetime.fromisoformat(vc["proof"]["created"]) >= before
    unstamped = generic()
    unstamped.pop("validFrom", None)
    stamped = issue(alice, unstamped).json()["verifiableCredential"]
    assert datetime.fromisoformat(stamped["validFrom"]) >= before
    future = format_datetime(datetime.now(UTC) + timedelta(days=30))
    kept = issue(alice, generic(validFrom=future)).json()["verifiableCredential"]
    assert kept["validFrom"] == future
    # the back-dating cannot hide behind the full IRI or an @included copy of the node
    hidden = generic(**{"https://www.w3.org/2018/credentials#validFrom": "2020-01-01T00:00:00Z"})
    refused(issue(alice, hidden), "RUNID_ISSUANCE_REFUSED", "RUNID_NOT_COMPACTED")
    included = generic(id="urn:uuid:6a1e2b3c-4d5e-4f60-8172-93a4b5c6d7e8")
    included["@included"] = [{"id": included["id"], "type": "VerifiableCredential", "validFrom": "2020-01-01T00:00:00Z"}]
    refused(issue(alice, included), "RUNID_ISSUANCE_REFUSED", "RUNID_NOT_COMPACTED")


# --- the generic issuer is an identity of its own ---------------------------------------------------


def test_generic_credentials_are_signed_by_their_own_key_and_still_verify(alice: httpx.Client, shared_server: Server) -> None:
    run_did = load_issuer(shared_server.home).did
    declaration = declare_and_wait(alice)["declaration"]
    assert declaration["issuer"] == run_did
    for fmt in ("di", "di-2020", "jose"):
        response = issue(alice, generic() if fmt != "di-2020" else {
            "@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:subject", "https://example.org/vocab#name": "Ada"}}, format=fmt)
        assert response.status_code == 201, response.text
        vc = response.json()["verifiableCredential"]
        document = vc if "proof" in vc else None
        if document is not None:
            assert document["issuer"] != run_did
            assert run_did not in json.dumps(document["proof"])
        assert verify_credential(vc).valid
    # naming the run DID as issuer is refused: that key signs runs and the status list only
    refused(issue(alice, generic(issuer=run_did)), "RUNID_ISSUANCE_REFUSED")


# --- attack 3: binding another client's declaration, and swapping it into a bundle ------------


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "vc_runid", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def test_a_client_cannot_bind_another_clients_declaration_through_issue(alice: httpx.Client, bob: httpx.Client) -> None:
    declared = declare_and_wait(alice)
    declaration = declared["declaration"]
    size = log_size(alice)
    forged = build_binding(
        declaration, declaration_id=declaration["id"], run_id=declared["runId"], issuer_did=declaration["issuer"],
        output=output_digest(b"bob says so"), started_at=datetime.now(UTC), completed_at=datetime.now(UTC),
        bound_at=datetime.now(UTC),
    )
    for types in (["VerifiableCredential", "RunOutputCredential"], ["VerifiableCredential", VOCAB + "RunOutputCredential"]):
        refused(issue(bob, {**{k: v for k, v in forged.items() if k != "issuer"}, "type": types}), "RUNID_ISSUANCE_REFUSED")
    assert log_size(alice) == size
    # the run endpoints enforce ownership and one binding per run, as before
    assert bind(bob, declared["runId"]).status_code == 403
    assert bind(alice, declared["runId"]).status_code == 201
    assert bind(alice, declared["runId"]).status_code == 409


MANIFEST = """model: {id: demo-model, provider: local}
parameters: {temperature: 0}
instructions: [system.txt]
input: input.txt
executor: {id: billing-agent-7}
"""


def test_a_foreign_binding_swapped_into_a_bundle_is_not_all_valid(shared_server: Server, tmp_path: Path, bob: httpx.Client) -> None:
    (tmp_path / "system.txt").write_text("You are terse.\n")
    (tmp_path / "input.txt").write_text("hello\n")
    (tmp_path / "manifest.yaml").write_text(MANIFEST)
    remote = ["--issuer", shared_server.url, "--token", shared_server.tokens["alice"], "--home", "executor"]
    declared = _cli("declare", "manifest.yaml", "--out", "decl.json", *remote, cwd=tmp_path)
    assert declared.returncode == 0, declared.stderr
    declaration = json.loads((tmp_path / "decl.json").read_text())
    run_id = declaration["credentialSubject"]["id"]

    now = datetime.now(UTC)
    forged = build_binding(
        declaration, declaration_id=declaration["id"], run_id=run_id, issuer_did=declaration["issuer"],
        output=output_digest(b"bob says so"), started_at=now, completed_at=now, bound_at=now,
    )
    attempt = issue(bob, {**{k: v for k, v in forged.items() if k != "issuer"},
                          "type": ["VerifiableCredential", VOCAB + "RunOutputCredential"]})
    if attempt.status_code == 201:
        binding = attempt.json()["verifiableCredential"]
    else:
        # The service no longer signs it; the strongest forgery left is one signed with the run key
        # itself (a stolen key, or a binding from before this fix): its receipt is missing.
        from vc_runid.vc.credentials import issue_credential

        refused(attempt, "RUNID_ISSUANCE_REFUSED")
        binding = issue_credential(forged, load_issuer(shared_server.home))
    RunStore.in_home(tmp_path / "executor").add_binding(run_id, binding, format_datetime(now))

    bundled = _cli("bundle", run_id, "--out", "audit.zip", "--fetch-status", "--home", "executor", cwd=tmp_path)
    assert bundled.returncode == 0, bundled.stderr
    # The auditor trusts the service's run issuer: only the log can tell the binding is foreign.
    (tmp_path / "dids").mkdir()
    (tmp_path / "dids" / "service.json").write_text(json.dumps(load_issuer(shared_server.home).did_document()))
    verified = _cli(
        "verify-bundle", "audit.zip", "--json", "--trusted-issuer", declaration["issuer"], "--did-store", "dids", cwd=tmp_path
    )
    assert verified.returncode == 1, verified.stdout
    report = json.loads(verified.stdout)
    (run,) = report["runs"]
    assert run["log_inclusion"]["state"] != "verified"
    assert run["log_inclusion"]["credentials"] == {"declaration": "verified", "binding": "not logged"}
    failed = {c["name"]: c for c in run["report"]["checks"] if not c["passed"]}
    assert failed["log-inclusion"]["code"] == "RUNID_LOG_INCLUSION_INVALID"
    assert not any(name.startswith("trust") for name in failed), failed


# --- everything the service signs is in its log, and the audit checks who signed what ------------


def _audit(client: httpx.Client, extra: list[AuditEntry] | None = None, *, key_name: str | None = None) -> AuditReport:
    raw = all_entries(client)
    entries = [AuditEntry(e["index"], e["kind"], e["entry"], base64.b64decode(e["leafHash"]), e["loggedAt"]) for e in raw]
    for item in extra or []:
        entries.append(AuditEntry(len(entries), item.kind, item.entry, None, item.logged_at))
    return audit_entries(entries, now=datetime.now(UTC), grace=timedelta(days=1), key_name=key_name)


def test_every_status_list_the_service_signs_is_logged(alice: httpx.Client, admin: httpx.Client) -> None:
    declaration = declare_and_wait(alice)["declaration"]
    assert admin.post("/credentials/status", json={"credentialId": declaration["id"], "reason": "test"}).status_code == 200
    served = alice.get("/status/1").json()
    logged = [e for e in all_entries(alice) if e["kind"] == "status-list"]
    assert logged and logged[-1]["entry"] == served
    report = _audit(alice)
    assert report.valid, report.model_dump_json(indent=2)
    assert report.statusLists >= 1
    assert {c.name for c in report.checks} >= {"signers", "status-lists"}


def test_log_audit_sees_what_the_run_key_signed_outside_the_run_endpoints(
    alice: httpx.Client, admin: httpx.Client, shared_server: Server
) -> None:
    from vc_runid.vc.credentials import issue_credential

    run_issuer = load_issuer(shared_server.home)
    declaration = declare_and_wait(alice)["declaration"]
    assert admin.post("/credentials/status", json={"credentialId": declaration["id"], "reason": "test"}).status_code == 200
    real = alice.get("/status/1").json()
    assert issue(alice, generic()).status_code == 201
    assert _audit(alice, key_name=run_issuer.did).valid

    # a credential the run key signed, logged as a requested one
    forged = issue_credential(generic(issuer=run_issuer.did), run_issuer)
    now = format_datetime(datetime.now(UTC))
    report = _audit(alice, [AuditEntry(0, "credential", forged, None, now)], key_name=run_issuer.did)
    assert not report.valid
    assert any(c.name == "signers" and not c.passed and "run issuer" in c.message for c in report.checks)

    # a requested credential valid from long before it was logged
    generic_vc = issue(alice, generic()).json()["verifiableCredential"]
    later_stamp = format_datetime(datetime.now(UTC) + timedelta(days=2))
    report = _audit(alice, [AuditEntry(0, "credential", generic_vc, None, later_stamp)], key_name=run_issuer.did)
    assert any(c.name == "signers" and not c.passed and "back-dated" in c.message for c in report.checks)

    # a status list, signed by the run key, that hides the revocation logged before it
    hiding = issue_credential(
        build_status_list_credential(issuer_did=run_issuer.did, list_url=real["id"], bitstring=bytearray(16384),
                                     valid_from=datetime.now(UTC), valid_until=datetime.now(UTC) + timedelta(days=1)),
        run_issuer,
    )
    report = _audit(alice, [AuditEntry(0, "status-list", hiding, None, now)], key_name=run_issuer.did)
    assert any(c.name == "status-lists" and not c.passed and "revoked earlier" in c.message for c in report.checks)


def test_log_audit_command_reports_generic_credentials_and_status_lists(alice: httpx.Client, shared_server: Server) -> None:
    assert issue(alice, generic()).status_code == 201
    alice.get("/status/1")
    result = CliRunner().invoke(log_app, ["audit", "--url", shared_server.url])
    assert result.exit_code == 0, result.output
    assert "generic credentials" in result.output and "status lists" in result.output
    assert "ok   signers" in result.output and "ok   status-lists" in result.output


# --- under a did:web, the generic issuer is a DID of its own, published next to the run issuer's -----


def test_under_did_web_the_generic_issuer_is_published_as_its_own_did(tmp_path: Path) -> None:
    import signal

    from vc_runid.vc.dids import DidResolver

    server = Server(tmp_path / "home", extra_args=["--domain", "issuer.example"])
    try:
        with server.client("alice") as alice:
            run_document = alice.get("/.well-known/did.json").json()
            generic_document = alice.get("/credentials/did.json").json()
            assert run_document["id"] == "did:web:issuer.example"
            assert generic_document["id"] == "did:web:issuer.example:credentials"
            run_keys = {m["publicKeyMultibase"] for m in run_document["verificationMethod"] if "publicKeyMultibase" in m}
            generic_keys = {m["publicKeyMultibase"] for m in generic_document["verificationMethod"] if "publicKeyMultibase" in m}
            assert run_keys and generic_keys and not run_keys & generic_keys

            response = issue(alice, generic(issuer=generic_document["id"]))
            assert response.status_code == 201, response.text
            vc = response.json()["verifiableCredential"]
            assert vc["proof"]["verificationMethod"].startswith("did:web:issuer.example:credentials#")
            resolver = DidResolver({d["id"]: d for d in (run_document, generic_document)})
            assert Verifier(resolver=resolver).verify_credential(vc).valid
            # the run issuer's document alone does not verify it: a different DID, a different key
            assert not Verifier(resolver=DidResolver({run_document["id"]: run_document})).verify_credential(vc).valid
            refused(issue(alice, generic(issuer=run_document["id"])), "RUNID_ISSUANCE_REFUSED")
    finally:
        server.kill(signal.SIGTERM)
