"""Safe-mode JSON-LD expansion and RDF Dataset Canonicalization (RDFC-1.0).

Data Integrity §4.6 ("Processing") requires that a term which JSON-LD would silently drop is an
error: otherwise a signature "covers" a document while an undefined property rides along unsigned.
pyld has no safe mode of its own, so expansion reports every dropped property to us, and we also
refuse relative IRIs in ``@id`` and ``@type`` (``to_rdf`` drops those triples just as silently).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pyld import jsonld

from ._rdfc import canonicalize_nquads
from .contexts import DocumentLoader, default_loader
from .errors import ContextError, ErrorCode, RunIdError


def _runid_cause(exc: BaseException) -> RunIdError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RunIdError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _json_ld_failure(exc: Exception) -> RunIdError:
    cause = _runid_cause(exc)
    if cause is not None:
        return cause
    code = getattr(exc, "code", None) or type(exc).__name__
    summary = str(getattr(exc, "message", None) or str(exc).splitlines()[0] or code)
    return ContextError(f"invalid JSON-LD ({code}): {summary}", code=ErrorCode.JSONLD_INVALID)


def _is_absolute_or_blank(value: str) -> bool:
    return value.startswith("_:") or jsonld._is_absolute_iri(value)


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        for item in value:
            yield from _nodes(item)
    elif isinstance(value, dict):
        yield value
        for key, item in value.items():
            if key != "@value":
                yield from _nodes(item)


def _check_expanded(expanded: list[Any]) -> None:
    for node in _nodes(expanded):
        node_id = node.get("@id")
        if isinstance(node_id, str) and not _is_absolute_or_blank(node_id):
            raise ContextError(
                f"relative IRI {node_id!r} used as an identifier (it would be dropped from the "
                "signed data)",
                code=ErrorCode.UNDEFINED_TERM,
                detail={"iri": node_id},
            )
        types = node.get("@type", [])
        for type_iri in types if isinstance(types, list) else [types]:
            if "@value" in node and type_iri == "@json":
                continue
            if isinstance(type_iri, str) and not _is_absolute_or_blank(type_iri):
                raise ContextError(
                    f"type {type_iri!r} is not defined by any context in @context",
                    code=ErrorCode.UNDEFINED_TERM,
                    detail={"term": type_iri},
                )


def expand_safe(document: dict[str, Any], loader: DocumentLoader | None = None) -> list[Any]:
    """Expand ``document`` and fail on any term, type or identifier JSON-LD would drop."""
    loader = loader or default_loader()
    dropped: list[str] = []

    def on_dropped(term: str | None) -> None:
        dropped.append(str(term))

    try:
        expanded = jsonld.expand(
            document,
            # base None: pyld would otherwise resolve relative IRIs against an example.org base
            # and they would pass as absolute.
            {"documentLoader": loader, "contextResolver": loader.resolver(), "base": None},
            on_property_dropped=on_dropped,
        )
    except RunIdError:
        raise
    except Exception as exc:  # pyld raises its own JsonLdError and assorted built-ins
        raise _json_ld_failure(exc) from exc
    if dropped:
        raise ContextError(
            f"undefined term(s) {', '.join(repr(t) for t in dropped)}: no context in @context "
            "defines them, so they would not be covered by the signature",
            code=ErrorCode.UNDEFINED_TERM,
            detail={"terms": dropped},
        )
    _check_expanded(expanded)
    return list(expanded)


def canonicalize(document: dict[str, Any], loader: DocumentLoader | None = None) -> str:
    """RDFC-1.0 canonical N-Quads of ``document``, in safe mode."""
    loader = loader or default_loader()
    expanded = expand_safe(document, loader)
    try:
        nquads = jsonld.to_rdf(
            expanded,
            {
                "format": "application/n-quads",
                "documentLoader": loader,
                "contextResolver": loader.resolver(),
            },
        )
    except RunIdError:
        raise
    except Exception as exc:
        raise _json_ld_failure(exc) from exc
    return canonicalize_nquads(nquads)
