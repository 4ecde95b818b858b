"""The issuer service as a FastAPI application: VC API issue/verify, run declaration and output
binding, revocation (Bitstring Status List), and the public, verifiable run log.

    from pathlib import Path
    import uvicorn
    from vc_runid.server.app import create_app

    uvicorn.run(create_app(Path(".runid"), public_url="http://127.0.0.1:8080"), host="127.0.0.1", port=8080)

Every refusal is an RFC 9457 problem+json body carrying a stable ``RUNID_…`` code, and a refused
request writes nothing. Request bodies are limited to :data:`MAX_BODY_BYTES`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._internal.canonical import _EXPANSION_LOCK
from .._internal.contexts import default_loader
from .._internal.timeutil import format_datetime, parse_datetime, utc_now
from ..errors import ErrorCode, HttpServiceError, RunError, RunIdError
from ..runs.binding import (
    Observed,
    OutputDigest,
    Usage,
    bind,
    check_completed_by,
    check_time_order,
    check_unbound,
)
from ..runs.composition import RunComposition
from ..runs.declaration import declare, log_leaf_data
from ..runs.presentations import verify_presentation
from ..store.home import init_home
from ..vc.credentials import Issuer, issue_credential
from ..vc.dids import DidResolver
from ..vc.documents import SecuredWire, parse_json
from ..vc.formats import ProofFormat
from ..vc.jose import envelop
from ..vc.secured import SecuredCredential
from ..vc.verification import VerificationReport, Verifier
from .issuance import GenericIssuer, IssuanceGuard
from .log import Receipt, RunLog, b64, new_entry
from .status import LIST_PATH, StatusService, list_url_for, public_base_url
from .storage import (
    AlreadyRevokedError,
    CredentialNotFoundError,
    ForbiddenError,
    RunRow,
    StatusRow,
    Storage,
    TokenRevokedError,
    open_storage,
)
from .tokens import Caller, TokenCache
from .witnesses import cosigner_from_env

#: Largest request body accepted, in bytes (1 MiB). Larger → 413 ``RUNID_INPUT_TOO_LARGE``.
MAX_BODY_BYTES = 1 << 20
#: Most log entries one ``GET /log/entries`` returns.
MAX_ENTRIES_PER_PAGE = 1000

PROBLEM_BASE = "https://w3id.org/vc-runid/problems#"

# pyld's JSON-LD processing is not thread-safe: under concurrent signing it intermittently fails
# with "invalid scoped context" or a KeyError from a shared cache (seen about 1 in 3,000 requests
# under load). Signing and verifying are CPU-bound under the GIL anyway, so serialising them in
# one process costs little; use --workers for parallelism.
_JSONLD = threading.Lock()
#: Verifications (public endpoints) running at once per worker process. More would not verify
#: faster (JSON-LD expansion is serialized by a lock, the rest by the GIL) but would make a
#: declaration wait behind more of them for that lock (docs/performance.md, "Hostile input");
#: the rest wait here holding no thread, so the thread pool stays free for the other endpoints.
MAX_CONCURRENT_VERIFICATIONS = 1
T = TypeVar("T")


async def _signed(sign: Callable[[], T]) -> T:
    """Sign under ``_JSONLD``: on the event loop when the locks it needs are free (the hot path, a
    few hundred microseconds), else in a worker thread, so that a verification holding the JSON-LD
    expansion lock for seconds makes this request wait without blocking the event loop for every
    other request. The expansion lock is re-entrant: taken here, the signing's own expansion
    re-enters it instead of waiting on the loop."""
    if _JSONLD.acquire(blocking=False):
        try:
            if _EXPANSION_LOCK.acquire(blocking=False):
                try:
                    return sign()
                finally:
                    _EXPANSION_LOCK.release()
        finally:
            _JSONLD.release()

    def locked() -> T:
        with _JSONLD:
            return sign()

    return await anyio.to_thread.run_sync(locked)
PROBLEM_JSON = "application/problem+json"
#: A compact JWS (RFC 7515 §7.1): three base64url segments; the only string a VC API verifier takes.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")

# Formats a run may be declared in. ecdsa-rdfc-2019 needs a P-256 issuer key; the log's
# checkpoints need Ed25519, so the service key is Ed25519 and ecdsa is not offered.
RunFormat = Literal["di", "di-2020", "jose", "jwt-1.1"]


# --- problem+json --------------------------------------------------------------------------------


class Problem(BaseModel):
    """RFC 9457 problem details, with vc-runid's stable error code."""

    type: str
    title: str
    status: int
    code: str
    detail: str


def problem(status: int, code: ErrorCode | str, title: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    code = str(code)
    body = Problem(type=PROBLEM_BASE + code, title=title, status=status, code=code, detail=detail)
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM_JSON, headers=headers)


_STATUS_BY_CODE: dict[ErrorCode, tuple[int, str]] = {
    ErrorCode.RUN_NOT_FOUND: (404, "Run not found"),
    ErrorCode.ALREADY_BOUND: (409, "Run already bound"),
    ErrorCode.RUN_EXISTS: (409, "Run already declared"),
    ErrorCode.INPUT_TOO_LARGE: (413, "Request body too large"),
    ErrorCode.INPUT_NOT_JSON: (400, "Malformed JSON"),
    ErrorCode.INPUT_DUPLICATE_KEY: (400, "Malformed JSON"),
    ErrorCode.DECLARED_AFTER_START: (422, "Run started before it was declared"),
    ErrorCode.TIME_ORDER: (422, "Times contradict each other"),
    ErrorCode.TIME_IN_FUTURE: (422, "Time is in the service's future"),
    ErrorCode.LOG_RANGE: (400, "Log range out of bounds"),
    ErrorCode.WITNESS_UNAVAILABLE: (503, "Witnesses unavailable"),
}


def error_response(exc: RunIdError) -> JSONResponse:
    if isinstance(exc, ForbiddenError):
        return problem(403, exc.code, "Not your run", exc.message)
    if isinstance(exc, CredentialNotFoundError):
        return problem(404, exc.code, "Credential not found", exc.message)
    status, title = _STATUS_BY_CODE.get(exc.code, (422, "Unprocessable request"))
    return problem(status, exc.code, title, exc.message)


def _unauthorized(detail: str) -> RunIdError:
    return _AuthError(detail, code=ErrorCode.UNAUTHORIZED)


class _AuthError(HttpServiceError):
    pass


class _AdminRequired(HttpServiceError):
    """A valid token, but not an admin's (HTTP 403)."""


# --- request and response models ----------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StatusRequest(_Strict):
    """The VC API's request for a status entry on issuance (``options.credentialStatus``)."""

    type: Literal["BitstringStatusListEntry"]
    statusPurpose: Literal["revocation"] = Field(
        "revocation", description="revocation is offered; suspension (a reversible bit) is not yet"
    )


class IssueOptions(_Strict):
    # Every format the library issues: the generic issuer holds an Ed25519 and a P-256 key and
    # signs with the one the format's cryptosuite needs.
    format: ProofFormat = ProofFormat.DI
    credentialStatus: StatusRequest | None = None


class IssueRequest(_Strict):
    credential: dict[str, Any]
    options: IssueOptions | None = None


class IssueResponse(BaseModel):
    verifiableCredential: dict[str, Any]
    receipt: Receipt


class VerifyOptions(BaseModel):
    # VC API clients send e.g. {"checks": ["proof"]}; every check is always run.
    model_config = ConfigDict(extra="allow")
    checks: list[str] | None = None
    challenge: str | None = None
    domain: str | None = None


class VerifyRequest(_Strict):
    verifiableCredential: dict[str, Any] | str
    options: VerifyOptions | None = None


class PresentationVerifyRequest(_Strict):
    verifiablePresentation: dict[str, Any]
    options: VerifyOptions | None = None


class VerifyError(BaseModel):
    check: str
    code: str | None
    message: str


class VerifyResponse(BaseModel):
    verified: bool
    checks: list[str]
    warnings: list[str]
    errors: list[VerifyError]
    report: dict[str, Any]


class DeclareRequest(_Strict):
    composition: RunComposition
    format: RunFormat = "di"


class RunResponse(BaseModel):
    runId: str
    declaration: dict[str, Any] | str
    receipt: Receipt


class BindRequest(_Strict):
    output: OutputDigest
    rawOutput: OutputDigest | None = None
    startedAt: str
    completedAt: str
    usage: Usage | None = None
    observed: Observed | None = None


class BindResponse(BaseModel):
    runId: str
    binding: dict[str, Any] | str
    receipt: Receipt


class RunRecord(BaseModel):
    runId: str
    status: Literal["declared", "bound"]
    declaration: dict[str, Any] | str
    declarationIndex: int
    declaredAt: str
    binding: dict[str, Any] | str | None = None
    bindingIndex: int | None = None
    boundAt: str | None = None


class StatusChange(_Strict):
    type: Literal["BitstringStatusListEntry", "BitstringStatusListCredential"] = Field(
        description="the status mechanism; both names are in use by VC API clients"
    )
    status: Literal["revoked"] = Field(description="revocation is the only change offered, and it is final")


class UpdateStatusRequest(_Strict):
    """VC API "update status" (``credentialStatus``), or the short form with only a ``reason``."""

    credentialId: str = Field(min_length=1, max_length=1000)
    credentialStatus: list[StatusChange] | None = Field(None, min_length=1, max_length=1)
    reason: str | None = Field(None, min_length=1, max_length=1000)


class UpdateStatusResponse(BaseModel):
    credentialId: str
    credentialStatus: list[dict[str, str]]
    statusListCredential: str
    statusListIndex: str
    revokedAt: str
    reason: str
    changed: bool = Field(description="false when the credential was already revoked (nothing was written)")
    receipt: Receipt = Field(description="the revocation's place in the run log")


class InclusionResponse(BaseModel):
    leafIndex: int
    treeSize: int
    inclusionProof: list[str]
    checkpoint: str | None = Field(None, description="signed checkpoint, when treeSize is the current size")


class ConsistencyResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: int = Field(alias="from")
    to: int
    consistencyProof: list[str]


class LogEntry(BaseModel):
    index: int
    kind: str
    credentialId: str | None
    runId: str | None
    loggedAt: str
    leafHash: str
    entry: Any = Field(
        description="the secured credential, or for kind 'revocation' the revocation record; its RFC 8785 JSON "
        "is the leaf data"
    )


class LogEntries(BaseModel):
    start: int
    end: int
    treeSize: int
    entries: list[LogEntry]


# --- the body limit ------------------------------------------------------------------------------

_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[_Message]]
_Send = Callable[[_Message], Awaitable[None]]


class _StrictJsonRequest(Request):
    """A request whose JSON body is read as everywhere else in vc-runid (``parse_json``): duplicate
    keys, lone surrogates, NaN and oversized numbers are refused, not read last-key-wins."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class _StrictJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            # FastAPI turns what json() raises into a 400 HTTPException; _http_error answers with
            # the RunIdError it carries as its cause (RUNID_INPUT_DUPLICATE_KEY, _NOT_JSON, ...).
            return await handler(_StrictJsonRequest(request.scope, request.receive))

        return strict


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413 before the app reads them: by the
    declared Content-Length when there is one, else by counting (chunked uploads)."""

    def __init__(self, app: Callable[[_Scope, _Receive, _Send], Awaitable[None]], limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = declared = None
        for name, value in scope.get("headers") or ():
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                declared = value
        if (content_type is None or b"json" not in content_type) and scope.get("method") in ("POST", "PUT"):
            # Every body this API takes is JSON; read it as JSON whatever type the client said.
            kept = [(k, v) for k, v in scope.get("headers", []) if k != b"content-type"]
            scope = {**scope, "headers": [*kept, (b"content-type", b"application/json")]}
        if declared is not None:
            try:
                if int(declared) > self.limit:
                    await self._too_large(scope, receive, send)
                    return
            except ValueError:
                await problem(400, ErrorCode.INPUT_NOT_JSON, "Bad request", "invalid Content-Length")(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        # No length: buffer up to the limit, then replay to the app.
        chunks: list[bytes] = []
        total = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.limit:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> _Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        response = problem(
            413, ErrorCode.INPUT_TOO_LARGE, "Request body too large", f"request bodies are limited to {self.limit} bytes"
        )
        await response(scope, receive, send)


# --- the application ----------------------------------------------------------------------------


class Service:
    """What the endpoints share: the issuer, the database and the log."""

    def __init__(
        self, home: Path, database: str | None, domain: str | None, public_url: str,
        contexts: Mapping[str, Any] | None = None,
    ) -> None:
        self.issuer: Issuer = init_home(home, domain=domain)[0]
        self.storage: Storage = open_storage(home, database)
        self.log = RunLog(self.storage, self.issuer)
        self.log.cosigner = cosigner_from_env(self.log)  # serve --witness … (server/witnesses.py)
        self.tokens = TokenCache(self.storage)
        # Fixed in the database the first time: credentials already issued point to that URL.
        self.status = StatusService(self.storage, self.issuer, self.storage.status_list_url(list_url_for(public_url)), _JSONLD,
                                    record=self._log_status_list)
        # POST /credentials/issue signs with a key and DID of its own, never the run issuer's
        # (server/issuance.py).
        self.generic = GenericIssuer.in_home(home, self.issuer)
        documents = {self.issuer.did: self.issuer.did_document()} if self.issuer.did.startswith("did:web:") else {}
        generic_document = self.generic.did_document()
        if generic_document is not None:
            documents[self.generic.did] = generic_document
        self.resolver = DidResolver(documents)
        self.loader = default_loader().with_contexts(contexts or {})
        list_base = self.status.list_url.removesuffix(LIST_PATH)
        self.guard = IssuanceGuard(self.loader, sorted({public_url, list_base}), self.storage.issued_ids)
        # Requested credentials asked to carry a status entry point to a list the generic issuer
        # signs (a verifier requires the list's issuer to be the credential's). Its indices come
        # from the same counter as the run list's, so no bit is ever shared by two credentials.
        self.generic_status = StatusService(
            self.storage, self.generic.for_format(ProofFormat.DI), public_url.rstrip("/") + GENERIC_LIST_PATH,
            _JSONLD, record=self._log_status_list,
        )

    def _log_status_list(self, signed: dict[str, Any]) -> None:
        self.log.append(new_entry("status-list", signed, credential_id=str(signed.get("id")), run_id=None,
                                  client="service", logged_at=utc_now()))

    def verifier(self, document: Any = None) -> Verifier:
        """A verifier; when every status entry of ``document`` points at one of this service's own
        lists, it checks them against the lists as signed now (no request leaves the service:
        other lists are never fetched, and their status stays unknown, with a warning)."""
        own = {self.status.list_url: self.status, self.generic_status.list_url: self.generic_status}
        urls = _status_list_urls(document)
        lists = {url: own[url].status_list() for url in urls} if urls and urls <= own.keys() else None
        return Verifier(resolver=self.resolver, loader=self.loader, now=utc_now(), status_lists=lists)

    def close(self) -> None:
        self.log.close()
        self.storage.close()


#: Where the generic issuer's status list is published (``options.credentialStatus`` on issue).
GENERIC_LIST_PATH = "/status/credentials"


def _status_list_urls(document: Any) -> set[str]:
    """The ``statusListCredential`` URLs a credential (object) names, as written."""
    if not isinstance(document, dict):
        return set()
    entries = document.get("credentialStatus")
    entries = entries if isinstance(entries, list) else [entries]
    return {e["statusListCredential"] for e in entries if isinstance(e, dict) and isinstance(e.get("statusListCredential"), str)}


def _load(text: str) -> SecuredWire:
    value = json.loads(text)
    assert isinstance(value, (dict, str))
    return value


def _nested_failures(report: VerificationReport) -> list[VerifyError]:
    """Failures of the credentials and runs a presentation carries, named by position."""
    errors: list[VerifyError] = []
    for label, children in (("verifiableCredential", getattr(report, "credentials", [])), ("run", getattr(report, "runs", []))):
        for index, child in enumerate(children):
            errors.extend(
                VerifyError(check=f"{label}[{index}].{c.name}", code=c.code, message=c.message) for c in child.failures
            )
    return errors


def _verify_response(report: VerificationReport) -> JSONResponse:
    failures = [VerifyError(check=c.name, code=c.code, message=c.message) for c in report.failures]
    failures += _nested_failures(report)
    body = VerifyResponse(
        verified=report.valid,
        checks=[c.name for c in report.checks if c.passed],
        warnings=list(report.warnings),
        errors=failures
        or ([] if report.valid else [VerifyError(check="proof", code=ErrorCode.PROOF_MISSING.value, message="no proof was checked")]),
        report=report.model_dump(mode="json"),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if report.valid else 422)


class _Bearer(HTTPBearer):
    """Who a request's bearer token belongs to: 401 otherwise, before the body is used; with
    ``admin``, 403 for a valid token that is not an admin's. One dependency (rather than a chain
    of three) that is also the OpenAPI bearer security scheme."""

    def __init__(self, *, admin: bool) -> None:
        super().__init__(
            auto_error=False, scheme_name="HTTPBearer", description="a client token from `vc-runid tokens create`"
        )
        self.admin = admin

    async def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        credentials = await super().__call__(request)
        if credentials is None:
            raise _unauthorized("a bearer token is required")
        service: Service = request.app.state.service
        caller, cached = service.tokens.authenticate(credentials.credentials)
        if caller is None:
            raise _unauthorized("the bearer token is unknown or revoked")
        if cached:
            request.state.cached_caller = caller  # see _revoked_meanwhile
        if self.admin and not caller.admin:
            raise _AdminRequired(f"client {caller.name!r} is not an admin: revoking needs an admin token",
                                 code=ErrorCode.UNAUTHORIZED)
        return caller


#: A client's valid token (``vc-runid tokens create NAME``).
Client = Annotated[Caller, Depends(_Bearer(admin=False))]
#: An admin's token (``vc-runid tokens create NAME --admin``); 403 for any other valid one.
Admin = Annotated[Caller, Depends(_Bearer(admin=True))]


def create_app(
    home: Path,
    database: str | None = None,
    domain: str | None = None,
    public_url: str | None = None,
    contexts: Mapping[str, Any] | None = None,
) -> FastAPI:
    """The issuer service for the key in ``home`` and the database ``database`` (default: SQLite
    in ``home``). With ``domain`` the issuer is ``did:web:<domain>`` and serves its DID document.
    ``public_url`` is where verifiers reach the service (default ``https://<domain>``, else
    ``http://127.0.0.1:8080``); the status list URL in every credential is ``<public_url>/status/1``,
    fixed in the database the first time the service starts. ``contexts`` (URL → document) are
    JSON-LD contexts accepted besides the pinned ones (``serve --context URL=FILE``)."""
    base = public_base_url(public_url=public_url, domain=domain, host="127.0.0.1", port=8080)
    service = Service(home, database, domain, base, contexts)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Verification runs in the thread pool (the run endpoints sign on the event loop).
        anyio.to_thread.current_default_thread_limiter().total_tokens = 128
        yield
        service.close()

    app = FastAPI(
        title="vc-runid issuer service",
        version="0.1.0",
        description=(
            "Declares AI runs before they execute and binds their outputs after, as W3C Verifiable "
            "Credentials signed by an issuer independent of the executor; every credential issued "
            f"is appended to a verifiable Merkle log. Request bodies are limited to {MAX_BODY_BYTES} bytes."
        ),
        lifespan=lifespan,
    )
    app.state.service = service
    app.router.route_class = _StrictJsonRoute
    verifications: list[anyio.CapacityLimiter] = []  # made on first use, inside the event loop

    async def off_the_loop(check: Callable[[], T]) -> T:
        """Run a verification in a worker thread: CPU-heavy work never runs on the event loop, so
        public verify requests cannot stall declarations or ``GET /log/checkpoint``."""
        if not verifications:
            verifications.append(anyio.CapacityLimiter(MAX_CONCURRENT_VERIFICATIONS))
        return await anyio.to_thread.run_sync(check, limiter=verifications[0])
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)

    def _revoked_meanwhile(request: Request) -> bool:
        """A request authenticated from the token cache is refused: was its token revoked in the
        meantime? Then the answer is 401, as if the token had been looked up afresh."""
        caller = getattr(request.state, "cached_caller", None)
        return caller is not None and service.tokens.revoked(caller)

    def _revoked_response() -> JSONResponse:
        return problem(401, ErrorCode.UNAUTHORIZED, "Unauthorized", "the bearer token is unknown or revoked",
                       {"WWW-Authenticate": "Bearer"})

    @app.exception_handler(RunIdError)
    async def _runid_error(request: Request, exc: RunIdError) -> JSONResponse:
        if not isinstance(exc, _AuthError) and _revoked_meanwhile(request):
            return _revoked_response()
        if isinstance(exc, (_AuthError, TokenRevokedError)):
            return problem(401, exc.code, "Unauthorized", exc.message, {"WWW-Authenticate": "Bearer"})
        if isinstance(exc, _AdminRequired):
            return problem(403, exc.code, "Forbidden", exc.message)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if _revoked_meanwhile(request):
            return _revoked_response()
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem(400, ErrorCode.INPUT_NOT_JSON, "Malformed JSON", "the request body is not valid JSON")
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        detail = f"{where}: {first.get('msg', 'invalid')}"
        path = request.url.path
        if path.startswith("/runs") or path == "/credentials/status":
            code = ErrorCode.REQUEST_INVALID
        elif path.startswith("/credentials"):
            code = ErrorCode.NOT_A_CREDENTIAL
        elif path.startswith("/presentations"):
            code = ErrorCode.NOT_A_PRESENTATION
        else:
            code = ErrorCode.USAGE
        if path.endswith("/verify"):
            body = VerifyResponse(verified=False, checks=[], warnings=[],
                                  errors=[VerifyError(check="request", code=code.value, message=detail)], report={})
            return JSONResponse(body.model_dump(mode="json"), status_code=422)
        return problem(422, code, "Invalid request", detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, RunIdError):  # the strict JSON parser refused the body
            return error_response(exc.__cause__)
        code = ErrorCode.RUN_NOT_FOUND if exc.status_code == 404 else ErrorCode.USAGE
        return problem(exc.status_code, code, str(exc.detail), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # A bug, never a reaction to input (every input error has its own code): still a
        # problem+json answer, never a text/plain 500. Starlette logs the traceback after this.
        return problem(500, ErrorCode.INTERNAL, "Internal error", f"unexpected {type(exc).__name__}")

    problems: dict[int | str, dict[str, Any]] = {
        s: {"model": Problem, "content": {PROBLEM_JSON: {}}} for s in (400, 401, 413, 422)
    }

    # -- VC API --

    @app.post("/credentials/issue", status_code=201, response_model=IssueResponse, responses=problems, tags=["VC API"])
    async def issue(body: IssueRequest, client: Client) -> dict[str, Any]:
        """Issue a credential (VC API), signed by the service's generic issuer — a key and DID of
        its own (``GET /credentials/did.json`` under a did:web), never the run issuer's. Refused
        with ``RUNID_ISSUANCE_REFUSED``: run declarations, bindings and status lists (by expanded
        type), identifiers in the service's own URL space or of runs it issued, another issuer.
        The service sets ``validFrom`` (VC 1.1: ``issuanceDate``) to its own clock when absent or
        in the past. The credential is logged (kind ``credential``) before it is returned."""
        now = utc_now()
        options = body.options or IssueOptions()
        fmt = ProofFormat(options.format)
        signer = service.generic.for_format(fmt)
        status_index: int | None = None
        status: dict[str, Any] | None = None
        if options.credentialStatus is not None:
            if signer.did != service.generic_status.issuer.did:
                raise HttpServiceError(f"status entries are offered for Ed25519 formats; {fmt.value} signs as {signer.did}, "
                                 "which publishes no status list", code=ErrorCode.REQUEST_INVALID)
            _, status, status_index = await service.generic_status.assign_async(fmt)
            if status is None:
                raise HttpServiceError(f"{fmt.value} is a VC 1.1 format: its context defines no BitstringStatusListEntry",
                                 code=ErrorCode.REQUEST_INVALID)

        def sign() -> SecuredWire:
            with _JSONLD:
                credential = service.guard.admit(body.credential, service.generic, now)
                if status is not None:
                    # After the guard, which refuses client ids in the service's URL space: the
                    # entry is the service's own.
                    if "credentialStatus" in credential:
                        raise HttpServiceError("the credential has a credentialStatus already; do not also ask for one",
                                         code=ErrorCode.REQUEST_INVALID)
                    if not isinstance(credential.get("id"), str):
                        raise HttpServiceError("a credential with a status entry needs an id (the VC API updates status by it)",
                                         code=ErrorCode.REQUEST_INVALID)
                    credential = {**credential, "credentialStatus": status}
                return issue_credential(credential, signer, proof_format=fmt, created=now, loader=service.loader)

        # Any credential up to the body limit: signed in a worker thread, so that a large one
        # does not hold up the event loop (run declarations, the hot path, are signed on it).
        secured = await anyio.to_thread.run_sync(sign)
        vc = envelop(secured) if isinstance(secured, str) else secured
        credential_id = vc.get("id") if isinstance(vc.get("id"), str) else None
        _, receipt = await service.log.append_async(
            new_entry("credential", vc, credential_id=credential_id, run_id=None, client=client.name, logged_at=now,
                      token=client.token, status_index=status_index)
        )
        return {"verifiableCredential": vc, "receipt": receipt}

    @app.post("/credentials/verify", response_model=VerifyResponse, tags=["VC API"],
              responses={422: {"model": VerifyResponse, "description": "the credential does not verify"}})
    async def verify(body: VerifyRequest) -> JSONResponse:
        """Verify a credential (VC API); public. 200 when valid, 422 with the report when not. A
        string in ``verifiableCredential`` is a compact JWS (VC-JOSE, VC 1.1 JWT) and nothing
        else: JSON text in a string is not a credential here (400)."""
        if isinstance(body.verifiableCredential, str) and not _COMPACT_JWS.fullmatch(body.verifiableCredential):
            refusal = VerifyResponse(verified=False, checks=[], warnings=[], report={}, errors=[VerifyError(
                check="parse", code=ErrorCode.NOT_A_CREDENTIAL.value,
                message="verifiableCredential is a string but not a compact JWS; a credential with an embedded "
                "proof is sent as a JSON object",
            )])
            return JSONResponse(refusal.model_dump(mode="json"), status_code=400)

        def check() -> VerificationReport:
            # Not under _JSONLD: pyld's shared state is only touched inside canonical's expansion
            # lock, held for the JSON-LD steps alone, so a long verification leaves signing free.
            return service.verifier(body.verifiableCredential).verify_credential(body.verifiableCredential)

        return _verify_response(await off_the_loop(check))

    @app.post("/presentations/verify", response_model=VerifyResponse, tags=["VC API"],
              responses={422: {"model": VerifyResponse, "description": "the presentation does not verify"}})
    async def verify_presentation_endpoint(body: PresentationVerifyRequest) -> JSONResponse:
        """Verify a presentation: the holder's proof (authentication purpose, bound to the
        requested challenge and domain — a request without them makes the presentation invalid)
        and every credential and run it carries."""
        options = body.options or VerifyOptions()

        def check() -> VerificationReport:
            return verify_presentation(  # not under _JSONLD: see verify()
                body.verifiablePresentation,
                challenge=options.challenge,
                domain=options.domain,
                verifier=service.verifier(),
            )

        return _verify_response(await off_the_loop(check))

    # -- runs --

    @app.post("/runs", status_code=201, response_model=RunResponse, responses=problems, tags=["Runs"])
    async def declare_run(body: DeclareRequest, client: Client) -> Response:
        """Declare a run before it starts. The service stamps ``validFrom`` with its own clock,
        signs the declaration, appends it to the log and returns it with its receipt."""
        fmt = ProofFormat(body.format)
        assigned_id, status, status_index = await service.status.assign_async(fmt)
        now = utc_now()
        declaration = await _signed(lambda: declare(
            body.composition, service.issuer, declared_at=now, proof_format=fmt,
            credential_id=assigned_id, credential_status=status,
        ))
        run_id, credential_id = _ids(declaration)
        leaf = log_leaf_data(declaration)
        _, receipt = await service.log.append_async(new_entry(
            "declaration", declaration, credential_id=credential_id, run_id=run_id, client=client.name,
            logged_at=now, leaf=leaf, token=client.token, declaration=leaf.decode(), declared_at=format_datetime(now),
            status_index=status_index,
        ))
        return _created(run_id, "declaration", leaf, receipt)

    @app.post("/runs/{run_id}/output", status_code=201, response_model=BindResponse,
              responses={**problems, 403: problems[401], 404: problems[401], 409: problems[401]}, tags=["Runs"])
    async def bind_output(run_id: str, body: BindRequest, client: Client) -> Response:
        """Bind a run's output. Refused when the run is unknown (404), another client's (403),
        already bound (409) or the times contradict the declaration or the service clock (422)."""
        row = _run(run_id)
        if row.client != client.name:  # the service's access control: whose token declared it
            raise ForbiddenError(f"run {run_id} was declared by another client")
        check_unbound(run_id, row.binding)
        started = _time(body.startedAt, "startedAt")
        completed = _time(body.completedAt, "completedAt")
        now = utc_now()
        # The library's rules (bind() applies them again), checked before a status list bit is
        # spent. The order is checked on the request's own text, to the last fractional digit.
        check_time_order(
            declared_at=parse_datetime(row.declared_at, "declaredAt"), started_at=body.startedAt, completed_at=body.completedAt
        )
        check_completed_by(completed, now, clock="the service clock")
        declaration = _load(row.declaration)
        fmt = SecuredCredential.parse(declaration).proof_format  # the binding is issued like its declaration
        assigned_id, status, status_index = await service.status.assign_async(fmt)
        binding = await _signed(lambda: bind(
            declaration, service.issuer, declaration_id=row.declaration_id, run_id=run_id,
            output=body.output, raw_output=body.rawOutput, started_at=started, completed_at=completed, bound_at=now,
            usage=body.usage, observed=body.observed, proof_format=fmt,
            credential_id=assigned_id, credential_status=status,
        ))
        _, binding_id = _ids(binding)
        leaf = log_leaf_data(binding)
        _, receipt = await service.log.append_async(new_entry(
            "binding", binding, credential_id=binding_id, run_id=run_id, client=client.name, logged_at=now,
            leaf=leaf, token=client.token, binding=leaf.decode(), status_index=status_index,
        ))
        return _created(run_id, "binding", leaf, receipt)

    @app.get("/runs/{run_id}", response_model=RunRecord, responses={404: problems[401]}, tags=["Runs"])
    def get_run(run_id: str) -> dict[str, Any]:
        """A run's declaration and, once bound, its binding, with their log indices."""
        row = _run(run_id)
        return {
            "runId": row.run_id,
            "status": "bound" if row.binding is not None else "declared",
            "declaration": _load(row.declaration),
            "declarationIndex": row.declaration_index,
            "declaredAt": row.declared_at,
            "binding": _load(row.binding) if row.binding is not None else None,
            "bindingIndex": row.binding_index,
            "boundAt": row.bound_at,
        }

    def _run(run_id: str) -> RunRow:
        row = service.storage.get_run(run_id)
        if row is None:
            raise RunError(f"no run {run_id} was declared here", code=ErrorCode.RUN_NOT_FOUND)
        return row

    # -- revocation (W3C Bitstring Status List) --

    @app.get(LIST_PATH, tags=["Status"],
             responses={200: {"content": {media_type: {} for media_type in STATUS_LIST_MEDIA_TYPES}}})
    def status_list(request: Request) -> JSONResponse:
        """The signed ``BitstringStatusListCredential`` every VC 2.0 declaration and binding points
        to (``credentialStatus.statusListCredential``). ``validFrom`` is when it was signed,
        ``validUntil`` a day later; it is re-signed at once after a revocation, else at most every
        60 seconds. Public. The same bytes are served as ``application/vc`` (the default),
        ``application/ld+json`` or ``application/json``, as the ``Accept`` header prefers."""
        return JSONResponse(service.status.status_list(), media_type=status_list_media_type(request.headers.get("accept")),
                            headers={"Cache-Control": "max-age=60", "Vary": "Accept"})

    @app.get(GENERIC_LIST_PATH, tags=["Status"],
             responses={200: {"content": {media_type: {} for media_type in STATUS_LIST_MEDIA_TYPES}}})
    def generic_status_list(request: Request) -> JSONResponse:
        """The generic issuer's ``BitstringStatusListCredential``: the list credentials issued
        with ``options.credentialStatus`` point to. Served as ``GET /status/1`` is."""
        return JSONResponse(service.generic_status.status_list(),
                            media_type=status_list_media_type(request.headers.get("accept")),
                            headers={"Cache-Control": "max-age=60", "Vary": "Accept"})

    @app.post("/credentials/status", response_model=UpdateStatusResponse, tags=["VC API"],
              responses={**problems, 403: problems[401], 404: problems[401]})
    async def update_status(body: UpdateStatusRequest, admin: Admin) -> dict[str, Any]:
        """Revoke a credential (VC API "update status"): ``{"credentialId": ID, "credentialStatus":
        [{"type": "BitstringStatusListEntry", "status": "revoked"}]}``, or ``{"credentialId": ID,
        "reason": "…"}``. Needs an admin token. Revocation is final and idempotent: a repeat
        answers 200 with ``changed: false`` and writes nothing. Every revocation is appended to the
        run log (kind ``revocation``) in the transaction that sets the bit. 404 for an id with no
        status entry here (unknown, or issued in a VC 1.1 format)."""
        if body.credentialStatus is None and body.reason is None:
            raise HttpServiceError("give credentialStatus [{type, status: 'revoked'}] or a reason", code=ErrorCode.REQUEST_INVALID)
        reason = body.reason if body.reason is not None else "revoked through the VC API"
        row = _status_row(body.credentialId)
        # Runs' credentials are on the run issuer's list; requested credentials on the generic one's.
        status_list = service.status if row.run_id is not None else service.generic_status
        changed = False
        if not row.revoked:
            now = utc_now()
            record = status_list.revocation_record(row, reason, now)
            try:
                await service.log.append_async(new_entry(
                    "revocation", record, credential_id=row.credential_id, run_id=row.run_id, client=admin.name,
                    logged_at=now, token=admin.token, status_index=row.index, reason=reason,
                ))
                changed = True
            except AlreadyRevokedError:
                pass  # a concurrent request revoked it first: that revocation stands
            row = _status_row(body.credentialId)
        assert row.revoked_at is not None and row.reason is not None and row.revocation_index is not None
        return {
            "credentialId": row.credential_id,
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
            "statusListCredential": status_list.list_url,
            "statusListIndex": str(row.index),
            "revokedAt": row.revoked_at,
            "reason": row.reason,
            "changed": changed,
            "receipt": service.log.receipt(row.revocation_index),
        }

    def _status_row(credential_id: str) -> StatusRow:
        row = service.storage.status_entry(credential_id)
        if row is None:
            raise CredentialNotFoundError(
                f"no credential {credential_id} with a status list entry was issued here "
                "(credentials in a VC 1.1 format carry none)"
            )
        return row

    # -- the log --

    @app.get("/log/checkpoint", response_class=PlainTextResponse, tags=["Log"])
    def checkpoint() -> str:
        """The current signed checkpoint (c2sp.org/tlog-checkpoint; origin and key name are the
        issuer DID). With witnesses, the latest cosigned one when the log has not grown since."""
        cosigned = service.log.cosigner.latest() if service.log.cosigner is not None else None
        if cosigned is not None and cosigned[0] == service.log.size():
            return cosigned[1]
        return service.log.checkpoint()

    @app.get("/log/key", response_class=PlainTextResponse, tags=["Log"])
    def log_key() -> str:
        """The checkpoint verifier key (signed-note vkey form) for auditors to pin."""
        return service.log.vkey()

    @app.get("/log/proof/inclusion", response_model=InclusionResponse, tags=["Log"])
    def inclusion(index: Annotated[int, Query(ge=0)], size: Annotated[int | None, Query(ge=1)] = None) -> dict[str, Any]:
        current = service.log.size()
        _check_range(index < (size or current) and (size or current) <= current,
                      f"index {index} / size {size} outside the log (size {current})")
        tree_size, proof = service.log.inclusion_proof(index, size)
        note = service.log.checkpoint() if tree_size == current else None
        if note is not None and note.split("\n", 2)[1] != str(tree_size):
            note = None  # the log grew in between; the caller asks for the checkpoint it needs
        cosigned = service.log.cosigner.latest() if service.log.cosigner is not None else None
        if cosigned is not None and cosigned[0] == tree_size:
            note = cosigned[1]  # the same checkpoint, with the witnesses' cosignatures
        return {"leafIndex": index, "treeSize": tree_size, "inclusionProof": [b64(h) for h in proof], "checkpoint": note}

    @app.get("/log/proof/consistency", response_model=ConsistencyResponse, tags=["Log"])
    def consistency(
        from_: Annotated[int, Query(alias="from", ge=0)], to: Annotated[int | None, Query(ge=0)] = None
    ) -> dict[str, Any]:
        current = service.log.size()
        new = current if to is None else to
        _check_range(from_ <= new <= current, f"from {from_} / to {to} outside the log (size {current})")
        size, proof = service.log.consistency_proof(from_, new)
        return {"from": from_, "to": size, "consistencyProof": [b64(h) for h in proof]}

    @app.get("/log/entries", response_model=LogEntries, tags=["Log"])
    def entries(start: Annotated[int, Query(ge=0)] = 0, end: Annotated[int | None, Query(ge=0)] = None) -> dict[str, Any]:
        """Entries ``start`` ≤ index < ``end`` (at most 1000 per page)."""
        current = service.log.size()
        stop = min(current, end if end is not None else current, start + MAX_ENTRIES_PER_PAGE)
        _check_range(start <= max(stop, start), "bad range")
        rows = service.log.entries(start, stop) if start < stop else []
        return {
            "start": start, "end": max(stop, start), "treeSize": current,
            "entries": [
                {"index": r.index, "kind": r.kind, "credentialId": r.credential_id, "runId": r.run_id,
                 "loggedAt": r.logged_at, "leafHash": b64(r.leaf_hash), "entry": json.loads(r.entry)}
                for r in rows
            ],
        }

    @app.get("/.well-known/did.json", tags=["DID"])
    def did_document() -> JSONResponse:
        """The issuer's did:web document, when the service has a domain."""
        if not service.issuer.did.startswith("did:web:"):
            return problem(404, ErrorCode.DID_UNRESOLVED, "Not found",
                           f"the issuer is {service.issuer.did}; no did:web document is served")
        return JSONResponse(service.issuer.did_document(), media_type="application/did+json")

    @app.get("/credentials/did.json", tags=["DID"])
    def generic_did_document() -> JSONResponse:
        """The generic issuer's did:web document (``<issuer did:web>:credentials``), when the
        service has a domain: the keys ``POST /credentials/issue`` signs with."""
        document = service.generic.did_document()
        if document is None:
            return problem(404, ErrorCode.DID_UNRESOLVED, "Not found",
                           f"the generic issuer is {service.generic.did}; no did:web document is served")
        return JSONResponse(document, media_type="application/did+json")

    return app


#: What ``GET /status/1`` is served as: a secured credential (VC 2.0 §6.3), which JSON-LD and
#: plain JSON clients read as what it also is.
STATUS_LIST_MEDIA_TYPES = ("application/vc", "application/ld+json", "application/json")


def status_list_media_type(accept: str | None) -> str:
    """The media type of :data:`STATUS_LIST_MEDIA_TYPES` the ``Accept`` header ranks highest
    (RFC 9110 §12.5.1: by q-value, then by order); ``application/vc`` when none is named."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate((accept or "").split(",")):
        media_type, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media_type = media_type.lower()
        if media_type in STATUS_LIST_MEDIA_TYPES and quality > 0:
            candidate = (-quality, position, media_type)
            best = candidate if best is None or candidate < best else best
    return best[2] if best is not None else STATUS_LIST_MEDIA_TYPES[0]


def _created(run_id: str, name: str, credential: bytes, receipt: Receipt) -> Response:
    """201 ``{"runId", name: credential, "receipt"}``. The credential is given as its RFC 8785
    bytes, the very bytes logged as its leaf: it is serialised once, not again for the answer."""
    body = b"".join((
        b'{"runId":', json.dumps(run_id).encode(), b',"', name.encode(), b'":', credential,
        b',"receipt":', receipt.model_dump_json().encode(), b"}",
    ))
    return Response(body, status_code=201, media_type="application/json")


def _ids(secured: SecuredWire) -> tuple[str, str]:
    """(run id, credential id) of a run credential this service has just issued."""
    document = SecuredCredential.parse(secured).unverified_document
    return str(document["credentialSubject"]["id"]), str(document["id"])


def _time(value: str, field: str) -> datetime:
    try:
        return parse_datetime(value, field)
    except RunIdError as exc:
        raise RunError(exc.message, code=ErrorCode.TIME_ORDER) from exc


def _check_range(ok: bool, detail: str) -> None:
    if not ok:
        raise HttpServiceError(detail, code=ErrorCode.LOG_RANGE)


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` / multi-worker serving: settings from the environment
    (``RUNID_SERVER_HOME``, ``RUNID_SERVER_DATABASE``, ``RUNID_SERVER_DOMAIN``,
    ``RUNID_SERVER_PUBLIC_URL``, ``RUNID_SERVER_CONTEXTS``: a JSON list of ``URL=FILE``)."""
    import os

    from .._internal.contexts import parse_context_option

    options = json.loads(os.environ.get("RUNID_SERVER_CONTEXTS") or "[]")
    app = create_app(
        Path(os.environ["RUNID_SERVER_HOME"]),
        os.environ.get("RUNID_SERVER_DATABASE") or None,
        os.environ.get("RUNID_SERVER_DOMAIN") or None,
        os.environ.get("RUNID_SERVER_PUBLIC_URL") or None,
        dict(parse_context_option(option) for option in options),
    )
    from ..gateway.mount import mount_from_env  # serve --gateway-upstream (docs/gateway.md)

    mount_from_env(app, Path(os.environ["RUNID_SERVER_HOME"]))
    return app


__all__ = ["MAX_BODY_BYTES", "app_from_env", "create_app", "problem"]
