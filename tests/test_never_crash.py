"""Never hang, never crash, on any input (issue 8 §4): one regression test per input found.

Each hostile input gets a specific typed code — never ``RUNID_INTERNAL``, never a traceback,
never minutes of CPU or a read that does not end.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from vc_runid._internal.canonical import canonicalize
from vc_runid._internal.files import read_limited
from vc_runid._internal.multiformats import (
    MAX_MULTIBASE_BYTES,
    max_encoded_length,
    multibase_decode,
)
from vc_runid.audit.bulk import discover_runs
from vc_runid.bundle.archive import verify_bundle
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.runs.digests import decode_digest_multibase
from vc_runid.runs.presentations import verify_presentation
from vc_runid.store.files import parse_disclosures, read_secured
from vc_runid.vc.credentials import Issuer, issue_credential
from vc_runid.vc.dids import load_did_store, resolve_did_key
from vc_runid.vc.documents import MAX_DOCUMENT_BYTES, parse_json
from vc_runid.vc.verification import Verifier

V2 = "https://www.w3.org/ns/credentials/v2"
AT = datetime(2026, 1, 1, tzinfo=UTC)


def code_of(action: Any) -> ErrorCode:
    with pytest.raises(RunIdError) as caught:
        action()
    return caught.value.code


# --- base58 is quadratic: lengths are bounded before decoding -------------------------------------

HUGE_BASE58 = "z" + "2" * 1_000_000  # decoding this took about 9 minutes


def test_a_multibase_value_longer_than_any_key_or_signature_is_refused_before_decoding() -> None:
    assert code_of(lambda: multibase_decode(HUGE_BASE58)) is ErrorCode.KEY_INVALID
    longest = "z" + "2" * max_encoded_length(MAX_MULTIBASE_BYTES, "z")
    assert len(multibase_decode(longest)) <= MAX_MULTIBASE_BYTES + 1


def test_a_megabyte_did_key_is_refused_before_decoding() -> None:
    assert code_of(lambda: resolve_did_key("did:key:" + HUGE_BASE58)) is ErrorCode.DID_INVALID


@pytest.mark.parametrize("value", [HUGE_BASE58, "u" + "A" * 1_000_000])
def test_a_megabyte_digest_is_refused_before_decoding(value: str) -> None:
    assert code_of(lambda: decode_digest_multibase(value)) is ErrorCode.MANIFEST_INVALID


def test_a_megabyte_proof_value_fails_the_signature_check_as_malformed() -> None:
    issuer = Issuer.generate()
    credential: Any = issue_credential(
        {"@context": [V2], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:1"}}, issuer
    )
    credential["proof"]["proofValue"] = "z" + "2" * 150_000
    report = Verifier().verify_credential(credential)
    assert not report.valid
    assert ErrorCode.INTERNAL.value not in report.error_codes


# --- files: regular files only, never more than the limit + 1 byte --------------------------------


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "credential.json"
    os.mkfifo(fifo)
    assert code_of(lambda: read_secured(fifo)) is ErrorCode.FILE_UNREADABLE


def test_a_symlink_to_dev_zero_is_not_read(tmp_path: Path) -> None:
    link = tmp_path / "credential.json"
    link.symlink_to("/dev/zero")
    assert code_of(lambda: read_limited(link, MAX_DOCUMENT_BYTES)) is ErrorCode.FILE_UNREADABLE


def test_a_3_gb_file_is_refused_by_its_size_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "credential.json"
    with open(big, "wb") as handle:  # sparse: no disk, no memory
        handle.truncate(3 << 30)
    assert code_of(lambda: read_secured(big)) is ErrorCode.INPUT_TOO_LARGE


def test_a_file_is_read_to_at_most_the_limit_plus_one_byte(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b"x" * 11)
    assert read_limited(path, 11) == b"x" * 11
    assert code_of(lambda: read_limited(path, 10)) is ErrorCode.INPUT_TOO_LARGE


def test_audit_and_the_did_store_skip_fifos_and_devices(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    runs = discover_runs(tmp_path)
    assert sorted(str(run.unreadable.name) for run in runs if run.unreadable) == ["fifo.json", "zero.json"]
    assert {p.code for run in runs for p in run.problems} == {ErrorCode.FILE_UNREADABLE}
    assert code_of(lambda: load_did_store(tmp_path)) is ErrorCode.DID_INVALID


# --- JSON that Python reads but nothing after it can use ------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": "\\ud800"}',  # a lone surrogate: not Unicode text, cannot be hashed or signed
        b'{"\\udc00": 1}',
        b'{"a": ' + b"1" * 5000 + b"}",  # past Python's int-string conversion limit
        b'{"a": 1e400}',  # a float JSON can write but no one can read back
    ],
    ids=["surrogate-value", "surrogate-key", "5000-digits", "infinite-float"],
)
def test_json_that_cannot_be_used_is_input_not_json(data: bytes) -> None:
    assert code_of(lambda: parse_json(data)) is ErrorCode.INPUT_NOT_JSON


def test_a_surrogate_pair_is_text() -> None:
    assert parse_json(b'"\\ud83d\\ude00"') == "\U0001f600"


def test_a_lone_surrogate_in_a_disclosure_is_a_disclosure_mismatch() -> None:
    data = b'[{"path": "input", "salt": "uAAAAAAAAAAAAAAAAAAAAAA", "content": "\\ud800"}]'
    assert code_of(lambda: parse_disclosures(data, "disclosures.json")) is ErrorCode.DISCLOSURE_MISMATCH


# --- JSON-LD whose canonicalization would recurse past Python's limit ------------------------------


def test_a_list_of_600_identical_items_is_a_canonicalization_limit_not_a_recursion_error() -> None:
    document = {
        "@context": [V2, {"items": {"@id": "https://example.com/items", "@container": "@list"}}],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:1", "items": ["a"] * 600},
    }
    assert code_of(lambda: canonicalize(document)) is ErrorCode.CANONICALIZATION_LIMIT
    unsigned = {key: value for key, value in document.items() if key != "issuer"}
    assert code_of(lambda: issue_credential(unsigned, Issuer.generate())) is ErrorCode.CANONICALIZATION_LIMIT


# --- presentations whose proof is not an object ----------------------------------------------------


@pytest.mark.parametrize("proof", [5, "x", [True], [5]])
def test_a_presentation_proof_that_is_not_an_object_is_malformed(proof: Any) -> None:
    presentation = {"@context": [V2], "type": ["VerifiablePresentation"], "proof": proof}
    report = verify_presentation(presentation, challenge="c", domain="d", verifier=Verifier())
    assert not report.valid
    assert ErrorCode.PROOF_MALFORMED.value in report.error_codes
    assert ErrorCode.INTERNAL.value not in report.error_codes


# --- audit bundles that zipfile cannot read --------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytearray:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return bytearray(buffer.getvalue())


def _central_directory_version(data: bytearray) -> bytearray:
    data[data.find(b"PK\x01\x02") + 6] = 100  # "version needed to extract": 10.0
    return data


def _end_of_directory_offset(data: bytearray) -> bytearray:
    end = data.find(b"PK\x05\x06")
    offset = struct.unpack_from("<I", data, end + 16)[0]
    struct.pack_into("<I", data, end + 16, offset + 10)  # member headers now at negative offsets
    return data


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (_central_directory_version, ErrorCode.BUNDLE_INVALID),
        (_end_of_directory_offset, ErrorCode.BUNDLE_TRUNCATED),
    ],
    ids=["unsupported-version", "bad-eocd-offset"],
)
def test_a_zip_zipfile_cannot_read_is_a_failed_archive_check(tmp_path: Path, mutate: Any, code: ErrorCode) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(bytes(mutate(_zip({"manifest.json": json.dumps({"format": "x"}).encode()}))))
    report = verify_bundle(path, at=AT)
    archive = [c for c in report.checks if c.name == "archive"]
    assert archive and not archive[0].passed and archive[0].code == code.value, report.checks


def test_a_bundle_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "bundle.zip"
    os.mkfifo(fifo)
    assert code_of(lambda: verify_bundle(fifo, at=AT)) is ErrorCode.FILE_UNREADABLE


# --- digests must be digests -------------------------------------------------------------------

GOOD_DIGEST = "uEiCvZBZBqvVCLLCsoTrbqVVjK0_WCmXVCgCbmFCoq1QxSQ"


@pytest.mark.parametrize("digest", ["nope", "u", "z", "uAAAA", "z" + "2" * 5000])
def test_a_declaration_whose_digests_are_not_digests_is_not_a_declaration(digest: str) -> None:
    from vc_runid.runs.binding import OutputDigest
    from vc_runid.runs.composition import RunComposition
    from vc_runid.runs.declaration import DECLARATION_TYPE, declaration_subject

    with pytest.raises(ValueError, match="digestMultibase"):
        RunComposition.model_validate({"model": {"modelId": "m"}, "input": {"digestMultibase": digest}})
    with pytest.raises(ValueError, match="digestMultibase"):
        OutputDigest(digestMultibase=digest)
    credential = {
        "@context": [V2],
        "type": ["VerifiableCredential", DECLARATION_TYPE],
        "credentialSubject": {"id": "urn:uuid:1", "model": {"modelId": "m"}, "tools": [{"name": "t", "digestMultibase": digest}]},
    }
    assert code_of(lambda: declaration_subject(credential)) is ErrorCode.NOT_A_DECLARATION
    RunComposition.model_validate({"model": {"modelId": "m"}, "input": {"digestMultibase": GOOD_DIGEST}})


def test_parameters_with_a_lone_surrogate_are_refused_when_the_composition_is_read() -> None:
    from vc_runid.runs.composition import RunComposition

    with pytest.raises(ValueError, match="surrogate"):
        RunComposition.model_validate(
            {"model": {"modelId": "m"}, "configuration": {"parameters": "\ud800", "digestMultibase": GOOD_DIGEST}}
        )


# --- time order is exact, not to the microsecond ---------------------------------------------------


def test_completed_100_ns_before_started_is_out_of_order() -> None:
    from vc_runid._internal.timeutil import parse_instant
    from vc_runid.runs.binding import BindingSubject, OutputDigest
    from vc_runid.runs.verify import _time_order

    assert parse_instant("2026-01-01T00:00:00.0000001Z", "t") > parse_instant("2026-01-01T00:00:00Z", "t")
    assert parse_instant("2026-01-01T01:00:00.5+01:00", "t") == parse_instant("2026-01-01T00:00:00.50Z", "t")
    declaration = {"@context": [V2], "validFrom": "2026-01-01T00:00:00Z"}
    binding = {"@context": [V2], "validFrom": "2026-01-01T00:00:01Z"}

    def subject(started: str, completed: str) -> BindingSubject:
        return BindingSubject(output=OutputDigest(digestMultibase=GOOD_DIGEST), startedAt=started, completedAt=completed)

    late = subject("2026-01-01T00:00:00.0000002Z", "2026-01-01T00:00:00.0000001Z")
    assert code_of(lambda: _time_order(declaration, binding, late)) is ErrorCode.TIME_ORDER
    in_order = subject("2026-01-01T00:00:00.0000001Z", "2026-01-01T00:00:00.0000002Z")
    assert _time_order(declaration, binding, in_order)


def test_a_context_file_or_a_manifest_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    from vc_runid._internal.contexts import read_context_file
    from vc_runid.runs.manifest import load_manifest

    fifo = tmp_path / "context.json"
    os.mkfifo(fifo)
    assert code_of(lambda: read_context_file(fifo)) is ErrorCode.CONTEXT_INVALID
    assert code_of(lambda: load_manifest(fifo)) is ErrorCode.FILE_UNREADABLE


@pytest.mark.parametrize(
    "mutation",
    ["surrogate-disclosure", "surrogate-manifest", "huge-integer-manifest"],
)
def test_a_bundle_with_unusable_json_inside_gets_a_typed_finding(tmp_path: Path, mutation: str) -> None:
    import vc_runid as runid
    from tests.test_bundle import AT as BUNDLE_AT
    from tests.test_bundle import Clock, make_run, path_with_role, rewrite
    from vc_runid.bundle.archive import create_bundle

    home = tmp_path / "home"
    runid.init_home(home)
    run = make_run(home, Clock())
    path = create_bundle(home, [run.run_id], tmp_path / "a.zip", disclose=["input"])

    def mutate(members: dict[str, bytes]) -> None:
        if mutation == "surrogate-disclosure":
            target = path_with_role(members, "disclosures")
            members[target] = members[target].replace(b'"What is', b'"\\ud800What is', 1)
        elif mutation == "surrogate-manifest":
            members["manifest.json"] = members["manifest.json"].replace(b'"format"', b'"x\\udc00": 1, "format"', 1)
        else:
            members["manifest.json"] = members["manifest.json"].replace(b'"format"', b'"x": ' + b"7" * 5000 + b', "format"', 1)

    report = verify_bundle(rewrite(path, tmp_path / "t.zip", mutate, fix=mutation == "surrogate-disclosure"), at=BUNDLE_AT)
    assert not report.valid
    codes = report.error_codes + [c.code for run_entry in report.runs for c in run_entry.report.failures]
    assert codes and ErrorCode.INTERNAL.value not in codes, report.checks
    if mutation == "surrogate-disclosure":
        assert ErrorCode.DISCLOSURE_MISMATCH.value in codes, codes
