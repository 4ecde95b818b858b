"""Fetching status lists: opt-in, http(s) only, bounded; what is fetched is still verified.

The network is an ``httpx.MockTransport`` passed in (the live service is exercised in
``tests/server/test_status.py``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import vc_runid as runid
from vc_runid._internal.timeutil import utc_now
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.store.status import StatusRegistry
from vc_runid.vc.credentials import Issuer
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.jose import envelop
from vc_runid.vc.status.bitstring import check_status
from vc_runid.vc.status.fetch import MAX_STATUS_LIST_BYTES, fetch_status_lists, status_list_urls
from vc_runid.vc.verification import Verifier

URL = "https://issuer.example/status/1"
OTHER = "https://other.example/lists/7"


def credential(issuer: Issuer, registry: StatusRegistry, fmt: ProofFormat = ProofFormat.DI) -> dict[str, Any] | str:
    cid, entry = registry.assign(URL)
    unsigned = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": cid, "type": ["VerifiableCredential"],
                "credentialSubject": {"id": "did:example:a", "name": "A"}, "credentialStatus": entry}
    return runid.issue_credential(unsigned, issuer, proof_format=fmt)


_SIGNER = Issuer.generate()


def with_status(url: str, issuer: Issuer = _SIGNER) -> dict[str, Any] | str:
    """A signed credential whose status entry names ``url`` (URLs are taken from verified
    credentials only)."""
    unsigned = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:7d1c2f0e-0000-4000-8000-000000000001",
                "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:a", "name": "A"},
                "credentialStatus": {"id": url + "#1", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                                     "statusListIndex": "1", "statusListCredential": url}}
    return runid.issue_credential(unsigned, issuer)


def serving(routes: dict[str, Callable[[], httpx.Response]], seen: list[str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        route = routes.get(str(request.url))
        return route() if route is not None else httpx.Response(404)

    return httpx.MockTransport(handle)


@pytest.fixture
def issuer() -> Issuer:
    return Issuer.generate()


@pytest.fixture
def registry(tmp_path: Path) -> StatusRegistry:
    return StatusRegistry(tmp_path)


def test_fetching_is_refused_unless_the_network_is_allowed(issuer: Issuer, registry: StatusRegistry) -> None:
    seen: list[str] = []
    with pytest.raises(RunIdError) as excinfo:
        fetch_status_lists([credential(issuer, registry)], allow_network=False, transport=serving({}, seen))
    assert excinfo.value.code is ErrorCode.USAGE and "network" in excinfo.value.message
    assert seen == []


def test_a_fetched_list_is_verified_like_any_other(issuer: Issuer, registry: StatusRegistry) -> None:
    secured = credential(issuer, registry)
    assert isinstance(secured, dict)
    published = registry.status_list_credential(issuer, URL, utc_now())
    seen: list[str] = []
    transport = serving({URL: lambda: httpx.Response(200, json=published)}, seen)
    lists = fetch_status_lists([secured], allow_network=True, transport=transport)
    assert lists == {URL: published} and seen == [URL]
    assert not check_status(secured, lists, verifier=Verifier()).revoked
    # a list signed by someone else is fetched all the same, and refused by the verifier
    forged = registry.status_list_credential(Issuer.generate(), URL, utc_now())
    lists = fetch_status_lists([secured], allow_network=True,
                               transport=serving({URL: lambda: httpx.Response(200, json=forged)}, []))
    with pytest.raises(RunIdError) as excinfo:
        check_status(secured, lists, verifier=Verifier())
    assert excinfo.value.code is ErrorCode.STATUS_LIST_ISSUER_MISMATCH


def test_urls_come_from_json_jose_enveloped_credentials_and_presentations(issuer: Issuer, registry: StatusRegistry) -> None:
    jws = credential(issuer, registry, ProofFormat.JOSE)
    assert isinstance(jws, str)
    presentation = {"type": ["VerifiablePresentation"], "verifiableCredential": [envelop(jws), with_status(OTHER)]}
    items: list[Any] = [credential(issuer, registry), jws, presentation, {"id": "no status"}, "not a jwt", 42]
    assert status_list_urls(items) == [URL, OTHER]


def test_nothing_to_fetch_fetches_nothing() -> None:
    seen: list[str] = []
    assert fetch_status_lists([{"id": "urn:x"}], allow_network=True, transport=serving({}, seen)) == {}
    assert seen == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://issuer.example/list", "urn:uuid:1", "data:,x", "https:///x"])
def test_only_http_urls_are_fetched(url: str) -> None:
    seen: list[str] = []
    with pytest.raises(RunIdError) as excinfo:
        fetch_status_lists([with_status(url)], allow_network=True, transport=serving({}, seen))
    assert excinfo.value.code is ErrorCode.STATUS_LIST_MISSING and url in excinfo.value.message
    assert seen == []


def _chunks(total: int) -> Iterator[bytes]:
    for _ in range(total // 65536 + 1):
        yield b" " * 65536


@pytest.mark.parametrize(
    ("response", "code", "says"),
    [
        (lambda: httpx.Response(404), ErrorCode.STATUS_LIST_MISSING, "HTTP 404"),
        (lambda: httpx.Response(500, json={}), ErrorCode.STATUS_LIST_MISSING, "HTTP 500"),
        (lambda: httpx.Response(200, content=b"x" * (MAX_STATUS_LIST_BYTES + 1)), ErrorCode.STATUS_LIST_MISSING, "limit"),
        (lambda: httpx.Response(200, content=_chunks(MAX_STATUS_LIST_BYTES)), ErrorCode.STATUS_LIST_MISSING, "limit"),
        (lambda: httpx.Response(200, content=b"<html>"), ErrorCode.STATUS_LIST_INVALID, "not a status list"),
        (lambda: httpx.Response(200, content=json.dumps([1, 2]).encode()), ErrorCode.STATUS_LIST_INVALID, "not a status list"),
    ],
    ids=["404", "500", "too-large", "too-large-chunked", "html", "json-array"],
)
def test_a_bad_response_is_refused_naming_the_url(
    response: Callable[[], httpx.Response], code: ErrorCode, says: str
) -> None:
    with pytest.raises(RunIdError) as excinfo:
        fetch_status_lists([with_status(URL)], allow_network=True, transport=serving({URL: response}, []))
    assert excinfo.value.code is code and URL in excinfo.value.message and says in excinfo.value.message


def test_redirects_are_followed_a_few_times_only(issuer: Issuer, registry: StatusRegistry) -> None:
    published = registry.status_list_credential(issuer, URL, utc_now())
    hop = "https://cdn.example/status/1"
    routes = {URL: lambda: httpx.Response(302, headers={"Location": hop}), hop: lambda: httpx.Response(200, json=published)}
    assert fetch_status_lists([with_status(URL)], allow_network=True, transport=serving(routes, [])) == {URL: published}
    loop = {URL: lambda: httpx.Response(302, headers={"Location": URL})}
    with pytest.raises(RunIdError) as excinfo:
        fetch_status_lists([with_status(URL)], allow_network=True, transport=serving(loop, []))
    assert excinfo.value.code is ErrorCode.STATUS_LIST_MISSING


def test_an_unreachable_host_is_a_missing_list() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(RunIdError) as excinfo:
        fetch_status_lists([with_status(URL)], allow_network=True, transport=httpx.MockTransport(refuse))
    assert excinfo.value.code is ErrorCode.STATUS_LIST_MISSING and "ConnectError" in excinfo.value.message


# --- only after the signatures verify; never longer than the deadline (issue 8 §4) -------------------


def test_urls_of_a_credential_whose_signature_fails_are_never_fetched() -> None:
    forged = with_status(URL)
    assert isinstance(forged, dict)
    forged["credentialStatus"]["statusListCredential"] = OTHER  # changed after signing
    unsigned = {k: v for k, v in forged.items() if k != "proof"}
    seen: list[str] = []
    transport = serving({OTHER: lambda: httpx.Response(200, json={})}, seen)
    assert fetch_status_lists([forged, unsigned], allow_network=True, transport=transport) == {}
    assert seen == []


class _Drip:
    """A real HTTP server on 127.0.0.1 that answers one byte every ``interval`` seconds, in its
    headers (``where="headers"``) or in its body."""

    def __init__(self, where: str, interval: float = 0.2) -> None:
        import socket
        import threading

        self.where, self.interval = where, interval
        self.stop = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/status/1"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        import time

        while not self.stop.is_set():
            try:
                connection, _ = self.server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                try:
                    connection.recv(65536)
                    body = b"{" + b" " * 100_000 + b"}"
                    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                    fast, slow = (b"", head + body) if self.where == "headers" else (head, body)
                    connection.sendall(fast)
                    for index in range(len(slow)):
                        if self.stop.is_set():
                            return
                        connection.sendall(slow[index : index + 1])
                        time.sleep(self.interval)
                except OSError:  # the client gave up (the point of the test), or a timeout
                    continue

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.server.close()


@pytest.mark.parametrize("where", ["headers", "body"])
def test_a_server_dripping_one_byte_at_a_time_cannot_hold_the_verifier(where: str) -> None:
    import time

    drip = _Drip(where)
    try:
        secured = with_status(drip.url)
        started = time.monotonic()
        with pytest.raises(RunIdError) as excinfo:
            fetch_status_lists([secured], allow_network=True, deadline=1.0, timeout=0.5)
        elapsed = time.monotonic() - started
    finally:
        drip.close()
    assert excinfo.value.code is ErrorCode.STATUS_LIST_MISSING and drip.url in excinfo.value.message
    assert "deadline" in excinfo.value.message
    # a bound on a hang, not a speed measurement: the drip alone would take hours
    assert elapsed < 30, elapsed
