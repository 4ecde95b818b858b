"""ACA-Py (acapy-agent 1.7, Python >= 3.13) as a peer for the vc-runid interop tests.

Runs in its own virtual environment (interop/acapy/.venv, made by scripts/test). One JSON request
on stdin, one JSON response on stdout, batches included, as interop/wallets/common.mjs describes. ACA-Py's own code
does the work: an in-memory Askar wallet, ``VcLdpManager`` for
Ed25519Signature2020 credentials and ``DataIntegrityManager`` for ``eddsa-jcs-2022``. Offline: DIDs
resolve through ACA-Py's did:key resolver and, for did:web, only from the request's documents;
JSON-LD contexts come from contexts/ and ACA-Py's bundled cache, never from the network.

    verify {credential, didDocuments?}                              -> {verified, error?}
    issue  {credential, format, privateJwk}                         -> {credential}
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import base58
from acapy_agent.askar.profile import AskarProfile
from acapy_agent.askar.store import AskarStoreConfig
from acapy_agent.config.injection_context import InjectionContext
from acapy_agent.resolver.base import BaseDIDResolver, DIDNotFound, ResolverType
from acapy_agent.resolver.default.key import KeyDIDResolver
from acapy_agent.resolver.did_resolver import DIDResolver
from acapy_agent.vc.data_integrity.manager import DataIntegrityManager
from acapy_agent.vc.data_integrity.models.options import DataIntegrityProofOptions
from acapy_agent.vc.ld_proofs.document_loader import DocumentLoader
from acapy_agent.vc.vc_ld.manager import VcLdpManager
from acapy_agent.vc.vc_ld.models.credential import VerifiableCredential
from acapy_agent.vc.vc_ld.models.options import LDProofVCOptions
from acapy_agent.wallet.base import BaseWallet
from acapy_agent.wallet.default_verification_key_strategy import (
    BaseVerificationKeyStrategy,
    DefaultVerificationKeyStrategy,
)
from acapy_agent.wallet.did_method import KEY, DIDMethods
from acapy_agent.wallet.key_type import ED25519, KeyTypes


class RequestError(Exception):
    pass


class OfflineWebResolver(BaseDIDResolver):
    """did:web from the request's documents only."""

    def __init__(self, documents: dict[str, Any]) -> None:
        super().__init__(ResolverType.NATIVE)
        self.documents = documents

    async def setup(self, context: Any) -> None:
        pass

    @property
    def supported_did_regex(self) -> re.Pattern[str]:
        return re.compile(r"^did:web:.*$")

    async def _resolve(self, profile: Any, did: str, service_accept: Any = None) -> dict[str, Any]:
        if did not in self.documents:
            raise DIDNotFound(f"{did} is not among the documents handed in (offline)")
        return self.documents[did]


def load_contexts(contexts_dir: str, extra: dict[str, Any]) -> dict[str, Any]:
    index = json.loads((Path(contexts_dir) / "index.json").read_text())
    contexts: dict[str, Any] = {}
    for entry in index["contexts"]:
        raw = (Path(contexts_dir) / entry["file"]).read_bytes()
        if entry.get("sha256") and hashlib.sha256(raw).hexdigest() != entry["sha256"]:
            raise RequestError(f"context file {entry['file']} does not match its sha256")
        contexts[entry["url"]] = json.loads(raw)
    contexts.update(extra)
    return contexts


class OfflineLoader(DocumentLoader):
    """ACA-Py's loader (DIDs through the profile's resolver, its bundled context cache), with the
    pinned contexts first and the network refused."""

    def __init__(self, profile: Any, contexts: dict[str, Any]) -> None:
        super().__init__(profile)
        self.contexts = contexts

    def _load_http_document(self, url: str, options: dict[str, Any]) -> dict[str, Any]:
        if url in self.contexts:
            return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
                    "document": self.contexts[url]}
        # ACA-Py's bundled contexts; its loader would download anything else.
        cached = self.requests_loader.__self__.cache.get(url)
        if cached is None:
            raise RequestError(f"context {url} is not available offline")
        return cached


async def make_profile(request: dict[str, Any]) -> Any:
    # An in-memory Askar wallet, as ACA-Py's own test helper makes it (which needs pytest).
    settings = {"wallet.type": "askar", "auto_provision": True, "wallet.id": "interop"}
    key = base58.b58encode(os.urandom(32)).decode()  # a RAW store key for a throwaway wallet
    config = AskarStoreConfig({"name": "interop", "key": key, "key_derivation_method": "RAW"})
    opened = await config.open_store(provision=True, in_memory=True)
    context = InjectionContext(settings=settings)
    context.injector.bind_instance(DIDMethods, DIDMethods())
    context.injector.bind_instance(KeyTypes, KeyTypes())
    context.injector.bind_instance(BaseVerificationKeyStrategy, DefaultVerificationKeyStrategy())
    profile = AskarProfile(opened=opened, context=context)
    resolver = DIDResolver([KeyDIDResolver(), OfflineWebResolver(request.get("didDocuments") or {})])
    profile.context.injector.bind_instance(DIDResolver, resolver)
    contexts = load_contexts(request["contextsDir"], request.get("extraContexts") or {})
    profile.context.injector.bind_instance(DocumentLoader, OfflineLoader(profile, contexts))
    return profile


async def verify(request: dict[str, Any]) -> dict[str, Any]:
    profile = await make_profile(request)
    credential = request["credential"]
    try:
        if not isinstance(credential, dict):
            return {"verified": False, "error": "ACA-Py has no VC-JWT credential verifier"}
        proof = credential.get("proof")
        first = (proof[0] if isinstance(proof, list) and proof else proof) or {}
        if first.get("type") != "DataIntegrityProof":
            result = await VcLdpManager(profile).verify_credential(VerifiableCredential.deserialize(credential))
            return {"verified": bool(result.verified), "error": None if result.verified else str(result.serialize())[:2000]}
        async with profile.session() as session:
            response = await DataIntegrityManager(session).verify_proof(dict(credential))
        return {"verified": bool(response.verified),
                "error": None if response.verified else str(response.serialize())[:2000]}
    except RequestError:
        raise
    except Exception as exc:  # noqa: BLE001 - a refusal by ACA-Py is a "not verified" answer
        return {"verified": False, "error": f"{type(exc).__name__}: {exc}"[:2000]}


def _b64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


async def issue(request: dict[str, Any]) -> dict[str, Any]:
    profile = await make_profile(request)
    jwk = request["privateJwk"]
    if jwk.get("kty") != "OKP":
        raise RequestError("the ACA-Py bridge signs with Ed25519 keys only")
    async with profile.session() as session:
        wallet = session.inject(BaseWallet)
        # Askar's RAW seed is the Ed25519 secret key itself, so the DID is the key's own did:key.
        info = await wallet.create_local_did(KEY, ED25519, seed=base64.b64encode(_b64url(jwk["d"])).decode())
    did = info.did
    expected = "did:key:z" + base58.b58encode(b"\xed\x01" + _b64url(jwk["x"])).decode()
    if did != expected:
        raise RequestError(f"ACA-Py made {did} from the key, not the key's own {expected}")
    credential = {**request["credential"], "issuer": did}
    vm = f"{did}#{did.split(':')[-1]}"
    if request["format"] == "di-2020":
        options = LDProofVCOptions.deserialize({"proofType": "Ed25519Signature2020", "verificationMethod": vm})
        signed = await VcLdpManager(profile).issue(VerifiableCredential.deserialize(credential), options)
        return {"credential": signed.serialize()}
    if request["format"] == "eddsa-jcs":
        options = DataIntegrityProofOptions.deserialize({
            "type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
            "proofPurpose": "assertionMethod", "verificationMethod": vm,
        })
        async with profile.session() as session:
            return {"credential": await DataIntegrityManager(session).add_proof(credential, options)}
    raise RequestError(f"format {request['format']} is not one ACA-Py issues here")


async def handle(request: dict[str, Any]) -> dict[str, Any]:
    handler = {"verify": verify, "issue": issue}.get(request.get("op"))
    if handler is None:
        raise RequestError(f"unknown op {request.get('op')!r}")
    return await handler(request)


async def main() -> int:
    try:
        request = json.loads(sys.stdin.read())
        if request.get("op") == "batch":
            shared = {k: v for k, v in request.items() if k != "requests"}
            responses = []
            for one in request["requests"]:
                try:
                    responses.append(await handle({**shared, **one}))
                except Exception as exc:  # noqa: BLE001 - this request could not be served; the others still are
                    responses.append({"error": f"{type(exc).__name__}: {exc}"})
            response: dict[str, Any] = {"responses": responses}
        else:
            response = await handle(request)
        code = 0
    except Exception as exc:  # noqa: BLE001 - the request could not be served: exit 2 with the reason
        response, code = {"error": f"{type(exc).__name__}: {exc}"}, 2
        print(response["error"], file=sys.stderr)
    sys.stdout.write(json.dumps(response))
    return code


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
