"""Multibase and multicodec, as far as Multikey (Controlled Identifiers 1.0 §2.2.2) and did:key need.

Only the encodings the specifications ask of us: base58btc (``z``) and base64url without padding
(``u``); multicodec headers for Ed25519 and P-256 public and private keys.
"""

from __future__ import annotations

import base64
import binascii
import math
from enum import Enum

import base58

from ..errors import ErrorCode, KeyMaterialError


class Multicodec(bytes, Enum):
    """Varint-encoded multicodec headers (table: github.com/multiformats/multicodec)."""

    ED25519_PUB = bytes([0xED, 0x01])
    ED25519_PRIV = bytes([0x80, 0x26])
    P256_PUB = bytes([0x80, 0x24])
    P256_PRIV = bytes([0x86, 0x26])


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if "=" in text:
        raise ValueError("base64url without padding must not contain '='")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def multibase_encode(data: bytes, base: str = "z") -> str:
    if base == "z":
        return "z" + base58.b58encode(data).decode("ascii")
    if base == "u":
        return "u" + b64url_encode(data)
    raise ValueError(f"unsupported multibase prefix {base!r}")


#: Most bytes any multibase value we decode may carry: the largest is a P-384 signature (96 bytes);
#: keys with their multicodec header are at most 67 (an uncompressed P-256 point).
MAX_MULTIBASE_BYTES = 128


def max_encoded_length(max_bytes: int, base: str) -> int:
    """Longest multibase body (without prefix) that can encode ``max_bytes`` bytes.

    base58btc spends log(256)/log(58) ≈ 1.366 characters per byte (a leading zero byte is one '1',
    which is less); base64url without padding spends 4 per 3.
    """
    if base == "z":
        return math.ceil(max_bytes * math.log(256) / math.log(58))
    return -(-max_bytes * 4 // 3)


def multibase_decode(text: str, *, max_bytes: int = MAX_MULTIBASE_BYTES) -> bytes:
    """Decode a base58btc or base64url multibase string; raise ``RUNID_KEY_INVALID`` otherwise.

    The length is checked before decoding: base58 decoding is quadratic in the input, so an
    attacker-sized value (a 150 KB ``proofValue`` took seconds) must be refused by its length,
    which for every field we decode is bounded by what it can legitimately hold (``max_bytes``).
    """
    if not isinstance(text, str) or len(text) < 2:
        raise KeyMaterialError("multibase value is empty or not a string", code=ErrorCode.KEY_INVALID)
    prefix, body = text[0], text[1:]
    if prefix in ("z", "u") and len(body) > max_encoded_length(max_bytes, prefix):
        raise KeyMaterialError(
            f"multibase value is {len(text)} characters; at most {max_bytes} bytes are expected here",
            code=ErrorCode.KEY_INVALID,
        )
    try:
        if prefix == "z":
            return base58.b58decode(body.encode("ascii"))
        if prefix == "u":
            return b64url_decode(body)
    except (ValueError, UnicodeEncodeError, binascii.Error) as exc:
        raise KeyMaterialError(f"malformed multibase value: {exc}", code=ErrorCode.KEY_INVALID) from exc
    raise KeyMaterialError(
        f"unsupported multibase prefix {prefix!r} (expected 'z' or 'u')", code=ErrorCode.KEY_INVALID
    )


def encode_multikey(codec: Multicodec, raw: bytes) -> str:
    return multibase_encode(codec.value + raw, "z")


def decode_multikey(text: str) -> tuple[Multicodec, bytes]:
    data = multibase_decode(text)
    for codec in Multicodec:
        if data.startswith(codec.value):
            return codec, data[len(codec.value) :]
    raise KeyMaterialError(
        "multikey value has an unknown multicodec header", code=ErrorCode.KEY_INVALID
    )
