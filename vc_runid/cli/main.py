"""The ``vc-runid`` command: a thin shell over the public API.

Exit codes: 0 success / valid, 1 failure / invalid (the report or the error line says why),
2 usage error. Errors print one line, ``CODE: message``, to stderr — never a traceback.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import DataModelError, ErrorCode, RunError, RunIdError, UsageError
from ..vc.formats import ProofFormat, RunProfile
from .common import (
    NO_POLICY_HINT,
    AnyIssuerOption,
    HomeOption,
    TrustedIssuerOption,
    TrustOption,
    check_writable,
    fail,
    home_dir,
    moment,
    note_new_home,
    trust_policy,
)

# Every command imports its workflow in its body: the command line is built from this module
# alone, and `vc-runid verify` does not load what `serve` or `run` need (tests/test_cold_start.py).
if TYPE_CHECKING:
    from datetime import datetime

    from .._internal.contexts import DocumentLoader
    from ..client.issuer import IssuerClient
    from ..runs.binding import Observed, OutputDigest
    from ..runs.composition import Disclosures, RunComposition
    from ..runs.signer import Declared
    from ..vc.dids import DidResolver
    from ..vc.documents import SecuredWire
    from ..vc.verification import VerificationReport, Verifier

app = typer.Typer(
    help="vc-runid: a verifiable identity for every AI run (W3C Verifiable Credentials).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
did_app = typer.Typer(help="Show the issuer's DID, or produce a did:web document to host.", no_args_is_help=True)
app.add_typer(did_app, name="did")

IssuerOption = Annotated[
    str | None,
    typer.Option("--issuer", help="URL of an independent vc-runid issuer service (else the local key signs)."),
]
TokenOption = Annotated[
    str | None, typer.Option("--token", envvar="RUNID_TOKEN", help="Bearer token for --issuer.")
]
ContextOption = Annotated[
    list[str] | None,
    typer.Option("--context", help="Trust an extra JSON-LD context: URL=FILE (repeatable)."),
]


def _loader(options: list[str] | None) -> "DocumentLoader":
    from .._internal.contexts import DocumentLoader, default_loader, parse_context_option

    if not options:
        return default_loader()
    return DocumentLoader(dict(parse_context_option(o) for o in options))


def _resolver(did_store: Path | None) -> "DidResolver":
    from ..vc.dids import DidResolver, load_did_store

    documents: dict[str, Any] = {}
    if did_store is not None:
        documents.update(load_did_store(did_store))
    return DidResolver(documents)


def _read_bytes(path: Path) -> bytes:
    from .._internal.files import read_limited
    from ..vc.documents import MAX_DOCUMENT_BYTES

    return read_limited(path, MAX_DOCUMENT_BYTES)


def _write(out: Path | None, text: str, what: str = "the result") -> None:
    """Write ``text`` to ``out`` (checked beforehand with ``check_writable``), else to stdout.

    A write that still fails prints ``text`` on stdout, so nothing made is lost, and exits 1."""
    if out is None:
        typer.echo(text)
        return
    try:
        out.write_text(text + "\n")
    except OSError as exc:
        typer.echo(text)
        fail(UsageError(
            f"{what} was made but could not be written to {out}: {exc.strerror or exc}; it is printed on stdout instead",
            code=ErrorCode.OUTPUT_WRITE_FAILED,
        ))
    typer.echo(f"wrote {out}", err=True)


def _emit_run_credential(out: Path | None, secured: "SecuredWire", what: str, run_id: str) -> None:
    """An issued declaration or binding on stdout (a JWS as is, JSON indented), or into ``out``."""
    if out is None:
        typer.echo(secured if isinstance(secured, str) else json.dumps(secured, indent=2))
        return
    _write_run_credential(out, secured, what, run_id)
    typer.echo(f"wrote {out}", err=True)


def _write_run_credential(out: Path, secured: "SecuredWire", what: str, run_id: str) -> None:
    """Write a declaration or binding that is already issued and stored: a failure says what was
    issued and how to get it back, and exits 1 (not 2: the run exists now)."""
    from ..store.files import write_secured

    try:
        write_secured(out, secured)
    except RunIdError as exc:
        fail(UsageError(
            f"run {run_id}: the {what} was issued and is kept in the run store, but {exc.message}; "
            f"get it back with `vc-runid runs show {run_id}`",
            code=ErrorCode.OUTPUT_WRITE_FAILED,
        ))


def _output_file_digest(path: Path, media_type: str | None = None) -> "OutputDigest":
    """A run output's digest, streamed from the file (a bar on a terminal): never held in memory."""
    from ..runs.binding import output_digest_of_file

    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # the digest itself names the problem
    progress, advance = _progress_bar(size)
    with progress:
        return output_digest_of_file(path, media_type, on_bytes=advance)


def render_report(report: "VerificationReport", title: str) -> str:
    verdict = "VALID" if report.valid else "INVALID"
    lines = [f"{title}: {verdict}"]
    if report.policy:
        lines.append(f"  trust policy: {report.policy}")
    if report.format:
        lines.append(f"  format: {report.format}" + (f"   issuer: {report.issuer}" if report.issuer else ""))
    for check in report.checks:
        mark = "ok  " if check.passed else "FAIL"
        code = f" [{check.code}]" if check.code else ""
        lines.append(f"  {mark} {check.name}{code}: {check.message}")
    for warning in report.warnings:
        lines.append(f"  warn {warning}")
    if not report.checks:
        lines.append("  FAIL no check was performed")
    if ErrorCode.TRUST_POLICY_MISSING.value in report.error_codes:
        lines.append(f"  hint {NO_POLICY_HINT}")
    return "\n".join(lines)


@app.command()
def init(
    home: HomeOption = None,
    key_type: Annotated[str, typer.Option("--key-type", help="ed25519 or p256")] = "ed25519",
    domain: Annotated[str | None, typer.Option("--domain", help="Sign as did:web:DOMAIN instead of did:key.")] = None,
) -> None:
    """Create the issuer key and DID (idempotent: an existing key is never overwritten)."""
    from ..store.home import init_home
    from ..vc.keys import KeyType

    try:
        kt = {"ed25519": KeyType.ED25519, "p256": KeyType.P256}.get(key_type.lower())
        if kt is None:
            raise UsageError(f"--key-type must be ed25519 or p256, not {key_type!r}")
        issuer, created = init_home(home_dir(home), kt, domain)
    except RunIdError as exc:
        fail(exc)
    state = "created" if created else "exists"
    typer.echo(f"issuer key {state} in {home_dir(home)}\nDID: {issuer.did}\nverification method: {issuer.verification_method}")


@did_app.command("show")
def did_show(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the DID document.")] = False,
) -> None:
    """Print the issuer's DID (or its DID document with --json)."""
    from ..store.home import load_issuer

    try:
        issuer = load_issuer(home_dir(home))
    except RunIdError as exc:
        fail(exc)
    typer.echo(json.dumps(issuer.did_document(), indent=2) if as_json else issuer.did)


@did_app.command("web")
def did_web(
    domain: Annotated[str, typer.Option("--domain", help="host[:path:segments], e.g. example.com or example.com:issuers:a")],
    home: HomeOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write did.json here.")] = None,
) -> None:
    """Produce the did:web document for the issuer key, for you to host."""
    from ..store.home import load_issuer
    from ..vc.dids import did_web_document, did_web_from_domain, did_web_url

    try:
        if out is not None:
            check_writable(out)
        issuer = load_issuer(home_dir(home))
        did = did_web_from_domain(domain)
        document = did_web_document(did, [issuer.key.public])
    except RunIdError as exc:
        fail(exc)
    _write(out, json.dumps(document, indent=2))
    typer.echo(f"host it at {did_web_url(did)}", err=True)


@app.command()
def issue(
    credential: Annotated[Path, typer.Argument(help="An unsigned credential (JSON).")],
    proof_format: Annotated[
        ProofFormat, typer.Option("--format", help="di (eddsa-rdfc-2022), di-2020, ecdsa, eddsa-jcs, ecdsa-jcs, jose, jwt-1.1")
    ] = ProofFormat.DI,
    key: Annotated[Path | None, typer.Option("--key", help="Sign with this JWK file instead of the home's issuer key.")] = None,
    created: Annotated[str | None, typer.Option("--created", help="Proof creation time (default: now).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the signed credential here (default: stdout).")] = None,
    context: ContextOption = None,
    home: HomeOption = None,
) -> None:
    """Sign an unsigned credential."""
    from ..store.home import load_issuer
    from ..vc.credentials import issue_credential
    from ..vc.documents import parse_json

    try:
        if out is not None:
            check_writable(out)
        document = parse_json(_read_bytes(credential))
        if not isinstance(document, dict):
            raise DataModelError("the credential must be a JSON object", code=ErrorCode.NOT_A_CREDENTIAL)
        issuer = load_issuer(home_dir(home), key)
        secured = issue_credential(
            document, issuer, proof_format=proof_format, created=moment(created, "--created"), loader=_loader(context)
        )
    except RunIdError as exc:
        fail(exc)
    _write(out, secured if isinstance(secured, str) else json.dumps(secured, indent=2), "the signed credential")


def verify_files(
    files: list[Path], verifier: "Verifier", as_json: bool, extra: dict[str, Any] | None = None
) -> int:
    reports = [(str(path), _credential_report(verifier, _read_bytes(path))) for path in files]
    if as_json:
        payload = [{"file": name, **report.model_dump(mode="json")} for name, report in reports]
        typer.echo(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
    else:
        for name, report in reports:
            typer.echo(render_report(report, name))
    return 0 if all(report.valid for _, report in reports) else 1


@app.command()
def verify(
    files: Annotated[list[Path], typer.Argument(help="Credentials (JSON or compact JWS); for a run: DECLARATION [BINDING].")],
    output: Annotated[Path | None, typer.Option("--output", help="The run's output file, checked against the binding.")] = None,
    disclose: Annotated[list[Path] | None, typer.Option("--disclose", help="A disclosure file (content + salt) to check.")] = None,
    did_store: Annotated[Path | None, typer.Option("--did-store", help="Directory of DID documents (did:web).")] = None,
    at: Annotated[str | None, typer.Option("--at", help="Verify as of this time (default: now).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    challenge: Annotated[str | None, typer.Option("--challenge", help="For a presentation: the challenge you issued.")] = None,
    domain: Annotated[str | None, typer.Option("--domain", help="For a presentation: your domain.")] = None,
    context: ContextOption = None,
    status_list: Annotated[
        list[Path] | None,
        typer.Option("--status-list", help="A status list credential to check credentialStatus against (repeatable; never fetched)."),
    ] = None,
    fetch_status: Annotated[
        bool,
        typer.Option("--fetch-status", help="Opt in to fetching status lists from the issuer over the network."),
    ] = False,
    trust: TrustOption = None,
    trusted_issuer: TrustedIssuerOption = None,
    any_issuer: AnyIssuerOption = False,
) -> None:
    """Verify credentials, a run (declaration + binding, in any order) or a presentation, offline,
    under the trust policy you name (--trusted-issuer DID or --trust FILE).

    Exit 0 when valid, 1 when invalid (the report says which check failed), 2 for a usage error."""
    from .._internal.timeutil import utc_now
    from ..store.files import read_secured
    from ..vc.documents import is_presentation
    from ..vc.status.bitstring import load_status_lists
    from ..vc.verification import Verifier

    try:
        policy = trust_policy(trust, trusted_issuer, any_issuer)
        documents = [read_secured(path) for path in files]
        lists: dict[str, Any] = {}
        if fetch_status:
            from ..vc.status.fetch import fetch_status_lists

            # URLs only from credentials whose signatures verify, with this command's DIDs and contexts.
            # ... and, under a policy, only for issuers it trusts.
            checker = Verifier(
                resolver=_resolver(did_store), loader=_loader(context), now=moment(at, "--at") or utc_now(), policy=policy
            )
            lists.update(fetch_status_lists(documents, allow_network=True, verifier=checker))
        if status_list:
            lists.update(load_status_lists(status_list))  # files given explicitly win
        verifier = Verifier(
            resolver=_resolver(did_store),
            loader=_loader(context),
            now=moment(at, "--at") or utc_now(),
            status_lists=lists or None,
            policy=policy,
        )
        if len(documents) == 1 and is_presentation(documents[0]):
            code = _verify_presentation_file(documents[0], verifier, challenge, domain, as_json)
        elif challenge is not None or domain is not None:
            raise UsageError("--challenge and --domain apply to a presentation")
        else:
            # By expanded type, in any order: a run's files are recognised however they are spelled.
            kinds = [_run_kind(document, verifier.loader) for document in documents]
            if any(kinds) or output is not None or disclose:
                code = _verify_run_files(files, documents, kinds, verifier, output, disclose or [], as_json)
            else:
                code = verify_files(files, verifier, as_json)
    except RunIdError as exc:
        fail(exc)
    raise typer.Exit(code)


def _run_kind(document: "SecuredWire", loader: Any) -> str | None:
    from ..store.files import is_binding, is_declaration

    if is_declaration(document, loader):
        return "declaration"
    return "binding" if is_binding(document, loader) else None


def _verify_run_files(
    files: list[Path],
    documents: "list[SecuredWire]",
    kinds: list[str | None],
    verifier: "Verifier",
    output: Path | None,
    disclose: list[Path],
    as_json: bool,
) -> int:
    from ..runs.verify import verify_run
    from ..store.files import read_disclosures

    declarations = [d for d, kind in zip(documents, kinds, strict=True) if kind == "declaration"]
    bindings = [d for d, kind in zip(documents, kinds, strict=True) if kind == "binding"]
    others = [(path, d) for path, d, kind in zip(files, documents, kinds, strict=True) if kind is None]
    if len(declarations) > 1 or len(bindings) > 1:
        raise UsageError("a run is verified as one declaration and at most one binding (in any order)")
    if not declarations and len(others) == 1 and (output is not None or disclose or not bindings):
        # The one file that is not recognisably a run credential is meant as the declaration:
        # verified as one, it fails with the check that says why (a tamper, a wrong type).
        declarations, others = [others[0][1]], []
    disclosures = [item for path in disclose for item in read_disclosures(path)]
    report = verify_run(
        declarations[0] if declarations else None,
        bindings[0] if bindings else None,
        verifier=verifier,
        output=_output_file_digest(output) if output is not None else None,
        disclosures=disclosures,
    )
    # Credentials beside the run are verified on their own and count toward the exit code: a
    # valid stranger's credential never stands in for the run's missing declaration.
    extra = [(str(path), _credential_report(verifier, _read_bytes(path))) for path, _ in others]
    if as_json:
        run_json = report.model_dump(mode="json")
        beside = [{"file": name, **r.model_dump(mode="json")} for name, r in extra]
        typer.echo(json.dumps([run_json, *beside] if beside else run_json, indent=2))
    else:
        typer.echo(render_run_report(report))
        for name, other in extra:
            typer.echo(render_report(other, name))
    return 0 if report.valid and all(r.valid for _, r in extra) else 1


def _credential_report(verifier: "Verifier", data: bytes) -> "VerificationReport":
    """A credential verified on the command line, where VALID needs a trust policy too."""
    from ..vc.verification import CheckResult

    report = verifier.verify_credential(data)
    if verifier.policy is None:
        report.checks.append(
            CheckResult(name="trust.issuer", passed=False, code=ErrorCode.TRUST_POLICY_MISSING.value, message=NO_POLICY_HINT)
        )
    return report


def _verify_presentation_file(
    document: "SecuredWire", verifier: "Verifier", challenge: str | None, domain: str | None, as_json: bool
) -> int:
    from ..runs.presentations import verify_presentation

    report = verify_presentation(document, challenge=challenge, domain=domain, verifier=verifier)
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        lines = [render_report(report, f"presentation (holder {report.holder})")]
        lines += [render_run_report(run) for run in report.runs]
        paired = {c for run in report.runs for c in (run.id,)}
        lines += [render_report(c, f"credential {c.id}") for c in report.credentials if c.id not in paired and c.kind == "credential" and not c.valid]
        if not report.valid and report.presentation_valid:
            lines.append("presentation: INVALID (an enclosed credential or run is invalid)")
        typer.echo("\n".join(lines))
    return 0 if report.valid else 1


def render_run_report(report: "VerificationReport") -> str:
    title = f"run {report.run_id or '(unknown)'}"
    status = f" ({report.status})" if report.status and report.valid else ""
    return render_report(report, title).replace(f"{title}: VALID", f"{title}: VALID{status}", 1)


def _progress_bar(total: int) -> tuple[Any, Any]:
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    console = _stderr_console()
    # Off when stderr is not a terminal: a bar is for people, and it would put a stray line
    # before the one-line ``CODE: message`` that scripts read.
    progress = Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        console=console, transient=True, disable=not console.is_terminal,
    )
    task = progress.add_task("hashing", total=total)
    return progress, lambda n: progress.advance(task, n)


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@app.command()
def digest(
    path: Annotated[Path, typer.Argument(help="A file or a directory (e.g. model weights).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the per-file manifest as JSON.")] = False,
) -> None:
    """Print the weights/manifest digest of a file or directory."""
    from ..runs.digests import hash_weights

    try:
        if not path.exists():
            raise UsageError(f"{path} does not exist", code=ErrorCode.FILE_UNREADABLE)
        progress, advance = _progress_bar(_tree_size(path))
        with progress:
            result = hash_weights(path, on_bytes=advance)
    except RunIdError as exc:
        fail(exc)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        typer.echo(f"{result.root}  {path}  ({result.file_count} files, {result.total_bytes} bytes)")


def _compose(manifest: Path) -> "tuple[RunComposition, Disclosures]":
    from ..runs.manifest import compose_from_manifest, load_manifest  # YAML: only for --manifest

    loaded = load_manifest(manifest)
    weights = loaded.model.weights
    total = _tree_size(manifest.resolve().parent / weights) if weights else 0
    if total:
        progress, advance = _progress_bar(total)
        with progress:
            return compose_from_manifest(manifest, on_bytes=advance)
    return compose_from_manifest(manifest)


def _remote(issuer_url: str | None, token: str | None) -> "IssuerClient | None":
    """The independent issuer service, when one is named: the executor then never holds a key."""
    if issuer_url is None:
        return None
    from ..client.issuer import IssuerClient

    if not token:
        raise UsageError("--issuer needs --token (or RUNID_TOKEN)")
    return IssuerClient(issuer_url, token)


def _declare_into_store(
    manifest: Path, home: Path, proof_format: ProofFormat, remote: "IssuerClient | None" = None
) -> "Declared":
    """Declare (locally, or through the issuer service) and keep the run and its salts locally."""
    from ..runs.signer import LocalSigner, RunSigner
    from ..runs.workflow import record_declared
    from ..store.home import load_issuer
    from ..store.runs import RunStore

    composition, disclosures = _compose(manifest)
    signer: RunSigner = remote if remote is not None else LocalSigner(load_issuer(home))
    declared = signer.declare_run(composition, proof_format=proof_format)
    if remote is not None:
        # Only now, with a run to keep: a refused request leaves no home behind.
        note_new_home(home, "a run store for this executor's salts")
    record_declared(RunStore.in_home(home), declared, disclosures)
    return declared


@app.command("declare")
def declare_cmd(
    manifest: Annotated[Path, typer.Argument(help="Run manifest (YAML or JSON); paths are relative to it.")],
    proof_format: Annotated[ProofFormat, typer.Option("--format", help="di, di-2020, ecdsa, eddsa-jcs, ecdsa-jcs, jose, jwt-1.1")] = ProofFormat.DI,
    profile: Annotated[RunProfile | None, typer.Option("--profile", help="standard (VC 2.0, eddsa-rdfc-2022) or compatible (VC 1.1, Ed25519Signature2020: verifies in the most wallets, docs/formats.md).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the declaration here (default: stdout).")] = None,
    issuer_url: IssuerOption = None,
    token: TokenOption = None,
    home: HomeOption = None,
) -> None:
    """Issue a run declaration before the run starts (and keep it, with its salts, in the run store)."""
    from ..vc.formats import profile_format

    try:
        if out is not None:
            check_writable(out)
        proof_format = profile_format(profile, proof_format)
        current = _declare_into_store(manifest, home_dir(home), proof_format, _remote(issuer_url, token))
    except RunIdError as exc:
        fail(exc)
    typer.echo(f"declared run {current.run_id}", err=True)
    _emit_run_credential(out, current.declaration, "declaration", current.run_id)


def _bind_declaration(
    declaration: "SecuredWire",
    home: Path,
    output: "OutputDigest",
    *,
    media_type: str | None,
    started: "datetime | None",
    completed: "datetime | None",
    observed: "Observed | None",
    proof_format: ProofFormat | None,
    remote: "IssuerClient | None" = None,
) -> "SecuredWire":
    """Bind the declaration (locally: only this home's own, verified first; remotely: the service
    checks) and record the binding in the run store. Bound now, by the signer's clock: a
    --completed in the future is refused (``RUNID_TIME_IN_FUTURE``), as the service does."""
    from ..runs.signer import LocalSigner, RunSigner
    from ..runs.workflow import bind_declaration
    from ..store.home import load_issuer
    from ..store.runs import RunStore

    # The service binds in the declaration's format (a --profile is not sent to it).
    signer: RunSigner = remote if remote is not None else LocalSigner(load_issuer(home), proof_format=proof_format)
    return bind_declaration(
        signer, declaration, RunStore.in_home(home),
        output=output.model_copy(update={"mediaType": media_type}) if media_type else output,
        started_at=started, completed_at=completed, observed=observed,
    ).binding


@app.command("bind")
def bind_cmd(
    declaration: Annotated[Path, typer.Argument(help="The run's declaration credential.")],
    output: Annotated[Path, typer.Option("--output", help="The run's output file.")],
    started: Annotated[str | None, typer.Option("--started", help="When the run started (default: --completed).")] = None,
    completed: Annotated[str | None, typer.Option("--completed", help="When the run completed (default: now).")] = None,
    observed_model: Annotated[str | None, typer.Option("--observed-model", help="The model id the provider reported.")] = None,
    media_type: Annotated[str | None, typer.Option("--media-type", help="The output's media type, e.g. text/plain.")] = None,
    profile: Annotated[RunProfile | None, typer.Option("--profile", help="the binding's format: standard (VC 2.0, eddsa-rdfc-2022) or compatible (VC 1.1, Ed25519Signature2020: verifies in the most wallets, docs/formats.md).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the binding here (default: stdout).")] = None,
    issuer_url: IssuerOption = None,
    token: TokenOption = None,
    home: HomeOption = None,
) -> None:
    """Issue the output binding for a declared run."""
    from ..runs.binding import Observed
    from ..store.files import read_secured
    from ..vc.formats import profile_format

    try:
        if out is not None:
            check_writable(out)
        secured_declaration = read_secured(declaration)
        binding = _bind_declaration(
            secured_declaration, home_dir(home), _output_file_digest(output), media_type=media_type,
            started=moment(started, "--started"), completed=moment(completed, "--completed"),
            observed=Observed(modelId=observed_model) if observed_model else None,
            proof_format=profile_format(profile) if profile is not None else None,
            remote=_remote(issuer_url, token),
        )
    except RunIdError as exc:
        fail(exc)
    _emit_run_credential(out, binding, "binding", _run_id_of(secured_declaration))


def _run_id_of(declaration: "SecuredWire") -> str:
    from ..runs.signer import Declared

    return Declared.of(declaration).run_id


def _prepare_out_dir(out_dir: Path | None, force: bool) -> None:
    """Refuse, before declaring, a --out-dir holding anything (an earlier run's files would be
    overwritten) unless --force, and one that cannot be created."""
    import os

    if out_dir is None:
        if not os.access(Path.cwd(), os.W_OK | os.X_OK):
            raise UsageError(f"cannot create the run's folder in {Path.cwd()}: permission denied; give --out-dir (nothing was declared)")
        return
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out-dir {out_dir} is a file, not a directory (nothing was declared)")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise UsageError(
            f"--out-dir {out_dir} is not empty: its files (maybe an earlier run's) would be overwritten; "
            "give a new or empty directory, or --force (nothing was declared)"
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create --out-dir {out_dir}: {exc.strerror or exc} (nothing was declared)") from exc


@app.command(
    "run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    options_metavar="[OPTIONS] -- COMMAND [ARGS]...",
)
def run_cmd(
    ctx: typer.Context,
    manifest: Annotated[Path, typer.Option("--manifest", help="Run manifest (YAML or JSON).")],
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="Where declaration.json, binding.json and the output go: a new or empty directory (default: ./run-<uuid>).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty --out-dir, replacing files of the same names.")] = False,
    output_file: Annotated[Path | None, typer.Option("--output-file", help="Bind this file instead of the command's stdout.")] = None,
    proof_format: Annotated[ProofFormat, typer.Option("--format", help="The proof format of both credentials (docs/formats.md).")] = ProofFormat.DI,
    profile: Annotated[RunProfile | None, typer.Option("--profile", help="standard (VC 2.0, eddsa-rdfc-2022) or compatible (VC 1.1, Ed25519Signature2020: verifies in the most wallets, docs/formats.md).")] = None,
    issuer_url: IssuerOption = None,
    token: TokenOption = None,
    home: HomeOption = None,
) -> None:
    """Declare, execute COMMAND (given after --), bind its output. The command's exit code is passed on."""
    from .._internal.timeutil import utc_now
    from ..runs.binding import Observed, output_digest
    from ..store.files import run_file_stem
    from ..vc.formats import profile_format

    command = list(ctx.args)
    if not command:
        fail(UsageError("give the command to run after --, e.g. vc-runid run --manifest m.yaml -- python job.py"))
    try:
        remote = _remote(issuer_url, token)
        proof_format = profile_format(profile, proof_format)
        _prepare_out_dir(out_dir, force)
        current = _declare_into_store(manifest, home_dir(home), proof_format, remote)
    except RunIdError as exc:
        fail(exc)
    directory = out_dir or Path(f"run-{run_file_stem(current.run_id)}")
    declaration_path = directory / "declaration.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(UsageError(
            f"run {current.run_id}: the declaration was issued and is kept in the run store, but {directory} "
            f"cannot be created ({exc.strerror or exc}); get it back with `vc-runid runs show {current.run_id}`",
            code=ErrorCode.OUTPUT_WRITE_FAILED,
        ))
    _write_run_credential(declaration_path, current.declaration, "declaration", current.run_id)
    try:
        env = {**os.environ, "RUNID_DECLARATION": str(declaration_path.resolve()), "RUNID_RUN_ID": current.run_id}
        started = utc_now()
        try:
            completed_process = subprocess.run(command, env=env, stdout=None if output_file else subprocess.PIPE)
        except OSError as exc:
            raise UsageError(f"cannot run {command[0]!r}: {exc.strerror or exc}") from exc
        completed = utc_now()
        if output_file is not None:
            output = _output_file_digest(output_file)
            _keep_output(output_file, directory / output_file.name, current.run_id)
        else:
            stdout = completed_process.stdout or b""
            sys.stdout.buffer.write(stdout)
            sys.stdout.flush()
            output = output_digest(stdout)
            try:
                (directory / "output.txt").write_bytes(stdout)
            except OSError as exc:
                raise _output_not_kept(current.run_id, directory / "output.txt", exc) from exc
        binding = _bind_declaration(
            current.declaration, home_dir(home), output, media_type=None, started=started, completed=completed,
            observed=Observed(exitCode=completed_process.returncode), proof_format=proof_format,
            remote=remote,
        )
    except RunIdError as exc:
        fail(exc)
    _write_run_credential(directory / "binding.json", binding, "binding", current.run_id)
    typer.echo(f"run {current.run_id}: declaration, binding and output in {directory}", err=True)
    raise typer.Exit(completed_process.returncode)


def _keep_output(source: Path, target: Path, run_id: str) -> None:
    """Copy the output file the command wrote next to the run's credentials (streamed)."""
    import shutil

    try:
        if target.resolve() != source.resolve():
            shutil.copyfile(source, target)
    except OSError as exc:
        raise _output_not_kept(run_id, target, exc) from exc


def _output_not_kept(run_id: str, path: Path, exc: OSError) -> UsageError:
    return UsageError(
        f"run {run_id}: the run was declared (see `vc-runid runs show {run_id}`) and the command ran, but "
        f"its output could not be kept at {path} ({exc.strerror or exc}); the run is left unbound: "
        f"bind it with `vc-runid bind` once the output is safe",
        code=ErrorCode.OUTPUT_WRITE_FAILED,
    )


runs_app = typer.Typer(help="The local run store.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def runs_list(
    home: HomeOption = None, as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False
) -> None:
    """List declared runs and whether they are bound."""
    from ..store.runs import RunStore

    if not home_dir(home).exists():  # listing never creates a home (a typo would leave one behind)
        typer.echo(f"note: no vc-runid home at {home_dir(home)}: no runs (check --home or $RUNID_HOME)", err=True)
        records = []
    else:
        records = RunStore.in_home(home_dir(home)).list()
    if as_json:
        typer.echo(json.dumps([{"runId": r.run_id, "declaredAt": r.declared_at, "status": r.status, "boundAt": r.bound_at} for r in records], indent=2))
        return
    for r in records:
        typer.echo(f"{r.run_id}  {r.declared_at}  {r.status}")


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="The run id (urn:uuid:…), as `vc-runid runs list` shows it.")],
    home: HomeOption = None,
) -> None:
    """Show a run's declaration and binding (salts are not shown)."""
    from ..store.runs import RunStore

    try:
        if not home_dir(home).exists():
            raise RunError(f"no vc-runid home at {home_dir(home)} (check --home or $RUNID_HOME)", code=ErrorCode.RUN_NOT_FOUND)
        record = RunStore.in_home(home_dir(home)).get(run_id)
    except RunIdError as exc:
        fail(exc)
    typer.echo(json.dumps({"runId": record.run_id, "status": record.status, "declaration": record.declaration, "binding": record.binding}, indent=2))


@app.command()
def present(
    run_ids: Annotated[list[str], typer.Argument(help="Runs (from the run store) to present.")],
    challenge: Annotated[str, typer.Option("--challenge", help="The auditor's challenge.")],
    domain: Annotated[str, typer.Option("--domain", help="The auditor's domain.")],
    holder_key: Annotated[Path | None, typer.Option("--holder-key", help="Sign as this JWK (default: the home's issuer key).")] = None,
    proof_format: Annotated[ProofFormat, typer.Option("--format", help="di (VC 2.0, eddsa-rdfc-2022), ecdsa (VC 2.0, P-256 holder) or di-2020 (VC 1.1)")] = ProofFormat.DI,
    out: Annotated[Path | None, typer.Option("--out", help="Write the presentation here (default: stdout).")] = None,
    home: HomeOption = None,
) -> None:
    """A Verifiable Presentation of runs' declarations and bindings, bound to a challenge and domain."""
    from ..runs.presentations import present_runs
    from ..store.home import load_issuer
    from ..store.runs import RunStore

    try:
        if out is not None:
            check_writable(out)
        holder = load_issuer(home_dir(home), holder_key)
        vp = present_runs(
            RunStore.in_home(home_dir(home)), run_ids, holder, challenge=challenge, domain=domain, proof_format=proof_format
        )
    except RunIdError as exc:
        fail(exc)
    _write(out, json.dumps(vp, indent=2), "the signed presentation")


@app.command()
def disclose(
    run_id: Annotated[str, typer.Argument(help="The run.")],
    component: Annotated[list[str], typer.Argument(help="Component paths, e.g. instructions[0] input tools[0].")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the disclosure file here (default: stdout).")] = None,
    home: HomeOption = None,
) -> None:
    """Write a disclosure file (content + salt) of chosen components, for an auditor."""
    from ..store.runs import RunStore

    try:
        if out is not None:
            check_writable(out)
        record = RunStore.in_home(home_dir(home)).get(run_id)
        missing = [c for c in component if c not in record.disclosures.components]
        if missing:
            known = ", ".join(sorted(record.disclosures.components)) or "none"
            raise UsageError(f"no stored component {', '.join(missing)} for run {run_id} (known: {known})")
        items = [record.disclosures.components[c].model_dump(mode="json") for c in component]
    except RunIdError as exc:
        fail(exc)
    _write(out, json.dumps(items, indent=2))


@app.command()
def demo(
    home: HomeOption = None,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="Where the demo's files go.")] = None,
) -> None:
    """Declare -> run -> bind -> verify a run of the bundled local model, then show a tamper fail."""
    from ..demo.job import run_demo

    try:
        note_new_home(home_dir(home))
        code = run_demo(home_dir(home), out_dir, echo=typer.echo)
    except RunIdError as exc:
        fail(exc)
    raise typer.Exit(code)


def _mount_service_commands() -> None:
    from .serve import log_app, serve, tokens_app

    app.command("serve")(serve)
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(log_app, name="log")


_mount_service_commands()
__import__("vc_runid.cli.witness", fromlist=["register"]).register(app)  # vc-runid witness …
__import__("vc_runid.cli.oms", fromlist=["register"]).register(app)  # vc-runid verify-weights


def _mount_audit_commands() -> None:
    from .audit import register as register_audit
    from .bundle import register as register_bundle
    from .status import register as register_status

    register_status(app)
    register_bundle(app)
    register_audit(app)


_mount_audit_commands()


def _mount_gateway_command() -> None:
    from .gateway import register as register_gateway

    register_gateway(app)


_mount_gateway_command()


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"vc-runid {version('vc-runid')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


def command() -> Any:
    """The ``vc-runid`` command, with help text a person can read (see ``_cli_help``)."""
    from .help import tidy_help

    return tidy_help(typer.main.get_command(app))


def main() -> None:
    """The ``vc-runid`` command: one error line and an exit code, never a traceback."""
    try:
        command()(prog_name="vc-runid")
    except RunIdError as exc:  # last line of defence: one line, never a traceback
        typer.echo(str(exc), err=True)
        sys.exit(2 if exc.code is ErrorCode.USAGE else 1)
    except Exception as exc:  # a bug of ours: still one line, and a non-zero exit, never "valid"
        typer.echo(f"{ErrorCode.INTERNAL.value}: unexpected {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
