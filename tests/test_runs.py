"""Run identity through the library API: the rules of issue 3, one test per rule.

A declaration is issued before the run, the output binding after; the pair verifies offline. Every
run here uses a fixed, ticking clock and every verification a fixed ``Verifier(now=...)``, so no
test depends on the wall clock. Expected digests are recomputed from their public construction
(``digest_multibase`` / ``salted_digest`` / RFC 8785), never read back from the credential alone.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import vc_runid as runid
from vc_runid import (
    CompositionBuilder,
    ErrorCode,
    Issuer,
    ProofFormat,
    RunIdError,
    RunStore,
    Verifier,
    issue_credential,
    verify_run,
)
from vc_runid.runs import (
    Disclosure,
    compose_from_manifest,
    composition_from_chat_request,
    output_digest,
    run_callable,
)
from vc_runid.runs.binding import build_binding
from vc_runid.runs.declaration import (
    DECLARATION_TYPE,
    SecuredCredential,
    build_declaration,
    declare,
)
from vc_runid.runs.digests import (
    decode_salt,
    digest_multibase,
    encode_salt,
    hash_weights,
    jcs,
    new_salt,
    salted_digest,
)
from vc_runid.runs.runner import Run
from vc_runid.runs.verify import BOUND, DECLARED
from vc_runid.vc.credentials import key_type_for
from vc_runid.vc.policy import TrustPolicy

T0 = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
VERIFY_AT = T0 + timedelta(hours=1)

SYSTEM_PROMPT = "You are a careful billing assistant.\n"
USER_INPUT = "What is the balance of account 42?\n"
SEARCH_TOOL = {
    "name": "search",
    "description": "Search the ledger.",
    "parameters": {
        "type": "object",
        "properties": {"query": {"type": "string"}},
        "required": ["query"],
    },
}
DOC_A = "Account 42 was opened in 2019.\n"
DOC_B = "Balances are reported in EUR.\n"
OUTPUT = "The balance of account 42 is 17 EUR.\n"


def ticking_clock(
    start: datetime = T0, step: timedelta = timedelta(seconds=1)
) -> Callable[[], datetime]:
    """A deterministic clock that advances ``step`` on every reading."""
    ticks: Iterator[int] = iter(range(1_000_000))

    def now() -> datetime:
        return start + next(ticks) * step

    return now


def auditor() -> Verifier:
    """An offline verifier (did:key, pinned contexts) an hour after the runs. These tests are
    about the run rules, so the verifier trusts any issuer; tests/test_trust_policy.py is about
    whom to trust."""
    return Verifier(now=VERIFY_AT, policy=TrustPolicy.unsafe_any_issuer())


def issuer_for(proof_format: ProofFormat) -> Issuer:
    return Issuer.generate(key_type_for(proof_format))


def full_composition(*, salted: bool = True) -> tuple[runid.RunComposition, runid.Disclosures]:
    return (
        CompositionBuilder(salted=salted)
        .model("gpt-4o", provider="openai", revision="gpt-4o-2024-08-06")
        .parameters({"temperature": 0.2, "max_tokens": 256, "seed": 7})
        .instruction(SYSTEM_PROMPT)
        .retrieved("docs/a.md", DOC_A)
        .retrieved("docs/b.md", DOC_B)
        .tool(SEARCH_TOOL)
        .input(USER_INPUT, media_type="text/plain")
        .executor(name="billing-agent-7")
        .build()
    )


def do_run(
    issuer: Issuer,
    *,
    proof_format: ProofFormat = ProofFormat.DI,
    output: str = OUTPUT,
    observed: dict[str, Any] | None = None,
    store: RunStore | None = None,
) -> Run:
    with runid.run(
        full_composition(),
        issuer=issuer,
        proof_format=proof_format,
        store=store,
        clock=ticking_clock(),
    ) as current:
        current.record_output(output, observed=observed)
    return current


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer.generate()


@pytest.fixture(scope="module")
def a_run(issuer: Issuer) -> Run:
    return do_run(issuer, observed={"modelId": "gpt-4o"})


def subject_of(current: Run) -> dict[str, Any]:
    assert isinstance(current.declaration, dict)
    return dict(current.declaration["credentialSubject"])


def codes(report: runid.VerificationReport) -> list[str]:
    return report.error_codes


def issue_binding(
    current: Run,
    issuer: Issuer,
    *,
    started: datetime,
    completed: datetime,
    bound: datetime,
    run_id: str | None = None,
    declaration: SecuredCredential | None = None,
) -> SecuredCredential:
    """A binding built by hand and signed by the issuer, bypassing ``bind()``'s own guards."""
    unsigned = build_binding(
        declaration if declaration is not None else current.declaration,
        declaration_id=current.declaration_id,
        run_id=run_id or current.run_id,
        issuer_did=issuer.did,
        output=output_digest(OUTPUT.encode()),
        started_at=started,
        completed_at=completed,
        bound_at=bound,
    )
    return issue_credential(unsigned, issuer, created=bound)


# ------------------------------------------------------------------------------------------
# Rule 1: both credentials verify; a declaration alone is "declared, not yet bound"
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("proof_format", list(ProofFormat), ids=lambda f: f.value)
def test_run_pair_verifies_as_bound_in_every_proof_format(
    proof_format: ProofFormat, no_network: list[tuple[object, ...]]
) -> None:
    issuer = issuer_for(proof_format)
    current = do_run(issuer, proof_format=proof_format, observed={"modelId": "gpt-4o"})
    assert isinstance(current.declaration, str) == (
        proof_format in (ProofFormat.JOSE, ProofFormat.JWT_V1)
    )

    report = verify_run(
        current.declaration, current.binding, verifier=auditor(), output=OUTPUT.encode()
    )

    assert report.valid, report.failures
    assert report.status == BOUND == "bound"
    assert report.run_id == current.run_id
    assert report.id == current.declaration_id
    assert report.issuer == issuer.did
    for rule in ("link", "run-id", "time-order", "composition", "output"):
        assert report.passed(rule), rule
    assert report.proofs_checked == 2
    assert no_network == []  # declared, bound and verified offline


def test_declaration_alone_verifies_as_declared_not_yet_bound(a_run: Run) -> None:
    report = verify_run(a_run.declaration, verifier=auditor())
    assert report.valid, report.failures
    assert report.status == DECLARED == "declared, not yet bound"
    assert report.run_id == a_run.run_id


def test_binding_without_its_declaration_is_invalid(a_run: Run) -> None:
    report = verify_run(None, a_run.binding, verifier=auditor())
    assert not report.valid
    assert codes(report) == [ErrorCode.BINDING_WITHOUT_DECLARATION.value]


def test_output_given_for_a_declaration_without_binding_is_an_output_mismatch(a_run: Run) -> None:
    report = verify_run(a_run.declaration, verifier=auditor(), output=OUTPUT.encode())
    assert not report.valid
    assert codes(report) == [ErrorCode.OUTPUT_MISMATCH.value]


def test_declaration_modified_after_signing_fails_its_proof_and_the_link(a_run: Run) -> None:
    tampered = copy.deepcopy(a_run.declaration)
    assert isinstance(tampered, dict)
    tampered["credentialSubject"]["model"]["modelId"] = "gpt-3.5-turbo"

    report = verify_run(tampered, a_run.binding, verifier=auditor())

    assert not report.valid
    failed = {c.name: c.code for c in report.failures}
    assert failed["declaration.proof.signature"] == ErrorCode.PROOF_INVALID.value
    assert failed["link"] == ErrorCode.DECLARATION_MISMATCH.value


def test_declaration_is_a_run_declaration_credential_with_the_composition(a_run: Run) -> None:
    declaration = a_run.declaration
    assert isinstance(declaration, dict)
    assert DECLARATION_TYPE in declaration["type"]
    subject = declaration["credentialSubject"]
    assert subject["id"] == a_run.run_id and subject["id"].startswith("urn:uuid:")
    assert subject["runNonce"]
    assert subject["model"] == {
        "modelId": "gpt-4o",
        "provider": "openai",
        "revision": "gpt-4o-2024-08-06",
    }
    assert json.loads(subject["configuration"]["parameters"]) == {
        "temperature": 0.2,
        "max_tokens": 256,
        "seed": 7,
    }
    assert subject["configuration"]["digestMultibase"] == digest_multibase(
        b'{"max_tokens":256,"seed":7,"temperature":0.2}'
    )
    assert declaration["validFrom"] == "2025-03-04T05:06:07Z"


def test_salts_are_never_in_the_declaration(a_run: Run) -> None:
    text = json.dumps(a_run.declaration)
    salts = [d.salt for d in a_run.disclosures.components.values() if d.salt]
    assert len(salts) == 5  # instruction, two documents, tool, input
    assert not any(salt in text for salt in salts)


# ------------------------------------------------------------------------------------------
# Rule 2: the link (declaration id + digest of the secured declaration); rule 3: same run id
# ------------------------------------------------------------------------------------------


def test_binding_paired_with_another_runs_declaration_is_a_declaration_mismatch(
    issuer: Issuer, a_run: Run
) -> None:
    other = do_run(issuer)
    report = verify_run(other.declaration, a_run.binding, verifier=auditor())
    assert not report.valid
    assert ErrorCode.DECLARATION_MISMATCH.value in codes(report)
    # Each credential is genuine on its own: only the pairing is wrong.
    assert not [c for c in report.failures if c.name.startswith(("declaration.", "binding."))]


def test_reissued_declaration_with_the_same_id_but_other_content_is_a_declaration_mismatch(
    issuer: Issuer, a_run: Run
) -> None:
    assert isinstance(a_run.declaration, dict)
    altered = {k: v for k, v in copy.deepcopy(a_run.declaration).items() if k != "proof"}
    altered["credentialSubject"]["executor"] = {"name": "another-agent"}
    resigned = issue_credential(altered, issuer, created=T0)

    report = verify_run(resigned, a_run.binding, verifier=auditor())

    assert codes(report) == [ErrorCode.DECLARATION_MISMATCH.value]
    assert report.failures[0].name == "link"


def test_binding_for_another_run_id_is_a_run_id_mismatch(issuer: Issuer, a_run: Run) -> None:
    binding = issue_binding(
        a_run,
        issuer,
        run_id="urn:uuid:00000000-0000-4000-8000-000000000000",
        started=T0 + timedelta(seconds=2),
        completed=T0 + timedelta(seconds=3),
        bound=T0 + timedelta(seconds=4),
    )
    report = verify_run(a_run.declaration, binding, verifier=auditor())
    assert report.passed("link")
    assert codes(report) == [ErrorCode.RUN_ID_MISMATCH.value]


# ------------------------------------------------------------------------------------------
# Rule 4: time order — declared ≤ startedAt ≤ completedAt ≤ binding issued
# ------------------------------------------------------------------------------------------

TIME_ORDER_CASES = [
    # (name, started, completed, bound, expected code)
    ("started before the declaration", -60, 5, 6, ErrorCode.DECLARED_AFTER_START),
    ("completed before started", 5, 4, 6, ErrorCode.TIME_ORDER),
    ("bound before completed", 5, 6, 5, ErrorCode.TIME_ORDER),
]


@pytest.mark.parametrize(
    ("started", "completed", "bound", "code"),
    [case[1:] for case in TIME_ORDER_CASES],
    ids=[case[0] for case in TIME_ORDER_CASES],
)
def test_time_order_violations_are_refused_by_the_verifier(
    issuer: Issuer, a_run: Run, started: int, completed: int, bound: int, code: ErrorCode
) -> None:
    binding = issue_binding(
        a_run,
        issuer,
        started=T0 + timedelta(seconds=started),
        completed=T0 + timedelta(seconds=completed),
        bound=T0 + timedelta(seconds=bound),
    )
    report = verify_run(a_run.declaration, binding, verifier=auditor())
    assert codes(report) == [code.value]
    assert report.failures[0].name == "time-order"


def test_run_started_at_the_moment_of_declaration_is_in_order(issuer: Issuer, a_run: Run) -> None:
    binding = issue_binding(a_run, issuer, started=T0, completed=T0, bound=T0)
    report = verify_run(a_run.declaration, binding, verifier=auditor())
    assert report.valid, report.failures


def test_bind_refuses_completed_before_started(issuer: Issuer, a_run: Run) -> None:
    with pytest.raises(RunIdError) as excinfo:
        runid.bind(
            a_run.declaration,
            issuer,
            declaration_id=a_run.declaration_id,
            run_id=a_run.run_id,
            output=output_digest(b"x"),
            started_at=T0 + timedelta(seconds=5),
            completed_at=T0 + timedelta(seconds=4),
            bound_at=T0 + timedelta(seconds=6),
        )
    assert excinfo.value.code is ErrorCode.TIME_ORDER


# ------------------------------------------------------------------------------------------
# Rule 5: composition drift
# ------------------------------------------------------------------------------------------

DRIFT_CASES = [
    # (observed, expected codes)
    ({"modelId": "gpt-4o"}, []),
    ({"modelId": "gpt-4o-2024-08-06"}, []),  # the provider reports the declared revision
    ({"modelId": "gpt-4o", "provider": "openai", "revision": "gpt-4o-2024-08-06"}, []),
    ({"exitCode": 0}, []),
    ({"modelId": "gpt-4o-mini"}, [ErrorCode.COMPOSITION_DRIFT.value]),
    ({"provider": "azure"}, [ErrorCode.COMPOSITION_DRIFT.value]),
    ({"revision": "gpt-4o-2024-05-13"}, [ErrorCode.COMPOSITION_DRIFT.value]),
]


@pytest.mark.parametrize(
    ("observed", "expected"), DRIFT_CASES, ids=[json.dumps(c[0]) for c in DRIFT_CASES]
)
def test_observations_that_contradict_the_declaration_are_composition_drift(
    issuer: Issuer, observed: dict[str, Any], expected: list[str]
) -> None:
    current = do_run(issuer, observed=observed)
    report = verify_run(current.declaration, current.binding, verifier=auditor())
    assert codes(report) == expected
    assert report.valid is (not expected)


# ------------------------------------------------------------------------------------------
# Rule 6: evidence — the output, and disclosed components (content + salt)
# ------------------------------------------------------------------------------------------


def test_output_matching_the_bound_digest_passes(a_run: Run) -> None:
    report = verify_run(
        a_run.declaration, a_run.binding, verifier=auditor(), output=OUTPUT.encode()
    )
    assert report.valid and report.passed("output")


def test_output_not_matching_the_bound_digest_is_an_output_mismatch(a_run: Run) -> None:
    tampered = OUTPUT.replace("17", "1700").encode()
    report = verify_run(a_run.declaration, a_run.binding, verifier=auditor(), output=tampered)
    assert codes(report) == [ErrorCode.OUTPUT_MISMATCH.value]


DISCLOSED = [
    ("instructions[0]", SYSTEM_PROMPT),
    ("input", USER_INPUT),
    ("tools[0]", json.dumps(SEARCH_TOOL, indent=2)),  # any JSON spelling: compared by its JCS form
    ("retrievalContext.documents[0]", DOC_A),
    ("retrievalContext.documents[1]", DOC_B),
]


@pytest.mark.parametrize(("path", "content"), DISCLOSED, ids=[p for p, _ in DISCLOSED])
def test_disclosed_component_with_its_salt_matches_the_declaration(
    a_run: Run, path: str, content: str
) -> None:
    disclosure = a_run.disclosures.components[path]
    assert disclosure.salt is not None
    report = verify_run(
        a_run.declaration,
        a_run.binding,
        verifier=auditor(),
        disclosures=[(disclosure, content.encode())],
    )
    assert report.valid, report.failures
    assert report.passed(f"disclosure.{path}")


def test_disclosure_is_checked_against_a_declaration_alone(a_run: Run) -> None:
    disclosure = a_run.disclosures.components["instructions[0]"]
    report = verify_run(
        a_run.declaration, verifier=auditor(), disclosures=[(disclosure, SYSTEM_PROMPT.encode())]
    )
    assert report.valid and report.status == DECLARED


def _instruction(a_run: Run) -> Disclosure:
    return a_run.disclosures.components["instructions[0]"]


BAD_DISCLOSURES: list[tuple[str, Callable[[Disclosure], Disclosure], str]] = [
    ("wrong content", lambda d: d, "You are a careless billing assistant.\n"),
    ("wrong salt", lambda d: d.model_copy(update={"salt": encode_salt(new_salt())}), SYSTEM_PROMPT),
    ("malformed salt", lambda d: d.model_copy(update={"salt": "not-a-salt"}), SYSTEM_PROMPT),
    (
        "no salt for a salted component",
        lambda d: d.model_copy(update={"salt": None}),
        SYSTEM_PROMPT,
    ),
    (
        "unknown component",
        lambda d: d.model_copy(update={"path": "instructions[7]"}),
        SYSTEM_PROMPT,
    ),
    ("unparsable path", lambda d: d.model_copy(update={"path": "instructions[x]"}), SYSTEM_PROMPT),
    ("another component's path", lambda d: d.model_copy(update={"path": "input"}), SYSTEM_PROMPT),
]


@pytest.mark.parametrize(
    ("mutate", "content"), [c[1:] for c in BAD_DISCLOSURES], ids=[c[0] for c in BAD_DISCLOSURES]
)
def test_wrong_disclosure_is_a_disclosure_mismatch(
    a_run: Run, mutate: Callable[[Disclosure], Disclosure], content: str
) -> None:
    disclosure = mutate(_instruction(a_run))
    report = verify_run(
        a_run.declaration,
        a_run.binding,
        verifier=auditor(),
        disclosures=[(disclosure, content.encode())],
    )
    assert codes(report) == [ErrorCode.DISCLOSURE_MISMATCH.value]


def test_disclosed_tool_that_is_not_json_is_a_disclosure_mismatch(a_run: Run) -> None:
    disclosure = a_run.disclosures.components["tools[0]"]
    report = verify_run(
        a_run.declaration, verifier=auditor(), disclosures=[(disclosure, b"search")]
    )
    assert codes(report) == [ErrorCode.DISCLOSURE_MISMATCH.value]


# ------------------------------------------------------------------------------------------
# Digests: salted by default, unsalted on request, ordered retrieval root, weights
# ------------------------------------------------------------------------------------------


def test_salted_digest_is_salt_then_content(a_run: Run) -> None:
    subject = subject_of(a_run)
    salt = decode_salt(a_run.disclosures.components["instructions[0]"].salt or "")
    assert subject["instructions"][0] == {
        "role": "system",
        "digestMultibase": salted_digest(SYSTEM_PROMPT.encode(), salt),
        "salted": True,
    }
    assert subject["instructions"][0]["digestMultibase"] != digest_multibase(SYSTEM_PROMPT.encode())


def test_salted_digests_of_the_same_prompt_differ_between_declarations(issuer: Issuer) -> None:
    first, second = subject_of(do_run(issuer)), subject_of(do_run(issuer))
    for path in ("instructions", "tools"):
        assert first[path][0]["digestMultibase"] != second[path][0]["digestMultibase"]
    assert first["input"]["digestMultibase"] != second["input"]["digestMultibase"]


def test_unsalted_builder_gives_the_plain_digest_multibase() -> None:
    composition, disclosures = full_composition(salted=False)
    assert composition.instructions[0].digestMultibase == digest_multibase(SYSTEM_PROMPT.encode())
    assert composition.instructions[0].salted is False
    assert composition.input is not None
    assert composition.input.digestMultibase == digest_multibase(USER_INPUT.encode())
    assert composition.tools[0].digestMultibase == digest_multibase(jcs(SEARCH_TOOL))
    assert composition.retrievalContext is not None
    assert composition.retrievalContext.documents[0].digestMultibase == digest_multibase(
        DOC_A.encode()
    )
    assert all(d.salt is None for d in disclosures.components.values())


def test_unsalted_component_can_be_disclosed_without_a_salt(issuer: Issuer) -> None:
    with runid.run(full_composition(salted=False), issuer=issuer, clock=ticking_clock()) as current:
        current.record_output(OUTPUT)
    disclosure = Disclosure(path="instructions[0]")
    report = verify_run(
        current.declaration,
        current.binding,
        verifier=auditor(),
        disclosures=[(disclosure, SYSTEM_PROMPT.encode())],
    )
    assert report.valid, report.failures


def write_workspace(directory: Path, *, extra: str = "") -> Path:
    """The manifest shape of issue 3, with every file it names."""
    (directory / "weights" / "shards").mkdir(parents=True)
    (directory / "weights" / "config.json").write_text('{"layers": 2}')
    (directory / "weights" / "shards" / "00001.bin").write_bytes(bytes(range(256)) * 4)
    (directory / "prompts").mkdir()
    (directory / "prompts" / "system.txt").write_text(SYSTEM_PROMPT)
    (directory / "docs").mkdir()
    (directory / "docs" / "a.md").write_text(DOC_A)
    (directory / "docs" / "b.md").write_text(DOC_B)
    (directory / "tools").mkdir()
    (directory / "tools" / "search.json").write_text(json.dumps(SEARCH_TOOL))
    (directory / "input.txt").write_text(USER_INPUT)
    manifest = directory / "manifest.yaml"
    manifest.write_text(
        "model: {id: gpt-4o-2024-08-06, provider: openai, weights: ./weights}\n"
        "parameters: {temperature: 0.2, max_tokens: 256, seed: 7}\n"
        "instructions: [prompts/system.txt]\n"
        "retrieval: [docs/a.md, docs/b.md]\n"
        "tools: [tools/search.json]\n"
        "input: input.txt\n"
        "executor: {id: billing-agent-7}\n" + extra
    )
    return manifest


def test_manifest_salted_false_gives_the_plain_digest_multibase(tmp_path: Path) -> None:
    composition, _ = compose_from_manifest(write_workspace(tmp_path, extra="salted: false\n"))
    assert composition.instructions[0].digestMultibase == digest_multibase(SYSTEM_PROMPT.encode())
    assert composition.input is not None and composition.input.digestMultibase == digest_multibase(
        USER_INPUT.encode()
    )


def test_retrieval_root_depends_on_the_order_of_documents() -> None:
    def root(*docs: tuple[str, str]) -> str:
        builder = CompositionBuilder(salted=False).model("m")
        for document_id, content in docs:
            builder.retrieved(document_id, content)
        composition, _ = builder.build()
        assert composition.retrievalContext is not None
        return composition.retrievalContext.digestMultibase

    a, b = ("docs/a.md", DOC_A), ("docs/b.md", DOC_B)
    assert root(a, b) == root(a, b)
    assert root(a, b) != root(b, a)
    expected = digest_multibase(
        jcs([{"documentId": i, "digestMultibase": digest_multibase(c.encode())} for i, c in (a, b)])
    )
    assert root(a, b) == expected


def test_weights_digest_of_a_directory_is_in_the_declaration(
    tmp_path: Path, issuer: Issuer
) -> None:
    composition, disclosures = compose_from_manifest(write_workspace(tmp_path))
    declaration = declare(composition, issuer, declared_at=T0)
    assert isinstance(declaration, dict)
    weights = declaration["credentialSubject"]["model"]["weights"]
    tree = hash_weights(tmp_path / "weights")
    assert weights == {"digestMultibase": tree.root, "fileCount": 2, "size": tree.total_bytes}
    assert (
        "weights" not in disclosures.components
    )  # never salted: comparable with a publisher's digest


def test_manifest_composition_is_the_files_it_names(tmp_path: Path) -> None:
    composition, disclosures = compose_from_manifest(write_workspace(tmp_path))
    assert (
        composition.model.modelId == "gpt-4o-2024-08-06" and composition.model.provider == "openai"
    )
    assert composition.configuration is not None
    assert composition.configuration.parameters == '{"max_tokens":256,"seed":7,"temperature":0.2}'
    assert composition.retrievalContext is not None
    assert [d.documentId for d in composition.retrievalContext.documents] == [
        "docs/a.md",
        "docs/b.md",
    ]
    assert [t.name for t in composition.tools] == ["search"]
    assert composition.executor is not None and composition.executor.name == "billing-agent-7"
    assert sorted(disclosures.components) == [
        "input",
        "instructions[0]",
        "retrievalContext.documents[0]",
        "retrievalContext.documents[1]",
        "tools[0]",
    ]


# ------------------------------------------------------------------------------------------
# The run() context manager and the run store
# ------------------------------------------------------------------------------------------


class ModelCrashed(Exception):
    pass


def test_run_body_raising_leaves_the_run_declared_unbound_and_reraises(
    tmp_path: Path, issuer: Issuer
) -> None:
    store = RunStore.in_home(tmp_path)
    with (
        pytest.raises(ModelCrashed),
        runid.run(full_composition(), issuer=issuer, store=store, clock=ticking_clock()) as current,
    ):
        raise ModelCrashed("out of memory")
    assert current.binding is None
    record = store.get(current.run_id)
    assert record.status == "declared" and record.binding is None
    assert record.declaration == current.declaration
    assert verify_run(record.declaration, verifier=auditor()).status == DECLARED


def test_run_body_without_record_output_is_refused_and_stays_unbound(
    tmp_path: Path, issuer: Issuer
) -> None:
    store = RunStore.in_home(tmp_path)
    with (
        pytest.raises(RunIdError) as excinfo,
        runid.run(full_composition(), issuer=issuer, store=store, clock=ticking_clock()) as current,
    ):
        pass
    assert excinfo.value.code is ErrorCode.USAGE
    assert store.get(current.run_id).binding is None


def test_record_output_twice_is_already_bound(issuer: Issuer) -> None:
    with (
        pytest.raises(RunIdError) as excinfo,
        runid.run(full_composition(), issuer=issuer, clock=ticking_clock()) as current,
    ):
        current.record_output(OUTPUT)
        current.record_output("a second answer")
    assert excinfo.value.code is ErrorCode.ALREADY_BOUND
    assert current.output == OUTPUT.encode()


def test_run_store_keeps_declaration_binding_and_salts(tmp_path: Path, issuer: Issuer) -> None:
    store = RunStore.in_home(tmp_path)
    current = do_run(issuer, store=store)
    record = store.get(current.run_id)
    assert record.status == "bound"
    assert record.declaration == current.declaration and record.binding == current.binding
    assert record.disclosures.runId == current.run_id
    assert record.disclosures.components == current.disclosures.components
    assert (
        store.get(current.declaration_id).run_id == current.run_id
    )  # also found by declaration id
    assert [r.run_id for r in store.list()] == [current.run_id]


def test_store_binding_twice_is_already_bound_and_the_first_binding_is_unchanged(
    tmp_path: Path, issuer: Issuer
) -> None:
    store = RunStore.in_home(tmp_path)
    current = do_run(issuer, store=store)
    first = store.get(current.run_id)
    forged = issue_binding(
        current,
        issuer,
        started=T0 + timedelta(seconds=1),
        completed=T0 + timedelta(seconds=2),
        bound=T0 + timedelta(seconds=3),
    )
    with pytest.raises(RunIdError) as excinfo:
        store.add_binding(current.run_id, forged, "2025-03-04T05:06:10Z")
    assert excinfo.value.code is ErrorCode.ALREADY_BOUND
    after = store.get(current.run_id)
    assert after.binding == first.binding == current.binding
    assert after.bound_at == first.bound_at


def test_store_refuses_a_binding_for_an_unknown_run(tmp_path: Path, a_run: Run) -> None:
    store = RunStore.in_home(tmp_path)
    with pytest.raises(RunIdError) as excinfo:
        store.add_binding(a_run.run_id, a_run.binding or {}, "2025-03-04T05:06:10Z")
    assert excinfo.value.code is ErrorCode.RUN_NOT_FOUND


def test_store_refuses_to_declare_a_run_twice(tmp_path: Path, issuer: Issuer, a_run: Run) -> None:
    store = RunStore.in_home(tmp_path)
    store.add_declaration(
        a_run.run_id,
        a_run.declaration_id,
        a_run.declaration,
        "2025-03-04T05:06:07Z",
        a_run.disclosures,
    )
    with pytest.raises(RunIdError) as excinfo:
        store.add_declaration(
            a_run.run_id,
            "urn:uuid:other",
            {"forged": True},
            "2025-03-04T05:06:08Z",
            a_run.disclosures,
        )
    assert excinfo.value.code is ErrorCode.RUN_EXISTS
    assert store.get(a_run.run_id).declaration == a_run.declaration


# ------------------------------------------------------------------------------------------
# Helpers: an OpenAI-style chat-completions request, and a generic callable
# ------------------------------------------------------------------------------------------

CHAT_TOOL = {
    "type": "function",
    "function": {
        "name": "get_balance",
        "parameters": {"type": "object", "properties": {"account": {"type": "string"}}},
    },
}
CHAT_REQUEST: dict[str, Any] = {
    "model": "gpt-4o-2024-08-06",
    "messages": [
        {"role": "system", "content": "You are a billing assistant."},
        {"role": "user", "content": "Balance of 42?"},
        {"role": "developer", "content": "Answer in EUR."},
        {"role": "assistant", "content": "Checking."},
        {"role": "user", "content": [{"type": "text", "text": "Please hurry."}]},
    ],
    "tools": [CHAT_TOOL],
    "temperature": 0.2,
    "top_p": 0.9,
    "max_tokens": 64,
    "seed": 7,
    "stop": ["\n\n"],
    "response_format": {"type": "json_object"},
    "stream": False,
}


def test_chat_request_system_and_developer_messages_become_instructions_with_roles() -> None:
    composition, _ = composition_from_chat_request(CHAT_REQUEST, salted=False)
    assert [(i.role, i.digestMultibase) for i in composition.instructions] == [
        ("system", digest_multibase(b"You are a billing assistant.")),
        ("developer", digest_multibase(b"Answer in EUR.")),
    ]
    assert (
        composition.model.modelId == "gpt-4o-2024-08-06" and composition.model.provider == "openai"
    )


def test_chat_request_other_messages_are_the_input_in_order() -> None:
    composition, _ = composition_from_chat_request(CHAT_REQUEST, salted=False)
    conversation = (
        '[{"content":"Balance of 42?","role":"user"},{"content":"Checking.","role":"assistant"},'
        '{"content":[{"text":"Please hurry.","type":"text"}],"role":"user"}]'
    )
    assert composition.input is not None
    assert composition.input.digestMultibase == digest_multibase(conversation.encode())
    assert composition.input.mediaType == "application/json"


def test_chat_request_tools_are_digests_of_their_jcs_form() -> None:
    composition, _ = composition_from_chat_request(CHAT_REQUEST, salted=False)
    canonical = (
        '{"function":{"name":"get_balance","parameters":'
        '{"properties":{"account":{"type":"string"}},'
        '"type":"object"}},"type":"function"}'
    )
    assert [(t.name, t.digestMultibase) for t in composition.tools] == [
        ("get_balance", digest_multibase(canonical.encode()))
    ]


def test_chat_request_parameters_are_kept_as_jcs() -> None:
    composition, _ = composition_from_chat_request(CHAT_REQUEST, salted=False)
    canonical = (
        '{"max_tokens":64,"response_format":{"type":"json_object"},"seed":7,"stop":["\\n\\n"],'
        '"temperature":0.2,"top_p":0.9}'
    )
    assert composition.configuration is not None
    assert composition.configuration.parameters == canonical
    assert composition.configuration.digestMultibase == digest_multibase(canonical.encode())


def test_chat_request_run_verifies_and_its_developer_prompt_can_be_disclosed(
    issuer: Issuer,
) -> None:
    composition = composition_from_chat_request(CHAT_REQUEST)
    with runid.run(composition, issuer=issuer, clock=ticking_clock()) as current:
        current.record_output(
            '{"balance": 17}', observed={"modelId": "gpt-4o-2024-08-06"}, usage={"totalTokens": 40}
        )
    disclosure = current.disclosures.components["instructions[1]"]
    report = verify_run(
        current.declaration,
        current.binding,
        verifier=auditor(),
        disclosures=[(disclosure, b"Answer in EUR.")],
    )
    assert report.valid, report.failures


@pytest.mark.parametrize(
    "request_",
    [
        {"messages": []},
        {"model": "gpt-4o", "messages": "hi"},
        {"model": "gpt-4o", "messages": [], "tools": [{"type": "function"}]},
    ],
    ids=["no model", "messages not a list", "tool without a name"],
)
def test_chat_request_that_is_not_one_is_manifest_invalid(request_: dict[str, Any]) -> None:
    with pytest.raises(RunIdError) as excinfo:
        composition_from_chat_request(request_)
    assert excinfo.value.code is ErrorCode.MANIFEST_INVALID


def test_run_callable_binds_the_return_value(issuer: Issuer) -> None:
    def answer(question: str, *, currency: str) -> dict[str, Any]:
        return {"question": question, "balance": 17, "currency": currency}

    result, current = run_callable(
        answer,
        full_composition(),
        "balance?",
        currency="EUR",
        runid_options={"issuer": issuer, "clock": ticking_clock()},
    )
    assert result == {"question": "balance?", "balance": 17, "currency": "EUR"}
    expected_output = b'{"balance":17,"currency":"EUR","question":"balance?"}'
    assert current.output == expected_output
    report = verify_run(
        current.declaration, current.binding, verifier=auditor(), output=expected_output
    )
    assert report.valid, report.failures


def test_run_callable_string_result_is_the_output_as_is(issuer: Issuer) -> None:
    result, current = run_callable(
        lambda: OUTPUT,
        full_composition(),
        runid_options={"issuer": issuer, "clock": ticking_clock()},
    )
    assert result == OUTPUT and current.output == OUTPUT.encode()
    assert verify_run(
        current.declaration, current.binding, verifier=auditor(), output=OUTPUT.encode()
    ).valid


# --- the binding's issuer, and digests the declaration derives from its own content -------------


def test_binding_by_another_issuer_is_a_binding_issuer_mismatch(a_run: Run) -> None:
    outsider = Issuer.generate()
    document = subject_of(a_run)
    foreign = runid.bind(
        a_run.declaration,
        outsider,
        declaration_id=a_run.declaration_id,
        run_id=document["id"],
        output=output_digest(OUTPUT.encode()),
        started_at=T0 + timedelta(seconds=5),
        completed_at=T0 + timedelta(seconds=6),
        bound_at=T0 + timedelta(seconds=7),
    )
    report = verify_run(a_run.declaration, foreign, verifier=auditor())
    assert not report.valid
    assert codes(report) == ["RUNID_BINDING_ISSUER_MISMATCH"]


@pytest.mark.parametrize("component", ["configuration", "retrievalContext"])
def test_declared_digest_that_disagrees_with_its_own_content_is_invalid(
    issuer: Issuer, component: str
) -> None:
    composition, _ = full_composition()
    wrong = digest_multibase(b"something else")
    part = getattr(composition, component).model_copy(update={"digestMultibase": wrong})
    tampered = composition.model_copy(update={component: part})
    with pytest.raises(runid.RunIdError) as refused:  # the issuer never signs it ...
        runid.declare(tampered, issuer, declared_at=T0)
    assert refused.value.code.value == "RUNID_DECLARATION_INVALID"
    # ... and a verifier catches one signed by an issuer that skipped the check.
    unsigned = build_declaration(tampered, issuer_did=issuer.did, declared_at=T0)
    declaration = runid.issue_credential(unsigned, issuer, created=T0)
    report = verify_run(declaration, verifier=auditor())
    assert not report.valid
    assert codes(report) == ["RUNID_DECLARATION_INVALID"]
