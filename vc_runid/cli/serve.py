"""CLI for the issuer service, mounted by the main ``vc-runid`` command:

    app.add_typer(server_app)                    # vc-runid serve …
    app.add_typer(tokens_app, name="tokens")     # vc-runid tokens create|revoke|list
    app.add_typer(log_app, name="log")           # vc-runid log verify|audit

``python -m vc_runid.server`` runs ``serve`` alone.
"""

import base64
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from ..errors import (
    ErrorCode,
    HttpServiceError,
    InputError,
    LogError,
    RunIdError,
    TrustError,
    UsageError,
    missing_extra,
)

# The service, the log and the keys are imported by the commands that use them: `vc-runid --help`
# and `vc-runid verify` build this module's commands without loading any of it.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

server_app = typer.Typer(help="Run the issuer service.", no_args_is_help=True, add_completion=False)
tokens_app = typer.Typer(help="Client tokens for the issuer service.", no_args_is_help=True, add_completion=False)
log_app = typer.Typer(help="Audit the issuer's run log.", no_args_is_help=True, add_completion=False)

HomeOption = Annotated[Path | None, typer.Option("--home", help="Service home: issuer key and SQLite database.")]
DatabaseOption = Annotated[
    str | None, typer.Option("--database", help="postgresql://… (several instances) instead of SQLite in the home.")
]


def _fail(error: RunIdError) -> NoReturn:
    typer.echo(str(error), err=True)
    raise typer.Exit(2 if error.code is ErrorCode.USAGE else 1)


def _home(home: Path | None) -> Path:
    from ..store.home import default_home

    return home if home is not None else default_home()


@server_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    home: HomeOption = None,
    database: DatabaseOption = None,
    domain: Annotated[str | None, typer.Option(help="Serve as did:web:<domain> (and its did.json).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (signing is CPU-bound: one per core).")] = 1,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="Where verifiers reach this service (the status list URL in credentials is <URL>/status/1). "
            "Default: https://<domain>, else http://<host>:<port>.",
        ),
    ] = None,
    context: Annotated[
        list[str] | None,
        typer.Option(
            "--context",
            help="URL=FILE: also accept this JSON-LD context (repeatable). Nothing is ever fetched; "
            "a pinned context cannot be replaced.",
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="Serve HTTPS with this PEM certificate (chain).")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="The PEM private key of --tls-cert.")] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness",
            help="NAME=VKEY=URL: send every new checkpoint to this C2SP tlog-witness (repeatable); "
            "receipts then carry the witnesses' cosignatures.",
        ),
    ] = None,
    witness_quorum: Annotated[
        int | None,
        typer.Option("--witness-quorum", help="Cosignatures a checkpoint needs before a receipt is given (default: all)."),
    ] = None,
    gateway_upstream: Annotated[
        str | None,
        typer.Option("--gateway-upstream", help="Also run the declaring gateway (/v1/...) in front of this "
                     "OpenAI-compatible URL: the service declares, logs and binds every call it forwards."),
    ] = None,
    gateway_upstream_key_env: Annotated[
        str | None, typer.Option("--gateway-upstream-key-env", help="Environment variable holding the upstream's API key.")
    ] = None,
    gateway_models: Annotated[
        Path | None, typer.Option("--gateway-models", help="models.yaml for the gateway (provider, weights, served-by).")
    ] = None,
    gateway_timeout: Annotated[
        float, typer.Option("--gateway-timeout", help="Seconds for a whole upstream answer (streaming: each next event).")
    ] = 600.0,
) -> None:
    """Start the issuer service (FastAPI + uvicorn)."""
    missing = missing_extra("vc-runid serve", "fastapi", "uvicorn")
    if missing:
        _fail(missing)
    import uvicorn

    from .._internal.contexts import parse_context_option
    from ..server.status import list_url_for, public_base_url
    from ..server.workers import reuse_port_supported, serve_workers
    from ..store.home import init_home
    from ..vc.keys import KeyType

    directory = _home(home)
    try:
        tls = _tls_options(tls_cert, tls_key)
        contexts = list(context or [])
        for option in contexts:
            # Checked here, once, so that a bad file is a usage error and not a crash in every worker.
            parse_context_option(option)
        witnesses = list(witness or [])
        _check_witnesses(witnesses, witness_quorum)
        _check_can_listen(host, port)
        # Create the key once, here, so that several workers never race to create it.
        issuer, created = init_home(directory, KeyType.ED25519, domain=domain)
        from ..server.issuance import GenericIssuer

        GenericIssuer.in_home(directory, issuer)  # the generic issuer's keys, likewise once
        from ..server.storage import open_storage

        base = public_base_url(public_url=public_url, domain=domain, host=host, port=port)
        storage = open_storage(directory, database)  # creates the schema once
        try:
            list_url = storage.status_list_url(list_url_for(base))
        finally:
            storage.close()
        if gateway_upstream is not None:
            from ..gateway.mount import prepare

            prepare(home=directory, database=database, upstream=gateway_upstream,
                    upstream_key_env=gateway_upstream_key_env, models=gateway_models, timeout=gateway_timeout,
                    host=host, port=port, tls=bool(tls))
    except RunIdError as exc:
        _fail(exc)
    typer.echo(f"{'created' if created else 'using'} issuer {issuer.did} in {directory}", err=True)
    typer.echo(f"status list: {list_url}", err=True)
    if list_url != list_url_for(base):
        typer.echo(
            f"warning: this database's credentials point to the status list at {list_url}, not at "
            f"{list_url_for(base)}: keep {list_url} reachable (e.g. a redirect) or verifiers cannot fetch it",
            err=True,
        )
    elif public_url is None and domain is None and host in ("0.0.0.0", "::"):
        typer.echo(f"warning: {list_url} is not a public address; pass --public-url", err=True)
    os.environ["RUNID_SERVER_HOME"] = str(directory)
    os.environ["RUNID_SERVER_DATABASE"] = database or ""
    os.environ["RUNID_SERVER_DOMAIN"] = domain or ""
    os.environ["RUNID_SERVER_PUBLIC_URL"] = base
    os.environ["RUNID_SERVER_CONTEXTS"] = json.dumps(contexts)
    os.environ["RUNID_SERVER_WITNESSES"] = json.dumps(witnesses)
    os.environ["RUNID_SERVER_WITNESS_QUORUM"] = str(witness_quorum or len(witnesses))
    config: dict[str, Any] = {
        "app": "vc_runid.server.app:app_from_env", "factory": True, "log_level": "warning", "access_log": False,
        **tls,
    }
    if workers > 1 and reuse_port_supported():
        # One listening socket per worker: uvicorn's --workers shares one, and a burst of
        # keep-alive connections can all land on a single worker (see server/workers.py).
        try:
            serve_workers(config, host, port, workers)
        except OSError as exc:
            _fail(HttpServiceError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", code=ErrorCode.CANNOT_LISTEN))
    else:
        uvicorn.run(host=host, port=port, workers=workers, **config)


def _check_can_listen(host: str, port: int) -> None:
    """Bind the address once, here: a busy port is then one ``RUNID_CANNOT_LISTEN`` line, before a
    home is created, instead of uvicorn's log line and exit 3 after."""
    import errno
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"--host {host!r} is not an address this machine can listen on: {exc}") from exc
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: SO_REUSEADDR, so a port still in TIME_WAIT after a restart is not "busy".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            why = {
                errno.EADDRINUSE: "another process is listening there (stop it, or choose another --port)",
                errno.EADDRNOTAVAIL: "it is not an address of this machine",
                errno.EACCES: "this port needs privileges (choose a --port above 1023)",
            }.get(exc.errno or 0, exc.strerror or str(exc))
            raise HttpServiceError(f"cannot listen on {host}:{port}: {why}", code=ErrorCode.CANNOT_LISTEN) from exc


def _check_witnesses(options: list[str], quorum: int | None) -> None:
    """Refuse a bad --witness or --witness-quorum here, once, not in every worker."""
    from ..server.witnesses import parse_witness_option

    endpoints = [parse_witness_option(option) for option in options]
    if quorum is not None and not 1 <= quorum <= len(endpoints):
        raise UsageError(f"--witness-quorum must be between 1 and the {len(endpoints)} --witness given, got {quorum}")


def _tls_options(cert: Path | None, key: Path | None) -> dict[str, str]:
    """uvicorn's TLS settings, after checking that the files are there and make a pair."""
    if cert is None and key is None:
        return {}
    if cert is None or key is None:
        raise UsageError("--tls-cert and --tls-key go together")
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(
            f"cannot use --tls-cert {cert} / --tls-key {key}: {getattr(exc, 'strerror', None) or exc}",
            code=ErrorCode.FILE_UNREADABLE,
        ) from exc
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


def serve_main() -> None:
    typer.run(serve)


# --- tokens -------------------------------------------------------------------------------------


def _storage(home: Path | None, database: str | None) -> Any:
    from ..server.storage import open_storage

    return open_storage(_home(home), database)


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="The client's name (it is recorded in the log with each run it declares).")],
    home: HomeOption = None,
    database: DatabaseOption = None,
    admin: Annotated[bool, typer.Option("--admin", help="May also revoke credentials (POST /credentials/status).")] = False,
) -> None:
    """Create a client token. It is printed once; only its SHA-256 is stored."""
    from ..server.tokens import create_token
    from .common import note_new_home

    if database is None:
        note_new_home(_home(home), "the service's token database; its issuer key is made by `serve`")
    storage = _storage(home, database)
    try:
        token = create_token(storage, name, admin=admin)
    except RunIdError as exc:
        _fail(exc)
    finally:
        storage.close()
    typer.echo(token)


@tokens_app.command("revoke")
def tokens_revoke(
    name: Annotated[str, typer.Argument(help="The client's name, as `vc-runid tokens list` shows it.")],
    home: HomeOption = None,
    database: DatabaseOption = None,
) -> None:
    """Revoke a client's token: its requests get 401 from now on."""
    from ..server.tokens import revoke_token

    storage = _storage(home, database)
    try:
        if not revoke_token(storage, name):
            _fail(UsageError(f"no live token named {name!r}"))
    finally:
        storage.close()
    typer.echo(f"revoked {name}", err=True)


@tokens_app.command("list")
def tokens_list(home: HomeOption = None, database: DatabaseOption = None) -> None:
    """List clients (never the tokens themselves)."""
    from ..server.tokens import list_tokens

    storage = _storage(home, database)
    try:
        for row in list_tokens(storage):
            columns = [row.name, row.created_at, "revoked" if row.revoked else "active"] + (["admin"] if row.admin else [])
            typer.echo("\t".join(columns))
    finally:
        storage.close()


# --- log ------------------------------------------------------------------------------------------


def checkpoint_key(note: str, vkey_text: str | None) -> "tuple[str, Ed25519PublicKey]":
    """The key to verify a checkpoint with: a pinned vkey, else — for a did:key issuer — the key the
    origin DID itself encodes (did:web needs ``--vkey``: its key is not in its name)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from ..transparency import parse_signed_checkpoint, parse_vkey
    from ..vc.keys import PublicKey

    if vkey_text:
        return parse_vkey(vkey_text.strip())
    checkpoint, _ = parse_signed_checkpoint(note)  # only to read the origin; verified after
    origin = checkpoint.origin
    if origin.startswith("did:key:"):
        public = PublicKey.from_multikey(origin.removeprefix("did:key:"))
        if isinstance(public.key, Ed25519PublicKey):
            return origin, public.key
    raise UsageError(f"checkpoint origin {origin!r} does not carry its key; pin it with --log-key VKEY or --trust FILE")


LogKeyOption = Annotated[
    str | None,
    typer.Option(
        "--log-key", "--vkey", metavar="VKEY",
        help="The log's signed-note verifier key, from a source you trust (the operator; GET /log/key only over a channel you trust).",
    ),
]
LogTrustOption = Annotated[
    Path | None, typer.Option("--trust", metavar="FILE", help="A trust policy whose logs (origin + key) are pinned."),
]


def pinned_log_key(note: str, log_key: str | None, trust: Path | None) -> "tuple[str, Ed25519PublicKey, str]":
    """The key a checkpoint must be signed with, as the caller pinned it — never the key a server
    hands out — and a phrase naming the origin and key verified.

    A ``--log-key`` or a policy's ``logs`` entry pins the key; its origin must be the checkpoint's.
    With neither, only a did:key origin pins itself (its key is its name)."""
    from ..errors import ErrorCode as Code
    from ..transparency import parse_signed_checkpoint, parse_vkey
    from ..vc.policy import TrustPolicy

    checkpoint, _ = parse_signed_checkpoint(note)  # the origin only; the signature is verified after
    pinned: list[str] = [log_key.strip()] if log_key else []
    if trust is not None:
        policy = TrustPolicy.from_file(trust)
        pinned += [log.key for log in policy.logs if log.origin == checkpoint.origin]
        if not pinned:
            raise TrustError(
                f"the trust policy pins no log with origin {checkpoint.origin!r}", code=Code.LOG_KEY_NOT_TRUSTED
            )
    if not pinned:
        key_name, key = checkpoint_key(note, None)
        return key_name, key, f"origin {checkpoint.origin} (a did:key: the key is the origin)"
    for text in pinned:
        key_name, key = parse_vkey(text)
        if key_name == checkpoint.origin or not checkpoint.origin.startswith("did:"):
            return key_name, key, f"origin {checkpoint.origin}, pinned key {text.split('+')[1]}"
    raise TrustError(
        f"the checkpoint's origin is {checkpoint.origin!r}, not the pinned log's", code=Code.LOG_KEY_NOT_TRUSTED
    )


def _read(path: Path) -> str:
    from .._internal.files import read_limited
    from ..vc.documents import MAX_DOCUMENT_BYTES

    try:
        return read_limited(path, MAX_DOCUMENT_BYTES).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text", code=ErrorCode.INPUT_NOT_JSON) from exc


def _consistency_hashes(data: Any) -> list[bytes]:
    """The hashes of a consistency proof (``{"consistencyProof": [base64, ...]}``), or
    ``RUNID_LOG_CONSISTENCY_INVALID`` saying what is wrong with its shape."""
    hashes = data.get("consistencyProof", []) if isinstance(data, dict) else None
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        raise LogError(
            'a consistency proof is {"consistencyProof": [base64 hashes]}', code=ErrorCode.LOG_CONSISTENCY_INVALID
        )
    try:
        return [base64.b64decode(h, validate=True) for h in hashes]
    except ValueError as exc:
        raise LogError(f"consistency proof: {exc}", code=ErrorCode.LOG_CONSISTENCY_INVALID) from exc


def _fetch_consistency(url: str, old_size: int, new_size: int) -> Any:
    import httpx

    from ..vc.documents import parse_json

    try:
        response = httpx.get(f"{url.rstrip('/')}/log/proof/consistency", params={"from": old_size, "to": new_size})
    except (httpx.TransportError, httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise HttpServiceError(f"{url}: {exc}", code=ErrorCode.SERVICE_UNREACHABLE) from exc
    if response.status_code != 200:
        raise LogError(
            f"{url} refused the consistency proof: HTTP {response.status_code}", code=ErrorCode.LOG_CONSISTENCY_INVALID
        )
    try:
        return parse_json(response.content)
    except RunIdError as exc:
        raise LogError(f"{url}: the consistency proof is not JSON", code=ErrorCode.LOG_CONSISTENCY_INVALID) from exc


@log_app.command("verify")
def log_verify(
    old: Annotated[Path, typer.Option("--from", help="The older signed checkpoint (a file).")],
    new: Annotated[Path, typer.Option("--to", help="The newer signed checkpoint (a file).")],
    proof: Annotated[Path | None, typer.Option("--proof", help="Consistency proof JSON (GET /log/proof/consistency).")] = None,
    url: Annotated[str | None, typer.Option("--url", help="Fetch the consistency proof from this service.")] = None,
    vkey_text: LogKeyOption = None,
    witness: Annotated[
        list[str] | None, typer.Option("--witness", help="A trusted witness's verifier key (repeatable).")
    ] = None,
    witness_quorum: Annotated[
        int, typer.Option("--witness-quorum", help="--to must carry cosignatures from this many --witness.")
    ] = 0,
    trust: LogTrustOption = None,
) -> None:
    """Check that the log at checkpoint --to extends the log at --from: nothing rewritten or dropped.
    With --witness-quorum K, --to must also be cosigned by K of the --witness keys."""
    from ..server.log import verify_checkpoints
    from ..transparency import parse_signed_checkpoint
    from ..vc.documents import parse_json

    try:
        old_note, new_note = _read(old), _read(new)
        key_name, key, pinned = pinned_log_key(new_note, vkey_text, trust)
        old_size = parse_signed_checkpoint(old_note)[0].tree_size
        new_size = parse_signed_checkpoint(new_note)[0].tree_size
        if proof is not None:
            data = parse_json(_read(proof))
        elif url is not None:
            data = _fetch_consistency(url, old_size, new_size)
        elif old_size == new_size:
            data = {"consistencyProof": []}
        else:
            raise UsageError("pass --proof FILE or --url URL for the consistency proof")
        hashes = _consistency_hashes(data)
        _, _, ok = verify_checkpoints(old_note, new_note, hashes, key_name, key)
        witnessed = _check_witnessed(new_note, witness or [], witness_quorum, trust) if ok else ""
    except RunIdError as exc:
        _fail(exc)
    except (ValueError, OSError) as exc:
        _fail(LogError(f"consistency proof: {exc}", code=ErrorCode.LOG_CONSISTENCY_INVALID))
    if not ok:
        _fail(LogError(
            f"the checkpoint at size {new_size} does not extend the one at size {old_size}: history was rewritten",
            code=ErrorCode.LOG_CONSISTENCY_INVALID,
        ))
    typer.echo(f"consistent: size {old_size} -> {new_size}, both checkpoints signed by {key_name}{witnessed}")
    typer.echo(f"verified: {pinned}")


def _check_witnessed(note: str, witness_keys: list[str], quorum: int, trust: Path | None = None) -> str:
    """K-of-N cosignatures on ``note`` (c2sp.org/tlog-cosignature): the --witness keys, else the
    trust policy's witnesses and witnessQuorum; the phrase to report them."""
    from ..transparency import parse_witness_vkey, verify_cosignatures

    witnesses = [parse_witness_vkey(text) for text in witness_keys]
    if not quorum and trust is not None:
        from ..vc.policy import TrustPolicy

        policy = TrustPolicy.from_file(trust)
        witnesses, quorum = [w.witness() for w in policy.witnesses], policy.witness_quorum
    if not quorum:
        return ""
    if quorum > len(witnesses):
        raise UsageError(f"--witness-quorum {quorum} needs at least that many --witness")
    cosigned = verify_cosignatures(note, witnesses, quorum)
    return f", cosigned by {', '.join(c.witness.name for c in cosigned)}"


@log_app.command("audit")
def log_audit(
    home: HomeOption = None,
    database: DatabaseOption = None,
    url: Annotated[str | None, typer.Option("--url", help="Audit a running service over HTTP instead.")] = None,
    grace: Annotated[float, typer.Option(help="Seconds a declared run may stay unbound before it is listed.")] = 86400,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    seen: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="A checkpoint of this log seen elsewhere (a file; repeatable): split-view check."),
    ] = None,
    witness_url: Annotated[
        list[str] | None,
        typer.Option("--witness-url", help="Also compare the checkpoint this witness serves for the log (repeatable; network)."),
    ] = None,
    log_key: LogKeyOption = None,
    trust: LogTrustOption = None,
) -> None:
    """Omission detection: every binding has a logged declaration before it; runs declared but
    unbound past the grace period are listed; the entries match the signed checkpoint. With
    --checkpoint / --witness-url: no checkpoint seen elsewhere disagrees with these entries
    (a split view)."""
    from .._internal.timeutil import utc_now
    from ..audit.log import AuditEntry, audit_entries, entries_from_rows
    from ..store.home import init_home
    from ..transparency import parse_signed_checkpoint

    try:
        if url is not None:
            from ..client.issuer import IssuerClient

            with IssuerClient(url) as client:
                note = client.checkpoint()
                size = parse_signed_checkpoint(note)[0].tree_size
                raw = client.entries(0, size)
            entries = [
                AuditEntry(e["index"], e["kind"], e["entry"], base64.b64decode(e["leafHash"]), e.get("loggedAt"))
                for e in raw
            ]
        else:
            from ..server.log import RunLog
            from ..server.storage import open_storage

            directory = _home(home)
            issuer = init_home(directory)[0]
            storage = open_storage(directory, database)
            try:
                run_log = RunLog(storage, issuer)
                note = run_log.checkpoint()
                size = parse_signed_checkpoint(note)[0].tree_size
                entries = list(entries_from_rows(storage.entries(0, size)))
                run_log.close()
            finally:
                storage.close()
        if url is not None or log_key is not None or trust is not None:
            # A remote log is checked against the key the auditor pinned, not one it serves.
            key_name, key, pinned = pinned_log_key(note, log_key, trust)
        else:
            key_name, key = issuer.did, issuer.key.private_key.public_key()
            pinned = f"origin {issuer.did}, this home's own issuer key"
        report = audit_entries(
            entries, now=utc_now(), grace=timedelta(seconds=grace), checkpoint=note, key_name=key_name, public_key=key
        )
        if seen or witness_url:
            report.checks.append(_split_view_check(entries, note, seen or [], witness_url or [], key_name, key))
    except RunIdError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps({**report.model_dump(mode="json"), "valid": report.valid, "verifiedWith": pinned}, indent=2))
    else:
        typer.echo(f"verified: {pinned}")
        typer.echo(
            f"log: {report.treeSize} entries, {report.declarations} declarations, {report.bindings} bindings, "
            f"{report.revocations} revocations, {report.credentials} generic credentials, "
            f"{report.statusLists} status lists"
        )
        for check in report.checks:
            typer.echo(f"  {'ok  ' if check.passed else 'FAIL'} {check.name}{f' [{check.code}]' if check.code else ''}: {check.message}")
        for run in report.unbound:
            typer.echo(f"  unbound past grace: {run.runId} (declared {run.declaredAt}, entry {run.declarationIndex})")
    if not report.valid:
        raise typer.Exit(1)


def _split_view_check(
    entries: list[Any], note: str, files: list[Path], witness_urls: list[str], key_name: Any, key: Any
) -> Any:
    """The ``split-view`` check: every checkpoint of this log seen elsewhere agrees with the
    audited entries and with every other one of the same size."""
    import hashlib

    from ..runs.declaration import log_leaf_data
    from ..transparency import MerkleTree, leaf_hash, parse_signed_checkpoint
    from ..transparency.witness_views import find_split_views
    from ..vc.verification import CheckResult

    tree = MerkleTree(leaf_hash(log_leaf_data(e.entry)) for e in entries)
    notes = [("the audited log", note)] + [(str(path), _read(path)) for path in files]
    origin = parse_signed_checkpoint(note)[0].origin
    for base in witness_urls:
        import httpx

        target = f"{base.rstrip('/')}/{hashlib.sha256(origin.encode()).hexdigest()}/checkpoint"
        try:
            response = httpx.get(target, timeout=10)
        except httpx.HTTPError as exc:
            raise HttpServiceError(f"cannot reach the witness at {base}: {exc}", code=ErrorCode.SERVICE_UNREACHABLE) from exc
        if response.status_code == 200:
            notes.append((f"witness {base}", response.text))
    found = find_split_views(notes, key_name, key, lambda size: tree.root(size) if size <= tree.size else None)
    ignored = f"; {len(found.unsigned)} not signed by the log ignored" if found.unsigned else ""
    if found.conflicts:
        return CheckResult(
            name="split-view", passed=False, code=ErrorCode.LOG_SPLIT_VIEW.value,
            message="the log signed two histories: " + "; ".join(found.conflicts[:3]) + ignored,
        )
    return CheckResult(name="split-view", passed=True, message=f"{found.checked} checkpoints seen agree{ignored}")


__all__ = ["checkpoint_key", "log_app", "serve", "serve_main", "server_app", "tokens_app"]
