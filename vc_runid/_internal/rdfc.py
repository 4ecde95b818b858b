"""RDF Dataset Canonicalization (RDFC-1.0) of N-Quads text.

Canonicalization is nearly all of the cost of creating or checking a Data Integrity proof, so
there are two interchangeable implementations behind one function:

* :func:`canonicalize_nquads_reference`: pyld's URDNA2015 (pure Python, slow), with the three
  places where pyld 3.3 departs from RDFC-1.0 corrected (listed below).
* :func:`canonicalize_nquads_fast`: pyoxigraph's RDFC-1.0 (Rust). Its output is the same bytes as
  the reference's. For the few inputs where pyoxigraph would differ, it calls the reference
  (see :func:`_plan`). So choosing a path changes the speed, never the bytes.

:func:`canonicalize_nquads` picks one of the two once, at import.

Where the implementations disagree, and what this module does about it (``tests/test_rdfc.py``
has a regression test for each):

1. **pyld's N-Quads reader corrupts data**, so the reference does not use it. It un-escapes in the
   wrong order (the value ``C:\\new`` comes back as ``C:\\`` + newline + ``ew``). It splits lines
   with ``str.splitlines``, so a literal containing U+2028, U+0085, U+000B, U+000C or
   U+001C–U+001E breaks the quad in two. It ignores ``\\u``/``\\U``. And it keeps input labels
   that already start with ``_:c14n``, which can give two different blank nodes the same
   canonical label. :func:`_parse_nquads` replaces it and gives pyld's algorithm a dataset, just
   as ``jsonld.normalize`` does when it is called on JSON-LD.
2. **Literal escaping.** pyld 3.3 writes URDNA2015's older form: it escapes only ``\\ " LF CR
   TAB`` and writes every other character as is. RDFC-1.0 §A ("A Canonical form of N-Quads") also
   requires ``\\b``, ``\\f``, and ``\\u00XX`` (upper-case hex) for the remaining C0 controls and
   U+007F. The spec's URDNA2015 appendix names this exact difference; rdf-canonize (jsonld.js) and
   pyoxigraph follow RDFC-1.0. The hashes are computed over this serialization (§4.6), so the
   reference uses RDFC-1.0 escaping both when it hashes and when it writes the output.
   pyoxigraph also escapes U+FFFE and U+FFFF, which §A says must be written as is, so inputs
   containing either go to the reference.
3. **The mention set** (RDFC-1.0 §4.4.3 step 2, "the quads in which they appear"). pyld lists a
   quad once for each position a blank node holds in it (``_:x <p> _:x .``), so that quad is hashed
   twice. The reference keeps a set, as rdf-canonize and pyoxigraph do (:class:`_Rdfc10`).
4. **Repeated entries in Hn** (§4.8.3 step 3.1.2). rdf-canonize and pyld append a related blank
   node to the list once per quad that relates it, so the same node can appear twice for one hash
   (e.g. two quads in a graph named by a blank node). pyoxigraph keeps a set. The reference
   follows rdf-canonize. pyoxigraph is used only if no Hn could repeat an entry or if no two
   blank nodes share a first-degree hash: without such a tie, §4.8 never runs.
5. **Language tags.** pyoxigraph lower-cases them; pyld and rdf-canonize keep them as written.
   In a quad without blank nodes the original spelling is put back after canonicalization. In a
   quad with a blank node the tag is part of what gets hashed, so the reference is used.
6. **Syntax.** pyoxigraph also reads RDF 1.2 (triple terms, ``@lang--dir``) and checks IRIs
   (RFC 3987) and language tags (BCP 47) more strictly than the N-Quads 1.1 grammar. Such inputs
   go to the reference, which decides whether they are valid.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from pyld.canon import URDNA2015

from vc_runid.errors import ContextError, ErrorCode

try:
    import pyoxigraph as _ox
except ImportError:  # pragma: no cover - pyoxigraph is a declared dependency
    _ox = None  # type: ignore[assignment]

__all__ = [
    "ACTIVE_IMPLEMENTATION",
    "canonicalize_distinct_first_degree",
    "canonicalize_nquads",
    "canonicalize_nquads_fast",
    "canonicalize_nquads_reference",
]

_XSD_STRING: Final = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANGSTRING: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

# pyld's dataset shape: {"type": "IRI" | "blank node" | "literal", "value": ..., ...} per term.
Term = dict[str, str]
Triple = dict[str, Term]
PyldDataset = dict[str, list[Triple]]

# --- N-Quads 1.1 grammar (https://www.w3.org/TR/n-quads/#sec-grammar) --------------------------

_PN_CHARS_BASE: Final = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U: Final = _PN_CHARS_BASE + "_:"
_PN_CHARS: Final = _PN_CHARS_U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_UCHAR: Final = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
# Runs of plain characters are matched whole (possessively): one step per character is slow.
_IRIREF: Final = r'<((?:[^\x00-\x20<>"{}|^`\\]++|' + _UCHAR + r")*+)>"
_BNODE: Final = f"_:([{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)"
_STRING: Final = r'"((?:[^"\\\n\r]++|\\[tbnrf"\'\\]|' + _UCHAR + r')*+)"'
_LANGTAG: Final = r"@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*)"
_WS: Final = r"[ \t]*"

# Groups: 1 subject IRI, 2 subject bnode, 3 predicate, 4 object IRI, 5 object bnode,
# 6 literal, 7 datatype, 8 language, 9 graph IRI, 10 graph bnode.
# Compiled on first use (the reference parser only): compiling it takes ~25 ms of every CLI start.
@functools.cache
def _quad() -> re.Pattern[str]:
    return re.compile(
        f"{_WS}(?:{_IRIREF}|{_BNODE}){_WS}{_IRIREF}{_WS}"
        f"(?:{_IRIREF}|{_BNODE}|{_STRING}(?:{_WS}\\^\\^{_WS}{_IRIREF}|{_WS}{_LANGTAG})?){_WS}"
        f"(?:(?:{_IRIREF}|{_BNODE}){_WS})?\\.{_WS}(?:#.*)?"
    )
_BLANK_LINE: Final = re.compile(f"{_WS}(?:#.*)?")
_EOL: Final = re.compile(r"\r\n|\r|\n")
_ESCAPE: Final = re.compile(r'\\(?:([tbnrf"\'\\])|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))')
_ECHAR: Final = {
    "t": "\t",
    "b": "\b",
    "n": "\n",
    "r": "\r",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}
# An IRI is absolute (RFC 3987 §2.2 scheme) and, once UCHARs are decoded, still writable
# between angle brackets without escapes (RDFC-1.0 §A writes IRIs as they are).
_ABSOLUTE_IRI: Final = re.compile(r'[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20<>"{}|^`\\]*')

# RDFC-1.0 §A: BS HT LF FF CR " \ as ECHAR, the other C0 controls and DEL as upper-case UCHAR,
# every other character as itself.
_RDFC_ESCAPES: Final = {code: f"\\u{code:04X}" for code in [*range(0x20), 0x7F]} | {
    0x08: "\\b",
    0x09: "\\t",
    0x0A: "\\n",
    0x0C: "\\f",
    0x0D: "\\r",
    0x22: '\\"',
    0x5C: "\\\\",
}


def _invalid(line_number: int, reason: str) -> ContextError:
    return ContextError(
        f"invalid N-Quads at line {line_number}: {reason}",
        code=ErrorCode.JSONLD_INVALID,
        detail={"line": line_number},
    )


def _unescape(text: str, line_number: int) -> str:
    """Decode ECHAR and UCHAR in one pass; refuse escapes of surrogates or beyond U+10FFFF."""
    if "\\" not in text:
        return text

    def decode(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return _ECHAR[match.group(1)]
        code_point = int(match.group(2) or match.group(3), 16)
        if 0xD800 <= code_point <= 0xDFFF or code_point > 0x10FFFF:
            raise _invalid(line_number, f"escape {match.group(0)} is not a Unicode scalar value")
        return chr(code_point)

    return _ESCAPE.sub(decode, text)


def _iri(raw: str, line_number: int, known: dict[str, str]) -> Term:
    """An IRI term; ``known`` remembers IRIs already checked (predicates repeat on every line)."""
    value = known.get(raw)
    if value is None:
        value = _unescape(raw, line_number)
        if _ABSOLUTE_IRI.fullmatch(value) is None:
            raise _invalid(line_number, f"<{raw}> is not an absolute IRI")
        known[raw] = value
    return {"type": "IRI", "value": value}


def _parse_nquads(nquads: str) -> PyldDataset:
    """Parse N-Quads 1.1 into pyld's dataset shape: graph name -> list of triples.

    Blank nodes get fresh labels ``_:r<n>``. The canonical form does not depend on input labels,
    and pyld would not rename a label that already starts with ``_:c14n``. Duplicate quads are
    dropped, because an RDF dataset is a set.
    """
    try:
        nquads.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ContextError(
            "N-Quads text is not valid Unicode (lone surrogate)", code=ErrorCode.JSONLD_INVALID
        ) from exc
    labels: dict[str, str] = {}
    iris: dict[str, str] = {}

    def bnode(label: str) -> Term:
        fresh = labels.get(label)
        if fresh is None:
            fresh = labels[label] = f"_:r{len(labels)}"
        return {"type": "blank node", "value": fresh}

    dataset: PyldDataset = {}
    seen: set[tuple[str, ...]] = set()
    for line_number, line in enumerate(_EOL.split(nquads), start=1):
        match = _quad().fullmatch(line)
        if match is None:
            if _BLANK_LINE.fullmatch(line) is not None:
                continue
            raise _invalid(line_number, "not a quad")
        s_iri, s_bn, p, o_iri, o_bn, o_lex, o_dt, o_lang, g_iri, g_bn = match.groups()
        subject = _iri(s_iri, line_number, iris) if s_iri is not None else bnode(s_bn)
        obj: Term
        if o_iri is not None:
            obj = _iri(o_iri, line_number, iris)
        elif o_bn is not None:
            obj = bnode(o_bn)
        else:
            obj = {"type": "literal", "value": _unescape(o_lex, line_number)}
            if o_lang is not None:
                obj["datatype"] = _RDF_LANGSTRING
                obj["language"] = o_lang
            elif o_dt is not None:
                obj["datatype"] = _iri(o_dt, line_number, iris)["value"]
                if obj["datatype"] == _RDF_LANGSTRING:
                    raise _invalid(line_number, "rdf:langString literal without a language tag")
            else:
                obj["datatype"] = _XSD_STRING
        if g_iri is not None:
            graph = _iri(g_iri, line_number, iris)["value"]
        elif g_bn is not None:
            graph = bnode(g_bn)["value"]
        else:
            graph = "@default"
        predicate = _iri(p, line_number, iris)
        key = (graph, *subject.values(), predicate["value"], *obj.values())
        if key not in seen:
            seen.add(key)
            dataset.setdefault(graph, []).append(
                {"subject": subject, "predicate": predicate, "object": obj}
            )
    return dataset


def _write_term(term: Term, label: Callable[[str], str]) -> str:
    """One term in canonical N-Quads form (RDFC-1.0 §A)."""
    kind = term["type"]
    if kind == "IRI":
        return f"<{term['value']}>"
    if kind == "blank node":
        return label(term["value"])
    text = '"' + term["value"].translate(_RDFC_ESCAPES) + '"'
    if term["datatype"] == _RDF_LANGSTRING:
        return f"{text}@{term['language']}"
    if term["datatype"] != _XSD_STRING:
        return f"{text}^^<{term['datatype']}>"
    return text


def _write_quad(quad: Triple, label: Callable[[str], str]) -> str:
    parts = [_write_term(quad[key], label) for key in ("subject", "predicate", "object")]
    if "name" in quad:
        parts.append(_write_term(quad["name"], label))
    return " ".join(parts) + " .\n"


def _same(value: str) -> str:
    return value


#: How many times Hash N-Degree Quads (RDFC-1.0 §4.8) may run for one dataset. Blank nodes that
#: the first-degree hash cannot tell apart make that step explore permutations, exponentially in a
#: "poison graph" (RDFC-1.0 §6, Security Considerations: a 3.5 KB credential with two 9-node
#: cliques took 78 s). Credentials have few such ties; a dataset over the budget is refused.
MAX_N_DEGREE_CALLS: Final = 4096
#: How deep Hash N-Degree Quads may recurse (§4.8.3 step 5.4.5.1 recurses into related blank nodes
#: that have no canonical label yet). A chain of look-alike blank nodes — an RDF list of identical
#: items — recurses once per link; past this depth the dataset is refused like one over the call
#: budget, long before Python's own recursion limit would end the process's request with a crash.
MAX_N_DEGREE_DEPTH: Final = 128


class _Rdfc10(URDNA2015):  # type: ignore[misc]
    """pyld's URDNA2015 corrected to RDFC-1.0 (divergences 2 and 3 in the module docstring).

    pyld keeps the orchestration, Hash Related Blank Node and Hash N-Degree Quads. This class
    replaces Hash First Degree Quads (§4.6), the only step that hashes literals, and writes the
    output itself, both with RDFC-1.0 §A escaping. It also makes each blank node's quad list a
    set before first use.
    """

    n_degree_calls = 0
    n_degree_depth = 0

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        self.n_degree_calls += 1
        if self.n_degree_calls > MAX_N_DEGREE_CALLS:
            raise ContextError(
                f"canonicalization needs more than {MAX_N_DEGREE_CALLS} n-degree hashing steps "
                "(many blank nodes that look alike: a poison graph); refused",
                code=ErrorCode.CANONICALIZATION_LIMIT,
            )
        if self.n_degree_depth >= MAX_N_DEGREE_DEPTH:
            raise ContextError(
                f"canonicalization would recurse deeper than {MAX_N_DEGREE_DEPTH} n-degree hashing "
                "steps (a long chain of blank nodes that look alike, such as a list of identical "
                "items); refused",
                code=ErrorCode.CANONICALIZATION_LIMIT,
            )
        self.n_degree_depth += 1
        try:
            return super().hash_n_degree_quads(id_, issuer)
        finally:
            self.n_degree_depth -= 1

    def canonical_nquads(self, dataset: PyldDataset) -> str:
        """Canonical N-Quads of ``dataset`` (which pyld relabels in place)."""
        self.main(dataset, {"format": "application/n-quads"})  # labels issued; text discarded
        return "".join(sorted(_write_quad(quad, _same) for quad in self.quads))

    def _quads_once(self, id_: str) -> list[Triple]:
        info = self.blank_node_info[id_]
        if "unique" not in info:
            info["quads"] = list({id(quad): quad for quad in info["quads"]}.values())
            info["unique"] = True
        quads: list[Triple] = info["quads"]
        return quads

    def hash_first_degree_quads(self, id_: str) -> str:
        info = self.blank_node_info[id_]
        if "hash" not in info:

            def a_or_z(label: str) -> str:
                return "_:a" if label == id_ else "_:z"

            nquads = sorted(_write_quad(quad, a_or_z) for quad in self._quads_once(id_))
            info["hash"] = hashlib.sha256("".join(nquads).encode("utf-8")).hexdigest()
        digest: str = info["hash"]
        return digest

    def create_hash_to_related(self, id_: str, issuer: Any) -> dict[str, list[str]]:
        self._quads_once(id_)
        related: dict[str, list[str]] = super().create_hash_to_related(id_, issuer)
        return related


def canonicalize_nquads_reference(nquads: str) -> str:
    """Canonicalize N-Quads with pyld's URDNA2015, corrected to RDFC-1.0: the reference.

    Produces what ``jsonld.normalize(doc, {"algorithm": "URDNA2015", ...})`` produces for the
    JSON-LD document the N-Quads came from, except where pyld departs from RDFC-1.0 (module
    docstring, items 1–3).

    Raises:
        ContextError: ``RUNID_JSONLD_INVALID`` if the text is not N-Quads 1.1.
    """
    return _Rdfc10().canonical_nquads(_parse_nquads(nquads))


# --- canonical quads whose blank nodes the first-degree hash tells apart ----------------------


def _terms(quad: str) -> list[str] | None:
    """The terms of one quad in canonical N-Quads form (RDFC-1.0 §A): subject, predicate, object
    and, in a named graph, the graph name; None if ``quad`` is not shaped like one.

    In that form only a literal holds ``"`` (IRIs and blank node labels cannot, and a quote inside
    a literal is written ``\\"``), so the first and last ``"`` of the line delimit the literal,
    and the other terms are separated by single spaces.
    """
    if not quad.endswith(" .\n"):
        return None
    open_quote = quad.find('"')
    if open_quote < 0:
        terms = quad[:-3].split(" ")
    else:
        close_quote = quad.rfind('"')
        before = quad[:open_quote].split(" ")  # "S P " -> [S, P, ""]
        after = quad[close_quote + 1 : -3].split(" ")  # "^^<dt> G" -> ["^^<dt>", "G"]
        if len(before) != 3 or before[2] or close_quote == open_quote:
            return None
        terms = [before[0], before[1], quad[open_quote : close_quote + 1] + after[0], *after[1:]]
    return terms if 3 <= len(terms) <= 4 else None


def canonicalize_distinct_first_degree(quads: Iterable[str]) -> str | None:
    """RDFC-1.0 canonical N-Quads of a dataset whose blank nodes all have distinct first-degree
    hashes; None when two share one, so the caller canonicalizes the full way.

    ``quads`` are the dataset's quads, each once and each already in canonical N-Quads form
    (§A, ending in ``" .\\n"``) with any blank node labels: :class:`~vc_runid._internal.canonical`'s
    writer produces them so for the credentials it marks canonical. This is the algorithm of
    §4.4.3 for the case its step 5 settles alone:

    * step 2: each blank node's quads (a set: a quad naming a node twice counts once);
    * step 3 and §4.6: the first-degree hash of each node, SHA-256 over its quads serialized with
      ``_:a`` for the node and ``_:z`` for every other blank node, sorted in code point order;
    * step 5: in code point order of those hashes, a hash shared by no other node gets the next
      canonical label ``_:c14n0``, ``_:c14n1``, ...;
    * steps 6-7: every quad relabelled, sorted in code point order.

    When every hash is unique step 5 labels every blank node and Hash N-Degree Quads (§4.8, step
    6) has nothing to do, so the result is the whole algorithm's. Any tie returns None rather
    than guess: the full algorithm (:func:`canonicalize_nquads`) decides ties, within its budget.
    ``tests/test_rdfc_first_degree.py`` compares this with the reference.
    """
    ground: list[str] = []
    labelled: list[tuple[list[str], list[int]]] = []  # a quad's terms, where its blank nodes are
    first_degree: dict[str, list[str]] = {}  # a blank node's quads, as its hash serializes them
    for quad in quads:
        if "_:" not in quad:
            ground.append(quad)
            continue
        terms = _terms(quad)
        if terms is None:
            return None
        positions = [i for i in (0, 2, 3) if i < len(terms) and terms[i][:2] == "_:"]
        if not positions:  # "_:" inside a literal only
            ground.append(quad)
            continue
        labelled.append((terms, positions))
        for node in {terms[i] for i in positions}:  # a quad naming a node twice counts once
            serialized = list(terms)
            for i in positions:
                serialized[i] = "_:a" if terms[i] == node else "_:z"
            first_degree.setdefault(node, []).append(" ".join(serialized) + " .\n")
    by_hash: dict[str, str] = {}
    for node, serialized_quads in first_degree.items():
        serialized_quads.sort()
        try:
            digest = hashlib.sha256("".join(serialized_quads).encode("utf-8")).hexdigest()
        except UnicodeEncodeError:  # a lone surrogate: the full path's reader says why
            return None
        if digest in by_hash:
            return None  # a first-degree tie: Hash N-Degree Quads must decide
        by_hash[digest] = node
    canonical = {node: f"_:c14n{issued}" for issued, (_, node) in enumerate(sorted(by_hash.items()))}
    lines = ground
    for terms, positions in labelled:
        for i in positions:
            terms[i] = canonical[terms[i]]
        lines.append(" ".join(terms) + " .\n")
    lines.sort()
    text = "".join(lines)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return text


# --- the fast path, and when it must not be taken -------------------------------------------

# A \u or \U escape could encode U+FFFE/U+FFFF (divergence 2) or an IRI character. It only
# counts after an odd number of backslashes: ``"C:\\users"`` in N-Quads is a backslash followed
# by "u", and stays fast.
_UCHAR_ESCAPE: Final = re.compile(r"(?<!\\)(?:\\\\)*\\[uU]")
# Enough of a quad to find its blank nodes, for lines pyoxigraph has already accepted.
# Groups: 1 subject label, 2 predicate, 3 object label, 4 graph label.
_LABEL: Final = r'_:([^\s<>"#]*[^\s<>".#])'
_LABELS_OF_QUAD: Final = re.compile(
    rf"[ \t]*(?:<[^>]*>|{_LABEL})[ \t]*<([^>]*)>[ \t]*"
    rf'(?:<[^>]*>|{_LABEL}|"(?:[^"\\]|\\.)*"(?:[ \t]*\^\^[ \t]*<[^>]*>|[ \t]*@[A-Za-z0-9-]+)?)'
    rf"[ \t]*(?:(?:<[^>]*>|{_LABEL})[ \t]*)?\.[ \t]*(?:#.*)?"
)
# A language tag right after a closing quote. A quote inside a literal is always escaped, so
# ``\"@x`` in a value can also match here. Such a false match can only make a tag look ambiguous.
_LANGUAGE_TAG: Final = re.compile(r'"[ \t]*@([A-Za-z0-9-]+)')
_UPPERCASE_TAG: Final = re.compile(r'"[ \t]*@[A-Za-z0-9-]*[A-Z]')


@dataclass(frozen=True)
class _Plan:
    """Whether pyoxigraph is byte-exact for one input, and what it needs to be."""

    reason: str | None  # why the reference must run instead; None when pyoxigraph is exact
    dataset: Any = None  # the parsed pyoxigraph.Dataset, when reason is None
    restore: dict[str, str] = field(default_factory=dict)  # lower-cased tag -> original spelling


def _language_tags(nquads: str) -> tuple[str | None, dict[str, str]]:
    """Check language tags (divergence 5). Returns a reason to refuse, or the tags to restore."""
    spellings: dict[str, set[str]] = {}
    for tag in _LANGUAGE_TAG.findall(nquads):
        if "--" in tag:
            return "RDF 1.2 directional language tag", {}
        spellings.setdefault(tag.lower(), set()).add(tag)
    restore: dict[str, str] = {}
    for lower, seen in spellings.items():
        if len(seen) > 1:
            # Two spellings of one tag: distinct literals for pyld, one literal for pyoxigraph.
            return "language tag spelled in more than one case", {}
        (spelling,) = seen
        if spelling != lower:
            restore[lower] = spelling
    if restore:
        for line in _EOL.split(nquads):
            if "_:" in line and _UPPERCASE_TAG.search(line) is not None:
                return "upper-case language tag in a quad with a blank node", {}
    return None, restore


def _first_degree_tie(quads: Iterable[Any]) -> bool:
    """Do two blank nodes have the same first-degree information (RDFC-1.0 §4.6)?

    Compares the sorted quads each blank node is mentioned in, with ``a`` for itself and ``z``
    for other blank nodes. That is the input to the first-degree hash, but compared directly
    instead of hashed. Lower-cased tags can only create extra ties, which is the safe direction.
    """
    mentions: dict[str, list[tuple[str, ...]]] = {}
    for quad in quads:
        terms = (quad.subject, quad.predicate, quad.object, quad.graph_name)
        for node in {t.value for t in terms if isinstance(t, _ox.BlankNode)}:
            mentions.setdefault(node, []).append(
                tuple(
                    ("a" if t.value == node else "z") if isinstance(t, _ox.BlankNode) else str(t)
                    for t in terms
                )
            )
    signatures = [tuple(sorted(quads_of_node)) for quads_of_node in mentions.values()]
    return len(set(signatures)) < len(signatures)


def _plan(nquads: str) -> _Plan:
    """Decide whether pyoxigraph's canonical form of ``nquads`` is the reference's, byte for byte.

    The cheap checks run first and read only the text; the parse and the tie check run only if
    those pass.
    """
    if _ox is None:
        return _Plan("pyoxigraph is not installed")
    if "\ufffe" in nquads or "\uffff" in nquads:
        return _Plan("U+FFFE or U+FFFF, which pyoxigraph escapes")
    if "<<" in nquads:
        return _Plan("RDF 1.2 triple term")
    if ("\\u" in nquads or "\\U" in nquads) and _UCHAR_ESCAPE.search(nquads) is not None:
        return _Plan("UCHAR escape")
    reason, restore = _language_tags(nquads) if "@" in nquads else (None, {})
    if reason is not None:
        return _Plan(reason)
    try:
        # Encode here: pyoxigraph mistakes a str holding a lone surrogate for a file object.
        dataset = _ox.Dataset(_ox.parse(nquads.encode("utf-8"), format=_ox.RdfFormat.N_QUADS))
    except (SyntaxError, ValueError):
        return _Plan("pyoxigraph rejects it (stricter IRIs and BCP 47 tags than N-Quads 1.1)")
    if _first_degree_tie(dataset):
        # Hash N-Degree Quads will run: pyoxigraph has no work limit, the reference has one
        # (MAX_N_DEGREE_CALLS), and pyoxigraph also differs on repeated Hn entries.
        return _Plan("blank nodes tie on their first-degree hash: Hash N-Degree Quads runs")
    return _Plan(None, dataset, restore)


def _restore_language_tags(lines: list[str], restore: dict[str, str]) -> None:
    """Put back the case of language tags that pyoxigraph lower-cased, in place.

    In a serialized quad the last ``"`` closes the object literal: quotes inside a literal are
    escaped, and IRIs and blank node labels cannot contain one.
    """
    for index, line in enumerate(lines):
        quote = line.rfind('"')
        if quote < 0 or line[quote + 1 : quote + 2] != "@":
            continue
        end = line.index(" ", quote)
        spelling = restore.get(line[quote + 2 : end])
        if spelling is not None:
            lines[index] = line[: quote + 2] + spelling + line[end:]


def canonicalize_nquads_fast(nquads: str) -> str:
    """Canonicalize N-Quads with pyoxigraph's RDFC-1.0, byte-identical to the reference.

    Inputs on which pyoxigraph would differ are passed to :func:`canonicalize_nquads_reference`.
    These are rare in credentials: U+FFFE/U+FFFF, a language tag in several cases or an upper-case
    tag on a blank-node quad, RDF 1.2 syntax, or ties resolved in the presence of repeated Hn
    entries. The same happens if pyoxigraph is not installed.

    Raises:
        ContextError: ``RUNID_JSONLD_INVALID`` if the text is not N-Quads 1.1.
    """
    plan = _plan(nquads)
    if plan.reason is not None:
        return canonicalize_nquads_reference(nquads)
    plan.dataset.canonicalize(_ox.CanonicalizationAlgorithm.RDFC_1_0)
    # str(Dataset) is N-Quads, one quad per "\n"-terminated line, in no particular order.
    # Split on "\n" only: U+2028 or U+0085 may appear raw inside a literal.
    lines = str(plan.dataset).split("\n")
    lines.pop()
    if plan.restore:
        _restore_language_tags(lines, plan.restore)
    # RDFC-1.0 §4.4.3 step 6: sort in code point order (Python's str order = UTF-8 byte order).
    lines.sort()
    return "\n".join(lines) + "\n" if lines else ""


def _select() -> tuple[str, Callable[[str], str]]:
    """Choose the implementation once: per-call environment lookups would be slow and racy."""
    if _ox is not None and os.environ.get("VC_RUNID_RDFC", "").strip().lower() != "reference":
        return f"pyoxigraph {_ox.__version__}", canonicalize_nquads_fast
    return "pyld", canonicalize_nquads_reference


ACTIVE_IMPLEMENTATION, _ACTIVE = _select()


def canonicalize_nquads(nquads: str) -> str:
    """Canonicalize N-Quads (RDFC-1.0) with the implementation chosen at import.

    The fast path is used when pyoxigraph is importable, unless ``VC_RUNID_RDFC=reference`` was
    set before import. The output is the same bytes either way. See ``ACTIVE_IMPLEMENTATION``.

    Raises:
        ContextError: ``RUNID_JSONLD_INVALID`` if the text is not N-Quads 1.1.
    """
    return _ACTIVE(nquads)
