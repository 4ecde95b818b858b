"""The offline JSON-LD document loader: pinned contexts only, never the network.

Every context the toolkit emits or accepts ships in ``contexts/`` with its SHA-256 in
``contexts/index.json``. A caller may add contexts explicitly (``--context URL=FILE``, an audit
bundle); anything else is refused with ``RUNID_CONTEXT_NOT_ALLOWED`` before any I/O happens.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final

from cachetools import LRUCache
from pyld.context_resolver import ContextResolver

from ..errors import ContextError, ErrorCode, RunIdError, UsageError
from .files import read_limited

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
ED25519_2020_V1 = "https://w3id.org/security/suites/ed25519-2020/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
DID_V1 = "https://www.w3.org/ns/did/v1"
RUNID_V1 = "https://w3id.org/vc-runid/v1"
#: The vocabulary RUNID_V1 maps its terms into, and the IRIs of the two run credential types.
RUNID_VOCAB = "https://w3id.org/vc-runid#"
DECLARATION_TYPE_IRI = RUNID_VOCAB + "RunDeclarationCredential"
BINDING_TYPE_IRI = RUNID_VOCAB + "RunOutputCredential"

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # vc_runid/, where the wheel puts _contexts


def contexts_dir() -> Path:
    """The shipped contexts: inside the wheel (``vc_runid/_contexts``) or beside a source checkout."""
    for candidate in (_PACKAGE_DIR / "_contexts", _PACKAGE_DIR.parent / "contexts"):
        if (candidate / "index.json").is_file():
            return candidate
    raise ContextError(
        "the pinned JSON-LD contexts are missing from this installation",
        code=ErrorCode.CONTEXT_INVALID,
    )


@cache
def _manifest_entries() -> tuple[Mapping[str, Any], ...]:
    """The entries of ``contexts/index.json``: one per pinned context (url, file, sha256...)."""
    return tuple(json.loads((contexts_dir() / "index.json").read_text())["contexts"])


@cache
def pinned_contexts() -> Mapping[str, Any]:
    """URL → parsed context document, each checked against the digest recorded in the manifest."""
    directory = contexts_dir()
    documents: dict[str, Any] = {}
    for entry in _manifest_entries():
        data = (directory / entry["file"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise ContextError(
                f"pinned context {entry['url']} does not match its recorded sha256",
                code=ErrorCode.CONTEXT_INVALID,
            )
        documents[entry["url"]] = json.loads(data)
    return documents


@cache
def pinned_digests() -> Mapping[str, str]:
    """URL → the SHA-256 the manifest records for each pinned context's file."""
    return {entry["url"]: entry["sha256"] for entry in _manifest_entries()}


def read_shipped_json(name: str) -> Any | None:
    """A JSON file shipped beside the pinned contexts (a table made from them), or None when it
    is missing or not JSON: the caller then makes what it holds itself."""
    try:
        return json.loads((contexts_dir() / name).read_text())
    except (OSError, ValueError, RunIdError):
        return None


@cache
def served_context_bytes() -> Mapping[str, bytes]:
    """URL → the exact bytes that URL serves, for the pinned contexts whose file is known to be
    byte for byte what is published (``servedBytes`` in the manifest). A ``relatedResource`` digest
    of such a context can be checked offline; other pinned files are the same JSON in another
    layout, so no digest of the served bytes can be checked against them."""
    pinned_contexts()  # the files were checked against their recorded sha256
    directory = contexts_dir()
    return {
        entry["url"]: (directory / entry["file"]).read_bytes()
        for entry in _manifest_entries()
        if entry.get("servedBytes") is True
    }


def read_context_file(path: Path) -> Any:
    try:
        document = json.loads(read_limited(path, 1 << 20))  # a FIFO or /dev/zero is refused
    except RunIdError as exc:
        raise ContextError(f"cannot read context file {path}: {exc.message}", code=ErrorCode.CONTEXT_INVALID) from exc
    except ValueError as exc:  # not JSON, not UTF-8, a number Python will not read
        raise ContextError(f"context file {path} is not JSON: {exc}", code=ErrorCode.CONTEXT_INVALID) from exc
    if not isinstance(document, dict) or "@context" not in document:
        raise ContextError(
            f"context file {path} has no top-level @context", code=ErrorCode.CONTEXT_INVALID
        )
    return document


def parse_context_option(option: str) -> tuple[str, Any]:
    """``URL=FILE`` (the CLI's ``--context``) → (url, document)."""
    url, sep, file = option.partition("=")
    if not sep or not url or not file:
        raise UsageError(f"--context expects URL=FILE, got {option!r}", code=ErrorCode.USAGE)
    return url, read_context_file(Path(file))


class ProcessingCache:
    """What ``canonical`` remembers about contexts, for one loader.

    Processing a context is a pure function of the active context it is applied to (which pyld
    freezes and names with a unique ``_uuid``) and of the documents behind the context's URLs.
    Those documents differ between loaders (a caller may supply its own for a URL), so the cache
    is private to a loader. It holds processed contexts, and per processed context the IRI each
    term expands to and how a term's string values expand; nothing about any one document beyond
    the contexts it uses and the terms it names, and never a result of verification. The tables
    are bounded and simply emptied when full.
    """

    # pyld's own resolver cache holds up to 256 contexts x 10 processed variants; stay well below.
    MAX_CONTEXTS = 512
    MAX_IRIS = 100_000  # per table: expanded IRIs, value templates, plain terms

    def __init__(self) -> None:
        self.contexts: dict[tuple[Any, ...], Any] = {}
        self.scoped: dict[int, tuple[Any, str]] = {}  # id(scoped context) -> (it, its cache key)
        self.iris: dict[tuple[Any, ...], Any] = {}
        self.values: dict[tuple[Any, ...], Any] = {}
        self.terms: dict[tuple[Any, ...], str] = {}

    def add_context(
        self, key: tuple[Any, ...], processed: Any, scoped: Mapping[int, tuple[Any, str]]
    ) -> None:
        if len(self.contexts) >= self.MAX_CONTEXTS:
            self.contexts.clear()
            self.scoped.clear()
        self.contexts[key] = processed
        self.scoped.update(scoped)

    def add_iri(self, key: tuple[Any, ...], expanded: Any) -> None:
        if len(self.iris) >= self.MAX_IRIS:
            self.iris.clear()
        self.iris[key] = expanded

    def add_term(self, key: tuple[Any, ...], iri: str) -> None:
        if len(self.terms) >= self.MAX_IRIS:
            self.terms.clear()
        self.terms[key] = iri

    def add_value(self, key: tuple[Any, ...], template: Any) -> None:
        if len(self.values) >= self.MAX_IRIS:
            self.values.clear()
        self.values[key] = template


#: A context supplied beside the pinned ones (``--context``, an audit bundle's, which its author
#: wrote) is processed for every node it scopes over; pyld's cost grows with the product of its
#: scoped contexts and the types a node names (1,000 type-scoped terms: 9 s, 2,000: over a
#: minute). Real vocabularies have many plain terms and few scoped contexts.
MAX_SUPPLIED_SCOPED_CONTEXTS: Final = 64
MAX_SUPPLIED_TERMS: Final = 4096


def _check_supplied(url: str, document: Any) -> None:
    terms = scoped = 0
    stack: list[Any] = [document]
    while stack:  # iterative: a hostile document may nest deeply
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                if key == "@context" and value is not document:
                    scoped += 1
                elif not key.startswith("@"):
                    terms += 1
                stack.append(item)
    if scoped > MAX_SUPPLIED_SCOPED_CONTEXTS or terms > MAX_SUPPLIED_TERMS:
        raise ContextError(
            f"context {url} defines {terms} terms and {scoped} scoped contexts (at most "
            f"{MAX_SUPPLIED_TERMS} and {MAX_SUPPLIED_SCOPED_CONTEXTS}): refused rather than processed",
            code=ErrorCode.CANONICALIZATION_LIMIT,
            detail={"url": url},
        )


class DocumentLoader:
    """A pyld document loader that serves pinned contexts plus explicitly added ones.

    Each loader owns its context cache: pyld's shared cache is keyed by URL only, so a context a
    caller added for one verification must not leak into another that did not add it.
    """

    def __init__(self, extra: Mapping[str, Any] | None = None) -> None:
        pinned = pinned_contexts()
        extra = dict(extra or {})
        for url, document in extra.items():
            if url in pinned and pinned[url] != document:
                raise ContextError(
                    f"{url} is a pinned context; a different document for it is refused",
                    code=ErrorCode.CONTEXT_NOT_ALLOWED,
                )
            if url not in pinned:
                _check_supplied(url, document)
        self._extra = extra
        # A supplied copy of a pinned context that merely compares equal (1 == 1.0 == True) is
        # not what is served: the pinned document is.
        self._documents: dict[str, Any] = {**extra, **pinned}
        self._cache: LRUCache[str, Any] = LRUCache(maxsize=256)
        self.processing_cache = ProcessingCache()

    @property
    def allowed_urls(self) -> frozenset[str]:
        return frozenset(self._documents)

    def with_contexts(self, extra: Mapping[str, Any]) -> DocumentLoader:
        if not extra:
            return self
        return DocumentLoader({**self._extra, **extra})

    def __call__(self, url: str, options: Any = None) -> dict[str, Any]:
        document = self._documents.get(url)
        if document is None:
            raise ContextError(
                f"context {url} is not pinned or supplied; it is refused and was not fetched "
                "(supply it explicitly with --context URL=FILE)",
                code=ErrorCode.CONTEXT_NOT_ALLOWED,
                detail={"url": url},
            )
        # "static" lets pyld keep the processed context, which is most of the cost otherwise.
        return {"contextUrl": None, "documentUrl": url, "document": document, "tag": "static"}

    def resolver(self) -> ContextResolver:
        return ContextResolver(self._cache, self)


@cache
def default_loader() -> DocumentLoader:
    """The shared offline loader of the pinned contexts (see :class:`DocumentLoader`)."""
    return DocumentLoader()
