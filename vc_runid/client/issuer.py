"""A client for the vc-runid issuer service, so the executor never holds the issuer key.

    from vc_runid import CompositionBuilder
    from vc_runid.client import IssuerClient
    from vc_runid.runs import output_digest

    composition, disclosures = CompositionBuilder().model("gpt-4o", provider="openai").input("hi").build()
    with IssuerClient("http://127.0.0.1:8080", token="runid_…") as issuer:
        declaration, receipt = issuer.declare(composition)
        started = utc_now()
        answer = my_model("hi")
        binding, _ = issuer.bind(declaration["credentialSubject"]["id"], output_digest(answer.encode()),
                                 started_at=started, completed_at=utc_now())

It is also a ``RunSigner``: ``runid.run(composition, issuer=IssuerClient(url, token))`` runs code
under a declaration of the service exactly as under a local key (``declare_run``/``bind_run``).

Errors come back as ``RunIdError`` with the service's stable code (problem+json ``code``).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Self
from urllib.parse import quote

import httpx

from .._internal.timeutil import format_datetime
from ..errors import ErrorCode, RunError, RunIdError, UsageError
from ..runs.binding import Observed, OutputDigest, Usage
from ..runs.composition import RunComposition
from ..runs.declaration import declaration_subject
from ..runs.signer import Bound, Declared
from ..vc.documents import SecuredWire
from ..vc.formats import ProofFormat
from ..vc.secured import SecuredCredential

Receipt = dict[str, Any]


class ServiceError(RunIdError):
    """The service refused a request; ``status`` is the HTTP status, ``code`` the RUNID code."""

    checks_family = False  # the code is the service's answer, of whatever family

    def __init__(self, status: int, code: ErrorCode, message: str) -> None:
        super().__init__(message, code=code)
        self.status = status


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class IssuerClient:
    """A client of the issuer service: declare and bind runs, fetch log proofs."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        try:
            url = httpx.URL(base_url)
        except httpx.InvalidURL as exc:
            raise UsageError(f"the issuer URL {base_url!r} is not a URL: {exc}") from exc
        if url.scheme not in ("http", "https") or not url.host:
            # "127.0.0.1:8080" parses as scheme "127.0.0.1": say what is missing, not "use https".
            raise UsageError(
                f"the issuer URL {base_url!r} needs a scheme and a host, e.g. https://issuer.example "
                "or http://127.0.0.1:8080"
            )
        if token and url.scheme != "https" and url.host not in _LOOPBACK:
            # A bearer token over plain HTTP to another machine is a token given away.
            raise UsageError(f"refusing to send a token to {base_url} over plain http; use https")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:  # refused, timed out, DNS…: the service, not our bug
            raise ServiceError(0, ErrorCode.SERVICE_UNREACHABLE, f"{self._http.base_url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                body = response.json()
                code = ErrorCode(body.get("code"))
                message = str(body.get("detail") or body.get("title"))
            except (ValueError, AttributeError):
                code, message = ErrorCode.USAGE, f"HTTP {response.status_code}: {response.text[:200]}"
            raise ServiceError(response.status_code, code, message)
        return response

    # -- runs --

    def declare(self, composition: RunComposition, *, format: str = "di") -> tuple[SecuredWire, Receipt]:
        """Have the service declare a run; returns (declaration, log receipt)."""
        body = {"composition": composition.model_dump(mode="json", exclude_none=True), "format": format}
        data = self._call("POST", "/runs", json=body).json()
        return data["declaration"], data["receipt"]

    def bind(
        self,
        run_id: str,
        output: OutputDigest,
        *,
        started_at: datetime,
        completed_at: datetime,
        usage: Usage | None = None,
        observed: Observed | None = None,
        raw_output: OutputDigest | None = None,
    ) -> tuple[SecuredWire, Receipt]:
        """Have the service bind the run's output; returns (binding, log receipt)."""
        body: dict[str, Any] = {
            "output": output.model_dump(mode="json", exclude_none=True),
            "startedAt": format_datetime(started_at),
            "completedAt": format_datetime(completed_at),
        }
        if usage is not None:
            body["usage"] = usage.model_dump(mode="json", exclude_none=True)
        if observed is not None:
            body["observed"] = observed.model_dump(mode="json", exclude_none=True)
        if raw_output is not None:
            body["rawOutput"] = raw_output.model_dump(mode="json", exclude_none=True)
        data = self._call("POST", f"/runs/{quote(run_id, safe='')}/output", json=body).json()
        return data["binding"], data["receipt"]

    # -- RunSigner: the same calls, checked and typed --

    def declare_run(self, composition: RunComposition, *, proof_format: ProofFormat | None = None) -> Declared:
        """Have the service declare a run of ``composition`` (in ``proof_format``, default ``di``;
        the service offers di, di-2020, jose and jwt-1.1). The answer is input like any other: a
        declaration of another composition than the one sent is refused (``RUNID_DECLARATION_MISMATCH``)."""
        declaration, receipt = self.declare(composition, format=(proof_format or ProofFormat.DI).value)
        _, composition_declared = declaration_subject(SecuredCredential.parse(declaration).unverified_document)
        if composition_declared != composition:
            raise RunError(
                "the issuer service declared another composition than the one sent; refusing its declaration",
                code=ErrorCode.DECLARATION_MISMATCH,
            )
        return Declared.of(declaration, receipt)

    def bind_run(
        self,
        declared: Declared,
        *,
        output: OutputDigest,
        raw_output: OutputDigest | None = None,
        started_at: datetime,
        completed_at: datetime,
        usage: Usage | None = None,
        observed: Observed | None = None,
    ) -> Bound:
        """Have the service bind the run (it checks the run is this client's, unbound, and the
        times against the declaration and its clock); the binding takes the declaration's format."""
        binding, receipt = self.bind(
            declared.run_id, output, started_at=started_at, completed_at=completed_at, usage=usage,
            observed=observed, raw_output=raw_output,
        )
        return Bound.of(declared, binding, receipt)  # the answer is checked: a binding of this run

    def accept_declaration(self, declaration: SecuredWire) -> Declared:
        """The run ``declaration`` declares; the service checks the rest when it binds."""
        return Declared.of(declaration)

    def run(self, run_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/runs/{quote(run_id, safe='')}").json())

    # -- VC API --

    def issue(self, credential: dict[str, Any], **options: Any) -> tuple[dict[str, Any], Receipt]:
        body: dict[str, Any] = {"credential": credential}
        if options:
            body["options"] = options
        data = self._call("POST", "/credentials/issue", json=body).json()
        return data["verifiableCredential"], data["receipt"]

    def verify(self, credential: SecuredWire) -> dict[str, Any]:
        """The service's verification result (it does not raise for an invalid credential)."""
        try:
            response = self._http.post("/credentials/verify", json={"verifiableCredential": credential})
            return dict(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceError(0, ErrorCode.SERVICE_UNREACHABLE, f"{self._http.base_url}: {exc}") from exc

    # -- revocation --

    def revoke(self, credential_id: str, reason: str) -> dict[str, Any]:
        """Revoke a credential the service issued (needs an admin token). Final and idempotent:
        the answer's ``changed`` is False if it was already revoked. It holds the bit
        (``statusListIndex``), ``revokedAt`` and the revocation's log ``receipt``."""
        body = {"credentialId": credential_id, "reason": reason}
        return dict(self._call("POST", "/credentials/status", json=body).json())

    def status_list(self) -> dict[str, Any]:
        """The service's signed status list credential (``GET /status/1``), for a verifier's
        ``status_lists`` (keyed by its ``id``)."""
        return dict(self._call("GET", "/status/1").json())

    # -- the log --

    def checkpoint(self) -> str:
        return self._call("GET", "/log/checkpoint").text

    def log_key(self) -> str:
        return self._call("GET", "/log/key").text

    def inclusion_proof(self, index: int, size: int | None = None) -> dict[str, Any]:
        params = {"index": index} if size is None else {"index": index, "size": size}
        return dict(self._call("GET", "/log/proof/inclusion", params=params).json())

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        params = {"from": old_size} if new_size is None else {"from": old_size, "to": new_size}
        data = self._call("GET", "/log/proof/consistency", params=params).json()
        return [base64.b64decode(h) for h in data["consistencyProof"]]

    def entries(self, start: int = 0, end: int | None = None) -> list[dict[str, Any]]:
        """All entries from ``start`` to ``end`` (default: the current size), page by page."""
        out: list[dict[str, Any]] = []
        while True:
            params: dict[str, int] = {"start": start} if end is None else {"start": start, "end": end}
            page = self._call("GET", "/log/entries", params=params).json()
            out.extend(page["entries"])
            stop = page["treeSize"] if end is None else min(end, page["treeSize"])
            if not page["entries"] or page["end"] >= stop:
                return out
            start = page["end"]


__all__ = ["IssuerClient", "ServiceError"]
