"""Revocation against the real service (SQLite and PostgreSQL): every VC 2.0 run credential
carries a Bitstring Status List entry, the service publishes the signed list, an admin revokes,
every revocation is in the log, and a verifier fetches the list only when allowed to."""

from __future__ import annotations

import base64
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from vc_runid._internal.timeutil import parse_datetime, utc_now
from vc_runid.audit.log import AuditEntry, audit_entries
from vc_runid.cli.serve import checkpoint_key, tokens_app
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.runs.verify import verify_run
from vc_runid.server.storage import open_storage
from vc_runid.server.tokens import authenticate
from vc_runid.store.home import init_home
from vc_runid.vc.jose import credential_from_jwt, parse_jwt
from vc_runid.vc.policy import TrustPolicy
from vc_runid.vc.status.bitstring import check_status
from vc_runid.vc.status.fetch import fetch_status_lists
from vc_runid.vc.verification import Verifier, verify_credential

from .conftest import Server
from .helpers import COMPOSITION, all_entries, bind, log_size, receipt_verifies

REVOKE = [{"type": "BitstringStatusListEntry", "status": "revoked"}]


def list_url(server: Server) -> str:
    return f"{server.url}/status/1"


def document(secured: dict[str, Any] | str) -> dict[str, Any]:
    return credential_from_jwt(parse_jwt(secured))[0] if isinstance(secured, str) else secured


def declared_and_bound(client: httpx.Client, fmt: str = "di") -> tuple[Any, Any]:
    response = client.post("/runs", json={"composition": COMPOSITION, "format": fmt})
    assert response.status_code == 201, response.text
    bound = bind(client, response.json()["runId"])
    assert bound.status_code == 201, bound.text
    return response.json()["declaration"], bound.json()["binding"]


def status_list(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/status/1")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vc")
    return dict(response.json())


def audit(client: httpx.Client) -> Any:
    note = client.get("/log/checkpoint").text
    key_name, key = checkpoint_key(note, None)
    entries = [AuditEntry(e["index"], e["kind"], e["entry"], base64.b64decode(e["leafHash"])) for e in all_entries(client)]
    return audit_entries(entries, now=utc_now(), grace=timedelta(days=1), checkpoint=note, key_name=key_name, public_key=key)


# --- issuing with a status entry -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["di", "jose"])
def test_vc2_declarations_and_bindings_carry_a_revocation_entry(server: Server, fmt: str) -> None:
    with server.client() as alice:
        declaration, binding = declared_and_bound(alice, fmt)
    entries = [document(declaration)["credentialStatus"], document(binding)["credentialStatus"]]
    for entry in entries:
        assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
        assert entry["statusListCredential"] == list_url(server)
        assert entry["id"] == f"{list_url(server)}#{entry['statusListIndex']}"
    assert entries[0]["statusListIndex"] != entries[1]["statusListIndex"]
    assert verify_run(declaration, binding, policy=TrustPolicy.unsafe_any_issuer()).valid


@pytest.mark.parametrize("fmt", ["di-2020", "jwt-1.1"])
def test_vc11_run_credentials_carry_no_status(server: Server, fmt: str) -> None:
    with server.client() as alice:
        declaration, binding = declared_and_bound(alice, fmt)
        assert "credentialStatus" not in document(declaration) and "credentialStatus" not in document(binding)
        # nothing to revoke: 404, nothing written
        size = log_size(alice)
        with server.client("admin") as admin:
            gone = admin.post("/credentials/status", json={"credentialId": document(binding)["id"], "reason": "x"})
        assert gone.status_code == 404 and gone.json()["code"] == "RUNID_RUN_NOT_FOUND"
        assert log_size(alice) == size


def test_the_published_list_is_signed_by_the_issuer_for_a_day_and_says_not_revoked(server: Server) -> None:
    with server.client() as alice:
        declaration, binding = declared_and_bound(alice)
        signed = status_list(alice)
    assert signed["id"] == list_url(server) and "BitstringStatusListCredential" in signed["type"]
    assert signed["issuer"] == declaration["issuer"]
    valid_from = parse_datetime(signed["validFrom"], "validFrom")
    assert parse_datetime(signed["validUntil"], "validUntil") - valid_from == timedelta(days=1)
    assert valid_from <= utc_now()
    lists = {list_url(server): signed}
    result = check_status(binding, lists, verifier=Verifier())
    assert not result.revoked and result.as_of == signed["validFrom"]
    report = verify_run(declaration, binding, verifier=Verifier(status_lists=lists, policy=TrustPolicy.unsafe_any_issuer()))
    assert report.valid, report.failures
    assert not report.warnings, report.warnings


# --- revoking ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [None, "alice"])
def test_revoking_needs_an_admin_token_and_a_refusal_changes_nothing(server: Server, who: str | None) -> None:
    with server.client() as alice:
        _, binding = declared_and_bound(alice)
        size = log_size(alice)
        with server.client(who) as caller:
            refused = caller.post("/credentials/status", json={"credentialId": binding["id"], "credentialStatus": REVOKE})
        assert refused.status_code == (401 if who is None else 403), refused.text
        assert refused.json()["code"] == "RUNID_UNAUTHORIZED"
        assert log_size(alice) == size
        assert not check_status(binding, {list_url(server): status_list(alice)}, verifier=Verifier()).revoked


def test_an_admin_revocation_sets_the_bit_is_logged_and_is_final(server: Server) -> None:
    with server.client() as alice, server.client("admin") as admin:
        declaration, binding = declared_and_bound(alice)
        before = status_list(alice)  # cached now: the revocation must still show at once
        revoked = admin.post("/credentials/status", json={"credentialId": binding["id"], "credentialStatus": REVOKE})
        assert revoked.status_code == 200, revoked.text
        answer = revoked.json()
        assert answer["changed"] is True
        assert answer["statusListIndex"] == binding["credentialStatus"]["statusListIndex"]

        # the next GET has the bit set; the declaration's is not
        lists = {list_url(server): status_list(alice)}
        assert lists[list_url(server)] != before
        report = verify_credential(binding, status_lists=lists)
        assert not report.valid and ErrorCode.CREDENTIAL_REVOKED.value in report.error_codes
        assert verify_credential(declaration, status_lists=lists).valid
        run_report = verify_run(declaration, binding, verifier=Verifier(status_lists=lists, policy=TrustPolicy.unsafe_any_issuer()))
        assert ErrorCode.CREDENTIAL_REVOKED.value in run_report.error_codes

        # the revocation is a log entry, proven by its receipt
        receipt = answer["receipt"]
        entry = all_entries(alice)[receipt["leafIndex"]]
        assert entry["kind"] == "revocation" and entry["credentialId"] == binding["id"]
        assert entry["entry"]["statusListIndex"] == answer["statusListIndex"]
        assert entry["entry"]["revokedAt"] == answer["revokedAt"]
        assert receipt_verifies(entry["entry"], receipt)

        # final and idempotent: the short form, again, writes nothing and keeps the first revocation
        size = log_size(alice)
        again = admin.post("/credentials/status", json={"credentialId": binding["id"], "reason": "second thoughts"})
        assert again.status_code == 200, again.text
        assert again.json()["changed"] is False and again.json()["revokedAt"] == answer["revokedAt"]
        assert again.json()["reason"] == answer["reason"]
        assert log_size(alice) == size

        report = audit(alice)
        assert report.valid, report.checks
        assert report.revocations >= 1


def test_concurrent_revocations_of_one_credential_log_it_once(server: Server) -> None:
    with server.client() as alice:
        _, binding = declared_and_bound(alice)
        size = log_size(alice)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def revoke() -> None:
        with server.client("admin") as admin:
            response = admin.post("/credentials/status", json={"credentialId": binding["id"], "reason": "race"})
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=revoke) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert sum(a.json()["changed"] for a in answers) == 1
    with server.client() as alice:
        assert log_size(alice) == size + 1


@pytest.mark.parametrize(
    "body",
    [
        {"credentialId": "urn:uuid:00000000-0000-4000-8000-000000000000", "reason": "unknown"},
        {"credentialId": "BINDING", "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "suspended"}]},
        {"credentialId": "BINDING", "credentialStatus": [{"type": "StatusList2021Entry", "status": "revoked"}]},
        {"credentialId": "BINDING"},
        {"credentialId": "BINDING", "reason": "x", "extra": 1},
        {"credentialId": "BINDING", "reason": ""},
    ],
    ids=["unknown-id", "suspend", "other-mechanism", "no-change", "unknown-field", "empty-reason"],
)
def test_a_bad_revocation_request_is_refused_and_writes_nothing(server: Server, body: dict[str, Any]) -> None:
    with server.client() as alice, server.client("admin") as admin:
        _, binding = declared_and_bound(alice)
        size = log_size(alice)
        if body["credentialId"] == "BINDING":
            body = {**body, "credentialId": binding["id"]}
        response = admin.post("/credentials/status", json=body)
        expected = (404, "RUNID_RUN_NOT_FOUND") if "unknown" in str(body.get("reason")) else (422, "RUNID_REQUEST_INVALID")
        assert (response.status_code, response.json()["code"]) == expected, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert log_size(alice) == size
        assert not check_status(binding, {list_url(server): status_list(alice)}, verifier=Verifier()).revoked


# --- fetching the list (opt-in) ------------------------------------------------------------------------


def test_status_fetch_from_the_live_service_only_when_allowed(server: Server) -> None:
    with server.client() as alice, server.client("admin") as admin:
        declaration, binding = declared_and_bound(alice)
        with pytest.raises(RunIdError) as refused:
            fetch_status_lists([declaration, binding], allow_network=False)
        assert refused.value.code is ErrorCode.USAGE

        lists = fetch_status_lists([declaration, binding], allow_network=True)
        assert list(lists) == [list_url(server)]
        report = verify_run(declaration, binding, verifier=Verifier(status_lists=lists, policy=TrustPolicy.unsafe_any_issuer()))
        assert report.valid, report.failures

        assert admin.post("/credentials/status", json={"credentialId": declaration["id"], "reason": "bad"}).status_code == 200
        lists = fetch_status_lists([declaration, binding], allow_network=True)
        report = verify_run(declaration, binding, verifier=Verifier(status_lists=lists, policy=TrustPolicy.unsafe_any_issuer()))
        assert ErrorCode.CREDENTIAL_REVOKED.value in report.error_codes


# --- admin tokens --------------------------------------------------------------------------------------


def test_tokens_create_admin(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_home(home)
    cli = CliRunner()
    created = cli.invoke(tokens_app, ["create", "ops", "--admin", "--home", str(home)])
    assert created.exit_code == 0, created.output
    plain = cli.invoke(tokens_app, ["create", "runner", "--home", str(home)])
    listed = cli.invoke(tokens_app, ["list", "--home", str(home)]).stdout.splitlines()
    assert [(line.split("\t")[0], line.endswith("\tadmin")) for line in listed] == [("ops", True), ("runner", False)]
    storage = open_storage(home, None)
    try:
        ops, runner = authenticate(storage, created.stdout.strip()), authenticate(storage, plain.stdout.strip())
        assert ops is not None and ops.admin and runner is not None and not runner.admin
    finally:
        storage.close()


def test_a_database_from_before_admin_tokens_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "service.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE tokens (name TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL UNIQUE, "
                    "created_at TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)")
        old.execute("INSERT INTO tokens VALUES ('alice', 'ab', '2025-01-01T00:00:00Z', 0)")
    old.close()
    storage = open_storage(tmp_path, None)
    try:
        assert storage.token_client("ab") == ("alice", False)
    finally:
        storage.close()
