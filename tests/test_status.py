"""Revocation with the W3C Bitstring Status List v1.0: the bitstring codec (§3.1), the issuer's
registry, the status check (§3.2) and the ``revoke`` / ``status-list`` commands.

The status check is offline: every test that checks a status runs under ``no_network``.
"""

from __future__ import annotations

import copy
import gzip
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from vc_runid._internal.multiformats import b64url_decode, b64url_encode
from vc_runid.cli.status import register
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.store.home import init_home
from vc_runid.store.status import StatusRegistry
from vc_runid.vc.credentials import Issuer, issue_credential
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.status.bitstring import (
    MAX_BYTES,
    MIN_BITS,
    MIN_BYTES,
    StatusResult,
    bit_at,
    build_status_list_credential,
    check_status,
    decode_bitstring,
    encode_bitstring,
    read_status,
    status_entry,
)
from vc_runid.vc.verification import Verifier

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)  # the conftest verifier's clock
CREATED = NOW - timedelta(hours=1)  # when credentials and status lists are signed
LIST_URL = "https://issuer.example/status/1"
SUSPENSION_URL = "https://issuer.example/status/suspension"


def _gzip_u(data: bytes) -> str:
    return "u" + b64url_encode(gzip.compress(data, mtime=0))


# --- §3.1 bitstring encoding ---------------------------------------------------------------------


def test_encoded_list_is_multibase_base64url_of_gzip() -> None:
    encoded = encode_bitstring(bytearray(MIN_BYTES))

    assert encoded.startswith("u")
    assert "=" not in encoded
    assert gzip.decompress(b64url_decode(encoded[1:])) == bytes(MIN_BYTES)


@pytest.mark.parametrize(
    ("index", "byte", "value"),
    [
        (0, 0, 0x80),  # index 0 is the left-most bit of the first byte
        (1, 0, 0x40),
        (7, 0, 0x01),
        (8, 1, 0x80),
        (13, 1, 0x04),
        (MIN_BITS - 1, MIN_BYTES - 1, 0x01),
    ],
)
def test_index_zero_is_the_left_most_bit_of_the_first_byte(index: int, byte: int, value: int) -> None:
    bits = bytearray(MIN_BYTES)
    bits[byte] = value

    decoded = decode_bitstring(encode_bitstring(bits))

    assert decoded == bits
    assert bit_at(decoded, index)
    assert [i for i in range(MIN_BITS) if bit_at(decoded, i)] == [index]


def test_bitstring_round_trips() -> None:
    bits = bytearray(range(256)) * (2 * MIN_BYTES // 256)

    assert decode_bitstring(encode_bitstring(bits)) == bits


def test_a_bitstring_shorter_than_16kb_is_not_encoded() -> None:
    with pytest.raises(RunIdError) as excinfo:
        encode_bitstring(bytearray(MIN_BYTES - 1))
    assert excinfo.value.code is ErrorCode.USAGE


def _gzip_bomb() -> str:
    # 17 MiB of zeros compresses to ~17 KB: small on the wire, over the decompression limit.
    return _gzip_u(bytes(MAX_BYTES + (1 << 20)))


@pytest.mark.parametrize(
    ("encoded", "why"),
    [
        ("z" + b64url_encode(gzip.compress(bytes(MIN_BYTES))), "prefix 'u'"),
        ("", "prefix 'u'"),
        ("u!!not-base64!!", "not base64url"),
        ("u" + b64url_encode(bytes(MIN_BYTES)), "not GZIP"),
        ("u" + b64url_encode(gzip.compress(bytes(MIN_BYTES))[:-12]), "truncated"),
        ("u" + b64url_encode(gzip.compress(bytes(MIN_BYTES)) + b"extra"), "after the end"),
        (_gzip_u(bytes(MIN_BYTES - 1)), "at least 131072"),
        pytest.param(_gzip_bomb(), "more than", id="gzip-bomb"),
    ],
)
def test_a_malformed_encoded_list_is_refused(encoded: str, why: str) -> None:
    with pytest.raises(RunIdError) as excinfo:
        decode_bitstring(encoded)

    assert excinfo.value.code is ErrorCode.STATUS_LIST_INVALID
    assert why in excinfo.value.message


def test_an_index_outside_the_list_is_a_range_error() -> None:
    with pytest.raises(RunIdError) as excinfo:
        bit_at(bytes(MIN_BYTES), MIN_BITS)
    assert excinfo.value.code is ErrorCode.STATUS_LIST_INVALID


# --- §2.1 the entry ------------------------------------------------------------------------------


def test_status_entry_is_a_bitstring_status_list_entry() -> None:
    assert status_entry(LIST_URL, 94567) == {
        "id": f"{LIST_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",  # an integer expressed as a string
        "statusListCredential": LIST_URL,
    }


@pytest.mark.parametrize(
    ("url", "index", "purpose"),
    [("not a url", 0, "revocation"), (f"{LIST_URL}#frag", 0, "revocation"), (LIST_URL, -1, "revocation"),
     (LIST_URL, 0, "refresh")],
)
def test_status_entry_refuses_what_no_verifier_could_read(url: str, index: int, purpose: str) -> None:
    with pytest.raises(RunIdError) as excinfo:
        status_entry(url, index, purpose)
    assert excinfo.value.code is ErrorCode.USAGE


# --- the registry ------------------------------------------------------------------------------


def test_allocate_gives_the_next_index_and_never_reuses_one(tmp_path: Path) -> None:
    registry = StatusRegistry(tmp_path)

    assert [registry.allocate(f"urn:uuid:{n}") for n in range(3)] == [0, 1, 2]
    assert registry.allocate("urn:uuid:1") == 1  # a retried issuance keeps its index
    with sqlite3.connect(tmp_path / "status.sqlite3") as db:
        db.execute("DELETE FROM status_entries WHERE credential_id = 'urn:uuid:2'")
    assert StatusRegistry(tmp_path).allocate("urn:uuid:new") == 3  # not 2, even after a delete


def test_revoke_sets_exactly_the_credentials_bit(tmp_path: Path, ed25519_issuer: Issuer) -> None:
    registry = StatusRegistry(tmp_path)
    ids = [registry.assign(LIST_URL)[0] for _ in range(3)]

    record = registry.revoke(ids[1], "key compromise", at=CREATED - timedelta(minutes=1))
    status_list = registry.status_list_credential(ed25519_issuer, LIST_URL, CREATED)

    assert (record.index, record.reason, registry.is_revoked(ids[1])) == (1, "key compromise", True)
    assert not registry.is_revoked(ids[0])
    bits = decode_bitstring(status_list["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == MIN_BITS
    assert [i for i in range(8) if bit_at(bits, i)] == [1]


def test_revocation_is_final_and_keeps_its_first_reason(tmp_path: Path) -> None:
    registry = StatusRegistry(tmp_path)
    registry.allocate("urn:uuid:a")
    first = registry.revoke("urn:uuid:a", "first", at=CREATED)

    again = registry.revoke("urn:uuid:a", "second", at=NOW)

    assert again == first


def test_revoking_an_unknown_credential_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RunIdError) as excinfo:
        StatusRegistry(tmp_path).revoke("urn:uuid:unknown", "why", at=NOW)
    assert excinfo.value.code is ErrorCode.RUN_NOT_FOUND


def test_a_list_as_of_a_moment_leaves_out_later_revocations(tmp_path: Path, ed25519_issuer: Issuer) -> None:
    registry = StatusRegistry(tmp_path)
    registry.allocate("urn:uuid:a")
    registry.revoke("urn:uuid:a", "later", at=NOW)

    status_list = registry.status_list_credential(ed25519_issuer, LIST_URL, CREATED)

    assert not bit_at(decode_bitstring(status_list["credentialSubject"]["encodedList"]), 0)


def test_a_registry_publishes_one_list_url(tmp_path: Path, ed25519_issuer: Issuer) -> None:
    registry = StatusRegistry(tmp_path)
    registry.assign(LIST_URL)

    with pytest.raises(RunIdError) as excinfo:
        registry.status_list_credential(ed25519_issuer, "https://elsewhere.example/status", CREATED)
    assert excinfo.value.code is ErrorCode.USAGE


def test_the_status_list_credential_is_a_signed_vc2_bitstring_status_list(
    tmp_path: Path, ed25519_issuer: Issuer, verifier: Verifier
) -> None:
    status_list = StatusRegistry(tmp_path).status_list_credential(
        ed25519_issuer, LIST_URL, CREATED, valid_for=timedelta(hours=6)
    )

    assert status_list["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert status_list["id"] == LIST_URL
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert status_list["issuer"] == ed25519_issuer.did
    assert (status_list["validFrom"], status_list["validUntil"]) == ("2025-06-01T11:00:00Z", "2025-06-01T17:00:00Z")
    subject = status_list["credentialSubject"]
    assert (subject["type"], subject["statusPurpose"]) == ("BitstringStatusList", "revocation")
    assert status_list["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    report = verifier.verify_credential(status_list)
    assert report.valid, report.failures


def test_a_p256_issuer_signs_its_status_list_with_ecdsa(
    tmp_path: Path, p256_issuer: Issuer, verifier: Verifier
) -> None:
    status_list = StatusRegistry(tmp_path).status_list_credential(p256_issuer, LIST_URL, CREATED)

    assert status_list["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"
    assert verifier.verify_credential(status_list).valid


# --- §3.2 checking a credential's status ---------------------------------------------------------


@pytest.fixture
def registry(tmp_path: Path) -> StatusRegistry:
    return StatusRegistry(tmp_path / "issuer")


IssueWithStatus = Callable[..., dict[str, Any]]


@pytest.fixture
def issue_with_status(
    credential_v2: dict[str, Any], registry: StatusRegistry, ed25519_issuer: Issuer
) -> IssueWithStatus:
    """A signed VC 2.0 credential with an id and credentialStatus from the registry (or ``entry``)."""

    def _issue(entry: dict[str, Any] | list[dict[str, Any]] | None = None, issuer: Issuer = ed25519_issuer) -> dict[str, Any]:
        credential_id, assigned = registry.assign(LIST_URL)
        unsigned = {**credential_v2, "id": credential_id, "credentialStatus": assigned if entry is None else entry}
        secured = issue_credential(unsigned, issuer, created=CREATED)
        assert isinstance(secured, dict)
        return secured

    return _issue


def _publish(registry: StatusRegistry, issuer: Issuer, at: datetime = CREATED) -> dict[str, dict[str, Any]]:
    return {LIST_URL: registry.status_list_credential(issuer, LIST_URL, at)}


def test_a_credential_not_revoked_passes_and_says_as_of_when(
    issue_with_status: IssueWithStatus, registry: StatusRegistry, ed25519_issuer: Issuer,
    verifier: Verifier, no_network: list[Any],
) -> None:
    credential = issue_with_status()
    assert verifier.verify_credential(credential).valid  # the credential itself is fine

    result = check_status(credential, _publish(registry, ed25519_issuer), verifier=verifier)

    assert result == StatusResult(
        revoked=False, suspended=False, as_of="2025-06-01T11:00:00Z", list_url=LIST_URL, index=0, purpose="revocation"
    )
    assert result.describe() == f"not revoked as of 2025-06-01T11:00:00Z ({LIST_URL}, index 0)"
    assert no_network == []


def test_a_revoked_credential_is_refused(
    issue_with_status: IssueWithStatus, registry: StatusRegistry, ed25519_issuer: Issuer,
    verifier: Verifier, no_network: list[Any],
) -> None:
    issue_with_status()
    credential = issue_with_status()
    registry.revoke(credential["id"], "superseded", at=CREATED - timedelta(minutes=5))
    lists = _publish(registry, ed25519_issuer)

    with pytest.raises(RunIdError) as excinfo:
        check_status(credential, lists, verifier=verifier)

    assert excinfo.value.code is ErrorCode.CREDENTIAL_REVOKED
    assert "revoked as of 2025-06-01T11:00:00Z" in excinfo.value.message
    [result] = read_status(credential, lists, verifier=verifier)
    assert (result.revoked, result.index) == (True, 1)


def test_a_suspended_credential_is_refused(
    issue_with_status: IssueWithStatus, ed25519_issuer: Issuer, verifier: Verifier, no_network: list[Any]
) -> None:
    bits = bytearray(MIN_BYTES)
    bits[5] = 0x80  # index 40
    suspension_list = issue_credential(
        build_status_list_credential(
            issuer_did=ed25519_issuer.did, list_url=SUSPENSION_URL, bitstring=bits,
            valid_from=CREATED, valid_until=CREATED + timedelta(days=1), purpose="suspension",
        ),
        ed25519_issuer,
        created=CREATED,
    )
    suspended = issue_with_status(status_entry(SUSPENSION_URL, 40, "suspension"))
    active = issue_with_status(status_entry(SUSPENSION_URL, 41, "suspension"))

    with pytest.raises(RunIdError) as excinfo:
        check_status(suspended, {SUSPENSION_URL: suspension_list}, verifier=verifier)

    assert excinfo.value.code is ErrorCode.CREDENTIAL_SUSPENDED
    assert check_status(active, {SUSPENSION_URL: suspension_list}, verifier=verifier).suspended is False


def test_every_entry_is_checked(
    issue_with_status: IssueWithStatus, registry: StatusRegistry, ed25519_issuer: Issuer, verifier: Verifier
) -> None:
    credential = issue_with_status([status_entry(LIST_URL, 7), status_entry(SUSPENSION_URL, 3, "suspension")])

    with pytest.raises(RunIdError) as excinfo:  # the second list was not supplied
        check_status(credential, _publish(registry, ed25519_issuer), verifier=verifier)

    assert excinfo.value.code is ErrorCode.STATUS_LIST_MISSING


def test_a_status_list_in_vc_jose_form_is_read_too(
    issue_with_status: IssueWithStatus, ed25519_issuer: Issuer, verifier: Verifier
) -> None:
    jws = issue_credential(
        build_status_list_credential(
            issuer_did=ed25519_issuer.did, list_url=LIST_URL, bitstring=bytes(MIN_BYTES),
            valid_from=CREATED, valid_until=CREATED + timedelta(days=1),
        ),
        ed25519_issuer,
        proof_format=ProofFormat.JOSE,
    )
    assert isinstance(jws, str)

    result = check_status(issue_with_status(status_entry(LIST_URL, 9)), {LIST_URL: jws}, verifier=verifier)

    assert (result.revoked, result.index) == (False, 9)


def _tamper(status_list: dict[str, Any]) -> None:
    bits = bytearray(MIN_BYTES)
    bits[0] = 0xFF
    status_list["credentialSubject"]["encodedList"] = encode_bitstring(bits)


def _resign(mutate: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any], Issuer], None]:
    """Apply ``mutate`` to the unsigned list, then sign it again with the list's own issuer."""

    def _apply(status_list: dict[str, Any], issuer: Issuer) -> None:
        unsigned = {k: v for k, v in status_list.items() if k != "proof"}
        mutate(unsigned)
        status_list.clear()
        status_list.update(issue_credential(unsigned, issuer, created=CREATED))  # type: ignore[arg-type]

    return _apply


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def _mutate(document: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target = document
        for key in parents:
            target = target[key]
        target[leaf] = value

    return _mutate


# (what is wrong, mutation of the published list (list, its issuer) → None, expected code, message)
ADVERSARIAL: list[tuple[str, Callable[[dict[str, Any], Issuer], None], ErrorCode, str]] = [
    ("tampered after signing", lambda sl, _: _tamper(sl), ErrorCode.STATUS_LIST_INVALID, "proof.signature"),
    ("proof removed", lambda sl, _: sl.pop("proof"), ErrorCode.STATUS_LIST_INVALID, "proofs failed"),
    ("purpose does not match the entry", _resign(_set("credentialSubject.statusPurpose", "suspension")),
     ErrorCode.STATUS_LIST_INVALID, "statusPurpose"),
    ("not a BitstringStatusListCredential", _resign(_set("type", ["VerifiableCredential"])),
     ErrorCode.STATUS_LIST_INVALID, "not a BitstringStatusListCredential"),
    ("subject is not one BitstringStatusList",
     _resign(lambda sl: _set("credentialSubject", [sl["credentialSubject"]] * 2)(sl)),
     ErrorCode.STATUS_LIST_INVALID, "more than one place"),
    ("another list's id", _resign(_set("id", "https://issuer.example/status/2")),
     ErrorCode.STATUS_LIST_INVALID, "has id"),
    ("shorter than 16 KB", _resign(_set("credentialSubject.encodedList", _gzip_u(bytes(1024)))),
     ErrorCode.STATUS_LIST_INVALID, "at least 131072"),
    ("itself under a status list", _resign(_set("credentialStatus", status_entry(LIST_URL, 0))),
     ErrorCode.STATUS_LIST_INVALID, "must not itself"),
]


@pytest.mark.parametrize(("what", "mutate", "code", "message"), ADVERSARIAL, ids=[a[0] for a in ADVERSARIAL])
def test_a_status_list_that_cannot_be_trusted_is_refused(
    what: str, mutate: Callable[[dict[str, Any], Issuer], None], code: ErrorCode, message: str,
    issue_with_status: IssueWithStatus, registry: StatusRegistry, ed25519_issuer: Issuer,
    verifier: Verifier, no_network: list[Any],
) -> None:
    credential = issue_with_status()
    lists = _publish(registry, ed25519_issuer)
    mutate(lists[LIST_URL], ed25519_issuer)

    with pytest.raises(RunIdError) as excinfo:
        check_status(credential, lists, verifier=verifier)

    assert excinfo.value.code is code, excinfo.value
    assert message in excinfo.value.message


def test_a_status_list_signed_by_another_issuer_is_refused(
    issue_with_status: IssueWithStatus, registry: StatusRegistry, verifier: Verifier, no_network: list[Any]
) -> None:
    credential = issue_with_status()
    impostor = Issuer.generate()

    with pytest.raises(RunIdError) as excinfo:
        check_status(credential, _publish(registry, impostor), verifier=verifier)

    assert excinfo.value.code is ErrorCode.STATUS_LIST_ISSUER_MISMATCH
    assert impostor.did in excinfo.value.message


def test_a_missing_status_list_is_not_fetched(
    issue_with_status: IssueWithStatus, verifier: Verifier, no_network: list[Any]
) -> None:
    with pytest.raises(RunIdError) as excinfo:
        check_status(issue_with_status(), {}, verifier=verifier)

    assert excinfo.value.code is ErrorCode.STATUS_LIST_MISSING
    assert "never fetched" in excinfo.value.message
    assert no_network == []


def test_an_expired_status_list_is_refused(
    issue_with_status: IssueWithStatus, registry: StatusRegistry, ed25519_issuer: Issuer, no_network: list[Any]
) -> None:
    credential = issue_with_status()
    lists = _publish(registry, ed25519_issuer)  # valid for one day from CREATED

    with pytest.raises(RunIdError) as excinfo:
        check_status(credential, lists, verifier=Verifier(now=CREATED + timedelta(days=2)))

    assert excinfo.value.code is ErrorCode.STATUS_LIST_INVALID
    assert "validity-period" in excinfo.value.message
    assert ErrorCode.CREDENTIAL_EXPIRED.value in excinfo.value.message


@pytest.mark.parametrize(
    ("entry_change", "message"),
    [
        ({"type": "StatusList2021Entry"}, "not supported"),
        ({"statusPurpose": "refresh"}, "not supported"),
        ({"statusListIndex": 3}, "as a string"),
        ({"statusListIndex": "-1"}, "as a string"),
        ({"statusListIndex": str(MIN_BITS)}, "outside the list"),
        ({"statusSize": 2}, "statusSize"),
    ],
)
def test_an_entry_no_list_can_answer_is_refused(
    entry_change: dict[str, Any], message: str, credential_v2: dict[str, Any],
    registry: StatusRegistry, ed25519_issuer: Issuer, verifier: Verifier,
) -> None:
    # Unsigned: the entry is read before anything is verified (and an unknown entry type could
    # not be signed: no context defines its terms).
    credential = {
        **credential_v2, "issuer": ed25519_issuer.did, "credentialStatus": {**status_entry(LIST_URL, 0), **entry_change}
    }

    with pytest.raises(RunIdError) as excinfo:
        check_status(credential, _publish(registry, ed25519_issuer), verifier=verifier)

    assert excinfo.value.code is ErrorCode.STATUS_LIST_INVALID
    assert message in excinfo.value.message


# --- the commands ------------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNID_HOME", raising=False)
    app = typer.Typer()
    register(app)

    def _run(*args: str | Path) -> Result:
        result = CliRunner().invoke(app, [str(a) for a in args])
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
        return result

    return _run


def _one_error_line(result: Result, code: ErrorCode, exit_code: int) -> None:
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{code.value}: "), result.stderr


def test_cli_revoke_then_publish(cli: Callable[..., Result], tmp_path: Path) -> None:
    home = tmp_path / "home"
    issuer, _ = init_home(home)
    registry = StatusRegistry(home)
    keep, _ = registry.assign(LIST_URL)
    gone, _ = registry.assign(LIST_URL)

    revoked = cli("revoke", gone, "--reason", "leaked", "--home", home)
    published = cli("status-list", "--url", LIST_URL, "--out", tmp_path / "list.json", "--home", home)

    assert revoked.exit_code == 0, revoked.output
    assert "status list index 1" in revoked.stdout
    assert registry.is_revoked(gone) and not registry.is_revoked(keep)
    assert published.exit_code == 0, published.output
    status_list = json.loads((tmp_path / "list.json").read_text())
    assert status_list["issuer"] == issuer.did
    assert Verifier().verify_credential(status_list).valid
    bits = decode_bitstring(status_list["credentialSubject"]["encodedList"])
    assert (bit_at(bits, 0), bit_at(bits, 1)) == (False, True)


def test_cli_status_list_to_stdout(cli: Callable[..., Result], tmp_path: Path) -> None:
    init_home(tmp_path / "home")

    result = cli("status-list", "--url", LIST_URL, "--home", tmp_path / "home")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == LIST_URL


@pytest.mark.parametrize(
    ("args", "code", "exit_code"),
    [
        (("revoke", "urn:uuid:unknown", "--reason", "x"), ErrorCode.RUN_NOT_FOUND, 1),
        (("revoke", "urn:uuid:unknown", "--reason", " "), ErrorCode.USAGE, 2),
        (("status-list", "--url", "no url"), ErrorCode.USAGE, 2),
    ],
)
def test_cli_errors_are_one_line(
    cli: Callable[..., Result], tmp_path: Path, args: tuple[str, ...], code: ErrorCode, exit_code: int
) -> None:
    init_home(tmp_path / "home")

    _one_error_line(cli(*args, "--home", tmp_path / "home"), code, exit_code)


def test_cli_status_list_needs_the_issuer_key(cli: Callable[..., Result], tmp_path: Path) -> None:
    _one_error_line(cli("status-list", "--url", LIST_URL, "--home", tmp_path / "empty"), ErrorCode.KEY_NOT_FOUND, 1)


def test_cli_revoke_needs_a_reason(cli: Callable[..., Result], tmp_path: Path) -> None:
    assert cli("revoke", "urn:uuid:a", "--home", tmp_path).exit_code == 2


def test_check_status_does_not_change_its_inputs(
    issue_with_status: IssueWithStatus, registry: StatusRegistry, ed25519_issuer: Issuer, verifier: Verifier
) -> None:
    # check_status must not mutate what it is given (a bundle verifier reuses the snapshot).
    credential = issue_with_status()
    lists = _publish(registry, ed25519_issuer)
    before = copy.deepcopy((credential, lists))

    check_status(credential, lists, verifier=verifier)

    assert (credential, lists) == before
