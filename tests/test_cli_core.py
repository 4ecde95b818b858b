"""The core commands: init, did show, did web, issue, verify.

Exit codes: 0 valid / success, 1 invalid / failure, 2 usage. An error is one line, ``CODE: message``,
on stderr — and no output of any command here may ever contain a traceback.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tests.trust import with_trust
from vc_runid.cli.main import app
from vc_runid.vc.credentials import key_type_for
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.keys import KeyType

ERROR_LINE = re.compile(r"^RUNID_[A-Z_]+: \S.*$")
AT_NOW = "2025-06-01T12:00:00Z"  # every credential here is issued with --created before this
CREATED = "2025-06-01T11:00:00Z"


def cli(*args: str | Path) -> Result:
    result = CliRunner().invoke(app, with_trust([str(a) for a in args]))
    # A crash inside the command shows up as result.exception, with no traceback in the output.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream
    return result


def assert_error_line(result: Result, code: str, exit_code: int = 1) -> None:
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert ERROR_LINE.match(lines[0]), lines[0]
    assert lines[0].startswith(f"{code}: ")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never touch the developer's ./.runid or $RUNID_HOME.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNID_HOME", raising=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    assert cli("init", "--home", path).exit_code == 0
    return path


@pytest.fixture
def p256_home(tmp_path: Path) -> Path:
    path = tmp_path / "p256-home"
    assert cli("init", "--home", path, "--key-type", "p256").exit_code == 0
    return path


@pytest.fixture
def unsigned_v2(tmp_path: Path, credential_v2: dict[str, Any]) -> Path:
    path = tmp_path / "unsigned-v2.json"
    path.write_text(json.dumps(credential_v2))
    return path


@pytest.fixture
def unsigned_v1(tmp_path: Path, credential_v1: dict[str, Any]) -> Path:
    path = tmp_path / "unsigned-v1.json"
    path.write_text(json.dumps(credential_v1))
    return path


@pytest.fixture
def signed(tmp_path: Path, home: Path, unsigned_v2: Path) -> Path:
    path = tmp_path / "signed.json"
    assert cli("issue", unsigned_v2, "--home", home, "--created", CREATED, "--out", path).exit_code == 0
    return path


# --- init -----------------------------------------------------------------------------------------


def test_init_is_idempotent_and_never_overwrites_the_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = cli("init", "--home", home)
    key_file = home / "keys" / "issuer.jwk"
    key = key_file.read_bytes()

    second = cli("init", "--home", home, "--key-type", "p256")

    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "created" in first.stdout and "exists" in second.stdout
    assert key_file.read_bytes() == key
    did = [line for line in first.stdout.splitlines() if line.startswith("DID: ")]
    assert did and did[0] in second.stdout


def test_init_uses_runid_home_then_dot_runid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("init").exit_code == 0
    assert (tmp_path / ".runid" / "keys" / "issuer.jwk").exists()

    monkeypatch.setenv("RUNID_HOME", str(tmp_path / "env-home"))
    assert cli("init").exit_code == 0
    assert (tmp_path / "env-home" / "keys" / "issuer.jwk").exists()


@pytest.mark.parametrize(("key_type", "prefix"), [("ed25519", "did:key:z6Mk"), ("p256", "did:key:zDn")])
def test_init_key_type_chooses_the_did_key(key_type: str, prefix: str, tmp_path: Path) -> None:
    result = cli("init", "--home", tmp_path / "h", "--key-type", key_type)

    assert result.exit_code == 0
    assert f"DID: {prefix}" in result.stdout


def test_init_unknown_key_type_is_a_usage_error(tmp_path: Path) -> None:
    assert_error_line(cli("init", "--home", tmp_path / "h", "--key-type", "rsa"), "RUNID_USAGE", 2)


def test_init_in_an_unusable_home_is_an_error_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    assert_error_line(cli("init", "--home", blocker), "RUNID_USAGE", 2)


def test_a_corrupt_identity_file_is_an_error_line(home: Path) -> None:
    (home / "identity.json").write_text("{not json")

    assert_error_line(cli("did", "show", "--home", home), "RUNID_USAGE", 2)


# --- did show / did web ---------------------------------------------------------------------------


def test_did_show_prints_the_did_and_with_json_its_document(home: Path) -> None:
    did = cli("did", "show", "--home", home)
    document = cli("did", "show", "--home", home, "--json")

    assert did.exit_code == document.exit_code == 0
    assert re.fullmatch(r"did:key:z6Mk\w+\n", did.stdout)
    parsed = json.loads(document.stdout)
    assert parsed["id"] == did.stdout.strip()
    assert parsed["assertionMethod"] == [m["id"] for m in parsed["verificationMethod"]]


def test_did_show_without_a_key_is_key_not_found(tmp_path: Path) -> None:
    assert_error_line(cli("did", "show", "--home", tmp_path / "empty"), "RUNID_KEY_NOT_FOUND")


@pytest.mark.parametrize(
    ("domain", "url"),
    [
        ("example.com", "https://example.com/.well-known/did.json"),
        ("example.com:issuers:a", "https://example.com/issuers/a/did.json"),
    ],
)
def test_did_web_writes_the_document_to_host(home: Path, tmp_path: Path, domain: str, url: str) -> None:
    out = tmp_path / "did.json"

    result = cli("did", "web", "--domain", domain, "--home", home, "--out", out)

    assert result.exit_code == 0
    assert url in result.stderr
    document = json.loads(out.read_text())
    assert document["id"] == f"did:web:{domain}"
    assert "d" not in document["verificationMethod"][0]
    key = json.loads(cli("did", "show", "--home", home, "--json").stdout)["verificationMethod"][0]
    assert document["verificationMethod"][0]["publicKeyMultibase"] == key["publicKeyMultibase"]


def test_did_web_bad_domain_is_a_usage_error(home: Path) -> None:
    assert_error_line(cli("did", "web", "--domain", "example.com/x", "--home", home), "RUNID_USAGE", 2)


def test_did_web_issue_and_verify_with_a_did_store(tmp_path: Path, unsigned_v2: Path) -> None:
    home, store = tmp_path / "web-home", tmp_path / "did-store"
    store.mkdir()
    init = cli("init", "--home", home, "--domain", "example.com")
    assert init.exit_code == 0 and "DID: did:web:example.com" in init.stdout
    assert cli("did", "web", "--domain", "example.com", "--home", home, "--out", store / "did.json").exit_code == 0
    signed = tmp_path / "signed.json"

    issued = cli("issue", unsigned_v2, "--format", "di", "--home", home, "--created", CREATED, "--out", signed)

    assert issued.exit_code == 0
    assert json.loads(signed.read_text())["issuer"] == "did:web:example.com"
    valid = cli("verify", signed, "--did-store", store, "--at", AT_NOW)
    assert valid.exit_code == 0, valid.stdout
    assert ": VALID" in valid.stdout
    unresolved = cli("verify", signed, "--at", AT_NOW)
    assert unresolved.exit_code == 1
    assert "RUNID_DID_UNRESOLVED" in unresolved.stdout


# --- issue ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("proof_format", list(ProofFormat))
def test_issue_every_format_then_verify(
    proof_format: ProofFormat, home: Path, p256_home: Path, unsigned_v1: Path, unsigned_v2: Path, tmp_path: Path
) -> None:
    issuer_home = p256_home if key_type_for(proof_format) is KeyType.P256 else home
    unsigned = unsigned_v1 if proof_format is ProofFormat.JWT_V1 else unsigned_v2
    out = tmp_path / "secured"

    issued = cli("issue", unsigned, "--format", proof_format.value, "--home", issuer_home, "--created", CREATED, "--out", out)

    assert issued.exit_code == 0, issued.stderr
    text = out.read_text().strip()
    if proof_format in (ProofFormat.JOSE, ProofFormat.JWT_V1):
        assert text.count(".") == 2 and not text.startswith("{")
    else:
        assert "proof" in json.loads(text)
    verified = cli("verify", out, "--at", AT_NOW)
    assert verified.exit_code == 0, verified.stdout


def test_issue_prints_to_stdout_without_out(home: Path, unsigned_v2: Path) -> None:
    result = cli("issue", unsigned_v2, "--home", home)

    assert result.exit_code == 0
    assert json.loads(result.stdout)["proof"]["cryptosuite"] == "eddsa-rdfc-2022"


@pytest.mark.parametrize(
    ("content", "args", "code", "exit_code"),
    [
        ("{not json", [], "RUNID_INPUT_NOT_JSON", 1),
        ("[]", [], "RUNID_NOT_A_CREDENTIAL", 1),
        ('{"a": 1, "a": 2}', [], "RUNID_INPUT_DUPLICATE_KEY", 1),
        (None, [], "RUNID_FILE_UNREADABLE", 1),
        ("VALID", ["--format", "ecdsa"], "RUNID_KEY_INVALID", 1),  # an Ed25519 home
        ("VALID", ["--created", "yesterday"], "RUNID_USAGE", 2),
        ("VALID", ["--key", "missing.jwk"], "RUNID_KEY_NOT_FOUND", 1),
        ("UNDEFINED", [], "RUNID_UNDEFINED_TERM", 1),
    ],
)
def test_issue_errors_are_one_line_on_stderr(
    content: str | None, args: list[str], code: str, exit_code: int, home: Path, tmp_path: Path,
    credential_v2: dict[str, Any],
) -> None:
    path = tmp_path / "input.json"
    if content == "VALID":
        content = json.dumps(credential_v2)
    elif content == "UNDEFINED":
        credential_v2["credentialSubject"]["undefinedTerm"] = 1
        content = json.dumps(credential_v2)
    if content is not None:
        path.write_text(content)

    result = cli("issue", path, "--home", home, *args)

    assert_error_line(result, code, exit_code)
    assert result.stdout == ""


def test_issue_without_a_home_key_is_key_not_found(tmp_path: Path, unsigned_v2: Path) -> None:
    assert_error_line(cli("issue", unsigned_v2, "--home", tmp_path / "nothing"), "RUNID_KEY_NOT_FOUND")


# --- verify ---------------------------------------------------------------------------------------


def test_verify_valid_exits_0(signed: Path) -> None:
    result = cli("verify", signed, "--at", AT_NOW)

    assert result.exit_code == 0
    assert result.stdout.startswith(f"{signed}: VALID")
    assert "FAIL" not in result.stdout


def test_verify_invalid_exits_1_and_names_the_failed_check(signed: Path) -> None:
    credential = json.loads(signed.read_text())
    credential["credentialSubject"]["name"] = "Mallory"
    signed.write_text(json.dumps(credential))

    result = cli("verify", signed, "--at", AT_NOW)

    assert result.exit_code == 1
    assert ": INVALID" in result.stdout
    assert "FAIL proof.signature [RUNID_PROOF_INVALID]" in result.stdout


@pytest.mark.parametrize(
    "args",
    [["--no-such-option"], ["--at", "yesterday"], ["--at", "2025-06-01T12:00:00"], ["--context", "no-equals"], []],
    ids=["unknown option", "--at not a dateTime", "--at without a time zone", "--context not URL=FILE", "no file"],
)
def test_verify_usage_error_exits_2(args: list[str], signed: Path) -> None:
    files = [signed] if args else []

    result = cli("verify", *files, *args)

    assert result.exit_code == 2, result.output


def test_verify_usage_errors_of_ours_are_one_line(signed: Path) -> None:
    assert_error_line(cli("verify", signed, "--at", "yesterday"), "RUNID_USAGE", 2)
    assert_error_line(cli("verify", signed, "--did-store", "missing-dir"), "RUNID_USAGE", 2)


def test_verify_json_prints_the_report_with_its_checks(signed: Path) -> None:
    result = cli("verify", signed, "--at", AT_NOW, "--json")

    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert report["file"] == str(signed)
    assert report["format"] == "eddsa-rdfc-2022"
    names = [c["name"] for c in report["checks"]]
    assert {"data-model", "contexts", "json-ld", "proof.signature", "validity-period"} <= set(names)
    assert all(c["passed"] for c in report["checks"])


def test_verify_json_of_an_invalid_credential_exits_1_with_the_code(signed: Path) -> None:
    result = cli("verify", signed, "--at", "2024-01-01T00:00:00Z", "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    failed = [c for c in report["checks"] if not c["passed"]]
    assert "RUNID_CREDENTIAL_NOT_YET_VALID" in [c["code"] for c in failed]


def test_verify_at_a_time_before_valid_from_exits_1_not_yet_valid(signed: Path) -> None:
    result = cli("verify", signed, "--at", "2024-01-01T00:00:00Z")

    assert result.exit_code == 1
    assert "RUNID_CREDENTIAL_NOT_YET_VALID" in result.stdout


def test_verify_several_files_is_valid_only_if_all_are(signed: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(signed.read_text().replace("Alice", "Alicf"))

    assert cli("verify", signed, signed, "--at", AT_NOW).exit_code == 0
    both = cli("verify", signed, broken, "--at", AT_NOW)
    assert both.exit_code == 1
    assert f"{signed}: VALID" in both.stdout and f"{broken}: INVALID" in both.stdout


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (None, "RUNID_FILE_UNREADABLE"),
        ("{not json", "RUNID_INPUT_NOT_JSON"),
        ('{"proof": 1, "proof": 2}', "RUNID_INPUT_DUPLICATE_KEY"),
        ("[1, 2]", "RUNID_NOT_A_CREDENTIAL"),
    ],
)
def test_verify_unreadable_input_is_one_error_line(content: str | None, code: str, tmp_path: Path) -> None:
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)

    assert_error_line(cli("verify", path), code)


def test_the_installed_command_prints_one_error_line_and_no_traceback(tmp_path: Path) -> None:
    vc_runid = Path(sys.executable).with_name("vc-runid")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    blocker = tmp_path / "blocker"
    blocker.write_text("")

    for args, code, exit_code in [
        (["verify", str(bad)], "RUNID_INPUT_NOT_JSON", 1),
        (["init", "--home", str(blocker)], "RUNID_USAGE", 2),
        (["verify", str(bad), "--bogus"], None, 2),
    ]:
        result = subprocess.run([str(vc_runid), *args], capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == exit_code, result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        if code is not None:
            assert result.stderr.splitlines() == [result.stderr.strip()]
            assert result.stderr.startswith(f"{code}: ")
