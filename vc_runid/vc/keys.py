"""Signing keys: Ed25519 and P-256, their JWK and Multikey forms, and the on-disk key store.

Signatures are the raw forms the cryptosuites specify: 64-byte Ed25519 (RFC 8032) and, for P-256,
the 64-byte IEEE P1363 ``r || s`` concatenation (ecdsa-rdfc-2019 §3.3, RFC 7518 §3.4), never DER.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from .._internal.multiformats import (
    Multicodec,
    b64url_decode,
    b64url_encode,
    decode_multikey,
    encode_multikey,
)
from ..errors import ErrorCode, KeyMaterialError

_P256_COORDINATE = 32


class KeyType(StrEnum):
    """The key types vc-runid signs and verifies with: Ed25519 and P-256."""

    ED25519 = "Ed25519"
    P256 = "P-256"


@dataclass(frozen=True)
class PublicKey:
    """A public key of a :class:`KeyType`, with its multikey and JWK encodings."""

    key_type: KeyType
    key: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey

    @property
    def raw(self) -> bytes:
        if isinstance(self.key, ed25519.Ed25519PublicKey):
            return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return self.key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )

    @property
    def multikey(self) -> str:
        codec = Multicodec.ED25519_PUB if self.key_type is KeyType.ED25519 else Multicodec.P256_PUB
        return encode_multikey(codec, self.raw)

    @property
    def jwk(self) -> dict[str, str]:
        if isinstance(self.key, ed25519.Ed25519PublicKey):
            return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self.raw)}
        numbers = self.key.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(numbers.x.to_bytes(_P256_COORDINATE, "big")),
            "y": b64url_encode(numbers.y.to_bytes(_P256_COORDINATE, "big")),
        }

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            if isinstance(self.key, ed25519.Ed25519PublicKey):
                self.key.verify(signature, data)
                return True
            if len(signature) != 2 * _P256_COORDINATE:
                return False
            r = int.from_bytes(signature[:_P256_COORDINATE], "big")
            s = int.from_bytes(signature[_P256_COORDINATE:], "big")
            self.key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
            return True
        except InvalidSignature:
            return False

    @classmethod
    def from_multikey(cls, value: str) -> PublicKey:
        codec, raw = decode_multikey(value)
        try:
            if codec is Multicodec.ED25519_PUB:
                return cls(KeyType.ED25519, ed25519.Ed25519PublicKey.from_public_bytes(raw))
            if codec is Multicodec.P256_PUB:
                point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
                return cls(KeyType.P256, point)
        except ValueError as exc:
            raise KeyMaterialError(f"invalid public key bytes: {exc}") from exc
        raise KeyMaterialError(f"multikey {value[:12]}… is not a public key")

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> PublicKey:
        try:
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
                raw = b64url_decode(jwk["x"])
                return cls(KeyType.ED25519, ed25519.Ed25519PublicKey.from_public_bytes(raw))
            if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
                x = int.from_bytes(b64url_decode(jwk["x"]), "big")
                y = int.from_bytes(b64url_decode(jwk["y"]), "big")
                return cls(KeyType.P256, ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key())
        except (KeyError, ValueError, TypeError) as exc:
            raise KeyMaterialError(f"invalid public JWK: {exc}") from exc
        raise KeyMaterialError(
            f"unsupported JWK (kty={jwk.get('kty')!r}, crv={jwk.get('crv')!r}); "
            "expected OKP/Ed25519 or EC/P-256"
        )


@dataclass(frozen=True)
class KeyPair:
    """A private key and its public key; ``KeyPair.generate(KeyType.P256)`` makes one."""

    key_type: KeyType
    private_key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls, key_type: KeyType = KeyType.ED25519) -> KeyPair:
        if key_type is KeyType.ED25519:
            return cls(key_type, ed25519.Ed25519PrivateKey.generate())
        return cls(key_type, ec.generate_private_key(ec.SECP256R1()))

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.key_type, self.private_key.public_key())

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return self.private_key.sign(data)
        der = self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(_P256_COORDINATE, "big") + s.to_bytes(_P256_COORDINATE, "big")

    @property
    def private_raw(self) -> bytes:
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return self.private_key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        return self.private_key.private_numbers().private_value.to_bytes(_P256_COORDINATE, "big")

    @property
    def secret_multikey(self) -> str:
        codec = Multicodec.ED25519_PRIV if self.key_type is KeyType.ED25519 else Multicodec.P256_PRIV
        return encode_multikey(codec, self.private_raw)

    @property
    def jwk(self) -> dict[str, str]:
        return {**self.public.jwk, "d": b64url_encode(self.private_raw)}

    @classmethod
    def from_secret_multikey(cls, value: str) -> KeyPair:
        codec, raw = decode_multikey(value)
        if codec is Multicodec.ED25519_PRIV:
            return cls._from_raw(KeyType.ED25519, raw)
        if codec is Multicodec.P256_PRIV:
            return cls._from_raw(KeyType.P256, raw)
        raise KeyMaterialError("multikey value is not a secret key")

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> KeyPair:
        if "d" not in jwk:
            raise KeyMaterialError("JWK has no private part 'd'; a signing key is required")
        public = PublicKey.from_jwk(jwk)
        try:
            pair = cls._from_raw(public.key_type, b64url_decode(jwk["d"]))
        except (ValueError, TypeError) as exc:
            raise KeyMaterialError(f"invalid private JWK: {exc}") from exc
        if pair.public.raw != public.raw:
            raise KeyMaterialError("JWK private part does not match its public part")
        return pair

    @classmethod
    def _from_raw(cls, key_type: KeyType, raw: bytes) -> KeyPair:
        try:
            if key_type is KeyType.ED25519:
                return cls(key_type, ed25519.Ed25519PrivateKey.from_private_bytes(raw))
            if len(raw) != _P256_COORDINATE:
                raise ValueError("a P-256 private key is 32 bytes")
            return cls(key_type, ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1()))
        except ValueError as exc:
            raise KeyMaterialError(f"invalid private key bytes: {exc}") from exc


def load_key_file(path: Path) -> KeyPair:
    try:
        text = path.read_text()
    except FileNotFoundError as exc:
        raise KeyMaterialError(f"no key file at {path}", code=ErrorCode.KEY_NOT_FOUND) from exc
    except OSError as exc:
        raise KeyMaterialError(f"cannot read key file {path}: {exc}", code=ErrorCode.KEY_NOT_FOUND) from exc
    try:
        jwk = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KeyMaterialError(f"key file {path} is not JSON") from exc
    if not isinstance(jwk, dict):
        raise KeyMaterialError(f"key file {path} is not a JWK object")
    return KeyPair.from_jwk(jwk)
