"""Fetching status list credentials from their issuers — online, and only when asked.

Verification itself never touches the network (:mod:`vc_runid.vc.verification`): it checks status
against the lists it is *given*. A caller who wants the issuer's current word fetches the lists
on purpose and hands them over::

    from vc_runid.vc.status.fetch import fetch_status_lists
    from vc_runid.vc.verification import Verifier

    lists = fetch_status_lists([declaration, binding], allow_network=True)
    report = Verifier(status_lists=lists).verify_credential(binding)

URLs are taken only from credentials whose signatures verify (with the ``verifier`` given, or
an offline default): a forged or altered credential cannot make the verifier connect anywhere.
Only data is fetched: each list is still verified like one from an audit bundle (proof, issuer
equal to the credential's issuer, validity period, ``id`` equal to the URL it was fetched for) by
:func:`vc_runid.vc.status.bitstring.check_status`. Fetching is bounded: http(s) URLs only, a timeout per
connection and read, an overall deadline (:data:`DEFAULT_DEADLINE`: a server dripping one byte a
second cannot hold the verifier), at most :data:`MAX_STATUS_LIST_BYTES` per list,
:data:`MAX_LISTS` lists per call, and a few redirects.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from ...errors import ErrorCode, RunIdError, StatusError, UsageError
from .. import jose
from ..documents import SecuredWire, read_document
from ..secured import SecuredCredential

if TYPE_CHECKING:
    from ..verification import Verifier

#: Largest status list response read (1 MiB); a longer body is refused, not read to the end.
#: A list of 131,072 entries compresses to well under a kilobyte; even the largest list
#: :mod:`vc_runid.vc.status.bitstring` accepts (16 MiB of bits) fits when it is sparse.
MAX_STATUS_LIST_BYTES = 1 << 20
#: Seconds allowed to connect, and between bytes read.
DEFAULT_TIMEOUT = 10.0
#: Seconds allowed for all the fetches of one call, whatever the servers do.
DEFAULT_DEADLINE = 30.0
#: Most distinct status lists one call fetches (each credential usually names one list).
MAX_LISTS = 100
_MAX_REDIRECTS = 3
_GRACE = 0.5  # seconds past the deadline for a fetch to report its own error first
_ACCEPT = "application/vc, application/vc+ld+json;q=0.9, application/vc+jwt;q=0.8, application/json;q=0.5"


def _missing(url: str, why: str) -> RunIdError:
    return StatusError(f"status list {url} could not be fetched: {why}", code=ErrorCode.STATUS_LIST_MISSING,
                      detail={"url": url})


def _documents(item: Any) -> Iterable[dict[str, Any]]:
    """The credential documents in ``item``: a credential (JSON, compact JWS or enveloped) or a
    presentation of them. What cannot be read is skipped: verification reports it."""
    if isinstance(item, dict) and not jose.is_envelope(item):
        enclosed = item.get("verifiableCredential")
        if enclosed is not None:  # a presentation
            for credential in enclosed if isinstance(enclosed, list) else [enclosed]:
                yield from _documents(credential)
            return
    try:
        yield SecuredCredential.parse(item).unverified_document
    except RunIdError:
        return


def status_list_urls(credentials: Iterable[SecuredWire]) -> list[str]:
    """Every ``statusListCredential`` URL the credentials (or presentations) point to, in order
    of first appearance, without repeats. Pure: nothing is fetched, and nothing is verified."""
    urls: dict[str, None] = {}
    for item in credentials:
        for document in _documents(item):
            _add_urls(document, urls)
    return list(urls)


def _add_urls(document: dict[str, Any], urls: dict[str, None]) -> None:
    status = document.get("credentialStatus")
    for entry in status if isinstance(status, list) else [status]:
        if isinstance(entry, dict) and isinstance(entry.get("statusListCredential"), str):
            urls[entry["statusListCredential"]] = None


def _secured(item: Any) -> Iterable[SecuredWire]:
    """The secured credentials in ``item``: itself, or those a presentation encloses."""
    if isinstance(item, dict) and "verifiableCredential" in item:
        enclosed = item["verifiableCredential"]
        for credential in enclosed if isinstance(enclosed, list) else [enclosed]:
            if isinstance(credential, (dict, str)):
                yield credential
        return
    if isinstance(item, (dict, str)):
        yield item


def verified_status_list_urls(credentials: Iterable[SecuredWire], verifier: Verifier) -> list[str]:
    """Like :func:`status_list_urls`, from the credentials whose signatures verify only (and
    whose issuer the verifier's trust policy accepts, when it has one), read from the document
    as verified. A credential that does not verify contributes nothing: its URLs are never
    fetched, and its own verification reports it."""
    plain = replace(verifier, status_lists=None)
    urls: dict[str, None] = {}
    for item in credentials:
        for secured in _secured(item):
            report = plain.verify_credential(secured)
            signed = report.proofs_checked > 0 and not any(
                c.name.endswith(".signature") or c.name in ("trust.issuer", "signed-form") for c in report.failures
            )
            if signed and report.document is not None:
                _add_urls(report.document, urls)
    return list(urls)


def fetch_status_lists(
    credentials: Iterable[SecuredWire],
    *,
    allow_network: bool,
    verifier: Verifier | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    deadline: float = DEFAULT_DEADLINE,
    max_bytes: int = MAX_STATUS_LIST_BYTES,
    transport: httpx.BaseTransport | None = None,
) -> dict[str, SecuredWire]:
    """Fetch the status list credential of every ``credentialStatus`` entry in ``credentials``
    (credentials as JSON, compact JWS or enveloped, or presentations holding them), keyed by the
    URL it was fetched from — ready for ``Verifier(status_lists=...)``.

    ``allow_network`` must be True: fetching is opt-in (``RUNID_USAGE`` otherwise, before any
    connection). URLs come only from credentials whose signatures verify with ``verifier``
    (default: an offline ``Verifier()``), so the signatures are checked before any connection.
    A list that cannot be fetched within ``deadline`` seconds for the whole call raises
    ``RUNID_STATUS_LIST_MISSING`` naming the URL and why; a body that is not a credential raises
    ``RUNID_STATUS_LIST_INVALID``. The lists are *not* verified here: the verifier does that."""
    if not allow_network:
        raise UsageError(
            "fetching status lists uses the network and was not allowed; pass allow_network=True "
            "(CLI: --fetch-status), or supply status list credentials you already hold"
        )
    if verifier is None:
        from ..verification import Verifier

        verifier = Verifier()
    urls = verified_status_list_urls(credentials, verifier)
    if len(urls) > MAX_LISTS:
        raise UsageError(f"the credentials point to {len(urls)} status lists; at most {MAX_LISTS} are fetched per call")
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise _missing(url, "only http(s) URLs are fetched")
    lists: dict[str, SecuredWire] = {}
    if not urls:
        return lists
    ends = time.monotonic() + deadline
    current: list[str] = []
    failed: list[BaseException] = []

    def fetch_all() -> None:
        try:
            for url in urls:
                current.append(url)
                lists[url] = _parse(url, _get(client, url, max_bytes, ends, timeout))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread below
            failed.append(exc)

    with httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=_MAX_REDIRECTS,
        headers={"Accept": _ACCEPT, "User-Agent": "vc-runid status fetch"},
        transport=transport,
    ) as client:
        # In a thread the caller waits for with the deadline: a server that sends its headers a
        # byte at a time never trips a per-read timeout, and httpx only returns once they are in.
        worker = threading.Thread(target=fetch_all, name="vc-runid status fetch", daemon=True)
        worker.start()
        worker.join(max(0.0, ends - time.monotonic()) + _GRACE)
        if worker.is_alive():
            client.close()  # the stuck read fails, and the thread ends
            worker.join(_GRACE)
            raise _missing(current[-1] if current else urls[0], "the deadline for fetching status lists passed")
    if failed:
        raise failed[0]
    return lists


def _get(client: httpx.Client, url: str, max_bytes: int, ends: float, timeout: float) -> bytes:
    # Timeouts in httpx are per operation: a server sending a byte a second never trips one. The
    # deadline is checked between chunks, and no single wait may outlast what is left of it.
    def left() -> float:
        remaining = ends - time.monotonic()
        if remaining <= 0:
            raise _missing(url, "the deadline for fetching status lists passed")
        return remaining

    try:
        with client.stream("GET", url, timeout=min(timeout, left())) as response:
            if response.status_code != 200:
                raise _missing(url, f"HTTP {response.status_code}")
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise _missing(url, f"the response is {declared} bytes; the limit is {max_bytes}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                left()
                size += len(chunk)
                if size > max_bytes:
                    raise _missing(url, f"the response exceeds the limit of {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise _missing(url, f"{type(exc).__name__}: {exc}") from exc


def _parse(url: str, body: bytes) -> SecuredWire:
    try:
        return read_document(body)
    except RunIdError as exc:
        raise StatusError(
            f"the response from {url} is not a status list credential: {exc.message}",
            code=ErrorCode.STATUS_LIST_INVALID,
            detail={"url": url},
        ) from exc


__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_TIMEOUT",
    "MAX_LISTS",
    "MAX_STATUS_LIST_BYTES",
    "fetch_status_lists",
    "status_list_urls",
    "verified_status_list_urls",
]
