"""The ``vc-runid`` command: a thin shell over the public API.

Exit codes: 0 success / valid, 1 failure / invalid (the report or the error line says why),
2 usage error. Errors print one line, ``CODE: message``, to stderr — never a traceback.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from .contexts import DocumentLoader, default_loader, parse_context_option
from .credentials import ProofFormat, init_home, issue_credential, load_issuer
from .dids import DidResolver, did_web_document, did_web_from_domain, did_web_url, load_did_store
from .documents import parse_json
from .errors import ErrorCode, RunIdError, UsageError
from .keys import KeyType, default_home
from .timeutil import parse_datetime, utc_now
from .verification import VerificationReport, Verifier

app = typer.Typer(
    help="vc-runid: a verifiable identity for every AI run (W3C Verifiable Credentials).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
did_app = typer.Typer(help="Show the issuer's DID, or produce a did:web document to host.", no_args_is_help=True)
app.add_typer(did_app, name="did")

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Key store and run store directory (default: $RUNID_HOME, else ./.runid)."),
]
ContextOption = Annotated[
    list[str] | None,
    typer.Option("--context", help="Trust an extra JSON-LD context: URL=FILE (repeatable)."),
]


def fail(error: RunIdError) -> NoReturn:
    typer.echo(str(error), err=True)
    raise typer.Exit(2 if error.code is ErrorCode.USAGE else 1)


def _home(home: Path | None) -> Path:
    return home if home is not None else default_home()


def _loader(options: list[str] | None) -> DocumentLoader:
    if not options:
        return default_loader()
    return DocumentLoader(dict(parse_context_option(o) for o in options))


def _resolver(did_store: Path | None, home: Path | None = None) -> DidResolver:
    documents: dict[str, Any] = {}
    if did_store is not None:
        documents.update(load_did_store(did_store))
    return DidResolver(documents)


def _moment(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime(value, name)
    except RunIdError as exc:
        raise UsageError(f"{name}: {exc.message}") from exc


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}", code=ErrorCode.FILE_UNREADABLE) from exc


def _write(out: Path | None, text: str) -> None:
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n")
        typer.echo(f"wrote {out}", err=True)


def render_report(report: VerificationReport, title: str) -> str:
    verdict = "VALID" if report.valid else "INVALID"
    lines = [f"{title}: {verdict}"]
    if report.format:
        lines.append(f"  format: {report.format}   issuer: {report.issuer}")
    for check in report.checks:
        mark = "ok  " if check.passed else "FAIL"
        code = f" [{check.code}]" if check.code else ""
        lines.append(f"  {mark} {check.name}{code}: {check.message}")
    for warning in report.warnings:
        lines.append(f"  warn {warning}")
    if not report.checks:
        lines.append("  FAIL no check was performed")
    return "\n".join(lines)


@app.command()
def init(
    home: HomeOption = None,
    key_type: Annotated[str, typer.Option("--key-type", help="ed25519 or p256")] = "ed25519",
    domain: Annotated[str | None, typer.Option("--domain", help="Sign as did:web:DOMAIN instead of did:key.")] = None,
) -> None:
    """Create the issuer key and DID (idempotent: an existing key is never overwritten)."""
    try:
        kt = {"ed25519": KeyType.ED25519, "p256": KeyType.P256}.get(key_type.lower())
        if kt is None:
            raise UsageError(f"--key-type must be ed25519 or p256, not {key_type!r}")
        issuer, created = init_home(_home(home), kt, domain)
    except RunIdError as exc:
        fail(exc)
    state = "created" if created else "exists"
    typer.echo(f"issuer key {state} in {_home(home)}\nDID: {issuer.did}\nverification method: {issuer.verification_method}")


@did_app.command("show")
def did_show(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the DID document.")] = False,
) -> None:
    """Print the issuer's DID (or its DID document with --json)."""
    try:
        issuer = load_issuer(_home(home))
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
    try:
        issuer = load_issuer(_home(home))
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
        ProofFormat, typer.Option("--format", help="di (eddsa-rdfc-2022), di-2020, ecdsa, jose, jwt-1.1")
    ] = ProofFormat.DI,
    key: Annotated[Path | None, typer.Option("--key", help="Sign with this JWK file instead of the home's issuer key.")] = None,
    created: Annotated[str | None, typer.Option("--created", help="Proof creation time (default: now).")] = None,
    out: Annotated[Path | None, typer.Option("--out")] = None,
    context: ContextOption = None,
    home: HomeOption = None,
) -> None:
    """Sign an unsigned credential."""
    try:
        document = parse_json(_read_bytes(credential))
        if not isinstance(document, dict):
            raise UsageError("the credential must be a JSON object", code=ErrorCode.NOT_A_CREDENTIAL)
        issuer = load_issuer(_home(home), key)
        secured = issue_credential(
            document, issuer, proof_format=proof_format, created=_moment(created, "--created"), loader=_loader(context)
        )
    except RunIdError as exc:
        fail(exc)
    _write(out, secured if isinstance(secured, str) else json.dumps(secured, indent=2))


def verify_files(
    files: list[Path], verifier: Verifier, as_json: bool, extra: dict[str, Any] | None = None
) -> int:
    reports = [(str(path), verifier.verify_credential(_read_bytes(path))) for path in files]
    if as_json:
        payload = [{"file": name, **report.model_dump(mode="json")} for name, report in reports]
        typer.echo(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
    else:
        for name, report in reports:
            typer.echo(render_report(report, name))
    return 0 if all(report.valid for _, report in reports) else 1


@app.command()
def verify(
    files: Annotated[list[Path], typer.Argument(help="Credentials to verify (JSON or compact JWS).")],
    did_store: Annotated[Path | None, typer.Option("--did-store", help="Directory of DID documents (did:web).")] = None,
    at: Annotated[str | None, typer.Option("--at", help="Verify as of this time (default: now).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    context: ContextOption = None,
) -> None:
    """Verify credentials offline. Exit 0 when all are valid, 1 when any is invalid."""
    try:
        verifier = Verifier(resolver=_resolver(did_store), loader=_loader(context), now=_moment(at, "--at") or utc_now())
        code = verify_files(files, verifier, as_json)
    except RunIdError as exc:
        fail(exc)
    raise typer.Exit(code)


def main() -> None:
    try:
        app()
    except RunIdError as exc:  # last line of defence: one line, never a traceback
        typer.echo(str(exc), err=True)
        sys.exit(2 if exc.code is ErrorCode.USAGE else 1)
