"""Safe-mode JSON-LD expansion and RDF Dataset Canonicalization (RDFC-1.0).

Data Integrity §4.6 ("Processing") requires that a term which JSON-LD would silently drop is an
error: otherwise a signature "covers" a document while an undefined property rides along unsigned.
pyld has no safe mode of its own, so expansion reports every dropped property to us, and we also
refuse relative IRIs in ``@id`` and ``@type`` (``to_rdf`` drops those triples just as silently).

JSON-LD processing, not hashing or signing, is nearly all the cost of a Data Integrity proof,
so this module does each part of it once:

* pyld expands, with what depends only on the contexts remembered per loader (:class:`_Processor`);
* N-Quads are written straight from that expansion (:func:`to_nquads`), with the dataset
  ``jsonld.to_rdf`` would produce, without the second expansion ``to_rdf`` starts with;
* a verifier's expansion of the whole secured document also gives the unsecured document's
  (:func:`without_entry`).

``tests/test_canonical.py`` checks all three against stock pyld (``jsonld.expand`` +
``jsonld.to_rdf``): the W3C vectors and a randomized corpus of credentials give the same expanded
form, the same quads and the same canonical bytes, and safe mode refuses the same inputs.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from frozendict import frozendict
from pyld import jsonld
from pyld.identifier_issuer import IdentifierIssuer
from pyld.nquads import escape as nquads_escape

from ..errors import ContextError, ErrorCode, RunIdError
from .contexts import DocumentLoader, ProcessingCache, default_loader
from .rdfc import _ABSOLUTE_IRI as _READER_IRI
from .rdfc import canonicalize_distinct_first_degree, canonicalize_nquads

# Safe mode hooks into pyld's private expansion methods (below). A pyld whose internals moved
# could stop reporting dropped terms — a silent fail-open — so refuse any version not proven here.
_PYLD_PROVEN = "3.3."
if not jsonld.__version__.startswith(_PYLD_PROVEN):  # pragma: no cover - guarded by the pin
    raise ImportError(
        f"vc-runid's JSON-LD safe mode is proven on pyld {_PYLD_PROVEN}x, not {jsonld.__version__}"
    )

__all__ = [
    "Expansion",
    "canonicalize",
    "canonicalize_expanded",
    "expand_document",
    "expand_safe",
    "to_nquads",
    "without_entry",
]


#: Embedded contexts cost pyld work that grows with the product of their term definitions and the
#: scoped contexts applied over them (2,000 type-scoped terms on one node: 47 s; 5,000 repeats of
#: the VC context in one ``@context``: 8 s), all before any signature can be checked. Credentials
#: name their contexts by URL and embed a handful of terms at most, so these bounds refuse only
#: documents built to be slow: at most this many term definitions embedded in the whole document
#: (scoped contexts included) ...
MAX_EMBEDDED_TERMS: Final = 512
#: ... at most this many entries in one ``@context`` ...
MAX_CONTEXT_ENTRIES: Final = 16
#: ... and at most this many ``@context`` entries in the whole document (a presentation carries
#: each enclosed credential's own).
MAX_CONTEXTS_IN_DOCUMENT: Final = 256


def _context_limit(message: str) -> RunIdError:
    return ContextError(
        f"{message}: refused rather than processed (a document built to make JSON-LD processing slow)",
        code=ErrorCode.CANONICALIZATION_LIMIT,
    )


def check_context_budget(document: Any) -> None:
    """Refuse (``RUNID_CANONICALIZATION_LIMIT``) a document whose embedded contexts exceed the
    bounds above, by counting alone (iteratively: no recursion on hostile nesting). An embedded
    context repeated verbatim counts once: it is processed once (the VC 1.1 profile embeds the
    run vocabulary in every credential, and a presentation carries several)."""
    terms = entries_seen = 0
    seen: set[str] = set()
    stack: list[tuple[Any, bool]] = [(document, False)]
    while stack:
        value, in_context = stack.pop()
        if isinstance(value, list):
            stack.extend((item, in_context) for item in value if isinstance(item, (dict, list)))
            continue
        if not isinstance(value, dict):
            continue
        if not in_context and "@context" not in value:  # nothing to count here: only descend
            stack.extend([(item, False) for item in value.values() if isinstance(item, (dict, list))])
            continue
        for key, item in value.items():
            if key == "@context":
                entries = item if isinstance(item, list) else [item]
                entries_seen += len(entries)
                if len(entries) > MAX_CONTEXT_ENTRIES:
                    raise _context_limit(f"an @context of {len(entries)} entries (at most {MAX_CONTEXT_ENTRIES})")
                if entries_seen > MAX_CONTEXTS_IN_DOCUMENT:
                    raise _context_limit(f"more than {MAX_CONTEXTS_IN_DOCUMENT} @context entries in one document")
                for entry in entries:
                    if not isinstance(entry, (dict, list)):
                        continue
                    try:
                        fingerprint = json.dumps(entry, sort_keys=True)
                    except (RecursionError, TypeError, ValueError):
                        raise _context_limit("an embedded @context nested too deeply") from None
                    if fingerprint not in seen:
                        seen.add(fingerprint)
                        stack.append((entry, True))
                continue
            if in_context and not key.startswith("@"):
                terms += 1
                if terms > MAX_EMBEDDED_TERMS:
                    raise _context_limit(f"more than {MAX_EMBEDDED_TERMS} term definitions embedded in @context")
            if isinstance(item, (dict, list)):  # scalars hold no @context
                stack.append((item, in_context))


# pyld's test for an absolute IRI (``jsonld._is_absolute_iri``), which decides what to_rdf skips.
_ABSOLUTE_IRI: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")


def _json_copy(value: Any) -> Any:
    """A deep copy of JSON data (what ``copy.deepcopy`` does in ``jsonld.expand``, faster)."""
    kind = type(value)
    if kind is dict:  # strings, most of the values, without a call
        return {key: item if type(item) is str else _json_copy(item) for key, item in value.items()}
    if kind is list:
        return [item if type(item) is str else _json_copy(item) for item in value]
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    return copy.deepcopy(value)


_MISSING: Final = object()

# _Processor._value_template's answer when the string is not a literal (an IRI, a keyword value).
_DELEGATE: Final = frozendict({"": ""})


#: Per processed active context (pyld's unique ``_uuid`` of a frozen context), the term table of
#: :meth:`_Processor._term_entry`: each term a document used, and how its string values expand.
#: What a term expands to depends only on that context, so one lookup replaces pyld's dozen
#: tests per entry. Bounded: a full table is replaced, and all are dropped when there are too many.
_TERM_TABLES: dict[Any, dict[Any, Any]] = {}
_TERM_TABLES_MAX: Final = 1024
_TERM_TABLE_MAX: Final = 50_000


def _term_table(uid: Any) -> dict[Any, Any]:
    table = _TERM_TABLES.get(uid)
    if table is None:
        if len(_TERM_TABLES) >= _TERM_TABLES_MAX:
            _TERM_TABLES.clear()
        table = _TERM_TABLES[uid] = {}
    return table


class _Processor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """pyld's processor, with the work that only depends on the contexts memoized per loader.

    pyld caches a processed context per (active context, context document), but misses in the
    cases a credential always hits: a type-scoped context (``VerifiableCredential``,
    ``DataIntegrityProof``) is applied to a fresh, uncacheable copy of the active context on every
    node, so its dozens of terms are re-defined each time, and an embedded context is first
    re-serialized in pure Python to find it in the cache. After that, most of the time goes to
    expanding the same terms against the same contexts. All of these depend only on the active
    context, which pyld freezes and names with a unique ``_uuid`` once processed, and on the
    term or local context, so this processor remembers them in the loader's ``ProcessingCache``:

    * processed contexts, keyed by (active context, local context, processing flags);
    * expanded IRIs (``_expand_iri``), keyed by (active context, value, base, vocab);
    * for string values, the entries beside ``@value`` (``@type``/``@language``/``@direction``)
      that ``_expand_value`` derives from the term definition.

    Mutable active contexts, which pyld only builds while processing a context, are never cached.
    The root node's active context is kept for :func:`without_entry`.
    """

    def __init__(self, cache: ProcessingCache, on_property_dropped: Any = jsonld.noop) -> None:
        super().__init__(on_property_dropped=on_property_dropped)
        self._cache = cache
        self.root_context: Any = None

    def expand(self, input_: Any, options: Any) -> Any:
        if not isinstance(input_, dict):
            return super().expand(input_, options)
        # jsonld.expand without remote documents or expandContext: defaults, copy, expand, unwrap
        # a lone @graph, make a list. The copy keeps caller-owned objects (an embedded context)
        # out of the processed contexts that are cached.
        options = {
            "isFrame": False,
            "keepFreeFloatingNodes": False,
            "extractAllScripts": False,
            "processingMode": "json-ld-1.1",
            **options,
        }
        active_ctx = self._get_initial_context(options)
        expanded = self._expand(active_ctx, None, _json_copy(input_), options, inside_list=False)
        if isinstance(expanded, dict) and "@graph" in expanded and len(expanded) == 1:
            expanded = expanded["@graph"]
        elif expanded is None:
            expanded = []
        return expanded if isinstance(expanded, list) else [expanded]

    def _expand(
        self,
        active_ctx: Any,
        active_property: Any,
        element: Any,
        options: Any,
        inside_list: bool = False,
        inside_index: bool = False,
        type_scoped_ctx: Any = None,
    ) -> Any:
        if type(element) is str:  # the scalar branch of pyld's _expand, without its preamble
            if not inside_list and (
                active_property is None
                or self._expand_iri(active_ctx, active_property, vocab=True) == "@graph"
            ):
                return None
            return self._expand_value(active_ctx, active_property, element, options)
        return super()._expand(
            active_ctx,
            active_property,
            element,
            options,
            inside_list,
            inside_index,
            type_scoped_ctx,
        )

    def _expand_object(
        self,
        active_ctx: Any,
        active_property: Any,
        expanded_active_property: Any,
        element: Any,
        expanded_parent: Any,
        options: Any,
        inside_list: bool = False,
        type_key: Any = None,
        type_scoped_ctx: Any = None,
    ) -> None:
        """pyld's ``_expand_object``, with a shortcut for the entry most credentials are made of:
        a term with a plain definition (no container, scoped context, reverse or ``@json`` type)
        and a string value. pyld runs a dozen tests per entry to reach the same two steps
        (``_expand`` of the value, ``add_value`` under the term's IRI); here the tests are done
        once per term and active context (:meth:`_term_entry`), and each entry after that is a
        lookup in the context's term table and one small dict.

        Entries are handled in pyld's order (sorted keys). Runs of other entries go to pyld's own
        ``_expand_object`` as they come, which handles each entry on its own, so the result is the
        same, values in the same order. Nodes with ``@nest`` entries (handled after all others)
        and value objects (whose checks span entries) go to pyld whole.
        """
        if active_property is None and self.root_context is None:
            self.root_context = active_ctx
        uid = active_ctx.get("_uuid") if type(active_ctx) is frozendict else None

        def by_pyld(entries: Any) -> None:
            super(_Processor, self)._expand_object(
                active_ctx,
                active_property,
                expanded_active_property,
                entries,
                expanded_parent,
                options,
                inside_list,
                type_key,
                type_scoped_ctx,
            )

        if uid is None or expanded_active_property == "@reverse":
            by_pyld(element)
            return
        table = _term_table(uid)
        plain = 0
        for key, value in element.items():
            entry = table.get(key)
            if entry is None:
                entry = self._term_entry(active_ctx, uid, key)
            if type(entry) is tuple:
                plain += type(value) is str
            elif entry:  # "@nest" or "@value": pyld, whole
                plain = 0
                break
        if not plain:
            by_pyld(element)
            return
        others: dict[str, Any] = {}
        for key in sorted(element):
            value = element[key]
            entry = table.get(key)
            if entry is None:  # the table was replaced while pyld expanded a run of others
                entry = self._term_entry(active_ctx, uid, key)
            if type(entry) is not tuple or type(value) is not str:
                others[key] = value
                continue
            if others:
                by_pyld(others)
                others = {}
            iri, template = entry
            if template is None:
                expanded_value: Any = {"@value": value}
            elif template is _DELEGATE:  # an IRI (@id/@vocab coercion): pyld's own value step
                expanded_value = jsonld.JsonLdProcessor._expand_value(self, active_ctx, key, value, options)
            else:
                expanded_value = {**template, "@value": value}
            values = expanded_parent.get(iri)
            if values is None and iri not in expanded_parent:
                expanded_parent[iri] = [expanded_value]
            elif type(values) is list:
                values.append(expanded_value)
            else:
                jsonld.JsonLdProcessor.add_value(
                    expanded_parent, iri, expanded_value, {"propertyIsArray": True}
                )
        if others:
            by_pyld(others)

    def _prepare_nested_context(self, active_ctx: Any, element: Any, options: Any) -> Any:
        """pyld's, looking for the entries that expand to ``@type`` among those that may: a
        term known to expand to an absolute IRI in this active context (its entry in the term
        table is a tuple) is not one, so it is left out of pyld's loop over every entry."""
        if type(element) is dict and "@context" not in element and type(active_ctx) is frozendict:
            table = _TERM_TABLES.get(active_ctx.get("_uuid"))
            if table is not None:
                get = table.get
                element = {key: value for key, value in element.items() if type(get(key)) is not tuple}
        return super()._prepare_nested_context(active_ctx, element, options)

    def _term_entry(self, active_ctx: Any, uid: str, key: Any) -> Any:
        """What :meth:`_expand_object` does with ``key``'s string values in this active context,
        remembered in the context's term table: ``(iri, template)`` when they take the plain
        path (``template``: None for a bare ``{"@value": x}``, _DELEGATE where the string is an
        IRI, else the entries beside ``@value``); "@nest"/"@value" for those keywords; "" for
        anything else (pyld expands the entry)."""
        iri = self._plain_term(active_ctx, key)
        entry: Any = iri
        if iri and iri not in ("@nest", "@value"):
            template = self._value_template(active_ctx, key)
            entry = (iri, template if template is _DELEGATE or template else None)
        table = _TERM_TABLES.get(uid)
        if table is None or len(table) >= _TERM_TABLE_MAX:
            if len(_TERM_TABLES) >= _TERM_TABLES_MAX:
                _TERM_TABLES.clear()
            table = _TERM_TABLES[uid] = {}  # a new table: callers may hold the old one
        table[key] = entry
        return entry

    def _plain_term(self, active_ctx: Any, key: Any) -> str:
        """The IRI ``key`` expands to if its string values take pyld's plain path in
        ``_expand_object``; "@nest"/"@value" for those keywords; "" for anything else."""
        if type(key) is not str or key == "@context":
            return ""
        iri = self._expand_iri(active_ctx, key, vocab=True)
        if iri in ("@nest", "@value"):
            return str(iri)
        if not isinstance(iri, str) or _ABSOLUTE_IRI.match(iri) is None or jsonld._is_keyword(iri):
            return ""
        get = jsonld.JsonLdProcessor.get_context_value
        mapping = active_ctx["mappings"].get(key)
        if (
            get(active_ctx, key, "@context") is not None
            or get(active_ctx, key, "@container") is not None
            or get(active_ctx, key, "@type") == "@json"
            or (mapping and mapping.get("reverse"))
        ):
            return ""
        return iri

    def _context_key(self, local_ctx: Any) -> str | None:
        """A local context as cache key: its URL, or its JSON text (what pyld's resolver keys on)."""
        if isinstance(local_ctx, str):
            return local_ctx
        known = self._cache.scoped.get(id(local_ctx))
        if known is not None and known[0] is local_ctx:
            return str(known[1])
        try:
            return "\x00" + json.dumps(local_ctx, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):  # not JSON (a Python caller's object): process it uncached
            return None

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: Any,
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        uid = active_ctx.get("_uuid") if type(active_ctx) is frozendict else None
        # `cycles` is only passed when pyld validates a scoped context inside context processing.
        local_key = self._context_key(local_ctx) if uid is not None and cycles is None else None
        if local_key is None:
            return super()._process_context(
                active_ctx,
                local_ctx,
                options,
                override_protected,
                propagate,
                validate_scoped,
                cycles,
            )
        key = (
            uid,
            local_key,
            override_protected,
            propagate,
            validate_scoped,
            options.get("base"),
            options.get("processingMode"),
        )
        processed = self._cache.contexts.get(key)
        if processed is None:
            processed = super()._process_context(
                active_ctx, local_ctx, options, override_protected, propagate, validate_scoped
            )
            if type(processed) is frozendict:
                self._cache.add_context(key, processed, self._scoped_contexts(processed))
        return processed

    @staticmethod
    def _scoped_contexts(processed: Any) -> dict[int, tuple[Any, str]]:
        """The scoped contexts of a processed context's terms, which are the ``local_ctx`` of
        later calls: known by identity (they live as long as the cache holds them, and nothing
        changes them), their JSON text is computed once instead of on every node."""
        scoped: dict[int, tuple[Any, str]] = {}
        for mapping in processed["mappings"].values():
            if mapping and "@context" in mapping and not isinstance(mapping["@context"], str):
                local_ctx = mapping["@context"]
                try:
                    text = json.dumps(local_ctx, sort_keys=True, separators=(",", ":"))
                except (TypeError, ValueError):
                    continue
                scoped[id(local_ctx)] = (local_ctx, "\x00" + text)
        return scoped

    def _expand_iri(
        self,
        active_ctx: Any,
        value: Any,
        base: Any = None,
        vocab: bool = False,
        local_ctx: Any = None,
        defined: Any = None,
    ) -> Any:
        # local_ctx/defined are only given while a context is being defined (a mutable context).
        if local_ctx is None and type(value) is str and type(active_ctx) is frozendict:
            key = (active_ctx.get("_uuid"), value, base, vocab)
            # One lookup (not `in` then `[]`): another thread may empty the table in between.
            expanded = self._cache.iris.get(key, _MISSING)
            if expanded is not _MISSING:
                return expanded
            expanded = super()._expand_iri(active_ctx, value, base, vocab)
            if key[0] is not None:
                self._cache.add_iri(key, expanded)
            return expanded
        return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)

    def _expand_value(self, active_ctx: Any, active_property: Any, value: Any, options: Any) -> Any:
        if type(value) is str and type(active_ctx) is frozendict:
            key = (active_ctx.get("_uuid"), active_property)
            template = self._cache.values.get(key)
            if template is None:
                template = self._value_template(active_ctx, active_property)
                if key[0] is not None:
                    self._cache.add_value(key, template)
            if template is not _DELEGATE:
                return {**template, "@value": value}
        return super()._expand_value(active_ctx, active_property, value, options)

    def _value_template(self, active_ctx: Any, active_property: Any) -> Any:
        """What ``_expand_value`` puts beside a string's ``@value`` for this term, or _DELEGATE
        where it makes the string an IRI (``@id``/``@vocab`` coercion, ``@graph``) or leaves it
        as a keyword's value. The branches are those of ``_expand_value``, in its order."""
        expanded_property = self._expand_iri(active_ctx, active_property, vocab=True)
        if expanded_property in ("@id", "@type", "@graph"):
            return _DELEGATE
        type_ = jsonld.JsonLdProcessor.get_context_value(active_ctx, active_property, "@type")
        if type_ in ("@id", "@vocab") or jsonld._is_keyword(expanded_property):
            return _DELEGATE
        if type_ is not None and type_ != "@none":
            return {"@type": type_}
        template = {}
        language = jsonld.JsonLdProcessor.get_context_value(
            active_ctx, active_property, "@language"
        )
        if language is not None:
            template["@language"] = language
        direction = jsonld.JsonLdProcessor.get_context_value(
            active_ctx, active_property, "@direction"
        )
        if direction is not None:
            template["@direction"] = direction
        return template


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
    return value.startswith("_:") or _ABSOLUTE_IRI.match(value) is not None


def _check_expanded(expanded: list[Any]) -> None:
    # Every node and value object, depth first in document order (the first offender is named).
    stack: list[Any] = [expanded]
    while stack:
        value = stack.pop()
        if type(value) is list:
            # Plain value objects (``{"@value": x}``, most of a credential) have nothing to
            # check: skip a leading run of them here; the rest keeps its depth-first order.
            start = 0
            for item in value:
                if type(item) is dict and len(item) == 1 and "@value" in item:
                    start += 1
                else:
                    break
            stack.extend(reversed(value[start:]) if start else reversed(value))
            continue
        if not isinstance(value, dict):
            continue
        datatype = value.get("@type")
        if "@value" in value and "@id" not in value and not isinstance(datatype, list):
            # A value object: only its datatype can be an IRI, and nothing is nested in it.
            if (
                isinstance(datatype, str)
                and datatype != "@json"
                and not _is_absolute_or_blank(datatype)
            ):
                raise ContextError(
                    f"type {datatype!r} is not defined by any context in @context",
                    code=ErrorCode.UNDEFINED_TERM,
                    detail={"term": datatype},
                )
            continue
        node_id = value.get("@id")
        if isinstance(node_id, str) and not _is_absolute_or_blank(node_id):
            raise ContextError(
                f"relative IRI {node_id!r} used as an identifier (it would be dropped from the "
                "signed data)",
                code=ErrorCode.UNDEFINED_TERM,
                detail={"iri": node_id},
            )
        types = value.get("@type", [])
        for type_iri in types if isinstance(types, list) else [types]:
            if "@value" in value and type_iri == "@json":
                continue
            if isinstance(type_iri, str) and not _is_absolute_or_blank(type_iri):
                raise ContextError(
                    f"type {type_iri!r} is not defined by any context in @context",
                    code=ErrorCode.UNDEFINED_TERM,
                    detail={"term": type_iri},
                )
        children = []
        for key, item in value.items():
            if type(item) is list:
                if len(item) == 1:  # one plain value object (most properties): nothing to check
                    only = item[0]
                    if type(only) is dict and len(only) == 1 and "@value" in only:
                        continue
            elif not isinstance(item, (list, dict)):
                continue
            if key != "@value":
                children.append(item)
        stack.extend(reversed(children))


@dataclass(frozen=True)
class Expansion:
    """A document expanded in safe mode (:func:`expand_document`).

    ``expanded`` is the JSON-LD expanded form. ``top_level`` maps each top-level key of the
    document to the IRI or keyword it expands to in the root node's active context (after its
    type-scoped contexts), for :func:`without_entry`.
    """

    expanded: list[Any]
    top_level: Mapping[str, Any]


#: pyld's context caches are shared mutable state and not thread-safe (under load in the service
#: they produced spurious scoped-context errors). Expansion is CPU-bound Python, so holding a lock
#: costs no parallelism that the GIL would have allowed.
_EXPANSION_LOCK = threading.RLock()


def expand_document(document: dict[str, Any], loader: DocumentLoader | None = None) -> Expansion:
    """Expand ``document`` and fail on any term, type or identifier JSON-LD would drop."""
    with _EXPANSION_LOCK:
        return _expand_document(document, loader)


def _expand_document(document: dict[str, Any], loader: DocumentLoader | None) -> Expansion:
    check_context_budget(document)
    loader = loader or default_loader()
    dropped: list[str] = []

    def on_dropped(term: str | None) -> None:
        dropped.append(str(term))

    processor = _Processor(loader.processing_cache, on_property_dropped=on_dropped)
    try:
        expanded = processor.expand(
            document,
            # base None: pyld would otherwise resolve relative IRIs against an example.org base
            # and they would pass as absolute.
            {"documentLoader": loader, "contextResolver": loader.resolver(), "base": None},
        )
        root = processor.root_context
        top_level = (
            {key: processor._expand_iri(root, key, vocab=True) for key in document}
            if root is not None and isinstance(document, dict)
            else {}
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
    return Expansion(list(expanded), top_level)


def expand_safe(document: dict[str, Any], loader: DocumentLoader | None = None) -> list[Any]:
    """Expand ``document`` and fail on any term, type or identifier JSON-LD would drop."""
    return expand_document(document, loader).expanded


# Top-level keywords that cannot move an entry's values anywhere but under its own IRI.
_PLAIN_KEYWORDS: Final = frozenset({"@context", "@id", "@type"})


def without_entry(expansion: Expansion, key: str) -> list[Any] | None:
    """The expansion of the same document without its top-level entry ``key``, or None.

    A verifier expands the whole secured document (to refuse undefined terms anywhere in it) and
    then needs the unsecured document, which is the same minus ``proof`` (Data Integrity §4.4
    step 2). Expansion handles each entry of a node on its own, so the entry's IRI can be removed
    from the root node instead of expanding everything again, provided that:

    * the document expanded to a single node (no top-level ``@graph``);
    * ``key`` expands to an absolute IRI that no other top-level key expands to, and every other
      key expands to an IRI or to ``@context``/``@id``/``@type`` (no ``@nest``, ``@reverse``,
      ``@included``... that could put values of ``key``'s IRI elsewhere or others' under it);
    * the node keeps a type or a property, so it is not dropped as a lone identifier.

    Otherwise None: expand the unsecured document itself. Neither the types nor the contexts
    depend on ``key`` (an entry that expands to an IRI is not ``@type`` or ``@context``).
    """
    iri = expansion.top_level.get(key)
    if len(expansion.expanded) != 1 or not isinstance(iri, str) or iri.startswith(("@", "_:")):
        return None
    if _ABSOLUTE_IRI.match(iri) is None:
        return None
    for other, expanded_key in expansion.top_level.items():
        if other == key:
            continue
        if expanded_key == iri or not isinstance(expanded_key, str):
            return None
        if expanded_key.startswith("@") and expanded_key not in _PLAIN_KEYWORDS:
            return None
    (node,) = expansion.expanded
    if not isinstance(node, dict) or iri not in node or "@value" in node or "@list" in node:
        return None
    rest = {entry: values for entry, values in node.items() if entry != iri}
    if all(entry == "@id" for entry in rest):
        return None
    return [rest]


# What ``jsonld.to_rdf`` passes to its graph-to-RDF step by default.
_RDF_OPTIONS: Final = {"produceGeneralizedRdf": False, "processingMode": "json-ld-1.1"}
_RDF_TYPE: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RDF_FIRST: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first"
_RDF_REST: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest"
_RDF_NIL: Final = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#nil>"
_RDF_LANGSTRING: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_XSD_STRING: Final = "http://www.w3.org/2001/XMLSchema#string"
_XSD_DOUBLE: Final = "http://www.w3.org/2001/XMLSchema#double"


# IRI -> whether pyld's test calls it absolute: a pure function of the string, remembered
# (bounded) because a credential names the same predicates and subjects over and over.
_ABSOLUTE: dict[str, bool] = {}

# What pyld's N-Quads writer escapes in a literal (``nquads.escape``).
_NQUADS_ESCAPED: Final = re.compile(r'[\\\t\n\r"]')
# Characters a literal cannot hold raw in canonical N-Quads and that pyld's writer leaves raw
# (RDFC-1.0 §A writes them as \b, \f or \u00XX): a line holding one is not canonical as written.
_NOT_CANONICAL_RAW: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Either of the two above: one search decides that a plain literal needs nothing.
_LITERAL_SPECIAL: Final = re.compile(r'[\x00-\x1f\x7f\\"]')
# What the reference N-Quads reader (rdfc.py) accepts as an IRI and as a language tag: an IRI or
# tag outside these makes it refuse the text, so such a dataset takes the reference path.
_NQUADS_IRI: Final = _READER_IRI
_NQUADS_LANGUAGE: Final = re.compile(r"[a-zA-Z]+(?:-[a-zA-Z0-9]+)*")
# IRI -> whether the reference reader accepts it as written (bounded, like _ABSOLUTE).
_WRITABLE: dict[str, bool] = {}
# Expanded property -> its predicate as written (``<iri>``), for the properties whose quads
# _NQuadsWriter writes as is: an absolute IRI by pyld's test (not a blank node or a keyword) that
# the reference reader accepts. Bounded, like _ABSOLUTE.
_PLAIN_PREDICATES: dict[str, str] = {}


def _identifier(value: Any, keyword: str = "@id") -> str:
    """An ``@id`` or ``@type`` entry: expansion leaves None where a term maps to null; the
    second expansion in ``jsonld.to_rdf`` refuses that, so this does too."""
    if not isinstance(value, str):
        raise ContextError(
            f"invalid JSON-LD: {keyword} value must be a string, not {value!r}",
            code=ErrorCode.JSONLD_INVALID,
        )
    return value


class _NQuadsWriter:
    """Expanded JSON-LD → N-Quads, the way ``jsonld.to_rdf`` does it after expanding.

    pyld first flattens the expansion into a node map (``_create_node_map``), then turns each
    node's properties into triples (``_graph_to_rdf``, ``_object_to_rdf``, ``_list_to_rdf``) and
    writes them (``nquads.serialize_nquad``). This class walks the expansion in the same order,
    with the same branches, and writes each triple as soon as it is known instead of building the
    node map first: a node map only merges the properties of nodes with the same ``@id``, and an
    RDF dataset is a set, so the quads are the same. Blank nodes are labelled by pyld's
    ``IdentifierIssuer`` (the labels may be issued in another order; canonicalization renames
    them anyway). What pyld skips is skipped here too: triples whose subject, predicate or object
    is not an absolute IRI by pyld's test, blank-node predicates, graphs named by a relative IRI.
    Literals other than the plain, typed and language-tagged strings of a credential are
    converted by pyld's own ``_object_to_rdf``.
    """

    def __init__(self, prefix: str = "_:b") -> None:
        self.issuer = IdentifierIssuer(prefix)
        self.lines: set[str] = set()
        self.indexed: set[tuple[str, str]] = set()
        self._pyld = jsonld.JsonLdProcessor()
        # Stays True while every line written is, as written, what RDFC-1.0 §A would write for
        # its quad and what the reference reader accepts (see canonicalize_expanded).
        self.canonical = True

    def writable(self, iri: str) -> str:
        """``iri`` between angle brackets; notes when the reference reader would refuse it."""
        known = _WRITABLE.get(iri)
        if known is None:
            if len(_WRITABLE) >= 100_000:
                _WRITABLE.clear()
            known = _WRITABLE[iri] = _NQUADS_IRI.fullmatch(iri) is not None
        if not known:
            self.canonical = False
        return f"<{iri}>"

    def escaped(self, value: str) -> str:
        """A plain literal's text as pyld's writer writes it; notes when RDFC-1.0 would not."""
        if _LITERAL_SPECIAL.search(value) is not None:
            if _NOT_CANONICAL_RAW.search(value) is not None:
                self.canonical = False
            value = nquads_escape(value)
        return value

    @staticmethod
    def is_absolute(value: str) -> bool:
        known = _ABSOLUTE.get(value)
        if known is None:
            if len(_ABSOLUTE) >= 100_000:
                _ABSOLUTE.clear()
            known = _ABSOLUTE[value] = _ABSOLUTE_IRI.match(value) is not None
        return known

    # -- the node map walk (pyld ``_create_node_map``) ------------------------------------------

    def visit(
        self,
        element: Any,
        graph: str,
        subject: str | dict[str, str] | None = None,
        prop: str | None = None,
        items: list[Any] | None = None,
    ) -> None:
        if isinstance(element, list):
            for item in element:
                self.visit(item, graph, subject, prop, items)
            return
        if "@value" in element:
            if items is not None:
                items.append(element)
            elif isinstance(subject, str):
                self.triple(graph, subject, prop, element)
            return
        if "@list" in element:
            members: list[Any] = []
            self.visit(element["@list"], graph, subject, prop, members)
            if items is not None:
                items.append({"@list": members})
            elif isinstance(subject, str):
                self.triple(graph, subject, prop, {"@list": members})
            return
        if "@id" not in element:
            node_id = self.issuer.get_id()
        else:
            node_id = _identifier(element["@id"])
            if node_id.startswith("_:"):
                node_id = self.issuer.get_id(node_id)
        if isinstance(subject, dict):  # reached through @reverse: the triple points back
            self.triple(graph, node_id, prop, subject)
        elif prop:
            reference = {"@id": node_id}
            if items is not None:
                items.append(reference)
            elif isinstance(subject, str):
                self.triple(graph, subject, prop, reference)
        # What each property's quads start with depends on the node, not the property: once.
        subject_text: str | None = None
        node_tail = ""
        if (graph == "@default" or self.is_absolute(graph)) and self.is_absolute(node_id):
            subject_text = node_id if node_id.startswith("_:") else self.writable(node_id)
            node_tail = self.tail(graph)
        # A property whose one value is a plain string (most of a credential) under a predicate
        # already known to be written as is: collected here, written below in one go.
        plain_predicates: list[str] = []
        plain_values: list[str] = []
        for key, objects in element.items():
            if subject_text is not None:
                predicate = _PLAIN_PREDICATES.get(key)
                if predicate is not None and len(objects) == 1:
                    item = objects[0]
                    if type(item) is dict and len(item) == 1:
                        value = item.get("@value")
                        if type(value) is str:
                            plain_predicates.append(predicate)
                            plain_values.append(value)
                            continue
            if key[:1] == "@" and jsonld._is_keyword(key):
                if key == "@id":
                    continue
                elif key == "@reverse":
                    back = {"@id": node_id}
                    for reverse_property, reverse_items in objects.items():
                        for item in reverse_items:
                            self.visit(item, graph, back, reverse_property)
                elif key == "@graph":
                    # jsonld.to_rdf expands its (already expanded) input again, and that drops a
                    # list standing directly in a graph (a "free-floating" value, JSON-LD 1.1 API
                    # §13.1 step 19), with any node inside it. A @graph container can put one there.
                    self.visit([item for item in objects if "@list" not in item], node_id)
                elif key == "@included":
                    self.visit(objects, graph)
                elif key == "@type":
                    for type_iri in objects:
                        if _identifier(type_iri, "@type").startswith("_:"):
                            type_iri = self.issuer.get_id(type_iri)
                        self.triple(graph, node_id, "@type", {"@id": type_iri})
                elif key == "@index":
                    # pyld's node map fails when a node it has already indexed in this graph comes
                    # with an @index again: "conflicting indexes" if it differs, and a TypeError in
                    # its comparison if it does not.
                    if (graph, node_id) in self.indexed:
                        raise ContextError(
                            f"invalid JSON-LD (conflicting indexes): node {node_id} is indexed twice",
                            code=ErrorCode.JSONLD_INVALID,
                        )
                    self.indexed.add((graph, node_id))
                continue
            # a property
            if key.startswith("_:"):
                key = self.issuer.get_id(key)
            # Value objects, most of a credential, are written here directly: what
            # triple() would check for each depends only on the node and the key.
            start, tail = None, ""
            if subject_text is not None and self.is_absolute(key) and not key.startswith("_:"):
                canonical, self.canonical = self.canonical, True
                predicate = self.writable(key)
                if self.canonical:  # written as is: the next node takes the shortcut above
                    if len(_PLAIN_PREDICATES) >= 100_000:
                        _PLAIN_PREDICATES.clear()
                    _PLAIN_PREDICATES[key] = predicate
                self.canonical = self.canonical and canonical
                start, tail = f"{subject_text} {predicate} ", node_tail
            for item in objects:
                if "@value" not in item:
                    self.visit(item, graph, node_id, key)
                elif start is not None:
                    value = item["@value"]
                    if len(item) == 1 and type(value) is str:  # a plain string
                        if _LITERAL_SPECIAL.search(value) is not None:
                            if _NOT_CANONICAL_RAW.search(value) is not None:
                                self.canonical = False
                            value = nquads_escape(value)
                        self.lines.add(f'{start}"{value}"{tail}')
                    else:
                        self.lines.add(start + self.literal(item) + tail)
        if plain_values:
            if _LITERAL_SPECIAL.search("".join(plain_values)) is None:  # nothing to escape in any
                self.lines.update(
                    [
                        f'{subject_text} {predicate} "{value}"{node_tail}'
                        for predicate, value in zip(plain_predicates, plain_values, strict=True)
                    ]
                )
            else:
                for predicate, value in zip(plain_predicates, plain_values, strict=True):
                    self.lines.add(f'{subject_text} {predicate} "{self.escaped(value)}"{node_tail}')

    # -- triples (pyld ``_graph_to_rdf`` and ``_object_to_rdf``) --------------------------------

    def tail(self, graph: str) -> str:
        """The end of a quad in ``graph``."""
        if graph == "@default":
            return " .\n"
        return f" {graph} .\n" if graph.startswith("_:") else f" {self.writable(graph)} .\n"

    def triple(self, graph: str, subject: str, prop: str | None, item: Any) -> None:
        assert prop is not None
        if prop == "@type":
            prop = _RDF_TYPE
        elif prop[:1] == "@" and jsonld._is_keyword(prop):
            return
        if graph != "@default" and not self.is_absolute(graph):
            return
        if not (self.is_absolute(subject) and self.is_absolute(prop)) or prop.startswith("_:"):
            return
        tail = self.tail(graph)
        obj = self.term(item, tail)
        if obj is None:
            return
        s = subject if subject.startswith("_:") else self.writable(subject)
        self.lines.add(f"{s} {self.writable(prop)} {obj}{tail}")

    def term(self, item: Any, tail: str) -> str | None:
        """The object of a triple in N-Quads (``serialize_nquad``), None where to_rdf skips it.

        ``tail`` ends a quad in the triple's graph, for the triples of a list.
        """
        if "@value" in item:
            return self.literal(item)
        if "@list" in item:
            return self.collection(item["@list"], tail)
        node_id = _identifier(item["@id"])
        if node_id.startswith("_:"):
            return str(node_id)
        return self.writable(node_id) if self.is_absolute(node_id) else None

    def literal(self, item: dict[str, Any]) -> str:
        value = item["@value"]
        language = None
        if type(value) is str and len(item) <= 2:
            datatype = item.get("@type")
            if len(item) == 1:
                datatype = _XSD_STRING
            elif datatype is not None and datatype not in ("@json", _XSD_DOUBLE):
                pass
            elif "@language" in item:
                datatype, language = _RDF_LANGSTRING, item["@language"]
            else:
                return self.literal_by_pyld(item)
        else:
            return self.literal_by_pyld(item)
        return self.write_literal(value, datatype, language)

    def literal_by_pyld(self, item: dict[str, Any]) -> str:
        # Numbers, booleans, @json, xsd:double, @index/@direction: pyld's own conversion.
        converted = self._pyld._object_to_rdf(item, self.issuer, [], _RDF_OPTIONS)
        return self.write_literal(
            converted["value"], converted["datatype"], converted.get("language")
        )

    def write_literal(self, value: str, datatype: str, language: str | None) -> str:
        if _LITERAL_SPECIAL.search(value) is not None:
            if _NOT_CANONICAL_RAW.search(value) is not None:
                self.canonical = False
            value = nquads_escape(value)
        text = '"' + value + '"'
        if datatype == _RDF_LANGSTRING:
            if not language:
                self.canonical = False  # written as a plain string; the reference decides
                return text
            if _NQUADS_LANGUAGE.fullmatch(language) is None:
                self.canonical = False
            return text + "@" + language
        if datatype != _XSD_STRING:
            return f"{text}^^{self.writable(datatype)}"
        return text

    def collection(self, members: list[Any], tail: str) -> str:
        """An RDF collection (``_list_to_rdf``): rdf:first/rest through fresh blank nodes."""
        if not members:
            return _RDF_NIL
        head = node = self.issuer.get_id()
        for index, member in enumerate(members):
            obj = self.term(member, tail)
            if obj is None:
                # pyld would write a triple with no object here and fail; safe mode has already
                # refused every relative IRI a list could hold.
                raise ContextError(
                    "invalid JSON-LD: a list member is a relative IRI",
                    code=ErrorCode.JSONLD_INVALID,
                )
            rest = self.issuer.get_id() if index + 1 < len(members) else None
            self.lines.add(f"{node} <{_RDF_FIRST}> {obj}{tail}")
            self.lines.add(f"{node} <{_RDF_REST}> {rest or _RDF_NIL}{tail}")
            if rest is not None:
                node = rest
        return str(head)


def to_nquads(expanded: list[Any]) -> str:
    """N-Quads of an *expanded* document (the output of :func:`expand_safe`), not canonical.

    The same dataset as ``jsonld.to_rdf`` (JSON-LD 1.1 API §4.5, "Deserialize JSON-LD to RDF")
    without its second expansion; see :class:`_NQuadsWriter`. ``expanded`` is not modified.
    """
    return _written(_NQuadsWriter(), expanded)


def _written(writer: _NQuadsWriter, expanded: list[Any]) -> str:
    """The sorted N-Quads ``writer`` writes for ``expanded``; a failure is a typed error."""
    try:
        writer.visit(expanded, "@default")
    except RunIdError:
        raise
    except Exception as exc:
        raise _json_ld_failure(exc) from exc
    return "".join(sorted(writer.lines))


def canonicalize_expanded(expanded: list[Any]) -> str:
    """RDFC-1.0 canonical N-Quads of a document already expanded by :func:`expand_safe`.

    Blank nodes are the only part of a dataset RDFC-1.0 has to decide: with none, the canonical
    form is each quad in canonical N-Quads, sorted (§4.4.3 steps 5-6, the issued-identifier map
    being empty); with exactly one, that node is labelled ``_:c14n0`` whatever its hash (a
    first-degree hash shared with no other node, §4.4.3 step 5.4). Most credentials are one of
    the two (a subject or proof without ``id`` is the one blank node), so when the writer issued
    at most one label — and issues it as ``_:c14n0`` — and every line it wrote is canonical as
    written (:class:`_NQuadsWriter`.canonical: IRIs and language tags the reference reader
    accepts, no character RDFC-1.0 escapes differently), its sorted lines are the canonical form.
    Anything else is canonicalized from the text as before. ``tests/test_fast_path.py`` compares
    both ways with the reference.
    """
    writer = _NQuadsWriter("_:c14n")
    nquads = _written(writer, expanded)
    if writer.canonical and writer.issuer.counter <= 1:
        try:
            nquads.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the reference reader says why
            return canonicalize_nquads(nquads)
        return nquads
    if writer.canonical:
        # More blank nodes: labelled here when no two share a first-degree hash (RDFC-1.0 §4.4.3).
        labelled = canonicalize_distinct_first_degree(writer.lines)
        if labelled is not None:
            return labelled
    return canonicalize_nquads(nquads)


def canonicalize(document: dict[str, Any], loader: DocumentLoader | None = None) -> str:
    """RDFC-1.0 canonical N-Quads of ``document``, in safe mode."""
    return canonicalize_expanded(expand_safe(document, loader))
