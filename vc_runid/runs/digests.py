"""Content digests: the bytes-to-string forms a run declaration commits to.

Everything a run is made of (weights, configuration, prompts, retrieval documents, tool
definitions, input) is recorded in the declaration as a digest, never as content, so the
declaration can be published before the run without disclosing anything. Each digest here is a
*public format*: an auditor with the content and nothing but a SHA-256 implementation, base64 and
an RFC 8785 canonicalizer must be able to recompute it. The exact constructions are therefore
spelled out in the docstrings, and changing one is a breaking change.

    >>> from vc_runid.runs.digests import digest_multibase, digest_sri, salted_digest, decode_salt
    >>> digest_multibase(b"abc")
    'uEiC6eBa_jwHP6kFBQN5driIjsANho5YXepy0EP9h8gAVrQ'
    >>> digest_sri(b"abc")
    'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='
    >>> salt = decode_salt("uAAAAAAAAAAAAAAAAAAAAAA")  # 16 zero bytes; use new_salt() for real
    >>> salted_digest(b"abc", salt) != digest_multibase(b"abc")
    True

Only the functions that take a ``Path`` touch the file system; everything else is a pure function
of its arguments (``new_salt`` reads the OS random source).
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import hmac
import os
import re
import secrets
import stat
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Annotated, Any

import base58
import rfc8785
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from vc_runid._internal.multiformats import max_encoded_length
from vc_runid.errors import ErrorCode, RunError, UsageError

__all__ = [
    "SALT_BYTES",
    "DigestMultibase",
    "FileDigest",
    "WeightsDigest",
    "decode_digest_multibase",
    "decode_salt",
    "digest_multibase",
    "digest_sri",
    "digests_equal",
    "encode_salt",
    "hash_weights",
    "jcs",
    "new_salt",
    "salted_digest",
    "sha256_file",
    "verify_weights",
]

# Multihash header for SHA-256: the multicodec code of sha2-256 (0x12) then the digest length in
# bytes (0x20). Both fit in one unsigned-varint byte, so the header is always exactly these two
# bytes. See https://github.com/multiformats/multihash and VC 2.0 §5.3 "Integrity of Related
# Resources" (digestMultibase).
_MULTIHASH_SHA256 = b"\x12\x20"
_SHA256_LEN = 32

# Multibase prefixes we accept. We *emit* only "u"; "z" (base58btc) is accepted on input because
# other VC implementations emit it for digestMultibase and the digest underneath is identical.
_MB_BASE64URL = "u"
_MB_BASE58BTC = "z"
_BASE64URL_CHARS = re.compile(r"[A-Za-z0-9_-]*")
_BASE58BTC_CHARS = re.compile(r"[1-9A-HJ-NP-Za-km-z]*")

SALT_BYTES = 16
"""Length of every salt, in bytes. Fixed on purpose; see :func:`salted_digest`."""

_DEFAULT_CHUNK = 1 << 20
_MAX_DEFAULT_WORKERS = 8

ByteCallback = Callable[[int], None]


# --------------------------------------------------------------------------------------------
# Plain digests
# --------------------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _multibase_of_sha256(digest: bytes) -> str:
    # Shared by digest_multibase and the file hashers, which already hold the raw digest and must
    # produce exactly what digest_multibase(content) would.
    return _MB_BASE64URL + _b64url(_MULTIHASH_SHA256 + digest)


def digest_multibase(data: bytes) -> str:
    """The VC 2.0 ``digestMultibase`` of ``data``.

    Construction: ``"u" + base64url_without_padding(0x12 0x20 || SHA-256(data))``, i.e. the
    multibase base64url form of the sha2-256 multihash. This is the form VC 2.0 §5.3 uses for
    ``relatedResource`` integrity, so one digest string works both in our run manifest and in any
    generic VC tooling that checks related resources.
    """
    return _multibase_of_sha256(hashlib.sha256(data).digest())


def digest_sri(data: bytes) -> str:
    """The Subresource Integrity form, as VC 2.0 ``digestSRI``: ``"sha256-" + base64(SHA-256)``.

    Standard base64 alphabet *with* padding, as the SRI spec (W3C SRI §3.1) requires; offered so a
    resource fetched by a browser or an SRI-aware client can be checked without multibase.
    """
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _manifest_error(message: str, value: str) -> RunError:
    # The offending value goes in ``detail`` (truncated: it may be attacker-sized) so the message
    # stays readable and the CLI/HTTP layers can still show what was given.
    return RunError(message, code=ErrorCode.MANIFEST_INVALID, detail={"value": value[:120]})


def decode_digest_multibase(value: str) -> bytes:
    """Return the raw 32-byte SHA-256 digest inside a ``digestMultibase`` string.

    Accepts ``u`` (base64url, no padding) and ``z`` (base58btc). Decoding is strict: characters
    outside the alphabet, padding, and non-canonical encodings (e.g. non-zero trailing bits in
    base64url) are rejected, so that exactly one string spells each digest and a digest cannot be
    "changed" in a signed document while still decoding to the same bytes. Anything that is not a
    sha2-256 multihash of the right length is rejected too; we never silently accept a different
    hash function. Raises :class:`RunError` with code ``MANIFEST_INVALID``.
    """
    if not isinstance(value, str):
        raise RunError(
            f"digestMultibase must be a string, got {type(value).__name__}",
            code=ErrorCode.MANIFEST_INVALID,
        )
    if not value:
        raise _manifest_error("digestMultibase is empty", value)
    prefix, body = value[0], value[1:]
    # Refused by length before decoding (base58 decoding is quadratic: a megabyte-long 'z' digest
    # would take minutes). The bound is a sha2-512 multihash, so that one still gets the message
    # naming its hash function below.
    if prefix in (_MB_BASE64URL, _MB_BASE58BTC) and len(body) > max_encoded_length(2 + 64, prefix):
        raise _manifest_error(f"digestMultibase is {len(value)} characters, too long for a digest", value)
    if prefix == _MB_BASE64URL:
        if not _BASE64URL_CHARS.fullmatch(body):
            raise _manifest_error(
                "digestMultibase 'u' value contains characters outside base64url "
                "(padding '=' is not allowed)",
                value,
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as exc:
            raise _manifest_error(f"digestMultibase is not valid base64url: {exc}", value) from exc
        if _b64url(raw) != body:
            raise _manifest_error("digestMultibase is not canonical base64url", value)
    elif prefix == _MB_BASE58BTC:
        if not body or not _BASE58BTC_CHARS.fullmatch(body):
            raise _manifest_error(
                "digestMultibase 'z' value contains characters outside base58btc", value
            )
        raw = base58.b58decode(body)
        if base58.b58encode(raw).decode("ascii") != body:
            raise _manifest_error("digestMultibase is not canonical base58btc", value)
    else:
        raise _manifest_error(
            f"digestMultibase has unsupported multibase prefix {prefix!r} "
            "(expected 'u' base64url or 'z' base58btc)",
            value,
        )
    if len(raw) < 2 or raw[0] != _MULTIHASH_SHA256[0]:
        code = f"0x{raw[0]:02x}" if raw else "nothing"
        raise _manifest_error(
            f"digestMultibase is not a sha2-256 multihash (hash code {code}, expected 0x12)", value
        )
    if raw[1] != _SHA256_LEN:
        raise _manifest_error(
            f"digestMultibase declares a {raw[1]}-byte digest; sha2-256 is 32 bytes", value
        )
    if len(raw) != 2 + _SHA256_LEN:
        raise _manifest_error(
            f"digestMultibase carries {len(raw) - 2} digest bytes; sha2-256 is 32 bytes", value
        )
    return raw[2:]


def _checked_digest(value: str) -> str:
    try:
        decode_digest_multibase(value)
    except RunError as exc:
        raise ValueError(exc.message) from exc
    return value


#: A ``digestMultibase`` field: checked for form (a sha2-256 multihash, canonical multibase) when
#: a model is built, so that "nope" or "u" never stands in a signed declaration or binding as if
#: it were a digest.
DigestMultibase = Annotated[str, AfterValidator(_checked_digest)]


def digests_equal(a: str, b: str) -> bool:
    """Compare two ``digestMultibase`` strings by the digests they encode, in constant time.

    Comparing decoded bytes lets a ``z`` digest from another implementation match our ``u`` one;
    constant time avoids leaking, through timing, how much of an expected digest a guess got
    right. A malformed digest is an error (``MANIFEST_INVALID``), not ``False``: "this document is
    broken" and "these differ" are different findings for a verifier.
    """
    return hmac.compare_digest(decode_digest_multibase(a), decode_digest_multibase(b))


# --------------------------------------------------------------------------------------------
# Canonical JSON
# --------------------------------------------------------------------------------------------


def _find_unrepresentable(value: Any, pointer: str) -> tuple[str, str] | None:
    """Locate the first place JCS cannot represent, as (JSON pointer, reason)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return pointer or "/", f"object key {key!r} is not a string"
            # backslashreplace keeps a lone surrogate from making the error message itself
            # unprintable or un-serializable.
            segment = key.encode("utf-8", "backslashreplace").decode("utf-8")
            where = pointer + "/" + segment.replace("~", "~0").replace("/", "~1")
            if segment != key:
                return where, "object key is not valid Unicode (lone surrogate)"
            found = _find_unrepresentable(item, where)
            if found:
                return found
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _find_unrepresentable(item, f"{pointer}/{index}")
            if found:
                return found
        return None
    try:
        rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        reason = str(exc).encode("utf-8", "backslashreplace").decode("utf-8")
        return pointer or "/", reason
    return None


def jcs(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of ``value``.

    Digests of JSON (configurations, tool definitions, the weights manifest) are taken over these
    bytes so that two parties who hold the same JSON *value* compute the same digest regardless of
    key order, whitespace or number spelling. Values JCS cannot represent (NaN, infinities, integers
    outside ±(2**53 - 1), non-string keys, lone surrogates, non-JSON types) raise ``RunError``
    ``MANIFEST_INVALID`` naming where the problem is, as a JSON pointer.
    """
    try:
        return rfc8785.dumps(value)
    # rfc8785 0.1.4 lets a UnicodeEncodeError escape for a lone surrogate in an object key.
    except (rfc8785.CanonicalizationError, UnicodeError) as exc:
        try:
            located = _find_unrepresentable(value, "")
        except RecursionError:
            located = None
        where, reason = located if located else ("/", str(exc))
        raise RunError(
            f"value cannot be canonicalized with RFC 8785 at {where}: {reason}",
            code=ErrorCode.MANIFEST_INVALID,
            detail={"pointer": where},
        ) from exc
    except RecursionError as exc:
        raise RunError(
            "value cannot be canonicalized with RFC 8785: nested too deeply or self-referencing",
            code=ErrorCode.MANIFEST_INVALID,
        ) from exc


# --------------------------------------------------------------------------------------------
# Salted digests
# --------------------------------------------------------------------------------------------


def new_salt() -> bytes:
    """16 fresh bytes from the OS CSPRNG (``secrets``), one per salted item.

    128 bits makes a per-item dictionary attack (precomputing digests of likely prompts) as hard
    as guessing the salt. Never reuse a salt across items: equal salts would reveal equal content.
    """
    return secrets.token_bytes(SALT_BYTES)


def encode_salt(salt: bytes) -> str:
    """``"u" + base64url_without_padding(salt)``: the multibase form stored next to the digest."""
    _check_salt(salt)
    return _MB_BASE64URL + _b64url(salt)


def decode_salt(s: str) -> bytes:
    """Inverse of :func:`encode_salt`. Strict, like :func:`decode_digest_multibase`, and the
    result must be exactly ``SALT_BYTES`` long; otherwise ``RunError`` ``MANIFEST_INVALID``."""
    if not isinstance(s, str) or not s.startswith(_MB_BASE64URL):
        raise _manifest_error("salt must be a multibase base64url string starting with 'u'", str(s))
    body = s[1:]
    if not _BASE64URL_CHARS.fullmatch(body):
        raise _manifest_error(
            "salt contains characters outside base64url (padding '=' is not allowed)", s
        )
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise _manifest_error(f"salt is not valid base64url: {exc}", s) from exc
    if _b64url(raw) != body:
        raise _manifest_error("salt is not canonical base64url", s)
    if len(raw) != SALT_BYTES:
        raise _manifest_error(f"salt is {len(raw)} bytes; it must be exactly {SALT_BYTES}", s)
    return raw


def _check_salt(salt: bytes) -> None:
    if not isinstance(salt, bytes | bytearray) or len(salt) != SALT_BYTES:
        size = len(salt) if isinstance(salt, bytes | bytearray) else type(salt).__name__
        raise RunError(
            f"salt must be exactly {SALT_BYTES} bytes, got {size}",
            code=ErrorCode.MANIFEST_INVALID,
        )


def salted_digest(content: bytes, salt: bytes) -> str:
    """Digest of ``content`` that cannot be reversed by guessing ``content``.

    Construction (public; an auditor recomputes it):
    ``digest_multibase(salt || content)`` =
    ``"u" + base64url_without_padding(0x12 0x20 || SHA-256(salt || content))``, where ``salt`` is
    the 16 raw salt bytes (not their encoded string), placed directly before the content bytes
    with no separator or length prefix.

    Why: a short prompt like ``"yes"`` has a guessable unsalted digest; with a secret random salt
    the digest reveals nothing until the salt is disclosed together with the content. The salt
    length is fixed at exactly 16 bytes (enforced here and in :func:`decode_salt`) because, with
    no separator, a variable-length salt would let someone move the boundary, re-presenting
    ``salt || content[:k]`` as the salt and ``content[k:]`` as the content under the same digest.
    """
    _check_salt(salt)
    return digest_multibase(bytes(salt) + content)


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def _unreadable(path: Path | str, exc: OSError) -> UsageError:
    if isinstance(exc, FileNotFoundError):
        reason = "does not exist"
    elif isinstance(exc, PermissionError):
        reason = "permission denied"
    elif exc.errno == errno.ELOOP:
        reason = "is a symbolic link (refused)"
    else:
        reason = exc.strerror or str(exc)
    return UsageError(
        f"cannot read {path}: {reason}",
        code=ErrorCode.FILE_UNREADABLE,
        detail={"path": str(path)},
    )


class _Stopped(Exception):
    """Another worker failed; this one gives up early instead of finishing a large file."""


def _hash_regular_file(
    path: Path,
    *,
    chunk_size: int,
    on_bytes: ByteCallback | None,
    follow_symlinks: bool,
    stop: threading.Event | None = None,
) -> tuple[bytes, int]:
    """Stream ``path`` through SHA-256 and return (digest, bytes hashed).

    The size returned is the number of bytes actually hashed, not ``st_size``, so the pair always
    describes the same bytes even if the file changes underneath us.
    """
    # O_NONBLOCK so that a FIFO put where a file was expected fails the regular-file check below
    # instead of blocking forever in open(). O_NOFOLLOW (inside a tree) closes the window between
    # the directory walk seeing a regular file and us opening it: a swapped-in symlink fails with
    # ELOOP rather than being followed out of the tree.
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    try:
        file = open(fd, "rb", buffering=0, closefd=True)  # noqa: SIM115 - closed below
    except OSError as exc:
        os.close(fd)
        raise _unreadable(path, exc) from exc
    with file:
        try:
            mode = os.fstat(file.fileno()).st_mode
        except OSError as exc:
            raise _unreadable(path, exc) from exc
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise UsageError(
                f"cannot hash {path}: {kind}",
                code=ErrorCode.FILE_UNREADABLE,
                detail={"path": str(path)},
            )
        hasher = hashlib.sha256()
        buffer = memoryview(bytearray(chunk_size))
        total = 0
        while True:
            if stop is not None and stop.is_set():
                raise _Stopped
            try:
                n = file.readinto(buffer)
            except OSError as exc:
                raise _unreadable(path, exc) from exc
            if not n:
                break
            # hashlib releases the GIL for buffers this size, which is what makes thread-parallel
            # hashing of several files scale.
            hasher.update(buffer[:n])
            total += n
            if on_bytes is not None:
                on_bytes(n)
    return hasher.digest(), total


def _check_chunk_size(chunk_size: int) -> None:
    if chunk_size < 1:
        raise UsageError(f"chunk_size must be at least 1, got {chunk_size}")


def sha256_file(
    path: Path,
    *,
    chunk_size: int = _DEFAULT_CHUNK,
    on_bytes: ByteCallback | None = None,
) -> bytes:
    """Raw SHA-256 of a file, read in ``chunk_size`` pieces so memory stays flat for any size.

    ``on_bytes(n)`` is called after each chunk with the number of bytes just hashed, so a caller
    (the CLI) can drive a progress bar; the calls sum to the file size. A symlink given here is
    followed: naming it is the caller's explicit choice. Anything that is not a readable regular
    file raises ``RunError`` ``FILE_UNREADABLE`` naming the path.
    """
    _check_chunk_size(chunk_size)
    digest, _ = _hash_regular_file(
        Path(path), chunk_size=chunk_size, on_bytes=on_bytes, follow_symlinks=True
    )
    return digest


def file_digest_multibase(path: Path, *, on_bytes: ByteCallback | None = None) -> tuple[str, int]:
    """(``digest_multibase`` of a file's bytes, bytes hashed), streamed like ``sha256_file``."""
    digest, size = _hash_regular_file(Path(path), chunk_size=_DEFAULT_CHUNK, on_bytes=on_bytes, follow_symlinks=True)
    return _multibase_of_sha256(digest), size


# --------------------------------------------------------------------------------------------
# Weights manifest
# --------------------------------------------------------------------------------------------


class FileDigest(BaseModel):
    """One file of a weights manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(min_length=1, description="POSIX path relative to the manifest root")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="lowercase hex SHA-256")
    size: int = Field(ge=0, description="bytes hashed")


def _manifest_root(files: list[FileDigest]) -> str:
    return digest_multibase(
        jcs({"files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in files]})
    )


class WeightsDigest(BaseModel):
    """What :func:`hash_weights` returns, and what a run manifest may carry about its weights.

    A parsed ``WeightsDigest`` is checked for internal consistency (counts, totals, order, and
    that ``root`` really is the root of ``files``), so one read from an untrusted document cannot
    list files that its root does not commit to.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    root: str
    files: list[FileDigest]
    total_bytes: int = Field(ge=0)
    file_count: int = Field(ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> WeightsDigest:
        if self.file_count != len(self.files):
            raise ValueError(f"file_count is {self.file_count} but {len(self.files)} files listed")
        if self.total_bytes != sum(f.size for f in self.files):
            raise ValueError("total_bytes is not the sum of the file sizes")
        keys = [f.path.encode("utf-8") for f in self.files]
        if keys != sorted(keys) or len(set(keys)) != len(keys):
            raise ValueError("files must be sorted by the UTF-8 bytes of path, without duplicates")
        for f in self.files:
            parts = f.path.split("/")
            if any(part in ("", ".", "..") for part in parts):
                raise ValueError(f"file path {f.path!r} is not a normalized relative POSIX path")
        candidates = [_manifest_root(self.files)]
        if len(self.files) == 1:
            # A single file's root is its plain content digest (see hash_weights); a one-file
            # directory uses the manifest construction. The model cannot tell them apart, so
            # either is accepted for exactly one file.
            candidates.append(_multibase_of_sha256(bytes.fromhex(self.files[0].sha256)))
        try:
            decode_digest_multibase(self.root)
        except RunError as exc:
            raise ValueError(f"root: {exc.message}") from exc
        if not any(digests_equal(self.root, c) for c in candidates):
            raise ValueError("root does not match the listed files")
        return self


def _walk_regular_files(root: Path) -> list[tuple[bytes, str, Path]]:
    """All regular files under ``root`` as (UTF-8 sort key, posix relative path, path), sorted."""
    found: list[tuple[bytes, str, Path]] = []
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError as exc:
            raise _unreadable(directory, exc) from exc
        for entry in entries:
            rel = prefix + entry.name
            try:
                is_link = entry.is_symlink()
                is_dir = not is_link and entry.is_dir(follow_symlinks=False)
                is_file = not is_link and entry.is_file(follow_symlinks=False)
            except OSError as exc:
                raise _unreadable(entry.path, exc) from exc
            if is_link:
                # Following it would let the digest cover bytes outside the declared directory,
                # and make it depend on what the link points to at hashing time.
                raise UsageError(
                    f"refusing symbolic link {rel!r} inside {root}: the weights digest must cover "
                    "only files inside the declared directory; replace it with the file it "
                    "points to",
                    code=ErrorCode.FILE_UNREADABLE,
                    detail={"path": str(entry.path)},
                )
            if is_dir:
                stack.append((Path(entry.path), rel + "/"))
            elif is_file:
                try:
                    key = rel.encode("utf-8")
                except UnicodeEncodeError as exc:
                    # A name that is not valid UTF-8 on disk cannot be written into the JSON
                    # manifest without inventing an encoding for it.
                    raise RunError(
                        f"file name {rel!r} under {root} is not valid UTF-8",
                        code=ErrorCode.MANIFEST_INVALID,
                        detail={"path": str(entry.path)},
                    ) from exc
                found.append((key, rel, Path(entry.path)))
            # Sockets, FIFOs and device nodes have no content to commit to; they are skipped.
    found.sort(key=lambda item: item[0])
    return found


def _locked(on_bytes: ByteCallback | None) -> ByteCallback | None:
    # Workers report progress from their own threads; serialize the calls so the callback never
    # runs concurrently with itself and need not be thread-safe.
    if on_bytes is None:
        return None
    lock = threading.Lock()
    callback = on_bytes

    def report(n: int) -> None:
        with lock:
            callback(n)

    return report


def hash_weights(
    path: Path,
    *,
    workers: int | None = None,
    on_bytes: ByteCallback | None = None,
) -> WeightsDigest:
    """Digest a weights file or a directory of weight shards.

    **Single file** (``path`` is a regular file, or a symlink to one): ``files`` is one entry
    whose ``path`` is the file's name, and ``root = digest_multibase(file bytes)``, so a
    single-file model has the same digest as any other content digest of those bytes.

    **Directory**: every regular file below ``path``, recursively, is hashed; the root is::

        root = digest_multibase(JCS({"files": [
            {"path": <p>, "sha256": <h>, "size": <n>}, ...
        ]}))

    where ``p`` is the file's path relative to ``path`` with components joined by ``"/"`` (no
    leading ``"./"`` or ``"/"``), ``h`` the lowercase hex SHA-256 of its bytes, ``n`` its size in
    bytes as a JSON integer, and entries are sorted by the UTF-8 bytes of ``p``. JCS (RFC 8785)
    fixes member order to ``path``, ``sha256``, ``size`` and removes whitespace, so the hashed
    bytes look like ``{"files":[{"path":"a.bin","sha256":"ba78...","size":3}]}``. File names are
    taken as they are on disk (no Unicode normalization). Empty subdirectories and non-regular
    files (sockets, FIFOs, devices) do not contribute. The root is the same whatever the worker
    count, creation order or file-system iteration order.

    Symlinks inside the directory are refused (``FILE_UNREADABLE``); a symlink given as ``path``
    itself is followed, because naming it is the caller's choice. A missing or unreadable path
    raises ``FILE_UNREADABLE``; a directory with no regular files raises ``MANIFEST_INVALID``.

    Files are hashed in parallel on ``workers`` threads (default ``min(8, os.cpu_count())``);
    ``on_bytes(n)`` is called after each chunk from worker threads, never concurrently.
    """
    if workers is None:
        workers = min(_MAX_DEFAULT_WORKERS, os.cpu_count() or 1)
    if workers < 1:
        raise UsageError(f"workers must be at least 1, got {workers}")
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise _unreadable(path, exc) from exc

    report = _locked(on_bytes)

    if not stat.S_ISDIR(mode):
        digest, size = _hash_regular_file(
            path, chunk_size=_DEFAULT_CHUNK, on_bytes=report, follow_symlinks=True
        )
        entry = FileDigest(path=path.name, sha256=digest.hex(), size=size)
        return WeightsDigest(
            root=_multibase_of_sha256(digest), files=[entry], total_bytes=size, file_count=1
        )

    listing = _walk_regular_files(path)
    if not listing:
        raise RunError(
            f"{path} contains no regular files; an empty directory has no weights to commit to",
            code=ErrorCode.MANIFEST_INVALID,
            detail={"path": str(path)},
        )

    stop = threading.Event()

    def hash_one(file_path: Path) -> tuple[bytes, int]:
        return _hash_regular_file(
            file_path,
            chunk_size=_DEFAULT_CHUNK,
            on_bytes=report,
            follow_symlinks=False,
            stop=stop,
        )

    with ThreadPoolExecutor(max_workers=min(workers, len(listing))) as pool:
        futures: list[Future[tuple[bytes, int]]] = [
            pool.submit(hash_one, file_path) for _, _, file_path in listing
        ]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:  # e.g. KeyboardInterrupt while waiting
            stop.set()
            for future in futures:
                future.cancel()
            raise
        failures = [
            error
            for future in futures
            if future.done() and not future.cancelled()
            for error in [future.exception()]
            if error is not None and not isinstance(error, _Stopped)
        ]
        if failures:
            # First failure wins: stop the files in flight and drop the queued ones, so a bad
            # file early in a 100 GB directory is reported now, not after everything is read.
            stop.set()
            for future in futures:
                future.cancel()
            raise failures[0]
        results = [future.result() for future in futures]

    files = [
        FileDigest(path=rel, sha256=digest.hex(), size=size)
        for (_, rel, _), (digest, size) in zip(listing, results, strict=True)
    ]
    return WeightsDigest(
        root=_manifest_root(files),
        files=files,
        total_bytes=sum(f.size for f in files),
        file_count=len(files),
    )


def verify_weights(path: Path, expected_root: str) -> bool:
    """Whether the weights at ``path`` hash to ``expected_root`` (compared by decoded digest).

    Errors reading the weights, or a malformed ``expected_root``, raise rather than return
    ``False``, for the same reason as :func:`digests_equal`.
    """
    decode_digest_multibase(expected_root)  # fail on a malformed expectation before reading GBs
    return digests_equal(hash_weights(path).root, expected_root)
