"""``vc-runid bundle`` and ``vc-runid verify-bundle``: a thin shell over ``vc_runid.bundle.archive``.

Mounted on the main command with ``register(app)``. Exit codes as everywhere: 0 all valid, 1
invalid (the report says why) or failed (one ``CODE: message`` line on stderr), 2 usage.
"""

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from ..errors import ErrorCode, RunIdError, UsageError
from .common import (
    AnyIssuerOption,
    TrustedIssuerOption,
    TrustOption,
    check_writable,
    fail,
    trust_policy,
)


def _internal(exc: Exception) -> NoReturn:
    # A bug of ours: still one line, a non-zero exit, and never "valid".
    typer.echo(f"{ErrorCode.INTERNAL.value}: unexpected {type(exc).__name__}: {exc}", err=True)
    raise typer.Exit(1)


def _pair(option: str, value: str) -> tuple[str, str]:
    key, sep, rest = value.partition("=")
    if not sep or not key or not rest:
        raise UsageError(f"{option} expects KEY=VALUE, got {value!r}")
    return key, rest


def _json_file(path: Path, what: str) -> Any:
    from .._internal.files import read_limited
    from ..vc.documents import MAX_DOCUMENT_BYTES, parse_json

    return parse_json(read_limited(path, MAX_DOCUMENT_BYTES))


def _complete_status_lists(
    home: Path, run_ids: list[str], lists: dict[str, Any], fetch: bool
) -> dict[str, Any]:
    """Every status list the runs' credentials name must be in the bundle: a bundle without one
    could never verify offline. Fetch them now (opt-in) or say exactly which are missing."""
    from ..store.files import peek_status_urls
    from ..store.runs import RunStore

    store = RunStore.in_home(home)
    credentials = [
        secured
        for run_id in run_ids
        for secured in (store.get(run_id).declaration, store.get(run_id).binding)
        if secured is not None
    ]
    if fetch:
        from ..vc.status.fetch import fetch_status_lists

        lists = {**fetch_status_lists(credentials, allow_network=True), **lists}  # given files win
    missing = sorted({url for secured in credentials for url in peek_status_urls(secured)} - set(lists))
    if missing:
        raise UsageError(
            f"the runs' credentials name status list(s) {', '.join(missing)}: add --status-list URL=FILE "
            "(e.g. from `vc-runid status-list`) or --fetch-status, or the bundle could not verify offline"
        )
    return lists


def bundle_cmd(
    run_ids: Annotated[list[str], typer.Argument(help="Runs to bundle (run ids or declaration ids).")],
    out: Annotated[Path, typer.Option("--out", help="The audit bundle to write (a .zip).")],
    disclose: Annotated[
        list[str] | None,
        typer.Option("--disclose", help="Disclose a component (content + salt), e.g. instructions[0]; RUN_ID=COMPONENT for one run."),
    ] = None,
    output: Annotated[list[str] | None, typer.Option("--output", help="Include a run's output: RUN_ID=FILE.")] = None,
    did_document: Annotated[
        list[Path] | None, typer.Option("--did-document", help="A did:web issuer's DID document as of issuance (JSON).")
    ] = None,
    context: Annotated[list[str] | None, typer.Option("--context", help="A non-pinned JSON-LD context: URL=FILE.")] = None,
    status_list: Annotated[
        list[str] | None, typer.Option("--status-list", help="A status list credential snapshot: URL=FILE.")
    ] = None,
    fetch_status: Annotated[
        bool, typer.Option("--fetch-status", help="Fetch the runs' status lists from their issuer now (network, opt-in).")
    ] = False,
    home: Annotated[
        Path | None, typer.Option("--home", help="Key store and run store directory (default: $RUNID_HOME, else ./.runid).")
    ] = None,
) -> None:
    """Write a self-contained audit bundle of runs, verifiable offline with verify-bundle."""
    try:
        from .._internal.contexts import read_context_file
        from ..bundle.archive import create_bundle
        from ..store.files import read_secured
        from ..store.home import default_home

        check_writable(out)  # before fetching status lists or reading outputs
        outputs = {run: Path(file) for run, file in (_pair("--output", o) for o in output or [])}
        documents = [_json_file(p, "DID document") for p in did_document or []]
        contexts = {url: read_context_file(Path(file)) for url, file in (_pair("--context", c) for c in context or [])}
        lists = {url: read_secured(Path(file)) for url, file in (_pair("--status-list", s) for s in status_list or [])}
        home_dir = home if home is not None else default_home()
        lists = _complete_status_lists(home_dir, run_ids, lists, fetch_status)
        path = create_bundle(
            home_dir,
            run_ids,
            out,
            disclose=disclose or [],
            include_outputs=outputs,
            did_documents=documents,
            extra_contexts=contexts,
            status_lists=lists,
        )
    except RunIdError as exc:
        fail(exc)
    except Exception as exc:  # noqa: BLE001 - see _internal
        _internal(exc)
    typer.echo(f"wrote {path} ({len(run_ids)} run(s))", err=True)


def verify_bundle_cmd(
    bundle: Annotated[Path, typer.Argument(help="The audit bundle (.zip).")],
    at: Annotated[str | None, typer.Option("--at", help="Verify as of this time, e.g. 2025-06-01T12:00:00Z (default: now).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a self-contained HTML report here.")] = None,
    witness: Annotated[
        list[str] | None, typer.Option("--witness", help="A trusted witness's verifier key (repeatable).")
    ] = None,
    witness_quorum: Annotated[
        int, typer.Option("--witness-quorum", help="Every checkpoint needs cosignatures from this many --witness.")
    ] = 0,
    did_store: Annotated[
        Path | None,
        typer.Option("--did-store", help="Directory of the did:web issuers' DID documents you trust (the bundle's own count only with --any-issuer)."),
    ] = None,
    trust: TrustOption = None,
    trusted_issuer: TrustedIssuerOption = None,
    any_issuer: AnyIssuerOption = False,
) -> None:
    """Verify an audit bundle with no network: every run, its timeline, checks, log and status.

    Exit 0 when the bundle and every run are valid, 1 otherwise, 2 for a usage error."""
    try:
        from .._internal.timeutil import parse_datetime, utc_now
        from ..bundle.archive import verify_bundle
        from ..bundle.report import render_html, render_terminal

        moment = utc_now()
        if at is not None:
            try:
                moment = parse_datetime(at, "--at")
            except RunIdError as exc:
                raise UsageError(f"--at: {exc.message}") from exc
        from ..transparency import parse_witness_vkey

        witnesses = [parse_witness_vkey(text) for text in witness or []]
        if witness_quorum and not witness_quorum <= len(witnesses):
            raise UsageError(f"--witness-quorum {witness_quorum} needs at least that many --witness")
        policy = trust_policy(trust, trusted_issuer, any_issuer)
        from ..vc.dids import load_did_store

        documents = load_did_store(did_store) if did_store is not None else None
        report = verify_bundle(
            bundle, at=moment, witnesses=witnesses, witness_quorum=witness_quorum, policy=policy, did_documents=documents
        )
        if html is not None:
            try:
                html.write_text(render_html(report), encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot write {html}: {exc.strerror or exc}") from exc
        if as_json:
            typer.echo(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False))
        else:
            from rich.console import Console

            render_terminal(report, Console(highlight=False, soft_wrap=True))
        if html is not None:
            typer.echo(f"wrote {html}", err=True)
    except RunIdError as exc:
        fail(exc)
    except Exception as exc:  # noqa: BLE001 - see _internal
        _internal(exc)
    sys.stdout.flush()
    raise typer.Exit(0 if report.valid else 1)


def register(app: typer.Typer) -> None:
    """Add ``bundle`` and ``verify-bundle`` to the ``vc-runid`` command."""
    app.command("bundle")(bundle_cmd)
    app.command("verify-bundle")(verify_bundle_cmd)


__all__ = ["register"]
