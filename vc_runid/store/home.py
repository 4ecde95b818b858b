"""The home directory: the one place that knows where vc-runid keeps things.

``$RUNID_HOME`` if set, else ``./.runid`` (zero setup for the embedded default)::

    keys/issuer.jwk     the issuer's private key (JWK, mode 0600)
    identity.json       the issuer's did:web, when it has one (``vc-runid init --domain``)
    runs.sqlite3        the run store: declarations, bindings and the disclosure salts
    status.sqlite3      the status registry: status list indexes and revocations
    receipts/           log receipts the issuer service returned
    service.sqlite3     the issuer service's log and tokens (``vc-runid serve``, embedded default)
    demo/               what ``vc-runid demo`` writes

The home holds keys, salts and prompts: it is created owner-only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import ErrorCode, KeyMaterialError, UsageError
from ..vc.credentials import Issuer
from ..vc.dids import did_web_from_domain
from ..vc.keys import KeyPair, KeyType, load_key_file

KEYS_DIR = "keys"
ISSUER_KEY_NAME = "issuer"
IDENTITY_FILE = "identity.json"
RUNS_DB = "runs.sqlite3"
STATUS_DB = "status.sqlite3"
RECEIPTS_DIR = "receipts"
SERVICE_DB = "service.sqlite3"
DEMO_DIR = "demo"


def default_home() -> Path:
    """``$RUNID_HOME`` if set, else ``./.runid``: zero setup for the embedded default."""
    env = os.environ.get("RUNID_HOME")
    return Path(env) if env else Path.cwd() / ".runid"


class KeyStore:
    """Private keys as JWK files (mode 0600) in ``<home>/keys``. Never overwrites a key."""

    def __init__(self, home: Path) -> None:
        self.directory = home / KEYS_DIR

    def path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise UsageError(f"invalid key name {name!r}", code=ErrorCode.USAGE)
        return self.directory / f"{name}.jwk"

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def save(self, name: str, pair: KeyPair) -> Path:
        path = self.path(name)
        data = json.dumps(pair.jwk, indent=2).encode()
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise UsageError(
                f"cannot create the key store at {self.directory}: {exc.strerror or exc}",
                code=ErrorCode.USAGE,
            ) from exc
        try:
            # O_EXCL: two concurrent `init`s must not both "create" and one silently lose its key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise KeyMaterialError(
                f"a key named {name!r} already exists at {path}; refusing to overwrite it",
                code=ErrorCode.KEY_EXISTS,
            ) from exc
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}", code=ErrorCode.USAGE) from exc
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return path

    def load(self, name: str) -> KeyPair:
        return load_key_file(self.path(name))


def init_home(home: Path, key_type: KeyType = KeyType.ED25519, domain: str | None = None) -> tuple[Issuer, bool]:
    """Create the issuer key in ``home`` unless it exists. Returns (issuer, created)."""
    # The home holds keys, salts and prompts: its owner's alone (an existing home is left as is).
    if not home.exists():
        try:
            home.mkdir(parents=True, mode=0o700)
        except OSError as exc:
            raise UsageError(f"cannot create the home {home}: {exc.strerror or exc}", code=ErrorCode.USAGE) from exc
    store = KeyStore(home)
    created = False
    if not store.exists(ISSUER_KEY_NAME):
        store.save(ISSUER_KEY_NAME, KeyPair.generate(key_type))
        created = True
    if domain is not None:
        config = home / IDENTITY_FILE
        try:
            config.write_text(json.dumps({"didWeb": did_web_from_domain(domain)}, indent=2))
        except OSError as exc:
            raise UsageError(f"cannot write {config}: {exc.strerror or exc}") from exc
    return load_issuer(home), created


def load_issuer(home: Path, key_file: Path | None = None) -> Issuer:
    """The issuer whose key is in ``home`` (``vc-runid init``), or in ``key_file``."""
    if key_file is not None:
        return Issuer.from_key(load_key_file(key_file))
    store = KeyStore(home)
    if not store.exists(ISSUER_KEY_NAME):
        raise KeyMaterialError(
            f"no issuer key in {home} (run `vc-runid init` first)", code=ErrorCode.KEY_NOT_FOUND
        )
    key = store.load(ISSUER_KEY_NAME)
    return Issuer.from_key(key, _configured_did_web(home / IDENTITY_FILE))


def _configured_did_web(config: Path) -> str | None:
    if not config.exists():
        return None
    try:
        settings = json.loads(config.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{config} is unreadable or not JSON: {exc}") from exc
    did_web = settings.get("didWeb") if isinstance(settings, dict) else None
    if did_web is not None and not (isinstance(did_web, str) and did_web.startswith("did:web:")):
        raise UsageError(f"{config}: didWeb must be a did:web DID, got {did_web!r}")
    return did_web


__all__ = ["KeyStore", "default_home", "init_home", "load_issuer"]
