"""Content digests: known answers, the public constructions spelled out by hand, and refusals.

Expected values are derived in the test from SHA-256 hex published in FIPS 180-2 examples and from
RFC 8785's own examples, never from the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from vc_runid.errors import ErrorCode, RunError, RunIdError, UsageError
from vc_runid.runs.digests import (
    SALT_BYTES,
    WeightsDigest,
    decode_digest_multibase,
    decode_salt,
    digest_multibase,
    digest_sri,
    digests_equal,
    encode_salt,
    hash_weights,
    jcs,
    new_salt,
    salted_digest,
    sha256_file,
    verify_weights,
)

SHA256_EMPTY_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SHA256_ABC_HEX = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

DIGEST_EMPTY = "uEiDjsMRCmPwcFJr79MiZb7kkJ65B5GSbk0yklZkbeFK4VQ"
DIGEST_ABC = "uEiC6eBa_jwHP6kFBQN5driIjsANho5YXepy0EP9h8gAVrQ"
DIGEST_ABC_BASE58 = "zQmatYkNGZnELf8cAGdyJpUca2PyY4szai3RHyyWofNY1pY"


def by_hand(sha256_hex: str) -> str:
    """digestMultibase built from its definition: 'u' + base64url-nopad(0x12 0x20 || digest)."""
    multihash = bytes([0x12, 0x20]) + bytes.fromhex(sha256_hex)
    return "u" + base64.urlsafe_b64encode(multihash).decode().rstrip("=")


def mb(data: bytes) -> str:
    return by_hand(hashlib.sha256(data).hexdigest())


def code_of(excinfo: pytest.ExceptionInfo[RunIdError]) -> ErrorCode:
    return excinfo.value.code


# ------------------------------------------------------------------------------------------
# digestMultibase / digestSRI
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "sha_hex", "literal"),
    [(b"", SHA256_EMPTY_HEX, DIGEST_EMPTY), (b"abc", SHA256_ABC_HEX, DIGEST_ABC)],
)
def test_digest_multibase_is_u_base64url_of_sha256_multihash(
    content: bytes, sha_hex: str, literal: str
) -> None:
    assert by_hand(sha_hex) == literal
    assert digest_multibase(content) == literal


def test_digest_multibase_has_no_padding_and_is_url_safe() -> None:
    for n in range(40):
        value = digest_multibase(bytes(range(n)))
        assert value.startswith("u") and len(value) == 47
        assert not set(value) & set("=+/")


@pytest.mark.parametrize(
    ("content", "literal"),
    [
        (b"", "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
        (b"abc", "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="),
    ],
)
def test_digest_sri_is_sha256_dash_standard_padded_base64(content: bytes, literal: str) -> None:
    assert literal == "sha256-" + base64.b64encode(hashlib.sha256(content).digest()).decode()
    assert digest_sri(content) == literal


def test_decode_digest_multibase_round_trips_base64url() -> None:
    for content in (b"", b"abc", os.urandom(100)):
        raw = decode_digest_multibase(digest_multibase(content))
        assert raw == hashlib.sha256(content).digest()


def test_decode_digest_multibase_accepts_base58btc() -> None:
    assert decode_digest_multibase(DIGEST_ABC_BASE58) == bytes.fromhex(SHA256_ABC_HEX)


def _u(raw: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


_SHA = bytes.fromhex(SHA256_ABC_HEX)
# Flip the last base64url character's low bits: decodes to the same bytes with lenient decoders.
_NON_CANONICAL = DIGEST_ABC[:-1] + chr(ord(DIGEST_ABC[-1]) + 1)

BAD_DIGESTS = [
    ("empty", ""),
    ("unknown prefix (base16 'f')", "f1220" + SHA256_ABC_HEX),
    ("no prefix", DIGEST_ABC[1:]),
    ("padded base64url 'U'", "U" + DIGEST_ABC[1:] + "="),
    ("padding inside 'u'", DIGEST_ABC + "="),
    ("standard base64 characters", "u" + base64.b64encode(b"\x12\x20" + _SHA).decode().rstrip("=")),
    ("whitespace", DIGEST_ABC[:10] + " " + DIGEST_ABC[10:]),
    ("non-canonical trailing bits", _NON_CANONICAL),
    ("impossible base64 length", DIGEST_ABC + "A"),
    ("sha2-512 multihash", _u(b"\x13\x40" + hashlib.sha512(b"abc").digest())),
    ("identity multihash", _u(b"\x00\x03abc")),
    ("length byte says 16", _u(b"\x12\x10" + _SHA[:16])),
    ("truncated digest", _u(b"\x12\x20" + _SHA[:31])),
    ("trailing byte", _u(b"\x12\x20" + _SHA + b"\x00")),
    ("bare sha256 without multihash header", _u(_SHA)),
    ("only the header", _u(b"\x12")),
    ("base58 with '0'", "z0" + DIGEST_ABC_BASE58[2:]),
    ("base58 with 'l'", "zl" + DIGEST_ABC_BASE58[2:]),
    ("base58 empty", "z"),
    ("base58 leading zero byte", "z1" + DIGEST_ABC_BASE58[1:]),
]


@pytest.mark.parametrize(("why", "value"), BAD_DIGESTS, ids=[why for why, _ in BAD_DIGESTS])
def test_decode_digest_multibase_rejects_with_manifest_invalid(why: str, value: str) -> None:
    with pytest.raises(RunError) as excinfo:
        decode_digest_multibase(value)
    assert code_of(excinfo) is ErrorCode.MANIFEST_INVALID
    assert "digestMultibase" in excinfo.value.message


def test_decode_digest_multibase_rejects_non_string() -> None:
    with pytest.raises(RunError) as excinfo:
        decode_digest_multibase(DIGEST_ABC.encode())  # type: ignore[arg-type]
    assert code_of(excinfo) is ErrorCode.MANIFEST_INVALID


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("x" + DIGEST_ABC[1:], "prefix 'x'"),
        (_u(b"\x13\x40" + bytes(64)), "hash code 0x13"),
        (_u(b"\x12\x10" + bytes(16)), "16-byte digest"),
        (_u(b"\x12\x20" + bytes(31)), "31 digest bytes"),
        (_NON_CANONICAL, "not canonical"),
    ],
)
def test_decode_errors_say_what_is_wrong(value: str, fragment: str) -> None:
    with pytest.raises(RunError) as excinfo:
        decode_digest_multibase(value)
    assert fragment in excinfo.value.message


def test_digests_equal_compares_decoded_bytes_across_multibase_forms() -> None:
    assert digests_equal(DIGEST_ABC, DIGEST_ABC)
    assert digests_equal(DIGEST_ABC, DIGEST_ABC_BASE58)
    assert not digests_equal(DIGEST_ABC, DIGEST_EMPTY)


def test_digests_equal_raises_on_malformed_rather_than_false() -> None:
    with pytest.raises(RunError) as excinfo:
        digests_equal(DIGEST_ABC, _NON_CANONICAL)
    assert code_of(excinfo) is ErrorCode.MANIFEST_INVALID


# ------------------------------------------------------------------------------------------
# JCS (RFC 8785)
# ------------------------------------------------------------------------------------------


def test_jcs_rfc8785_section_3_2_2_example() -> None:
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert jcs(value) == expected.encode("utf-8")


def test_jcs_sorts_keys_by_utf16_code_units_rfc8785_section_3_2_3() -> None:
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    # The emoji (UTF-16 D83D DE00) sorts before U+FB33, although its code point is larger.
    expected_order = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    expected = "{" + ",".join(f'"{k}":"{value[k]}"' for k in expected_order) + "}"
    expected = expected.replace("\r", "\\r")
    assert jcs(value) == expected.encode("utf-8")


# RFC 8785 Appendix B: IEEE-754 bit patterns and their JCS serialization.
RFC8785_NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), RFC8785_NUMBERS)
def test_jcs_number_serialization_rfc8785_appendix_b(bits: str, expected: str) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(bits))
    assert jcs(number) == expected.encode()


UNREPRESENTABLE = [
    ("NaN", {"a": [1, float("nan")]}, "/a/1"),
    ("Infinity", {"a": float("inf")}, "/a"),
    ("-Infinity", [float("-inf")], "/0"),
    ("integer above 2**53-1", {"n": 2**53}, "/n"),
    ("integer below -(2**53-1)", {"n": -(2**53)}, "/n"),
    ("non-string key", {"ok": {1: "x"}}, "/ok"),
    ("lone surrogate value", {"s": "\ud800"}, "/s"),
    ("lone surrogate key", {"\ud800": 1}, "/\\ud800"),
    ("non-JSON type", {"b": b"bytes"}, "/b"),
    ("escaped pointer", {"a/b~c": float("nan")}, "/a~1b~0c"),
]


@pytest.mark.parametrize(
    ("why", "value", "pointer"), UNREPRESENTABLE, ids=[w for w, _, _ in UNREPRESENTABLE]
)
def test_jcs_rejects_unrepresentable_values_naming_where(
    why: str, value: object, pointer: str
) -> None:
    with pytest.raises(RunError) as excinfo:
        jcs(value)
    assert code_of(excinfo) is ErrorCode.MANIFEST_INVALID
    assert excinfo.value.detail["pointer"] == pointer
    assert pointer in excinfo.value.message


def test_jcs_accepts_the_largest_safe_integers() -> None:
    assert jcs([2**53 - 1, -(2**53 - 1)]) == b"[9007199254740991,-9007199254740991]"


def test_jcs_rejects_self_referencing_value() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(RunError) as excinfo:
        jcs(loop)
    assert code_of(excinfo) is ErrorCode.MANIFEST_INVALID


# ------------------------------------------------------------------------------------------
# Salts
# ------------------------------------------------------------------------------------------


def test_new_salt_is_16_fresh_bytes() -> None:
    salts = {new_salt() for _ in range(64)}
    assert len(salts) == 64
    assert all(len(s) == SALT_BYTES == 16 for s in salts)


def test_salt_round_trips_through_multibase_base64url() -> None:
    salt = bytes(range(16))
    assert encode_salt(salt) == "uAAECAwQFBgcICQoLDA0ODw"
    assert decode_salt(encode_salt(salt)) == salt
    fresh = new_salt()
    assert decode_salt(encode_salt(fresh)) == fresh


def test_salted_digest_is_digest_multibase_of_salt_then_content() -> None:
    salt = bytes(range(16))
    expected = by_hand(hashlib.sha256(salt + b"yes").hexdigest())
    assert salted_digest(b"yes", salt) == expected


def test_salted_digest_differs_from_unsalted_and_per_salt() -> None:
    a, b = new_salt(), new_salt()
    assert salted_digest(b"yes", a) != digest_multibase(b"yes")
    assert salted_digest(b"yes", a) != salted_digest(b"yes", b)
    assert salted_digest(b"yes", a) == salted_digest(b"yes", a)


@pytest.mark.parametrize("length", [0, 15, 17, 32])
def test_salted_digest_requires_exactly_16_byte_salt(length: int) -> None:
    # A movable boundary would let salt||content[:k] pose as the salt for content[k:].
    with pytest.raises(RunError) as excinfo:
        salted_digest(b"content", bytes(length))
    assert code_of(excinfo) is ErrorCode.MANIFEST_INVALID
    with pytest.raises(RunError):
        encode_salt(bytes(length))


BAD_SALTS = [
    ("wrong prefix", "z" + "1" * 22),
    ("no prefix", "AAECAwQFBgcICQoLDA0ODw"),
    ("padding", "uAAECAwQFBgcICQoLDA0ODw=="),
    ("15 bytes", "u" + base64.urlsafe_b64encode(bytes(15)).decode().rstrip("=")),
    ("17 bytes", "u" + base64.urlsafe_b64encode(bytes(17)).decode().rstrip("=")),
    ("bad character", "uAAECAwQFBgcICQoLDA0OD+"),
    ("non-canonical", "uAAECAwQFBgcICQoLDA0ODx"),
]


@pytest.mark.parametrize(("why", "value"), BAD_SALTS, ids=[w for w, _ in BAD_SALTS])
def test_decode_salt_rejects_with_manifest_invalid(why: str, value: str) -> None:
    with pytest.raises(RunError) as excinfo:
        decode_salt(value)
    assert code_of(excinfo) is ErrorCode.MANIFEST_INVALID


# ------------------------------------------------------------------------------------------
# Streaming file hashing
# ------------------------------------------------------------------------------------------


def test_sha256_file_matches_sha256_of_content(tmp_path: Path) -> None:
    target = tmp_path / "abc.txt"
    target.write_bytes(b"abc")
    assert sha256_file(target) == bytes.fromhex(SHA256_ABC_HEX)
    assert sha256_file(target, chunk_size=1) == bytes.fromhex(SHA256_ABC_HEX)


def test_sha256_file_streams_a_64_mib_file_reporting_every_chunk(tmp_path: Path) -> None:
    size = 64 * 1024 * 1024
    content = bytearray(size)
    for offset in range(0, size, 4 * 1024 * 1024 + 7):
        content[offset : offset + 16] = offset.to_bytes(16, "big")
    target = tmp_path / "big.bin"
    target.write_bytes(content)
    calls: list[int] = []
    digest = sha256_file(target, on_bytes=calls.append)
    assert digest == hashlib.sha256(content).digest()
    assert sum(calls) == size
    assert len(calls) == 64  # one call per default 1 MiB chunk
    assert max(calls) <= 1 << 20


def test_sha256_file_missing_path_is_file_unreadable(tmp_path: Path) -> None:
    missing = tmp_path / "nope.bin"
    with pytest.raises(UsageError) as excinfo:
        sha256_file(missing)
    assert code_of(excinfo) is ErrorCode.FILE_UNREADABLE
    assert str(missing) in excinfo.value.message


def test_sha256_file_refuses_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as excinfo:
        sha256_file(tmp_path)
    assert code_of(excinfo) is ErrorCode.FILE_UNREADABLE


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_sha256_file_refuses_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UsageError) as excinfo:
        sha256_file(fifo)
    assert code_of(excinfo) is ErrorCode.FILE_UNREADABLE


def test_sha256_file_rejects_zero_chunk_size(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(UsageError):
        sha256_file(tmp_path / "f", chunk_size=0)


# ------------------------------------------------------------------------------------------
# Weights: single file
# ------------------------------------------------------------------------------------------


def test_single_file_weights_root_equals_content_digest(tmp_path: Path) -> None:
    target = tmp_path / "model.safetensors"
    target.write_bytes(b"abc")
    result = hash_weights(target)
    assert result.root == DIGEST_ABC == digest_multibase(b"abc")
    assert [f.model_dump() for f in result.files] == [
        {"path": "model.safetensors", "sha256": SHA256_ABC_HEX, "size": 3}
    ]
    assert (result.file_count, result.total_bytes) == (1, 3)


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlink_given_as_the_path_itself_is_followed(tmp_path: Path) -> None:
    (tmp_path / "real.bin").write_bytes(b"abc")
    (tmp_path / "link.bin").symlink_to(tmp_path / "real.bin")
    assert hash_weights(tmp_path / "link.bin").root == DIGEST_ABC


# ------------------------------------------------------------------------------------------
# Weights: directories
# ------------------------------------------------------------------------------------------


def make_tree(root: Path, files: dict[str, bytes], order: list[str] | None = None) -> Path:
    for rel in order or list(files):
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[rel])
    return root


TREE = {
    "config.json": b'{"hidden_size": 8}',
    "shards/model-00001.bin": b"\x00" * 1000,
    "shards/model-00002.bin": b"\x01" * 1001,
    "tokenizer/vocab.txt": b"a\nb\n",
    "a.b": b"dot sorts before slash",
}


def test_directory_root_is_digest_of_jcs_manifest_sorted_by_utf8_path(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    ordered = sorted(TREE, key=lambda p: p.encode("utf-8"))
    entries = ",".join(
        f'{{"path":"{p}","sha256":"{hashlib.sha256(TREE[p]).hexdigest()}","size":{len(TREE[p])}}}'
        for p in ordered
    )
    manifest = ('{"files":[' + entries + "]}").encode()
    result = hash_weights(tmp_path)
    assert result.root == mb(manifest)
    assert [f.path for f in result.files] == ordered
    assert result.file_count == 5
    assert result.total_bytes == sum(len(v) for v in TREE.values())


def test_directory_order_is_utf8_bytes_not_utf16_or_code_points(tmp_path: Path) -> None:
    # U+FF61 is EF BD A1 in UTF-8 and FF61 in UTF-16; U+1F600 is F0 9F 98 80 and D83D DE00.
    # UTF-8 puts U+FF61 first; UTF-16 ordering would put the emoji first.
    halfwidth, emoji = "\uff61.bin", "\U0001f600.bin"
    make_tree(tmp_path, {emoji: b"1", halfwidth: b"2"})
    assert [f.path for f in hash_weights(tmp_path).files] == [halfwidth, emoji]


def test_directory_root_independent_of_creation_order(tmp_path: Path) -> None:
    first = make_tree(tmp_path / "one", TREE, order=list(TREE))
    second = make_tree(tmp_path / "two", TREE, order=list(reversed(list(TREE))))
    assert hash_weights(first).root == hash_weights(second).root


def test_directory_root_independent_of_worker_count(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    assert hash_weights(tmp_path, workers=1) == hash_weights(tmp_path, workers=4)


def test_directory_root_changes_when_a_byte_changes(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    before = hash_weights(tmp_path).root
    data = bytearray(TREE["shards/model-00002.bin"])
    data[500] ^= 0x01
    (tmp_path / "shards/model-00002.bin").write_bytes(data)
    assert hash_weights(tmp_path).root != before


def test_directory_root_changes_when_a_file_is_renamed(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    before = hash_weights(tmp_path).root
    (tmp_path / "tokenizer/vocab.txt").rename(tmp_path / "tokenizer/vocab2.txt")
    assert hash_weights(tmp_path).root != before


def test_directory_root_changes_when_a_file_is_moved_between_directories(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    before = hash_weights(tmp_path).root
    (tmp_path / "tokenizer/vocab.txt").rename(tmp_path / "shards/vocab.txt")
    assert hash_weights(tmp_path).root != before


def test_directory_root_changes_when_a_file_is_added(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    before = hash_weights(tmp_path).root
    (tmp_path / "extra.bin").write_bytes(b"")
    assert hash_weights(tmp_path).root != before


def test_empty_subdirectories_do_not_contribute(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    before = hash_weights(tmp_path).root
    (tmp_path / "empty" / "nested").mkdir(parents=True)
    assert hash_weights(tmp_path).root == before


def test_one_file_directory_uses_the_manifest_not_the_content_digest(tmp_path: Path) -> None:
    make_tree(tmp_path, {"model.bin": b"abc"})
    manifest = f'{{"files":[{{"path":"model.bin","sha256":"{SHA256_ABC_HEX}","size":3}}]}}'
    assert hash_weights(tmp_path).root == mb(manifest.encode())


def test_on_bytes_sums_to_total_across_workers(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    calls: list[int] = []
    result = hash_weights(tmp_path, workers=4, on_bytes=calls.append)
    assert sum(calls) == result.total_bytes


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
@pytest.mark.parametrize("kind", ["file", "directory", "dangling"])
def test_symlink_inside_tree_is_refused_naming_it(tmp_path: Path, kind: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.bin").write_bytes(b"not part of the model")
    tree = make_tree(tmp_path / "model", TREE)
    link = tree / "shards" / "sneaky"
    target = {
        "file": outside / "secret.bin",
        "directory": outside,
        "dangling": outside / "missing",
    }[kind]
    link.symlink_to(target)
    with pytest.raises(UsageError) as excinfo:
        hash_weights(tree)
    assert code_of(excinfo) is ErrorCode.FILE_UNREADABLE
    assert "shards/sneaky" in excinfo.value.message


def test_missing_path_is_file_unreadable(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(UsageError) as excinfo:
        hash_weights(missing)
    assert code_of(excinfo) is ErrorCode.FILE_UNREADABLE
    assert str(missing) in excinfo.value.message


def test_empty_directory_is_manifest_invalid(tmp_path: Path) -> None:
    with pytest.raises(RunError) as excinfo:
        hash_weights(tmp_path)
    assert code_of(excinfo) is ErrorCode.MANIFEST_INVALID
    assert str(tmp_path) in excinfo.value.message


def test_directory_with_only_empty_subdirectories_is_manifest_invalid(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    with pytest.raises(RunError) as excinfo:
        hash_weights(tmp_path)
    assert code_of(excinfo) is ErrorCode.MANIFEST_INVALID


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file"
)
@pytest.mark.parametrize("workers", [1, 4])
def test_unreadable_file_in_tree_is_file_unreadable_naming_it(tmp_path: Path, workers: int) -> None:
    make_tree(tmp_path, TREE)
    locked = tmp_path / "shards/model-00001.bin"
    locked.chmod(0)
    try:
        with pytest.raises(RunError) as excinfo:
            hash_weights(tmp_path, workers=workers)
    finally:
        locked.chmod(0o600)
    assert code_of(excinfo) is ErrorCode.FILE_UNREADABLE
    assert "model-00001.bin" in excinfo.value.message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_non_regular_files_in_tree_are_skipped(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    before = hash_weights(tmp_path).root
    os.mkfifo(tmp_path / "pipe")
    assert hash_weights(tmp_path).root == before


def test_workers_must_be_positive(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    with pytest.raises(UsageError):
        hash_weights(tmp_path, workers=0)


# ------------------------------------------------------------------------------------------
# WeightsDigest as a boundary document
# ------------------------------------------------------------------------------------------


def test_weights_digest_round_trips_through_json(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    result = hash_weights(tmp_path)
    assert WeightsDigest.model_validate_json(result.model_dump_json()) == result


def _tampered(result: WeightsDigest, **changes: object) -> dict[str, object]:
    data = result.model_dump()
    data.update(changes)
    return data


def test_weights_digest_rejects_inconsistent_documents(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    good = hash_weights(tmp_path)
    files = good.model_dump()["files"]
    swapped = [files[1], files[0], *files[2:]]
    grown = [dict(files[0], size=files[0]["size"] + 1), *files[1:]]
    dotted = [dict(files[0], path="./" + files[0]["path"]), *files[1:]]
    mutations: list[dict[str, object]] = [
        _tampered(good, root=DIGEST_ABC),
        _tampered(good, file_count=good.file_count + 1),
        _tampered(good, total_bytes=good.total_bytes + 1),
        _tampered(good, files=swapped),
        _tampered(good, files=grown, total_bytes=good.total_bytes + 1),
        _tampered(good, files=dotted),
        _tampered(good, files=[dict(files[0], sha256=files[0]["sha256"].upper()), *files[1:]]),
        _tampered(good, extra="field"),
        _tampered(good, root="not-a-digest"),
    ]
    for data in mutations:
        with pytest.raises(ValidationError):
            WeightsDigest.model_validate(data)


def test_weights_digest_is_frozen(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    result = hash_weights(tmp_path)
    with pytest.raises(ValidationError):
        setattr(result, "root", DIGEST_ABC)  # noqa: B010 - a static checker may reject plain assignment


def test_verify_weights(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    root = hash_weights(tmp_path).root
    assert verify_weights(tmp_path, root)
    assert not verify_weights(tmp_path, DIGEST_ABC)
    with pytest.raises(RunError) as excinfo:
        verify_weights(tmp_path, "u-not-a-digest")
    assert code_of(excinfo) is ErrorCode.MANIFEST_INVALID


def test_first_failure_stops_the_other_workers_early(tmp_path: Path) -> None:
    # 8 files x 4 MiB = 32 chunks. A failure on the first chunk must not wait for the rest.
    make_tree(tmp_path, {f"shard-{i}.bin": bytes([i]) * (4 << 20) for i in range(8)})
    calls: list[int] = []

    def fail_once(n: int) -> None:
        calls.append(n)
        if len(calls) == 1:
            raise RuntimeError("progress bar broke")

    with pytest.raises(RuntimeError, match="progress bar broke"):
        hash_weights(tmp_path, workers=2, on_bytes=fail_once)
    assert len(calls) < 32
