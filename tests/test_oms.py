"""Weights identified as OpenSSF Model Signing identifies them: a small model directory signed
with ``model-signing`` and a local EC key (no network), declared, and checked offline — the
round trip, a modified weight file, another key, and a declaration of another model."""

from __future__ import annotations

import json
import os
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from vc_runid.errors import ErrorCode, RunError
from vc_runid.runs.composition import CompositionBuilder, WeightsDigest
from vc_runid.runs.declaration import declaration_subject, declare
from vc_runid.vc.credentials import Issuer

try:
    from model_signing import hashing, signing
except ImportError:  # pragma: no cover - scripts/test installs the oms extra
    warnings.warn("model-signing is not installed (pip install 'vc-runid[oms]'): OMS tests SKIPPED", stacklevel=1)
    pytest.skip("model-signing is not installed", allow_module_level=True)

from vc_runid.runs.weights_oms import SIGNATURE_NAME, oms_root_digest, verify_oms_weights


def _keys(directory: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = directory / f"{name}.pem", directory / f"{name}.pub"
    private.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return private, public


@pytest.fixture()
def signed_model(tmp_path: Path) -> tuple[Path, Path]:
    """A model directory with an OMS signature (model.sig, inside it) by a local key."""
    model = tmp_path / "tiny-model"
    (model / "shards").mkdir(parents=True)
    (model / "config.json").write_text(json.dumps({"layers": 2, "vocab": 64}))
    (model / "shards" / "w-00001.bin").write_bytes(os.urandom(64 * 1024))
    (model / "shards" / "w-00002.bin").write_bytes(os.urandom(32 * 1024))
    private, public = _keys(tmp_path, "publisher")
    config = signing.Config().use_elliptic_key_signer(private_key=private)
    # As the model_signing CLI does: the signature inside the directory is not part of the model.
    config.set_hashing_config(hashing.Config().set_ignored_paths(paths=[SIGNATURE_NAME]))
    config.sign(model, model / SIGNATURE_NAME)
    return model, public


def _declared_weights(model: Path, method: str = "both") -> WeightsDigest:
    """Declare a run on ``model`` and read the weights back from the signed declaration."""
    composition, _ = CompositionBuilder().model("tiny", weights=model, weights_digest_method=method).input("hi").build()
    declaration = declare(composition, Issuer.generate(), declared_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert isinstance(declaration, dict)
    _, signed = declaration_subject(declaration)
    assert signed.model.weights is not None
    return signed.model.weights


def test_the_declared_oms_digest_is_the_root_the_signature_covers(signed_model: tuple[Path, Path]) -> None:
    model, _ = signed_model
    bundle = json.loads((model / SIGNATURE_NAME).read_text())
    import base64

    subject = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))["subject"][0]["digest"]["sha256"]
    weights = _declared_weights(model)
    from vc_runid.runs.digests import _multibase_of_sha256

    assert weights.omsDigestMultibase == _multibase_of_sha256(bytes.fromhex(subject))
    assert weights.omsSignature is not None
    assert weights.omsSignature.signer == "key:sha256:" + bundle["verificationMaterial"]["publicKey"]["hint"]
    assert weights.digestMultibase != weights.omsDigestMultibase  # "both": today's digest alongside


def test_round_trip_verifies_offline(signed_model: tuple[Path, Path]) -> None:
    model, public = signed_model
    message = verify_oms_weights(model, _declared_weights(model), public_key=public)
    assert "verifies" in message


def test_oms_method_puts_the_oms_root_in_digest_multibase(signed_model: tuple[Path, Path]) -> None:
    model, public = signed_model
    weights = _declared_weights(model, "oms")
    assert weights.digestMultibase == weights.omsDigestMultibase == oms_root_digest(model)[0]
    verify_oms_weights(model, weights, public_key=public)


def test_a_modified_weight_file_is_caught(signed_model: tuple[Path, Path]) -> None:
    model, public = signed_model
    declared = _declared_weights(model)
    shard = model / "shards" / "w-00002.bin"
    data = bytearray(shard.read_bytes())
    data[100] ^= 1
    shard.write_bytes(bytes(data))
    with pytest.raises(RunError) as err:
        verify_oms_weights(model, declared, public_key=public)
    assert err.value.code is ErrorCode.COMPOSITION_DRIFT


def test_an_added_file_is_caught(signed_model: tuple[Path, Path]) -> None:
    model, public = signed_model
    declared = _declared_weights(model)
    (model / "shards" / "w-00003.bin").write_bytes(b"extra")
    with pytest.raises(RunError) as err:
        verify_oms_weights(model, declared, public_key=public)
    assert err.value.code is ErrorCode.COMPOSITION_DRIFT


def test_another_key_does_not_verify(signed_model: tuple[Path, Path], tmp_path: Path) -> None:
    model, _ = signed_model
    _, stranger = _keys(tmp_path, "stranger")
    with pytest.raises(RunError) as err:
        verify_oms_weights(model, _declared_weights(model), public_key=stranger)
    assert err.value.code is ErrorCode.COMPOSITION_DRIFT


def test_a_declaration_of_another_model_is_a_mismatch(signed_model: tuple[Path, Path], tmp_path: Path) -> None:
    model, public = signed_model
    other = tmp_path / "other-model"
    other.mkdir()
    (other / "weights.bin").write_bytes(b"not the signed model")
    declared = _declared_weights(other)
    with pytest.raises(RunError) as err:
        verify_oms_weights(model, declared, public_key=public)
    assert err.value.code is ErrorCode.DECLARATION_MISMATCH


def test_a_declaration_without_an_oms_digest_is_a_mismatch(signed_model: tuple[Path, Path]) -> None:
    model, public = signed_model
    declared = _declared_weights(model, "both").model_copy(update={"omsDigestMultibase": None})
    with pytest.raises(RunError) as err:
        verify_oms_weights(model, declared, public_key=public)
    assert err.value.code is ErrorCode.DECLARATION_MISMATCH


def test_a_declaration_with_oms_weights_verifies(signed_model: tuple[Path, Path]) -> None:
    # The new terms (omsDigestMultibase, omsSignature, signer) are in the pinned vocabulary, so the
    # declaration signs and verifies like any other, and they are part of what is signed.
    from vc_runid.vc.policy import TrustPolicy
    from vc_runid.vc.verification import Verifier

    model, _ = signed_model
    composition, _ = CompositionBuilder().model("tiny", weights=model, weights_digest_method="both").input("hi").build()
    declaration = declare(composition, Issuer.generate(), declared_at=datetime(2026, 1, 1, tzinfo=UTC))
    verifier = Verifier(now=datetime(2026, 1, 1, 1, tzinfo=UTC), policy=TrustPolicy.unsafe_any_issuer())
    report = verifier.verify_credential(declaration)
    assert report.valid, report


def test_a_run_manifest_chooses_the_oms_digest(signed_model: tuple[Path, Path], tmp_path: Path) -> None:
    from vc_runid.runs.manifest import compose_from_manifest

    model, public = signed_model
    (tmp_path / "input.txt").write_text("hi\n")
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(f"model: {{id: tiny, weights: {model.name}, weightsDigest: both}}\ninput: input.txt\n")
    composition, _ = compose_from_manifest(manifest)
    assert composition.model.weights is not None and composition.model.weights.omsSignature is not None
    verify_oms_weights(model, composition.model.weights, public_key=public)


def _cli(*args: str) -> tuple[int, str, str]:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "vc_runid", *args], capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in result.stdout + result.stderr
    return result.returncode, result.stdout, result.stderr


def test_verify_weights_cli_checks_the_declaration_and_the_signed_model(signed_model: tuple[Path, Path], tmp_path: Path) -> None:
    model, public = signed_model
    issuer = Issuer.generate()
    composition, _ = CompositionBuilder().model("tiny", weights=model, weights_digest_method="both").input("hi").build()
    declaration = declare(composition, issuer, declared_at=datetime(2026, 1, 1, tzinfo=UTC))
    (tmp_path / "declaration.json").write_text(json.dumps(declaration))
    base = ["verify-weights", str(tmp_path / "declaration.json"), "--model", str(model), "--oms-key", str(public)]
    code, out, err = _cli(*base, "--trusted-issuer", issuer.did)
    assert code == 0, err
    assert out.startswith("valid:")
    code, _, err = _cli(*base)  # no trust policy: no verdict
    assert code == 1 and err.startswith(ErrorCode.TRUST_POLICY_MISSING.value), err
    code, _, err = _cli(*base, "--trusted-issuer", Issuer.generate().did)  # someone else's declaration
    assert code == 1, err
    (model / "config.json").write_text('{"layers": 3}')  # a modified file of the model
    code, _, err = _cli(*base, "--trusted-issuer", issuer.did)
    assert code == 1 and err.startswith(ErrorCode.COMPOSITION_DRIFT.value), err
