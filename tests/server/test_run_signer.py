"""One signer interface (``RunSigner``) for a key held here and for the issuer service: the same
``runid.run`` workflow with either, against the real ``vc-runid serve`` process on 127.0.0.1,
real keys and real signatures; the result verifies offline under a policy naming the signer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

import vc_runid as runid
from vc_runid._internal.timeutil import utc_now
from vc_runid.client.issuer import IssuerClient
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.runs.binding import check_time_order, output_digest
from vc_runid.runs.composition import CompositionBuilder, RunComposition
from vc_runid.runs.runner import Run
from vc_runid.runs.signer import LocalSigner, RunSigner
from vc_runid.runs.verify import BOUND, verify_run
from vc_runid.runs.workflow import bind_declaration, declare_into
from vc_runid.store.home import load_issuer
from vc_runid.store.runs import RunStore
from vc_runid.transparency.checkpoint import parse_vkey
from vc_runid.transparency.receipt import Receipt
from vc_runid.vc.credentials import Issuer
from vc_runid.vc.formats import ProofFormat, RunProfile
from vc_runid.vc.policy import TrustPolicy

from .conftest import Server


def _composition(text: str = "What is 6 x 7?") -> tuple[RunComposition, runid.Disclosures]:
    return (
        CompositionBuilder().model("demo-model", provider="local").instruction("Be terse.").input(text)
        .executor(id="https://agents.example/billing-agent-7").build()
    )


def _run(issuer: Issuer | RunSigner, store: RunStore, **options: Any) -> Run:
    with runid.run(_composition(), issuer=issuer, store=store, **options) as current:
        current.record_output("42", observed={"modelId": "demo-model"})
    return current


# --- the RunSigner protocol -------------------------------------------------------------------------


def test_a_local_key_and_the_service_client_are_both_run_signers(shared_server: Server) -> None:
    # Static: mypy checks these assignments against the Protocol (the project runs mypy --strict).
    local: RunSigner = LocalSigner(Issuer.generate())
    with IssuerClient(shared_server.url, shared_server.tokens["alice"]) as client:
        remote: RunSigner = client
        # And at run time (runtime_checkable): what runid.run relies on to tell a signer from a key.
        assert isinstance(local, RunSigner) and isinstance(remote, RunSigner)
    assert not isinstance(Issuer.generate(), RunSigner)


# --- runid.run through the issuer service -----------------------------------------------------------


def test_run_through_the_issuer_service_verifies_offline_under_a_policy_naming_the_service(
    shared_server: Server, tmp_path: Path
) -> None:
    service = load_issuer(shared_server.home).did  # the operator's DID, not read from an answer
    store = RunStore.in_home(tmp_path / "executor")
    with IssuerClient(shared_server.url, shared_server.tokens["alice"]) as client:
        current = _run(client, store)
        log_key = client.log_key()

    assert isinstance(current.declaration, dict) and isinstance(current.binding, dict)
    assert current.declaration["issuer"] == service and current.binding["issuer"] == service
    assert not (tmp_path / "executor" / "keys").exists()  # the executor never held an issuer key

    # The run store keeps the pair, the salts and both log receipts, as `vc-runid run --issuer` does.
    record = store.get(current.run_id)
    assert record.status == "bound" and record.binding == current.binding
    assert record.disclosures.components  # the salts stay with the executor
    receipts = store.receipts(current.run_id)
    assert receipts == {"declaration": current.declaration_receipt, "binding": current.binding_receipt}
    assert receipts["declaration"]["leafIndex"] < receipts["binding"]["leafIndex"]

    origin, _ = parse_vkey(log_key)
    policy = TrustPolicy.trusting(service, logs=[{"origin": origin, "key": log_key}], requireLogInclusion=True)
    report = verify_run(
        current.declaration, current.binding, policy=policy, output=b"42",
        receipts=[Receipt.model_validate(receipts["declaration"])],
    )
    assert report.valid, report.failures
    assert report.status == BOUND and report.issuer == service

    # The service knows the run as bound, by this client.
    with shared_server.client("alice") as http:
        assert http.get(f"/runs/{current.run_id}").json()["status"] == "bound"


def test_the_same_workflow_with_a_local_key(tmp_path: Path) -> None:
    issuer = Issuer.generate()
    store = RunStore.in_home(tmp_path)
    current = _run(issuer, store)
    report = verify_run(current.declaration, current.binding, policy=TrustPolicy.trusting(issuer.did), output=b"42")
    assert report.valid, report.failures
    assert store.get(current.run_id).status == "bound"
    assert current.declaration_receipt is None and store.receipts(current.run_id) is None  # no log, no receipt


def test_a_profile_goes_to_the_service_and_the_binding_follows_the_declaration(shared_server: Server, tmp_path: Path) -> None:
    with IssuerClient(shared_server.url, shared_server.tokens["alice"]) as client:
        current = _run(client, RunStore.in_home(tmp_path), profile=RunProfile.COMPATIBLE)
    assert isinstance(current.declaration, dict) and isinstance(current.binding, dict)
    assert current.declaration["proof"]["type"] == current.binding["proof"]["type"] == "Ed25519Signature2020"


def test_options_only_a_local_key_can_honour_are_a_usage_error_with_the_service(shared_server: Server, tmp_path: Path) -> None:
    store = RunStore.in_home(tmp_path)
    with IssuerClient(shared_server.url, shared_server.tokens["alice"]) as client, pytest.raises(RunIdError) as refused:
        _run(client, store, status=lambda: ("urn:uuid:x", {}))
    assert refused.value.code is ErrorCode.USAGE
    assert store.list() == []  # refused before anything was declared


# --- the service's answer is input like any other ---------------------------------------------------


class _SwapComposition(httpx.BaseTransport):
    """A man in the middle: forwards the declaration request to the real service with another
    composition, so the service really signs a declaration of something else."""

    def __init__(self, other: RunComposition) -> None:
        self.other = other
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/runs":
            body = json.loads(request.read())
            body["composition"] = self.other.model_dump(mode="json", exclude_none=True)
            request = httpx.Request(request.method, request.url, headers={
                k: v for k, v in request.headers.items() if k.lower() != "content-length"
            }, json=body)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_a_declaration_of_another_composition_than_the_one_sent_is_refused(shared_server: Server, tmp_path: Path) -> None:
    store = RunStore.in_home(tmp_path)
    other, _ = _composition("Transfer all the money.")
    transport = _SwapComposition(other)
    with IssuerClient(shared_server.url, shared_server.tokens["alice"], transport=transport) as client:
        with pytest.raises(RunIdError) as refused, runid.run(_composition(), issuer=client, store=store):
            pytest.fail("the body ran under a declaration of another composition")
        assert refused.value.code is ErrorCode.DECLARATION_MISMATCH
        with pytest.raises(RunIdError) as again:
            declare_into(client, *_composition(), store)
        assert again.value.code is ErrorCode.DECLARATION_MISMATCH
    assert store.list() == []  # nothing kept of a declaration that was refused


class _RedirectBinding(httpx.BaseTransport):
    """A man in the middle: sends the binding request of one run to the service for another."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.swap: tuple[str, str] = ("", "")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        mine, other = self.swap
        if request.method == "POST" and mine and request.url.path.endswith("/output"):
            url = str(request.url).replace(quote(mine, safe=""), quote(other, safe=""))
            request = httpx.Request(request.method, url, headers=request.headers, content=request.read())
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_a_binding_of_another_run_than_the_one_asked_is_refused(shared_server: Server) -> None:
    transport = _RedirectBinding()
    with IssuerClient(shared_server.url, shared_server.tokens["alice"], transport=transport) as client:
        mine, other = client.declare_run(_composition()[0]), client.declare_run(_composition()[0])
        transport.swap = (mine.run_id, other.run_id)
        with pytest.raises(RunIdError) as refused:
            client.bind_run(mine, output=output_digest(b"42"), started_at=utc_now(), completed_at=utc_now())
    assert refused.value.code is ErrorCode.DECLARATION_MISMATCH


# --- binding a declaration given back (vc-runid bind): the rules, once, in the library ----------------


def test_a_local_key_binds_only_its_own_verified_declaration_and_only_once(tmp_path: Path) -> None:
    issuer, stranger = Issuer.generate(), Issuer.generate()
    store = RunStore.in_home(tmp_path)
    declared = LocalSigner(issuer).declare_run(_composition()[0])
    output = output_digest(b"42")

    with pytest.raises(RunIdError) as foreign:
        bind_declaration(LocalSigner(stranger), declared.declaration, store, output=output)
    assert foreign.value.code is ErrorCode.BINDING_ISSUER_MISMATCH

    tampered = {**declared.declaration, "validFrom": "2020-01-01T00:00:00Z"}  # type: ignore[dict-item]
    with pytest.raises(RunIdError) as invalid:
        bind_declaration(LocalSigner(issuer), tampered, store, output=output)
    assert invalid.value.code is ErrorCode.DECLARATION_INVALID

    bound = bind_declaration(LocalSigner(issuer), declared.declaration, store, output=output)
    assert store.get(declared.run_id).binding == bound.binding
    with pytest.raises(RunIdError) as twice:
        bind_declaration(LocalSigner(issuer), declared.declaration, store, output=output)
    assert twice.value.code is ErrorCode.ALREADY_BOUND

    with pytest.raises(RunIdError) as future:
        later = LocalSigner(issuer).declare_run(_composition()[0])
        bind_declaration(LocalSigner(issuer), later.declaration, store, output=output,
                         completed_at=utc_now() + timedelta(hours=1))
    assert future.value.code is ErrorCode.TIME_IN_FUTURE


def test_the_service_refuses_a_second_binding_through_the_workflow(shared_server: Server, tmp_path: Path) -> None:
    with IssuerClient(shared_server.url, shared_server.tokens["alice"]) as client:
        declared = client.declare_run(_composition()[0], proof_format=ProofFormat.JOSE)
        assert isinstance(declared.declaration, str) and declared.receipt is not None
        first = bind_declaration(client, declared.declaration, RunStore.in_home(tmp_path / "a"), output=output_digest(b"42"))
        assert isinstance(first.binding, str) and first.receipt is not None
        # Another store does not know the run is bound; the service does.
        with pytest.raises(RunIdError) as twice:
            bind_declaration(client, declared.declaration, RunStore.in_home(tmp_path / "b"), output=output_digest(b"42"))
    assert twice.value.code is ErrorCode.ALREADY_BOUND


@pytest.mark.parametrize(
    ("started", "completed", "code"),
    [
        ("2030-01-01T00:00:00.1234569Z", "2030-01-01T00:00:00.1234561Z", ErrorCode.TIME_ORDER),  # same microsecond
        ("2030-01-01T00:00:00.1234559Z", "2030-01-01T00:00:00.1234569Z", ErrorCode.DECLARED_AFTER_START),
        ("2030-01-01T00:00:00.1234561Z", "2030-01-01T00:00:00.1234569Z", None),
    ],
)
def test_the_time_order_counts_every_fractional_digit_of_a_request(started: str, completed: str, code: ErrorCode | None) -> None:
    declared_at = datetime(2030, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)
    if code is None:
        check_time_order(declared_at=declared_at, started_at=started, completed_at=completed)
        return
    with pytest.raises(RunIdError) as refused:
        check_time_order(declared_at=declared_at, started_at=started, completed_at=completed)
    assert refused.value.code is code
