"""Decide from what is signed: a document must be exactly in the compacted form its contexts define.

A Data Integrity proof signs the RDF dataset of a document, not its JSON text, and one dataset has
many JSON-LD spellings: a property under its full IRI instead of its term, a node's properties
moved into ``@included`` or split over two places with the same ``@id``, a ``type`` written as an
IRI, a second term an embedded context defines for the same IRI. Each keeps the signature valid
while a verifier that reads JSON keys by name (``validUntil``, ``credentialStatus``, the run's
subject) no longer sees the value the signature covers.

vc-runid therefore accepts a document only in the one spelling a reader can trust
(docs/verification.md, "What is read, and from where"):

1. **compacted**: compacting the document's own expansion with its own ``@context`` gives the
   document back (arrays of one value and the value itself count as the same);
2. **standard terms**: every IRI of the vocabularies vc-runid decides from (credentials, security,
   status lists, runs) is written with the term the pinned context of that vocabulary gives it,
   and those terms mean nothing else;
3. **one place per node**: no ``@included``, ``@reverse`` or ``@nest``; named graphs only where the
   data model puts them (``proof``, a presentation's ``verifiableCredential``); no node described
   in two places;

Under these rules the JSON keys a reader looks up are the signed statements, so every check can keep
reading JSON. The same module classifies documents by their *expanded* types.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, Final

from frozendict import frozendict
from pyld import jsonld

from .._internal.canonical import _EXPANSION_LOCK, Expansion, _Processor, expand_document
from .._internal.contexts import DocumentLoader, default_loader, pinned_digests, read_shipped_json
from ..errors import ContextError, ErrorCode

__all__ = [
    "PRESENTATION_TYPE_IRI",
    "STATUS_LIST_CREDENTIAL_TYPE_IRI",
    "VERIFIABLE_CREDENTIAL_TYPE_IRI",
    "check_compacted",
    "expanded_types",
    "types_of",
]

_CRED: Final = "https://www.w3.org/2018/credentials#"
_SEC: Final = "https://w3id.org/security#"

VERIFIABLE_CREDENTIAL_TYPE_IRI: Final = _CRED + "VerifiableCredential"
PRESENTATION_TYPE_IRI: Final = _CRED + "VerifiablePresentation"
ENVELOPED_CREDENTIAL_TYPE_IRI: Final = _CRED + "EnvelopedVerifiableCredential"
STATUS_LIST_CREDENTIAL_TYPE_IRI: Final = "https://www.w3.org/ns/credentials/status#BitstringStatusListCredential"

#: The contexts whose vocabularies verdicts are decided from. Their terms are the only spellings
#: accepted for their IRIs (rule 2).
_CORE_CONTEXTS: Final = (
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/2018/credentials/v1",
    "https://w3id.org/security/data-integrity/v2",
    "https://w3id.org/security/data-integrity/v1",
    "https://w3id.org/security/suites/ed25519-2020/v1",
    "https://w3id.org/vc/status-list/2021/v1",
    "https://w3id.org/vc-runid/v1",
)

#: Properties whose values are named graphs by the data model (VC 2.0 §4.12, Data Integrity §2.1).
_GRAPH_PROPERTIES: Final = frozenset({_SEC + "proof", _CRED + "verifiableCredential"})

_NODE_KEYWORDS_REFUSED: Final = ("@included", "@reverse", "@nest")

#: The spellings of ``@id`` the pinned contexts define.
_ID_ALIASES: Final = frozenset({"id", "@id"})


def _refuse(message: str, **detail: Any) -> ContextError:
    return ContextError(
        f"{message}; a document must be in the compacted form its contexts define "
        "(docs/verification.md)",
        code=ErrorCode.NOT_COMPACTED,
        detail=detail or None,
    )


# --- rule 2: the standard terms ----------------------------------------------------------------


def _term_definitions(context: Any) -> Iterator[tuple[str, Any]]:
    """(term, definition) pairs of a context document, scoped contexts included."""
    if isinstance(context, list):
        for item in context:
            yield from _term_definitions(item)
        return
    if not isinstance(context, dict):
        return
    for term, definition in context.items():
        if term.startswith("@"):
            continue
        yield term, definition
        if isinstance(definition, dict) and isinstance(definition.get("@context"), (dict, list)):
            yield from _term_definitions(definition["@context"])


def _standard_terms(
    loader: DocumentLoader, *, memoize: bool = True
) -> tuple[Mapping[str, frozenset[str]], Mapping[str, frozenset[str]]]:
    """(IRI → the terms the core contexts give it, term → the IRIs it stands for there).

    ``memoize``: each scoped context is processed once per core context, not once per term it
    defines (that was ~0.1 s of every CLI verification); False is the reference, in tests."""
    processor = jsonld.JsonLdProcessor()
    by_iri: dict[str, set[str]] = {}
    by_term: dict[str, set[str]] = {}
    options = {"documentLoader": loader, "base": None, "processingMode": "json-ld-1.1"}
    for url in _CORE_CONTEXTS:
        if url not in loader.allowed_urls:
            continue
        document = loader(url, {})["document"]
        context = document.get("@context") if isinstance(document, dict) else None
        active = processor._get_initial_context({**options, "contextResolver": loader.resolver()})
        try:
            active = processor.process_context(active, url, {**options, "contextResolver": loader.resolver()})
        except jsonld.JsonLdError:  # pragma: no cover - the pinned contexts process
            continue
        processed: dict[int, Any] | None = {} if memoize else None  # id(scoped context) -> it processed
        for term, _ in _term_definitions(context):
            mapping = active["mappings"].get(term)
            iri = mapping.get("@id") if mapping else None
            if iri is None:
                # A term of a scoped context: expand it with that context applied.
                iri = _scoped_iri(processor, active, context, term, options, loader, processed)
            if not isinstance(iri, str) or iri.startswith("@"):
                continue
            by_iri.setdefault(iri, set()).add(term)
            by_term.setdefault(term, set()).add(iri)
    return (
        {iri: frozenset(terms) for iri, terms in by_iri.items()},
        {term: frozenset(iris) for term, iris in by_term.items()},
    )


def _scoped_iri(
    processor: Any,
    active: Any,
    context: Any,
    term: str,
    options: dict[str, Any],
    loader: DocumentLoader,
    processed: dict[int, Any] | None = None,
) -> str | None:
    for owner, definition in _term_definitions(context):
        scoped = definition.get("@context") if isinstance(definition, dict) else None
        if not isinstance(scoped, dict) or term not in scoped:
            continue
        # ``context`` (and so each scoped context in it) lives as long as ``processed``: ids are stable.
        inner: Any = processed.get(id(scoped), _NOT_MEMOIZED) if processed is not None else _NOT_MEMOIZED
        if inner is _NOT_MEMOIZED:
            try:
                inner = processor.process_context(
                    active, scoped, {**options, "contextResolver": loader.resolver(), "overrideProtected": True}
                )
            except jsonld.JsonLdError:
                inner = None
            if processed is not None:
                processed[id(scoped)] = inner
        if inner is None:
            continue
        mapping = inner["mappings"].get(term)
        if mapping and isinstance(mapping.get("@id"), str):
            return str(mapping["@id"])
    return None


_STANDARD_LOCK = threading.Lock()


@lru_cache(maxsize=8)
def _standard_terms_for(loader: DocumentLoader) -> tuple[Mapping[str, frozenset[str]], Mapping[str, frozenset[str]]]:
    # Every loader serves the pinned core contexts, and nothing else under their URLs, so the
    # table is the one shipped with them when it was made from these very files by this code.
    shipped = _shipped_standard_terms()
    if shipped is not None and loader.allowed_urls.issuperset(_CORE_CONTEXTS):
        return shipped
    with _STANDARD_LOCK:
        return _standard_terms(loader)


#: ``_standard_terms`` of the pinned core contexts, written by ``scripts/standard_terms.py``: a
#: process's first verification reads it instead of processing seven contexts (~15 ms).
STANDARD_TERMS_FILE: Final = "standard-terms.json"
#: Raise it whenever ``_standard_terms`` (or what it calls) changes what it makes: a table made
#: by other code is then not used, and tests/test_signed_form_fast.py asks for a new one.
_STANDARD_TERMS_ALGORITHM: Final = 1


def _standard_terms_origin() -> dict[str, Any]:
    """What the table is made from: the core contexts' files, this code, the pyld it ran on."""
    digests = pinned_digests()
    return {
        "algorithm": _STANDARD_TERMS_ALGORITHM,
        "contexts": {url: digests.get(url, "") for url in _CORE_CONTEXTS},
        "pyld": _pyld_version(),
    }


def _pyld_version() -> str:
    from pyld.__about__ import __version__  # already loaded by pyld.jsonld

    return str(__version__)


def _standard_terms_document(
    terms: tuple[Mapping[str, frozenset[str]], Mapping[str, frozenset[str]]], origin: Mapping[str, Any]
) -> dict[str, Any]:
    """The shipped file's content (sorted, so it is made the same every time)."""
    by_iri, _ = terms
    return {"madeFrom": dict(origin), "termsByIri": {iri: sorted(names) for iri, names in sorted(by_iri.items())}}


def _terms_from_document(
    document: Any, origin: Mapping[str, Any]
) -> tuple[Mapping[str, frozenset[str]], Mapping[str, frozenset[str]]] | None:
    """The table a shipped document holds, or None unless it was made from ``origin``."""
    if not isinstance(document, dict) or document.get("madeFrom") != origin:
        return None
    listed = document.get("termsByIri")
    if not isinstance(listed, dict) or not all(
        isinstance(iri, str) and isinstance(names, list) and all(isinstance(n, str) for n in names)
        for iri, names in listed.items()
    ):
        return None
    by_iri = {iri: frozenset(names) for iri, names in listed.items()}
    by_term: dict[str, set[str]] = {}
    for iri, names in by_iri.items():
        for name in names:
            by_term.setdefault(name, set()).add(iri)
    return by_iri, {term: frozenset(iris) for term, iris in by_term.items()}


@lru_cache(maxsize=1)
def _shipped_standard_terms() -> tuple[Mapping[str, frozenset[str]], Mapping[str, frozenset[str]]] | None:
    return _terms_from_document(read_shipped_json(STANDARD_TERMS_FILE), _standard_terms_origin())


@lru_cache(maxsize=8)
def _accepted_for(loader: DocumentLoader) -> set[tuple[str, str]]:
    """The (IRI, term) pairs rule 2 has accepted with this loader's standard terms: a pure
    function of the pair and those terms, so each is tested once. Bounded in check_compacted."""
    return set()


#: Compaction answers that depend only on a processed (frozen, uniquely named) active context and
#: the *shape* of a value, remembered across documents like the expansion's (canonical.py):
#: (context, IRI, value shape, vocab, base, reverse) -> the term ``_compact_iri`` chooses, and
#: (context, property, literal type) -> True when ``_compact`` writes a plain literal as itself.
#: Bounded; emptied when full. tests/test_signed_form_fast.py compares with pyld's own compaction.
_MEMO_MAX: Final = 100_000
_TERMS: dict[tuple[Any, ...], Any] = {}
_PLAIN_LITERALS: dict[tuple[Any, ...], bool] = {}
_NOT_MEMOIZED: Final = object()
_PLAIN_SHAPE: Final = ("@value",)


def _iri_shape(value: Any) -> Any:
    """What pyld's term selection reads of ``value``, or _NOT_MEMOIZED.

    ``_compact_iri`` reads a value object's keys and its @type/@language/@direction/@index, never
    the literal itself; of an array nothing (it is no object); of None that it is None; of a node
    object without @graph/@list/@index/@preserve whether it has an @id, and which (the @id may
    compact to a term, which makes @vocab the preferred coercion)."""
    if value is None:
        return ()
    kind = type(value)
    if kind is list:
        return ("@array",)
    if kind is dict and "@value" in value:
        if len(value) == 1:
            return _PLAIN_SHAPE
        try:
            shape = tuple(sorted((k, v) for k, v in value.items() if k != "@value"))
            hash(shape)
        except TypeError:
            return _NOT_MEMOIZED
        return ("@value", *shape)
    if kind is dict and not _NODE_SHAPE_KEYWORDS.intersection(value):
        # A node object: term selection reads whether it has an @id and, through that @id's own
        # term, the @id itself; the keywords above (graph, list, index, preserve) it reads more of.
        node_id = value.get("@id")
        if node_id is None or type(node_id) is str:
            return ("@node", "@id" in value, node_id)
    return _NOT_MEMOIZED


_NODE_SHAPE_KEYWORDS: Final = frozenset({"@value", "@list", "@graph", "@index", "@preserve", "@set"})


class _Compactor(_Processor):
    """pyld's compaction, remembering which term it chose for which IRI. It shares the
    expansion's memo of processed contexts (the loader's ``ProcessingCache``), which is most of
    what compaction would otherwise redo per document.

    Only outermost calls count: term selection probes candidate terms by calling itself."""

    memoize = True

    def __init__(self, loader: DocumentLoader) -> None:
        super().__init__(loader.processing_cache)
        self.chosen: set[tuple[str, str]] = set()
        self._depth = 0
        # id(probe value object) -> the active context pyld compacted it with (see _compact_node)
        self._probes: dict[int, Any] = {}

    def _compact_iri(
        self, active_ctx: Any, iri: Any, value: Any = None, vocab: bool = False, base: Any = None, reverse: bool = False
    ) -> Any:
        if self._probes and self._depth == 0 and id(value) in self._probes:
            self._probes[id(value)] = active_ctx
        key: Any = None
        if self.memoize and type(active_ctx) is frozendict and type(iri) is str:
            shape = _iri_shape(value)
            uid = active_ctx.get("_uuid")
            if shape is not _NOT_MEMOIZED and uid is not None:
                key = (uid, iri, shape, vocab, base, reverse)
        term = _TERMS.get(key, _NOT_MEMOIZED) if key is not None else _NOT_MEMOIZED
        if term is _NOT_MEMOIZED:
            self._depth += 1
            try:
                term = super()._compact_iri(active_ctx, iri, value, vocab, base, reverse)
            finally:
                self._depth -= 1
            if key is not None:
                if len(_TERMS) >= _MEMO_MAX:
                    _TERMS.clear()
                _TERMS[key] = term
        if self._depth == 0 and vocab and isinstance(iri, str) and isinstance(term, str) and not iri.startswith("@"):
            self.chosen.add((iri, term))
        return term

    def _compact(self, active_ctx: Any, active_property: Any, element: Any, options: Any) -> Any:
        # The common leaf, {"@value": literal}: once pyld has written it as the bare literal for
        # this (context, property, literal type), it always will (_compact_value reads the
        # literal's type, never the literal).
        if (
            self.memoize
            and type(element) is dict
            and len(element) == 1
            and "@value" in element
            and type(active_ctx) is frozendict
        ):
            literal = element["@value"]
            uid = active_ctx.get("_uuid")
            key = (uid, active_property, type(literal))
            if uid is not None and _PLAIN_LITERALS.get(key):
                return literal
            compacted = super()._compact(active_ctx, active_property, element, options)
            if uid is not None:
                if len(_PLAIN_LITERALS) >= _MEMO_MAX:
                    _PLAIN_LITERALS.clear()
                _PLAIN_LITERALS[key] = compacted is literal
            return compacted
        if self.memoize and type(element) is dict and active_property != "@reverse" and len(element) > _FAST_NODE_MIN:
            compacted = self._compact_node(active_ctx, active_property, element, options)
            if compacted is not _NOT_MEMOIZED:
                return compacted
        return super()._compact(active_ctx, active_property, element, options)

    def _compact_node(self, active_ctx: Any, active_property: Any, element: dict[str, Any], options: Any) -> Any:
        """pyld's compaction of a node object, with its plain literal properties done here.

        A node's properties are compacted one by one in pyld's loop, all with the same active
        context (the node's, after its property- and type-scoped contexts), each through a dozen
        steps. A property whose value is one ``{"@value": literal}`` (most of a credential)
        needs only three: the term (``_compact_iri``, memoized), the value (``_compact``,
        memoized) and ``add_value`` — when the term has no ``@nest`` and no ``@container`` and no
        other property of the node compacts to the same key (then nothing else in pyld's loop
        applies and the order of properties does not matter). pyld compacts the node without
        those properties but one, the probe, whose term lookup tells which active context pyld
        used for the properties; the rest are added with that context. Anything else — a term
        with ``@nest``/``@container``, a key compacted twice, an error — and the node is
        compacted by pyld whole, so the result and the terms chosen are pyld's own.
        ``_NOT_MEMOIZED`` when the node has too few such properties to be worth it.
        """
        plain: dict[str, Any] = {}
        for prop, values in element.items():
            if prop[:1] != "@" and type(values) is list and len(values) == 1:
                item = values[0]
                if (
                    type(item) is dict
                    and len(item) == 1
                    and type(item.get("@value", _NOT_MEMOIZED)) in _PLAIN_LITERAL_TYPES
                ):
                    plain[prop] = item
        if len(plain) < _FAST_NODE_MIN or "@value" in element or "@list" in element:
            return _NOT_MEMOIZED
        # The order the remaining properties are added in does not matter (see above).
        probe_prop = min(plain)
        probe = plain.pop(probe_prop)
        rest = {prop: values for prop, values in element.items() if prop not in plain}
        self._probes[id(probe)] = None
        try:
            rval = super()._compact(active_ctx, active_property, rest, options)
            ctx = self._probes[id(probe)]
        except Exception:  # noqa: BLE001 - pyld decides, on the whole node (below)
            rval = ctx = None
        finally:
            del self._probes[id(probe)]
        if type(rval) is not dict or type(ctx) is not frozendict:
            return super()._compact(active_ctx, active_property, element, options)
        uid = ctx.get("_uuid")
        chosen = self.chosen
        # IRI -> its term, for the IRIs whose string literals this context compacts to
        # themselves under a simple term (all three memoized facts below, known true).
        strings = _STRING_TERMS.get(uid)
        if strings is None:
            if len(_STRING_TERMS) >= _STRING_TABLES_MAX:
                _STRING_TERMS.clear()
            strings = _STRING_TERMS[uid] = {}
        for prop, item in plain.items():
            literal = item["@value"]
            if type(literal) is str:
                term = strings.get(prop)
                if term is not None:
                    if term in rval:
                        return super()._compact(active_ctx, active_property, element, options)
                    chosen.add((prop, term))
                    rval[term] = literal
                    continue
            # _compact_iri and _compact as above, their memo read here (the same keys)
            term = _TERMS.get((uid, prop, _PLAIN_SHAPE, True, None, False), _NOT_MEMOIZED)
            if term is _NOT_MEMOIZED or type(term) is not str:
                term = self._compact_iri(ctx, prop, item, vocab=True, reverse=False)
            else:
                chosen.add((prop, term))
            if term in rval or not _simple_term(ctx, uid, term):
                return super()._compact(active_ctx, active_property, element, options)
            if _PLAIN_LITERALS.get((uid, term, type(literal))):
                rval[term] = literal
            else:
                rval[term] = self._compact(ctx, term, item, options)
            if (
                type(literal) is str
                and type(term) is str
                and _PLAIN_LITERALS.get((uid, term, str))
                and _TERMS.get((uid, prop, _PLAIN_SHAPE, True, None, False)) == term
                and len(strings) < _MEMO_MAX
            ):
                strings[prop] = term
        return rval


#: Per processed context (its ``_uuid``): IRI -> term, where pyld's term choice for the IRI with a
#: plain value (``_TERMS``) is a simple term (``_SIMPLE``) under which a string literal compacts to
#: itself (``_PLAIN_LITERALS``): one lookup instead of three for the common property. Bounded.
_STRING_TERMS: dict[Any, dict[str, str]] = {}
_STRING_TABLES_MAX: Final = 1024


_SIMPLE: dict[tuple[Any, Any], bool] = {}


def _simple_term(ctx: Any, uid: Any, term: Any) -> bool:
    """Whether pyld's loop adds a value under ``term`` as is: no ``@nest``, no ``@container``."""
    key = (uid, term)
    known = _SIMPLE.get(key)
    if known is None:
        mapping = ctx["mappings"].get(term)
        known = not (mapping and mapping.get("@nest")) and (
            jsonld.JsonLdProcessor.get_context_value(ctx, term, "@container") is None
        )
        if uid is not None:
            if len(_SIMPLE) >= _MEMO_MAX:
                _SIMPLE.clear()
            _SIMPLE[key] = known
    return known


#: Nodes with fewer plain literal properties than this are left to pyld whole.
_FAST_NODE_MIN: Final = 4
_PLAIN_LITERAL_TYPES: Final = (str, int, float, bool)


def _compact(
    expanded: list[Any], context: Any, loader: DocumentLoader, *, memoize: bool = True
) -> tuple[Any, set[tuple[str, str]]]:
    compactor = _Compactor(loader)
    compactor.memoize = memoize  # False: pyld's compaction as is (the reference, in tests)
    options = {
        "documentLoader": loader,
        "contextResolver": loader.resolver(),
        "base": None,
        "compactArrays": True,
        "compactToRelative": True,
        "graph": False,
        "skipExpansion": True,
        "activeCtx": False,
        "link": False,
        "extractAllScripts": False,
        "processingMode": "json-ld-1.1",
    }
    active = compactor._get_initial_context(options)
    active = compactor.process_context(active, context, options)
    element = expanded[0] if len(expanded) == 1 else expanded
    return compactor._compact(active, None, element, options), compactor.chosen


# --- rule 1: compacted ------------------------------------------------------------------------


_SCALARS: Final = frozenset({str, int, float, bool})


def _same(written: Any, compacted: Any, path: str) -> str | None:
    """Where ``written`` differs from ``compacted`` (None where they agree), as a JSON path."""
    if isinstance(written, list) and len(written) == 1 and not isinstance(compacted, list):
        return _same(written[0], compacted, path)
    if isinstance(compacted, list) and len(compacted) == 1 and not isinstance(written, list):
        return _same(written, compacted[0], path)
    if isinstance(written, dict) and isinstance(compacted, str) and len(written) == 1 and _ID_ALIASES.intersection(written):
        # A node reference written as an object with only its id: the same statement as the
        # IRI alone, which compaction writes for a term whose values are typed @id.
        return _same(next(iter(written.values())), compacted, path)
    if isinstance(written, dict) and isinstance(compacted, dict):
        if written.keys() != compacted.keys():
            # A key on one side only; the smallest, so the answer never follows the hash seed.
            one_sided = sorted(k for k in written.keys() ^ compacted.keys() if k != "@context" or path)
            if one_sided:
                return f"{path}.{one_sided[0]}" if path else one_sided[0]
        for key, left in written.items():
            if key == "@context" and not path:
                continue
            right = compacted[key]  # on both sides (above)
            kind = type(left)
            if kind is type(right) and kind in _SCALARS:  # the last test below, without a call
                if left != right:
                    return f"{path}.{key}" if path else key
                continue
            where = _same(left, right, f"{path}.{key}" if path else key)
            if where is not None:
                return where
        return None
    if isinstance(written, list) and isinstance(compacted, list):
        if len(written) != len(compacted):
            return path or "."
        for index, (left, right) in enumerate(zip(written, compacted, strict=True)):
            where = _same(left, right, f"{path}[{index}]")
            if where is not None:
                return where
        return None
    if type(written) is not type(compacted) or written != compacted:
        return path or "."
    return None


# --- rule 3: one place per node ---------------------------------------------------------------


def _walk(values: Any, graph: str, seen: dict[tuple[str, str], int], in_graph_property: bool) -> None:
    """Check the expanded form: refused keywords, named graphs, nodes described twice."""
    if isinstance(values, list):
        for value in values:
            _walk(value, graph, seen, in_graph_property)
        return
    if not isinstance(values, dict):
        return
    if "@value" in values:
        return
    if "@list" in values:
        _walk(values["@list"], graph, seen, False)
        return
    if "@set" in values:
        _walk(values["@set"], graph, seen, False)
        return
    for keyword in _NODE_KEYWORDS_REFUSED:
        if keyword in values:
            raise _refuse(f"{keyword} is not accepted", keyword=keyword)
    if "@graph" in values:
        if not in_graph_property:
            raise _refuse("a named graph (@graph) is only accepted as the value of proof or verifiableCredential")
        if any(key not in ("@graph", "@id", "@index") for key in values):
            raise _refuse("a named graph that is also a node is not accepted")
        name = values.get("@id", f"graph#{id(values)}")
        inner: dict[tuple[str, str], int] = {}
        _walk(values["@graph"], str(name), inner, False)
        return
    node_id = values.get("@id")
    if isinstance(node_id, str) and any(key != "@id" for key in values):
        key = (graph, node_id)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            raise _refuse(f"node {node_id} is described in more than one place", id=node_id)
    for prop, value in values.items():
        if prop.startswith("@"):
            continue
        if type(value) is list:
            # the list step above, with value objects (nothing to check) skipped without a call
            for item in value:
                if type(item) is not dict or "@value" not in item:
                    _walk(item, graph, seen, prop in _GRAPH_PROPERTIES)
            continue
        _walk(value, graph, seen, prop in _GRAPH_PROPERTIES)


def check_compacted(
    document: dict[str, Any],
    expansion: Expansion | None = None,
    loader: DocumentLoader | None = None,
    *,
    checked_separately: frozenset[str] = frozenset(),
) -> str:
    """Refuse (``RUNID_NOT_COMPACTED``) a document a JSON reader could read otherwise than its
    signature covers; ``expansion`` is the document's safe-mode expansion, when already made.

    ``checked_separately`` names top-level entries whose values are documents of their own,
    verified and checked on their own (a presentation's ``verifiableCredential``, each with its
    own ``@context``): their values are left out of the comparison, not out of the rules."""
    loader = loader or default_loader()
    if expansion is None:
        expansion = expand_document(document, loader)
    expanded = expansion.expanded
    if len(expanded) != 1 or not isinstance(expanded[0], dict):
        raise _refuse("the document must be a single node (no top-level @graph)")
    _walk(expanded, "", {}, False)
    for key in document:
        if key.startswith("@") and key != "@context":
            raise _refuse(f"top-level {key} is not accepted", keyword=key)
    if checked_separately:
        left_out = {expansion.top_level.get(key) for key in checked_separately if key in document}
        if any(not isinstance(iri, str) or iri.startswith("@") for iri in left_out):
            raise _refuse("an enclosed document is not under its standard term")
        expanded = [{k: v for k, v in expanded[0].items() if k not in left_out}]
        document = {k: v for k, v in document.items() if k not in checked_separately}
    by_iri, by_term = _standard_terms_for(loader)
    with _EXPANSION_LOCK:
        try:
            compacted, chosen = _compact(expanded, document.get("@context"), loader)
        except jsonld.JsonLdError as exc:
            raise _refuse(f"the document cannot be compacted ({exc.code})") from exc
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            # pyld trips on shapes expansion let through (a null @type, say): whatever it is,
            # it is no compacted form, so it is refused, never an internal error.
            raise _refuse(f"the document cannot be compacted ({type(exc).__name__})") from exc
    accepted = _accepted_for(loader)
    breaking = [
        (iri, term)
        for iri, term in (chosen - accepted if accepted else chosen)
        if _breaks_standard_terms(iri, term, by_iri, by_term)
    ]
    if breaking:
        # The same pair is named whatever the set order or the cache holds: the smallest.
        iri, term = min(breaking)
        allowed = by_iri.get(iri)
        if allowed is not None and term not in allowed:
            raise _refuse(f"{iri} is written as {term!r}, not as {' or '.join(sorted(allowed))}", iri=iri, term=term)
        meanings = by_term.get(term, frozenset())
        raise _refuse(f"{term!r} stands for {iri} here, not for {' or '.join(sorted(meanings))}", iri=iri, term=term)
    if len(accepted) + len(chosen) > _MEMO_MAX:
        accepted.clear()
    accepted.update(chosen)  # each pair passed both tests above
    where = _same(_without_copied_proof_contexts(document), compacted, "")
    if where is not None:
        raise _refuse(f"{where!r} is not written as its context defines", path=where)
    return "in the compacted form its contexts define"


def _breaks_standard_terms(
    iri: str, term: str, by_iri: Mapping[str, frozenset[str]], by_term: Mapping[str, frozenset[str]]
) -> bool:
    """Rule 2: an IRI of the core vocabularies is written with its own term, and such a term
    stands for nothing else (a compact IRI ``prefix:suffix`` is no term)."""
    allowed = by_iri.get(iri)
    if allowed is not None and term not in allowed:
        return True
    meanings = by_term.get(term)
    return meanings is not None and iri not in meanings and ":" not in term


def _without_copied_proof_contexts(document: dict[str, Any]) -> dict[str, Any]:
    """A JCS proof carries a copy of the document's ``@context`` (vc-di-eddsa §3.3.1 step 2,
    vc-di-ecdsa §3.4.1 step 2). Applying the contexts already in force once more defines no term
    differently, so that copy is no second reading; any other ``@context`` in a proof still is."""
    context, proof = document.get("@context"), document.get("proof")

    def strip(entry: Any) -> Any:
        if isinstance(entry, dict) and "@context" in entry and entry["@context"] == context:
            return {k: v for k, v in entry.items() if k != "@context"}
        return entry

    if proof is None:
        return document
    return {**document, "proof": [strip(p) for p in proof] if isinstance(proof, list) else strip(proof)}


def expanded_types(expansion: Expansion) -> frozenset[str]:
    """The type IRIs of the document's top-level node."""
    if len(expansion.expanded) != 1 or not isinstance(expansion.expanded[0], dict):
        return frozenset()
    types = expansion.expanded[0].get("@type", [])
    return frozenset(t for t in types if isinstance(t, str))


def types_of(secured: dict[str, Any] | str, loader: DocumentLoader | None = None) -> frozenset[str]:
    """The expanded type IRIs of a credential *before* it is verified, to choose how to verify it
    (a JWT or an enveloped credential is decoded, not checked). Empty when it cannot be read:
    the verification that follows says why."""
    from ..errors import RunIdError
    from .secured import SecuredCredential

    try:
        return SecuredCredential.parse(secured).expanded_types(loader)
    except RunIdError:
        return frozenset()
