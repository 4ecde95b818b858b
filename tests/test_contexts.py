"""Contexts: pinned, offline, fail-closed; and JSON-LD safe mode (Data Integrity §4.6).

Every context vc-runid accepts ships in ``contexts/`` with its SHA-256 in ``contexts/index.json``.
Any other URL is refused with RUNID_CONTEXT_NOT_ALLOWED *before* any I/O: the tests below prove it
by forbidding socket creation (``no_network``) and, end to end, by running the CLI in a network
namespace that has no network at all.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.trust import with_trust
from vc_runid._internal.contexts import (
    DATA_INTEGRITY_V2,
    VC_V1,
    VC_V2,
    DocumentLoader,
    contexts_dir,
    default_loader,
    parse_context_option,
    pinned_contexts,
)
from vc_runid.cli.main import app
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.vc import jose
from vc_runid.vc.credentials import Issuer, issue_credential
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.verification import Verifier

INDEX = json.loads((contexts_dir() / "index.json").read_text())["contexts"]
PINNED_URLS = [entry["url"] for entry in INDEX]

UNPINNED = "https://example.org/contexts/unpinned/v1"
# A context the toolkit does not trust by default (the W3C examples context itself is pinned now:
# issue 10), shaped like it.
EXAMPLES_V2 = "https://example.org/contexts/examples/v2"
EXAMPLES_V2_DOCUMENT = {"@context": {"@vocab": "https://example.org/contexts/examples#"}}

CONTEXT_REFUSED = "RUNID_CONTEXT_NOT_ALLOWED"


def raises_code(code: ErrorCode, call: Callable[[], Any]) -> RunIdError:
    with pytest.raises(RunIdError) as caught:
        call()
    assert caught.value.code is code, str(caught.value)
    return caught.value


# --- the pinned set ------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", INDEX, ids=[e["file"] for e in INDEX])
def test_every_pinned_context_file_matches_its_recorded_sha256(entry: dict[str, Any]) -> None:
    data = (contexts_dir() / entry["file"]).read_bytes()

    assert hashlib.sha256(data).hexdigest() == entry["sha256"]


@pytest.mark.parametrize("entry", INDEX, ids=[e["file"] for e in INDEX])
def test_every_pinned_context_file_is_json_with_an_at_context(entry: dict[str, Any]) -> None:
    document = json.loads((contexts_dir() / entry["file"]).read_bytes())

    assert isinstance(document, dict)
    assert isinstance(document.get("@context"), dict | list)


def test_every_file_in_the_contexts_directory_is_pinned() -> None:
    shipped = {p.name for p in contexts_dir().glob("*.jsonld")}

    assert shipped == {entry["file"] for entry in INDEX}


def test_the_contexts_credentials_need_are_pinned() -> None:
    assert {VC_V2, VC_V1, DATA_INTEGRITY_V2} <= set(PINNED_URLS)


@pytest.mark.parametrize("url", PINNED_URLS)
def test_every_pinned_url_resolves_through_the_loader_to_its_file(url: str) -> None:
    entry = next(e for e in INDEX if e["url"] == url)

    remote = default_loader()(url)

    assert remote["documentUrl"] == url
    assert remote["document"] == json.loads((contexts_dir() / entry["file"]).read_bytes())


# --- anything else is refused, and never fetched -----------------------------------------------


def test_no_network_fixture_really_forbids_sockets(no_network: list[tuple[Any, ...]]) -> None:
    import socket

    with pytest.raises(OSError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(OSError):
        socket.create_connection(("www.w3.org", 443))
    assert no_network  # the attempts were recorded


@pytest.mark.parametrize(
    "url",
    [
        UNPINNED,
        EXAMPLES_V2,
        "http://www.w3.org/ns/credentials/v2",  # http, not https: a different URL
        "https://www.w3.org/ns/credentials/v2/",  # trailing slash: a different URL
        "https://w3id.org/security/v2",
        "file:///etc/passwd",
    ],
)
def test_any_other_url_is_refused_without_a_network_attempt(
    url: str, no_network: list[tuple[Any, ...]]
) -> None:
    error = raises_code(ErrorCode.CONTEXT_NOT_ALLOWED, lambda: default_loader()(url))

    assert error.detail == {"url": url}
    assert no_network == []


@pytest.mark.parametrize("proof_format", list(ProofFormat))
def test_verification_needs_no_network(
    proof_format: ProofFormat, issue: Any, verifier: Verifier, no_network: list[tuple[Any, ...]]
) -> None:
    secured = issue(proof_format)

    report = verifier.verify_credential(secured)

    assert report.valid, report.failures
    assert no_network == []


# Where an unpinned context can hide in a credential, and each must be refused, not fetched.
UNPINNED_PLACEMENTS: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
    ("top-level @context", lambda c: c["@context"].append(UNPINNED)),
    ("embedded in credentialSubject", lambda c: c["credentialSubject"].update({"@context": UNPINNED})),
    ("@import in an inline context", lambda c: c["@context"].append({"@import": UNPINNED})),
    (
        "property-scoped context",
        lambda c: (
            c["@context"].append({"knows": {"@id": "https://schema.org/knows", "@context": UNPINNED}}),
            c["credentialSubject"].update({"knows": {"name": "Bob"}}),
        ),
    ),
]


@pytest.mark.parametrize("place", [p for p, _ in UNPINNED_PLACEMENTS])
def test_an_unpinned_context_is_refused_when_issuing(
    place: str,
    credential_v2: dict[str, Any],
    ed25519_issuer: Issuer,
    no_network: list[tuple[Any, ...]],
) -> None:
    dict(UNPINNED_PLACEMENTS)[place](credential_v2)

    raises_code(ErrorCode.CONTEXT_NOT_ALLOWED, lambda: issue_credential(credential_v2, ed25519_issuer))
    assert no_network == []


@pytest.mark.parametrize("place", [p for p, _ in UNPINNED_PLACEMENTS])
def test_an_unpinned_context_is_refused_when_verifying(
    place: str, issue: Any, verifier: Verifier, no_network: list[tuple[Any, ...]]
) -> None:
    secured = issue(ProofFormat.DI)
    dict(UNPINNED_PLACEMENTS)[place](secured)

    report = verifier.verify_credential(secured)

    assert report.valid is False
    assert CONTEXT_REFUSED in report.error_codes
    assert no_network == []


def test_an_unpinned_context_inside_a_jose_payload_is_refused(
    credential_v2: dict[str, Any],
    ed25519_issuer: Issuer,
    verifier: Verifier,
    no_network: list[tuple[Any, ...]],
) -> None:
    # Signed directly (issue_credential would refuse it): the verifier must not trust the signer.
    credential = {**credential_v2, "issuer": ed25519_issuer.did}
    credential["@context"].append(UNPINNED)
    token = jose.issue_vc_jose(credential, ed25519_issuer.key, ed25519_issuer.verification_method)

    report = verifier.verify_credential(token)

    assert report.error_codes == [CONTEXT_REFUSED]
    assert report.valid is False
    assert no_network == []


# --- adding a context explicitly -----------------------------------------------------------------


@pytest.fixture
def examples_context_file(tmp_path: Path) -> Path:
    path = tmp_path / "examples-v2.jsonld"
    path.write_text(json.dumps(EXAMPLES_V2_DOCUMENT))
    return path


def examples_credential(credential_v2: dict[str, Any]) -> dict[str, Any]:
    credential_v2["@context"].append(EXAMPLES_V2)
    credential_v2["type"].append("ExampleDegreeCredential")
    credential_v2["credentialSubject"]["degree"] = "Bachelor of Science"
    return credential_v2


def test_context_option_adds_a_context(
    examples_context_file: Path,
    credential_v2: dict[str, Any],
    issue: Any,
    now: Any,
    no_network: list[tuple[Any, ...]],
) -> None:
    url, document = parse_context_option(f"{EXAMPLES_V2}={examples_context_file}")
    loader = DocumentLoader({url: document})
    credential = examples_credential(credential_v2)

    secured = issue(ProofFormat.DI, credential, loader=loader)

    assert Verifier(loader=loader, now=now).verify_credential(secured).valid
    refused = Verifier(now=now).verify_credential(secured)
    assert refused.valid is False
    assert refused.error_codes == [CONTEXT_REFUSED]
    assert no_network == []


def test_a_context_added_to_one_loader_does_not_leak_into_another(
    credential_v2: dict[str, Any], issue: Any, now: Any
) -> None:
    loader = default_loader().with_contexts({EXAMPLES_V2: EXAMPLES_V2_DOCUMENT})
    secured = issue(ProofFormat.DI, examples_credential(credential_v2), loader=loader)
    assert Verifier(loader=loader, now=now).verify_credential(secured).valid

    assert EXAMPLES_V2 not in default_loader().allowed_urls
    assert Verifier(now=now).verify_credential(secured).error_codes == [CONTEXT_REFUSED]
    # Nor into a fresh loader: each loader keeps its own processed-context cache.
    assert Verifier(loader=DocumentLoader(), now=now).verify_credential(secured).valid is False


def test_a_different_document_for_a_pinned_url_is_refused() -> None:
    impostor = {"@context": {"@vocab": "https://attacker.example/#"}}

    raises_code(ErrorCode.CONTEXT_NOT_ALLOWED, lambda: DocumentLoader({VC_V2: impostor}))
    raises_code(
        ErrorCode.CONTEXT_NOT_ALLOWED, lambda: default_loader().with_contexts({VC_V2: impostor})
    )


def test_the_same_document_for_a_pinned_url_is_accepted() -> None:
    loader = DocumentLoader({VC_V2: pinned_contexts()[VC_V2]})

    assert loader(VC_V2)["document"] == pinned_contexts()[VC_V2]


@pytest.mark.parametrize(
    ("option", "file_text", "code"),
    [
        ("no-equals-sign", None, ErrorCode.USAGE),
        (f"{EXAMPLES_V2}=", None, ErrorCode.USAGE),
        ("=FILE", "{}", ErrorCode.USAGE),
        (f"{EXAMPLES_V2}=FILE", "not json", ErrorCode.CONTEXT_INVALID),
        (f"{EXAMPLES_V2}=FILE", '{"no": "context"}', ErrorCode.CONTEXT_INVALID),
        (f"{EXAMPLES_V2}=FILE", '["@context"]', ErrorCode.CONTEXT_INVALID),
        (f"{EXAMPLES_V2}=MISSING", None, ErrorCode.CONTEXT_INVALID),
    ],
)
def test_context_option_must_be_url_equals_a_context_file(
    option: str, file_text: str | None, code: ErrorCode, tmp_path: Path
) -> None:
    path = tmp_path / "context.jsonld"
    if file_text is not None:
        path.write_text(file_text)
    option = option.replace("=FILE", f"={path}").replace("=MISSING", f"={tmp_path / 'missing'}")

    raises_code(code, lambda: parse_context_option(option))


def invoke(args: list[str]) -> Any:
    result = CliRunner().invoke(app, with_trust(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def test_cli_context_option_adds_a_context_for_issue_and_verify(
    tmp_path: Path, examples_context_file: Path, credential_v2: dict[str, Any]
) -> None:
    home = tmp_path / "home"
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(examples_credential(credential_v2)))
    signed = tmp_path / "signed.json"
    option = ["--context", f"{EXAMPLES_V2}={examples_context_file}"]
    assert invoke(["init", "--home", str(home)]).exit_code == 0

    refused = invoke(["issue", str(unsigned), "--home", str(home), "--out", str(signed)])
    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"{CONTEXT_REFUSED}: ")

    assert invoke(["issue", str(unsigned), "--home", str(home), "--out", str(signed), *option]).exit_code == 0
    assert invoke(["verify", str(signed), *option]).exit_code == 0
    without = invoke(["verify", str(signed)])
    assert without.exit_code == 1
    assert CONTEXT_REFUSED in without.stdout


def test_cli_refuses_a_different_document_for_a_pinned_url(tmp_path: Path, issue: Any) -> None:
    impostor = tmp_path / "v2.jsonld"
    impostor.write_text(json.dumps({"@context": {"@vocab": "https://attacker.example/#"}}))
    signed = tmp_path / "signed.json"
    signed.write_text(json.dumps(issue(ProofFormat.DI)))

    result = invoke(["verify", str(signed), "--context", f"{VC_V2}={impostor}"])

    assert result.exit_code == 1
    assert result.stderr.startswith(f"{CONTEXT_REFUSED}: ")


# --- end to end, with no network at all ----------------------------------------------------------


def _unshare_prefix() -> list[str] | None:
    """``unshare -rn`` (unprivileged) or ``unshare -n`` (root), whichever this machine permits."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for flags in (["-rn"], ["-n"]):
        probe = subprocess.run([unshare, *flags, "true"], capture_output=True, timeout=30, check=False)
        if probe.returncode == 0:
            return [unshare, *flags]
    return None


def test_cli_verify_works_in_a_network_namespace_without_network(tmp_path: Path, issue: Any) -> None:
    prefix = _unshare_prefix()
    if prefix is None:
        pytest.skip(
            "!!! NOT RUN: `unshare -rn` / `unshare -n` is unavailable or not permitted here, so the "
            "offline guarantee of `vc-runid verify` was NOT checked end to end in a network namespace"
        )
    vc_runid = Path(sys.executable).with_name("vc-runid")
    signed = tmp_path / "signed.json"
    signed.write_text(json.dumps(issue(ProofFormat.DI)))
    token = tmp_path / "signed.jwt"
    token.write_text(str(issue(ProofFormat.JOSE)))

    # First show the namespace really has no network: connecting anywhere fails at once.
    probe = subprocess.run(
        [*prefix, sys.executable, "-c",
         "import socket; socket.create_connection(('1.1.1.1', 443), timeout=5)"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert probe.returncode != 0
    assert "unreachable" in probe.stderr.lower() or "errno" in probe.stderr.lower()

    for path in (signed, token):
        result = subprocess.run(
            [*prefix, str(vc_runid), "verify", str(path), "--at", "2025-06-01T12:00:00Z", "--any-issuer"],
            capture_output=True, text=True, timeout=60, check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert ": VALID" in result.stdout
        assert "Traceback" not in result.stdout + result.stderr


# --- safe mode: nothing undefined may ride along ---------------------------------------------------

SAFE_MODE_MUTATIONS: list[Any] = [
    pytest.param(
        lambda c: c["credentialSubject"].update({"favouriteColour": "blue"}),
        id="undefined property",
    ),
    pytest.param(lambda c: c.update({"undefinedTopLevel": 1}), id="undefined top-level property"),
    pytest.param(
        lambda c: c["credentialSubject"].update({"address": {"street": "1 Main St"}}),
        id="undefined property holding an object",
    ),
    pytest.param(lambda c: c["type"].append("UndefinedCredential"), id="undefined type"),
    # Expansion runs with no base, so a relative IRI stays relative and is refused.
    pytest.param(lambda c: c["credentialSubject"].update({"id": "alice"}), id="relative @id"),
]


@pytest.mark.parametrize("mutate", SAFE_MODE_MUTATIONS)
@pytest.mark.parametrize("proof_format", list(ProofFormat))
def test_safe_mode_refuses_undefined_terms_when_issuing(
    mutate: Callable[[dict[str, Any]], None],
    proof_format: ProofFormat,
    credential_v1: dict[str, Any],
    credential_v2: dict[str, Any],
    issue: Any,
) -> None:
    credential = credential_v1 if proof_format is ProofFormat.JWT_V1 else credential_v2
    mutate(credential)

    raises_code(ErrorCode.UNDEFINED_TERM, lambda: issue(proof_format, credential))


@pytest.mark.parametrize("mutate", SAFE_MODE_MUTATIONS)
@pytest.mark.parametrize("proof_format", [ProofFormat.DI, ProofFormat.DI_2020, ProofFormat.ECDSA])
def test_safe_mode_refuses_undefined_terms_when_verifying_data_integrity(
    mutate: Callable[[dict[str, Any]], None],
    proof_format: ProofFormat,
    issue: Any,
    verifier: Verifier,
) -> None:
    secured = issue(proof_format)
    mutate(secured)  # after signing: the safe-mode check must catch it before the signature does

    report = verifier.verify_credential(secured)

    assert report.valid is False
    assert report.error_codes == ["RUNID_UNDEFINED_TERM"]


@pytest.mark.parametrize("mutate", SAFE_MODE_MUTATIONS)
def test_safe_mode_refuses_undefined_terms_when_verifying_a_signed_jose_credential(
    mutate: Callable[[dict[str, Any]], None],
    credential_v2: dict[str, Any],
    ed25519_issuer: Issuer,
    verifier: Verifier,
) -> None:
    # The JWS signature covers the bytes, so the term is really signed; safe mode must still refuse.
    credential = {**credential_v2, "issuer": ed25519_issuer.did}
    mutate(credential)
    token = jose.issue_vc_jose(credential, ed25519_issuer.key, ed25519_issuer.verification_method)

    report = verifier.verify_credential(token)

    assert report.valid is False
    assert report.error_codes == ["RUNID_UNDEFINED_TERM"]
