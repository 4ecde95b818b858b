"""Fuzzing (issue 8 §4): no input reaches ``RUNID_INTERNAL``, raises anything but a typed
``RunIdError``, or takes more than 2 s.

Inputs are random bytes and random mutations of real, signed documents: credentials,
presentations, run declarations and bindings, audit bundles, and the files the CLI reads.
Bounded so that the whole file runs in CI in well under a minute.
"""

from __future__ import annotations

import copy
import io
import json
import os
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vc_runid as runid
from vc_runid.bundle.archive import verify_bundle
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.runs.binding import bind, output_digest
from vc_runid.runs.declaration import declare
from vc_runid.runs.presentations import verify_presentation
from vc_runid.runs.verify import verify_run
from vc_runid.store.files import parse_disclosures
from vc_runid.vc.credentials import Issuer, issue_credential
from vc_runid.vc.documents import parse_json, read_document
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.presentations import present
from vc_runid.vc.verification import Verifier

T0 = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
INTERNAL = ErrorCode.INTERNAL.value

# RUNID_FUZZ_EXAMPLES=5000 for a longer hunt with fresh random examples; CI runs the same 150.
_DEEP = int(os.environ.get("RUNID_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_DEEP or 150,
    deadline=2000,  # ms: a slower example is a finding, not noise
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=not _DEEP,  # the same examples in CI every time
    database=None,
)


def _verifier() -> Verifier:
    try:
        from vc_runid.vc.policy import TrustPolicy
    except ImportError:  # pragma: no cover - the policy lands with issue 8 §3
        return Verifier(now=NOW)
    return Verifier(now=NOW, policy=TrustPolicy.unsafe_any_issuer())


# --- real documents to mutate -----------------------------------------------------------------


@cache
def _issuer() -> Issuer:
    return Issuer.generate()


@cache
def _credentials() -> tuple[Any, ...]:
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:6a0b1f0e-3c55-4d7e-9c1a-0d6a2b1f7e01",
        "type": ["VerifiableCredential"],
        "name": "Sample",
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "name": "Alice"},
    }
    return tuple(
        issue_credential(copy.deepcopy(unsigned), _issuer(), proof_format=fmt, created=T0)
        for fmt in (ProofFormat.DI, ProofFormat.DI_2020, ProofFormat.JOSE)
    )


@cache
def _run() -> tuple[Any, Any]:
    composition, _ = (
        runid.CompositionBuilder().model("m", provider="p").instruction("Be terse.").input("hi").build()
    )
    declaration = declare(composition, _issuer(), declared_at=T0)
    assert isinstance(declaration, dict)
    binding = bind(
        declaration, _issuer(), declaration_id=declaration["id"], run_id=declaration["credentialSubject"]["id"],
        output=output_digest(b"out", "text/plain"), started_at=T0 + timedelta(seconds=1),
        completed_at=T0 + timedelta(seconds=2), bound_at=T0 + timedelta(seconds=3),
    )
    return declaration, binding


@cache
def _presentation() -> dict[str, Any]:
    holder = _issuer()
    presentation = present([_credentials()[0]], holder, challenge="c", domain="d", created=T0)
    assert isinstance(presentation, dict)
    return presentation


# --- mutations --------------------------------------------------------------------------------

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", "z", "u", "z" + "2" * 3000, "did:key:z", "did:web:x", "@id", "@list", "@graph",
                     "https://www.w3.org/ns/credentials/v2", "2025-06-01T12:00:00.0000001Z", "urn:x"]),
)
JSON = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def _mutate(document: Any, data: st.DataObject) -> Any:
    """1-3 edits: replace a value, delete an entry, or add a key, anywhere in the document."""
    document = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(document)
        path = data.draw(st.sampled_from(paths))
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if not path:
            if action == "replace":
                document = data.draw(JSON)
            continue
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        if action == "replace":
            parent[key] = data.draw(JSON)
        elif action == "delete":
            del parent[key]
        elif isinstance(parent[key], dict):
            parent[key][data.draw(st.sampled_from(["id", "type", "@context", "proof", "@type", "@id", "x"]))] = data.draw(JSON)
    return document


def _mutate_text(text: str, data: st.DataObject) -> str:
    """A character-level edit of a compact JWS or JSON text."""
    if not text:
        return data.draw(st.text(max_size=20))
    start = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
    end = data.draw(st.integers(min_value=start, max_value=min(len(text), start + 8)))
    return text[:start] + data.draw(st.text(max_size=8)) + text[end:]


# --- the property -----------------------------------------------------------------------------


def _no_internal(value: Any) -> None:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    assert INTERNAL not in text, text[:2000]


def _typed(action: Callable[[], Any]) -> Any:
    """Run ``action``: a result without RUNID_INTERNAL, or a typed error other than RUNID_INTERNAL."""
    try:
        result = action()
    except RunIdError as exc:
        assert exc.code is not ErrorCode.INTERNAL, exc
        return None
    if hasattr(result, "model_dump"):
        _no_internal(result.model_dump(mode="json"))
    return result


# --- credentials, presentations, runs ------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_as_a_credential(data: bytes) -> None:
    _typed(lambda: Verifier(now=NOW).verify_credential(data))
    _typed(lambda: read_document(data))


@FUZZ
@given(st.data())
def test_mutated_credentials(data: st.DataObject) -> None:
    original = data.draw(st.sampled_from(_credentials()))
    mutated = _mutate_text(original, data) if isinstance(original, str) else _mutate(original, data)
    report = _typed(lambda: Verifier(now=NOW).verify_credential(mutated))
    if report is not None and mutated != original:
        assert not report.valid or isinstance(mutated, str)


@FUZZ
@given(st.data())
def test_mutated_presentations(data: st.DataObject) -> None:
    mutated = _mutate(_presentation(), data)
    if not isinstance(mutated, dict):
        return
    _typed(lambda: verify_presentation(mutated, challenge="c", domain="d", verifier=Verifier(now=NOW)))


@FUZZ
@given(st.data())
def test_mutated_runs(data: st.DataObject) -> None:
    declaration, binding = _run()
    which = data.draw(st.sampled_from(["declaration", "binding", "both"]))
    if which in ("declaration", "both"):
        declaration = _mutate(declaration, data)
    if which in ("binding", "both"):
        binding = _mutate(binding, data)
    output = data.draw(st.one_of(st.none(), st.binary(max_size=20)))
    _typed(lambda: verify_run(declaration, binding, verifier=_verifier(), output=output))


# --- bundles and the files the CLI reads ---------------------------------------------------------


@cache
def _bundle() -> bytes:
    declaration, binding = _run()
    manifest = {"format": "vc-runid-audit-bundle", "version": 1, "runs": [], "members": []}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("runs/r/declaration.json", json.dumps(declaration))
        archive.writestr("runs/r/binding.json", json.dumps(binding))
        archive.writestr("runs/r/disclosures.json", json.dumps([{"path": "input", "salt": "u" + "A" * 22, "content": "hi"}]))
    return buffer.getvalue()


@FUZZ
@given(st.data())
def test_mutated_bundles(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    original = bytearray(_bundle())
    for _ in range(data.draw(st.integers(min_value=1, max_value=6))):
        index = data.draw(st.integers(min_value=0, max_value=len(original) - 1))
        original[index] = data.draw(st.integers(min_value=0, max_value=255))
    cut = data.draw(st.integers(min_value=len(original) // 2, max_value=len(original)))
    path = tmp_path_factory.mktemp("bundle") / "bundle.zip"
    path.write_bytes(bytes(original[:cut]))
    _typed(lambda: verify_bundle(path, at=NOW))


JSON_TEXT = st.one_of(
    st.text(max_size=300),
    st.builds(lambda value: json.dumps(value), JSON),
    st.sampled_from(['{"a": "\\ud800"}', '{"a": 1, "a": 2}', "[" * 5000, '{"a": 1e999}', "9" * 6000, "\ufeff{}"]),
)


@FUZZ
@given(JSON_TEXT)
def test_cli_files_parse_with_typed_errors(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    _typed(lambda: parse_json(data))
    _typed(lambda: read_document(data))
    _typed(lambda: parse_disclosures(data, "disclosures.json"))


def test_the_fuzz_corpus_starts_from_documents_that_verify(tmp_path: Path) -> None:
    # The mutations start from valid documents, so they exercise every check, not only parsing.
    for credential in _credentials():
        report = Verifier(now=NOW).verify_credential(credential)
        assert report.valid, report.failures
    report = verify_presentation(_presentation(), challenge="c", domain="d", verifier=Verifier(now=NOW))
    assert report.presentation_valid, report.failures


# --- the CLI on mutated files ---------------------------------------------------------------------


@settings(FUZZ, max_examples=_DEEP or 60)
@given(st.data())
def test_the_cli_verifies_mutated_files_with_a_typed_verdict(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    from typer.testing import CliRunner

    from vc_runid.cli.main import app

    declaration, binding = _run()
    directory = tmp_path_factory.mktemp("cli")
    files = []
    for name, document in (("declaration.json", declaration), ("binding.json", binding)):
        text = json.dumps(document)
        if data.draw(st.booleans()):
            text = _mutate_text(text, data) if data.draw(st.booleans()) else json.dumps(_mutate(document, data))
        (directory / name).write_text(text, encoding="utf-8", errors="surrogatepass")
        files.append(str(directory / name))
    result = CliRunner().invoke(app, ["verify", *files, "--any-issuer", "--at", "2025-06-01T13:00:00Z", "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2), result.output
    assert INTERNAL not in result.stdout + result.stderr and "Traceback" not in result.stdout + result.stderr
