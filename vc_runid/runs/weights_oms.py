"""Model weights identified the way OpenSSF Model Signing (OMS, PyPI ``model-signing``) does.

A publisher that signs a model with ``model-signing`` commits to a *manifest*: the SHA-256 of
every file of the model directory, and a root digest over them (the in-toto subject of the
signature). A declaration that carries the same root digest can be matched against the signed
model; one whose digest is computed another way cannot. Example::

    from pathlib import Path
    from vc_runid.runs.weights_oms import oms_weights, verify_oms_weights

    weights = oms_weights(Path("my-model"))          # digests + the signature, if model.sig is there
    print(weights.omsDigestMultibase, weights.omsSignature)
    # later, offline, with the publisher's public key:
    verify_oms_weights(Path("my-model"), weights, public_key=Path("publisher.pub"))

The hashing and the signature check are ``model-signing``'s own (optional extra ``oms``: ``pip
install 'vc-runid[oms]'``); only key-based signatures are verified here, with no network. The
OMS root digest is recorded as a ``digestMultibase`` (sha2-256 multihash, base64url), like every
other digest in a declaration.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from ..errors import ErrorCode, RunError, UsageError
from .composition import OmsSignatureRef, WeightsDigest
from .digests import _multibase_of_sha256, digest_multibase, digests_equal, hash_weights

__all__ = ["SIGNATURE_NAME", "oms_root_digest", "oms_weights", "read_oms_signature", "verify_oms_weights"]

#: Where a model directory carries its OMS signature (the ``model_signing`` CLI's default name).
SIGNATURE_NAME = "model.sig"


def _library() -> Any:
    try:
        import model_signing
    except ImportError as exc:
        raise UsageError(
            "OpenSSF Model Signing support needs the 'oms' extra: pip install 'vc-runid[oms]'"
        ) from exc
    return model_signing


def _hashing_config(ignore: list[str]) -> Any:
    hashing = _library().hashing
    return hashing.Config().set_ignored_paths(paths=ignore)


def oms_root_digest(model_dir: Path, *, ignore: tuple[str, ...] = (SIGNATURE_NAME,)) -> tuple[str, int]:
    """(root digest as ``digestMultibase``, number of files) of ``model_dir`` as ``model-signing``
    hashes it for signing: its default file-by-file SHA-256 serialization, ``.git*`` and the
    signature file left out, and its payload's root digest (the in-toto subject)."""
    from model_signing._signing.signing import Payload  # the library's own root, not a copy of it

    _library()
    if not model_dir.exists():
        raise UsageError(f"model weights {model_dir} do not exist", code=ErrorCode.FILE_UNREADABLE)
    manifest = _hashing_config(list(ignore)).hash(model_dir)
    payload = Payload(manifest).statement.pb
    root_hex = payload.subject[0].digest["sha256"]
    return _multibase_of_sha256(bytes.fromhex(root_hex)), len(list(manifest.resource_descriptors()))


def _signed_payload(signature: Path) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """(bundle, in-toto statement, raw bundle bytes) of an OMS signature file, parsed only."""
    try:
        raw = signature.read_bytes()
        bundle = json.loads(raw)
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{signature} is not an OMS signature (a sigstore bundle): {exc}",
                       code=ErrorCode.FILE_UNREADABLE) from exc
    return bundle, statement, raw


def _signer_of(bundle: dict[str, Any]) -> str:
    """Who signed, as the bundle names it: the SHA-256 of the PEM public key (``key:sha256:…``,
    the hint model-signing writes and checks) or of the signing certificate."""
    material = bundle.get("verificationMaterial") or {}
    hint = (material.get("publicKey") or {}).get("hint")
    if isinstance(hint, str) and hint:
        return f"key:sha256:{hint}"
    certificate = (material.get("certificate") or {}).get("rawBytes")
    if certificate is None:
        chain = (material.get("x509CertificateChain") or {}).get("certificates") or [{}]
        certificate = chain[0].get("rawBytes")
    if isinstance(certificate, str):
        return f"certificate:sha256:{hashlib.sha256(base64.b64decode(certificate)).hexdigest()}"
    raise UsageError("the OMS signature names no key and no certificate", code=ErrorCode.FILE_UNREADABLE)


def read_oms_signature(signature: Path) -> OmsSignatureRef:
    """What a declaration records of an OMS signature: its signer and the digest of its bytes.
    Not verified here (the declarer may not hold the publisher's key): :func:`verify_oms_weights`
    does that, and checks the signer is the key it was given."""
    bundle, _, raw = _signed_payload(signature)
    return OmsSignatureRef(signer=_signer_of(bundle), digestMultibase=digest_multibase(raw))


def oms_weights(model_dir: Path, *, method: str = "both", on_bytes: Any = None) -> WeightsDigest:
    """The weights component for ``model_dir``: ``method`` ``"both"`` carries today's digest and
    the OMS root digest, ``"oms"`` the OMS root digest in both places (so a verifier that knows
    only ``digestMultibase`` still compares what a model signer compares). With a ``model.sig``
    in the directory, its signer and digest are recorded too."""
    if method not in ("both", "oms"):
        raise UsageError(f"unknown weights digest method {method!r} (both, oms)")
    if not model_dir.is_dir():
        raise UsageError(f"OMS weights are a model directory; {model_dir} is not one", code=ErrorCode.FILE_UNREADABLE)
    root, count = oms_root_digest(model_dir)
    signature_path = model_dir / SIGNATURE_NAME
    signature = read_oms_signature(signature_path) if signature_path.is_file() else None
    if method == "oms":
        return WeightsDigest(digestMultibase=root, fileCount=count, omsDigestMultibase=root, omsSignature=signature)
    tree = hash_weights(model_dir, on_bytes=on_bytes)  # every regular file, model.sig included
    return WeightsDigest(
        digestMultibase=tree.root, fileCount=tree.file_count, size=tree.total_bytes,
        omsDigestMultibase=root, omsSignature=signature,
    )


def verify_oms_weights(
    model_dir: Path, declared: WeightsDigest, *, public_key: Path, signature: Path | None = None
) -> str:
    """Offline: the OMS signature in ``model_dir`` verifies with ``public_key`` (an EC public key
    in PEM), the model's files match the signed manifest, the declared OMS digest is the signed
    root, and the declared signature is this one by this key. Returns a one-line summary.

    Raises ``RunError``: ``RUNID_COMPOSITION_DRIFT`` when the signature does not verify with the
    key or a file differs from the signed manifest (a modified weight), ``RUNID_DECLARATION_MISMATCH``
    when the declaration's OMS digest, signature digest or signer is not this signature's.
    """
    verifying = _library().verifying
    signature = signature or model_dir / SIGNATURE_NAME
    if declared.omsDigestMultibase is None:
        raise RunError("the declaration carries no OMS digest for its weights", code=ErrorCode.DECLARATION_MISMATCH)
    bundle, statement, raw = _signed_payload(signature)
    try:
        verifying.Config().use_elliptic_key_verifier(public_key=public_key).verify(model_dir, signature)
    except ValueError as exc:  # the library's verdict: bad signature, or files that differ
        raise RunError(f"the model does not match its OMS signature: {exc}", code=ErrorCode.COMPOSITION_DRIFT) from exc
    # Verified: the payload read below is the one the signature covers.
    signed_root = _multibase_of_sha256(bytes.fromhex(statement["subject"][0]["digest"]["sha256"]))
    if not digests_equal(declared.omsDigestMultibase, signed_root):
        raise RunError("the declared OMS digest is not the root the signature covers",
                       code=ErrorCode.DECLARATION_MISMATCH)
    if declared.omsSignature is not None:
        if not digests_equal(declared.omsSignature.digestMultibase, digest_multibase(raw)):
            raise RunError("the declared OMS signature digest is not this signature's",
                           code=ErrorCode.DECLARATION_MISMATCH)
        if declared.omsSignature.signer != _signer_of(bundle):
            raise RunError("the declared OMS signer is not this signature's signer",
                           code=ErrorCode.DECLARATION_MISMATCH)
    return f"OMS signature by {_signer_of(bundle)} verifies; the declared weights are the signed model"
