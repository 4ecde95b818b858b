"""What the W3C suites need from the issuer service, against the real ``vc-runid serve`` process
over TLS on 127.0.0.1: ``--tls-cert/--tls-key``, ``--context URL=FILE``, every proof format on
``POST /credentials/issue`` (the P-256 key for the ECDSA suites), a status entry on request,
``GET /status/…`` by ``Accept``, the refusal of a credential without an issuer, and of JSON text
where the VC API takes a compact JWS."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from . import runner

EXAMPLE_CONTEXT = "https://example.org/contexts/badge/v1"
STATUS = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[runner.Service]:
    directory = tmp_path_factory.mktemp("service")
    context = directory / "badge.jsonld"
    context.write_text(json.dumps({"@context": {"badge": "https://example.org/vocab#badge"}}))
    with runner.running_service(directory, ["--context", f"{EXAMPLE_CONTEXT}={context}"]) as running:
        yield running


@pytest.fixture(scope="module")
def admin(service: runner.Service) -> str:
    return subprocess.run(
        [*runner.cli(), "tokens", "create", "admin", "--admin", "--home", str(service.home)],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout.strip()


def credential(issuer: str, *, v1: bool = False, **extra: Any) -> dict[str, Any]:
    if v1:
        return {"@context": ["https://www.w3.org/2018/credentials/v1"], "id": f"urn:uuid:{uuid.uuid4()}",
                "type": ["VerifiableCredential"], "issuer": issuer, "issuanceDate": "2020-01-01T00:00:00Z",
                "credentialSubject": {"id": "did:example:alice"}, **extra}
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiableCredential"], "issuer": issuer,
            "credentialSubject": {"id": "did:example:alice", "name": "Alice"}, **extra}


def issue(service: runner.Service, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{service.url}/credentials/issue", json=body, verify=False, timeout=60,
                      headers={"Authorization": f"Bearer {service.token}"})


def verify(service: runner.Service, vc: Any) -> httpx.Response:
    return httpx.post(f"{service.url}/credentials/verify", json={"verifiableCredential": vc}, verify=False, timeout=60)


def test_serve_answers_over_https_with_the_given_certificate(service: runner.Service) -> None:
    assert service.url.startswith("https://127.0.0.1:")
    assert httpx.get(f"{service.url}/log/checkpoint", verify=False, timeout=30).status_code == 200
    with pytest.raises(httpx.ConnectError):  # a self-signed certificate: a checking client refuses it
        httpx.get(f"{service.url}/log/checkpoint", timeout=30)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--tls-cert", "cert.pem"], "--tls-cert and --tls-key go together"),
        (["--tls-cert", "cert.pem", "--tls-key", "other.pem"], "cannot use --tls-cert"),
        (["--context", "https://example.org/x"], "--context expects URL=FILE"),
        (["--context", "https://example.org/x=missing.jsonld"], "cannot read context file"),
    ],
)
def test_bad_serve_options_are_usage_errors_not_tracebacks(tmp_path: Path, arguments: list[str], message: str) -> None:
    runner.make_certificate(tmp_path)  # cert.pem, key.pem
    other = tmp_path / "other"
    other.mkdir()
    # The private key of another certificate: not the pair of cert.pem.
    (tmp_path / "other.pem").write_bytes(runner.make_certificate(other)[1].read_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "vc_runid", "serve", "--home", str(tmp_path / "home"), "--port", str(runner.free_port()),
         *arguments],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode in (1, 2), done
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_context_given_with_serve_context_is_accepted(service: runner.Service) -> None:
    body = credential(service.dids["Ed25519"])
    body["@context"].append(EXAMPLE_CONTEXT)
    body["credentialSubject"]["badge"] = "gold"
    issued = issue(service, {"credential": body})
    assert issued.status_code == 201, issued.text
    assert verify(service, issued.json()["verifiableCredential"]).status_code == 200


def test_a_context_not_given_is_refused(service: runner.Service) -> None:
    body = credential(service.dids["Ed25519"])
    body["@context"].append("https://example.org/contexts/unknown/v1")
    refused = issue(service, {"credential": body})
    assert refused.status_code == 422
    assert refused.json()["code"] == "RUNID_CONTEXT_NOT_ALLOWED"


def test_a_credential_without_issuer_is_refused(service: runner.Service) -> None:
    body = credential(service.dids["Ed25519"])
    del body["issuer"]
    refused = issue(service, {"credential": body})
    assert refused.status_code == 422
    assert refused.json()["code"] == "RUNID_NOT_A_CREDENTIAL"


@pytest.mark.parametrize(
    ("fmt", "key_type", "v1"),
    [("di", "Ed25519", False), ("di-2020", "Ed25519", True), ("ecdsa", "P-256", False),
     ("eddsa-jcs", "Ed25519", False), ("ecdsa-jcs", "P-256", False), ("jose", "Ed25519", False),
     ("jwt-1.1", "Ed25519", True)],
)
def test_every_format_is_issued_by_the_key_its_suite_needs(service: runner.Service, fmt: str, key_type: str, v1: bool) -> None:
    issued = issue(service, {"credential": credential(service.dids[key_type], v1=v1), "options": {"format": fmt}})
    assert issued.status_code == 201, issued.text
    vc = issued.json()["verifiableCredential"]
    assert verify(service, vc).status_code == 200
    if key_type == "P-256":
        assert vc["proof"]["verificationMethod"].startswith(service.dids["P-256"] + "#")


def test_the_ecdsa_format_refuses_the_ed25519_issuer(service: runner.Service) -> None:
    refused = issue(service, {"credential": credential(service.dids["Ed25519"]), "options": {"format": "ecdsa"}})
    assert refused.status_code == 422
    assert refused.json()["code"] == "RUNID_VERIFICATION_METHOD_NOT_AUTHORIZED"


def test_a_requested_status_entry_points_at_the_generic_issuers_list_and_revocation_shows(
    service: runner.Service, admin: str
) -> None:
    issued = issue(service, {"credential": credential(service.dids["Ed25519"]), "options": {"credentialStatus": STATUS}})
    assert issued.status_code == 201, issued.text
    vc = issued.json()["verifiableCredential"]
    entry = vc["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    assert entry["statusListCredential"] == f"{service.url}/status/credentials"
    status_list = httpx.get(entry["statusListCredential"], verify=False, timeout=30).json()
    assert status_list["issuer"] == vc["issuer"]  # a verifier requires the list's issuer to be the credential's
    ok = verify(service, vc)
    assert ok.status_code == 200 and "status" in ok.json()["checks"], ok.text

    revoked = httpx.post(f"{service.url}/credentials/status", verify=False, timeout=60,
                         headers={"Authorization": f"Bearer {admin}"},
                         json={"credentialId": vc["id"], "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}]})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["statusListCredential"] == entry["statusListCredential"]
    after = verify(service, vc)
    assert after.status_code == 422
    assert [e["check"] for e in after.json()["errors"]] == ["status"]


@pytest.mark.parametrize(
    ("fmt", "v1", "code"),
    [("di-2020", True, "RUNID_REQUEST_INVALID"), ("ecdsa", False, "RUNID_REQUEST_INVALID")],
)
def test_a_status_entry_is_refused_where_no_list_can_carry_it(service: runner.Service, fmt: str, v1: bool, code: str) -> None:
    key_type = "P-256" if fmt == "ecdsa" else "Ed25519"
    body = {"credential": credential(service.dids[key_type], v1=v1), "options": {"format": fmt, "credentialStatus": STATUS}}
    refused = issue(service, body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == code


def test_suspension_is_not_offered(service: runner.Service) -> None:
    body = {"credential": credential(service.dids["Ed25519"]),
            "options": {"credentialStatus": {**STATUS, "statusPurpose": "suspension"}}}
    assert issue(service, body).status_code == 422


@pytest.mark.parametrize("path", ["/status/1", "/status/credentials"])
@pytest.mark.parametrize(
    ("accept", "media_type"),
    [(None, "application/vc"), ("*/*", "application/vc"), ("application/json", "application/json"),
     ("application/ld+json, application/json", "application/ld+json"),
     ("application/json;q=0.5, application/vc", "application/vc")],
)
def test_a_status_list_is_served_as_the_accept_header_asks(
    service: runner.Service, path: str, accept: str | None, media_type: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    answer = httpx.get(f"{service.url}{path}", headers=headers, verify=False, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] == media_type
    assert "BitstringStatusListCredential" in answer.json()["type"]


def test_json_text_is_not_a_credential_but_a_compact_jws_is(service: runner.Service) -> None:
    issued = issue(service, {"credential": credential(service.dids["Ed25519"])}).json()["verifiableCredential"]
    refused = verify(service, json.dumps(issued))
    assert refused.status_code == 400
    assert refused.json()["verified"] is False and refused.json()["errors"][0]["code"] == "RUNID_NOT_A_CREDENTIAL"
    token = issue(service, {"credential": credential(service.dids["Ed25519"]), "options": {"format": "jose"}}).json()
    compact = token["verifiableCredential"]["id"].split(",", 1)[1]
    assert verify(service, compact).status_code == 200
