"""RDF Dataset Canonicalization (RDFC-1.0, a.k.a. URDNA2015) of N-Quads text.

Canonicalization is nearly all of the cost of creating or checking a Data Integrity proof, so
there are two interchangeable implementations behind one function:

* :func:`canonicalize_nquads_reference` runs pyld's URDNA2015 — slow, pure Python, the reference
  (with its N-Quads reader replaced and one divergence from RDFC-1.0 corrected, see below).
* :func:`canonicalize_nquads_fast` runs pyoxigraph's RDFC-1.0 (Rust) and is byte-identical to the
  reference. Where pyoxigraph would *not* be byte-identical it hands the input to the reference
  instead (see :func:`_reference_reason`), so the choice of path changes speed, never bytes.

:func:`canonicalize_nquads` picks one of the two once, at import.

Known divergences this module absorbs (each has a regression test in ``tests/test_rdfc.py``):

1. pyld's own N-Quads *parser* (``jsonld.normalize(..., inputFormat="application/n-quads")``)
   corrupts data, so the reference does not use it. It un-escapes in the wrong order (the value
   ``C:\\new`` comes back as ``C:\\`` + newline + ``ew``), splits lines with ``str.splitlines``
   (so U+2028, U+0085, U+000B, U+000C, U+001C–U+001E inside a literal break the quad), ignores
   ``\\u``/``\\U`` escapes, and leaves input labels that already start with ``_:c14n`` unrenamed,
   which can give two different blank nodes the same canonical label. The reference therefore
   parses N-Quads itself (:func:`_parse_nquads`) and hands pyld's URDNA2015 a dataset, exactly as
   ``jsonld.normalize`` does when it is given JSON-LD rather than N-Quads.
2. Literal escaping. pyld escapes only ``\\ " LF CR TAB`` and writes every other character raw;
   pyoxigraph follows RDFC-1.0 §4.4 / N-Triples canonical form and also writes ``\\b``, ``\\f``,
   ``\\u00XX`` for the other C0 controls and U+007F, and ``\\uFFFE``/``\\uFFFF``. The escaped form
   is hashed (RDFC-1.0 §4.6), so this changes labels, not only bytes; no post-processing can
   repair it, and such inputs go to the reference.
3. Language tags. pyoxigraph lower-cases them; pyld (and jsonld.js) keep them as written. In a
   quad without blank nodes the tag is restored after canonicalization; in a quad with a blank
   node the tag is hashed, so the input goes to the reference.
4. pyoxigraph also reads RDF 1.2 (triple terms ``<<( )>>``, ``@lang--dir``) and is stricter
   about IRIs and BCP 47 than N-Quads 1.1; such inputs go to the reference, which decides.
5. pyld 3.3's URDNA2015 counts a quad once per position a blank node holds in it (``_:x <p> _:x``
   or a blank node naming the graph its own quad is in), against RDFC-1.0 §4.4.3 step 2 and
   against rdf-canonize (jsonld.js) and pyoxigraph, which both agree with the spec. Here pyld is
   the one that is wrong, so the reference corrects it (:class:`_Urdna2015`) rather than the
   fast path copying it. This changes canonical labels only for such datasets, which JSON-LD
   produces only from explicit blank node identifiers used that way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any, Final

from pyld.canon import URDNA2015

from vc_runid.errors import ContextError, ErrorCode

try:
    import pyoxigraph as _ox
except ImportError:  # pragma: no cover - pyoxigraph is a declared dependency
    _ox = None  # type: ignore[assignment]

__all__ = [
    "ACTIVE_IMPLEMENTATION",
    "canonicalize_nquads",
    "canonicalize_nquads_fast",
    "canonicalize_nquads_reference",
]

_XSD_STRING: Final = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANGSTRING: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

# --- N-Quads 1.1 grammar (https://www.w3.org/TR/n-quads/#sec-grammar) --------------------------

_PN_CHARS_BASE: Final = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U: Final = _PN_CHARS_BASE + "_:"
_PN_CHARS: Final = _PN_CHARS_U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_UCHAR: Final = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_IRIREF: Final = r'<((?:[^\x00-\x20<>"{}|^`\\]|' + _UCHAR + r")*)>"
_BNODE: Final = f"_:([{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)"
_STRING: Final = r'"((?:[^"\\\n\r]|\\[tbnrf"\'\\]|' + _UCHAR + r')*)"'
_LANGTAG: Final = r"@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*)"
_WS: Final = r"[ \t]*"

# Groups: 1 subject IRI, 2 subject bnode, 3 predicate, 4 object IRI, 5 object bnode,
# 6 literal, 7 datatype, 8 language, 9 graph IRI, 10 graph bnode.
_QUAD: Final = re.compile(
    f"{_WS}(?:{_IRIREF}|{_BNODE}){_WS}{_IRIREF}{_WS}"
    f"(?:{_IRIREF}|{_BNODE}|{_STRING}(?:{_WS}\\^\\^{_WS}{_IRIREF}|{_WS}{_LANGTAG})?){_WS}"
    f"(?:(?:{_IRIREF}|{_BNODE}){_WS})?\\.{_WS}(?:#.*)?"
)
_BLANK_LINE: Final = re.compile(f"{_WS}(?:#.*)?")
_EOL: Final = re.compile(r"\r\n|\r|\n")
_ESCAPE: Final = re.compile(r'\\(?:([tbnrf"\'\\])|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))')
_ECHAR: Final = {
    "t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"
}
# An IRI is absolute (RFC 3987 §2.2 scheme) and, once UCHARs are decoded, still writable
# between angle brackets: pyld writes IRIs raw, so anything else would produce invalid N-Quads.
_ABSOLUTE_IRI: Final = re.compile(r'[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20<>"{}|^`\\]*')

# --- when the fast path must defer to the reference -------------------------------------------

# Characters pyoxigraph escapes and pyld writes raw (divergence 2); \b \f \u \U escapes, which
# can encode them, counted only after an odd run of backslashes (``"C:\\users"`` in N-Quads is a
# backslash followed by "u" and stays fast); RDF 1.2 triple terms (divergence 4). False positives
# only cost speed.
_NEEDS_REFERENCE: Final = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]|(?<!\\)(?:\\\\)*\\[bfuU]|<<"
)
# A language tag right after a closing quote. Inside a literal a quote is always escaped, so
# ``\"@x`` inside a value can match too: a false positive only makes the case map ambiguous.
_LANGUAGE_TAG: Final = re.compile(r'"[ \t]*@([A-Za-z0-9-]+)')
_UPPERCASE_TAG: Final = re.compile(r'"[ \t]*@[A-Za-z0-9-]*[A-Z]')


def _invalid(line_number: int, reason: str) -> ContextError:
    return ContextError(
        f"invalid N-Quads at line {line_number}: {reason}",
        code=ErrorCode.JSONLD_INVALID,
        detail={"line": line_number},
    )


def _unescape(text: str, line_number: int) -> str:
    """Decode ECHAR and UCHAR in one left-to-right pass (N-Quads §7.2), rejecting surrogates."""
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


def _iri(raw: str, line_number: int) -> dict[str, str]:
    value = _unescape(raw, line_number)
    if _ABSOLUTE_IRI.fullmatch(value) is None:
        raise _invalid(line_number, f"<{raw}> is not an absolute IRI")
    return {"type": "IRI", "value": value}


def _parse_nquads(nquads: str) -> dict[str, list[dict[str, Any]]]:
    """Parse N-Quads 1.1 into pyld's dataset shape: graph name -> list of triples.

    Blank node labels are replaced by fresh ``_:r<n>`` labels: the canonical form does not depend
    on input labels, and pyld skips renaming any label that already starts with ``_:c14n``.
    Duplicate quads are dropped, as an RDF dataset is a set.
    """
    try:
        nquads.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ContextError(
            "N-Quads text is not valid Unicode (lone surrogate)", code=ErrorCode.JSONLD_INVALID
        ) from exc
    labels: dict[str, str] = {}

    def bnode(label: str) -> dict[str, str]:
        fresh = labels.get(label)
        if fresh is None:
            fresh = labels[label] = f"_:r{len(labels)}"
        return {"type": "blank node", "value": fresh}

    dataset: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, ...]] = set()
    for line_number, line in enumerate(_EOL.split(nquads), start=1):
        match = _QUAD.fullmatch(line)
        if match is None:
            if _BLANK_LINE.fullmatch(line) is not None:
                continue
            raise _invalid(line_number, "not a quad")
        s_iri, s_bn, p, o_iri, o_bn, o_lex, o_dt, o_lang, g_iri, g_bn = match.groups()
        subject = _iri(s_iri, line_number) if s_iri is not None else bnode(s_bn)
        obj: dict[str, str]
        if o_iri is not None:
            obj = _iri(o_iri, line_number)
        elif o_bn is not None:
            obj = bnode(o_bn)
        else:
            obj = {"type": "literal", "value": _unescape(o_lex, line_number)}
            if o_lang is not None:
                obj["datatype"] = _RDF_LANGSTRING
                obj["language"] = o_lang
            elif o_dt is not None:
                obj["datatype"] = _iri(o_dt, line_number)["value"]
                if obj["datatype"] == _RDF_LANGSTRING:
                    raise _invalid(line_number, "rdf:langString literal without a language tag")
            else:
                obj["datatype"] = _XSD_STRING
        if g_iri is not None:
            graph = _iri(g_iri, line_number)["value"]
        elif g_bn is not None:
            graph = bnode(g_bn)["value"]
        else:
            graph = "@default"
        triple = {"subject": subject, "predicate": _iri(p, line_number), "object": obj}
        key = (
            graph,
            subject["type"],
            subject["value"],
            triple["predicate"]["value"],
            obj["type"],
            obj["value"],
            obj.get("datatype", ""),
            obj.get("language", ""),
        )
        if key in seen:
            continue
        seen.add(key)
        dataset.setdefault(graph, []).append(triple)
    return dataset


class _Urdna2015(URDNA2015):  # type: ignore[misc]
    """pyld's URDNA2015 with each quad listed once per blank node (divergence 5).

    RDFC-1.0 §4.4.3 step 2 maps a blank node to *the quads it appears in*. pyld appends a quad
    once per position the blank node holds, so ``_:x <p> _:x .`` is hashed twice in the Hash
    First Degree Quads (§4.6) and its neighbours are counted twice in Hash N-Degree Quads (§4.8).
    rdf-canonize (jsonld.js) and pyoxigraph keep a set. The two methods below are the only
    readers of the map; each de-duplicates a blank node's list, by identity, before first use.
    """

    def _quads_once(self, id_: str) -> None:
        info = self.blank_node_info[id_]
        if "unique" not in info:
            info["quads"] = list({id(quad): quad for quad in info["quads"]}.values())
            info["unique"] = True

    def hash_first_degree_quads(self, id_: str) -> str:
        self._quads_once(id_)
        result: str = super().hash_first_degree_quads(id_)
        return result

    def create_hash_to_related(self, id_: str, issuer: Any) -> dict[str, list[str]]:
        self._quads_once(id_)
        result: dict[str, list[str]] = super().create_hash_to_related(id_, issuer)
        return result


def canonicalize_nquads_reference(nquads: str) -> str:
    """Canonicalize N-Quads with pyld's URDNA2015 (= RDFC-1.0 with SHA-256): the reference.

    This is what ``jsonld.normalize(doc, {"algorithm": "URDNA2015", "format":
    "application/n-quads"})`` produces for the JSON-LD document the N-Quads came from. pyld's own
    N-Quads reader is bypassed because it corrupts some literals (see the module docstring).

    Raises:
        ContextError: ``RUNID_JSONLD_INVALID`` if the text is not N-Quads 1.1.
    """
    dataset = _parse_nquads(nquads)
    result: str = _Urdna2015().main(
        dataset, {"algorithm": "URDNA2015", "format": "application/n-quads"}
    )
    return result


def _reference_reason(nquads: str) -> tuple[str | None, dict[str, str]]:
    """Decide whether pyoxigraph's result would be byte-identical to the reference.

    Returns ``(reason, restore)``: ``reason`` says why the reference must be used (``None`` when
    the fast path is safe), ``restore`` maps lower-cased language tags back to the spelling in
    the input (only for tags that contain upper case; see divergence 3 in the module docstring).
    """
    if _NEEDS_REFERENCE.search(nquads) is not None:
        return "literal escaping, UCHAR escape or RDF 1.2 syntax", {}
    if '"' not in nquads:
        return None, {}
    restore: dict[str, str] = {}
    spellings: dict[str, set[str]] = {}
    for tag in _LANGUAGE_TAG.findall(nquads):
        spellings.setdefault(tag.lower(), set()).add(tag)
        if "--" in tag:
            return "RDF 1.2 directional language tag", {}
    for lower, seen in spellings.items():
        if len(seen) > 1:
            # Two spellings of one tag: distinct terms for pyld, one term for pyoxigraph.
            return "language tag spelled with different cases", {}
        (spelling,) = seen
        if spelling != lower:
            restore[lower] = spelling
    if restore:
        for line in _EOL.split(nquads):
            if "_:" in line and _UPPERCASE_TAG.search(line) is not None:
                # The tag is part of what RDFC-1.0 hashes for this blank node.
                return "upper-case language tag in a quad with a blank node", {}
    return None, restore


def _restore_language_tags(lines: list[str], restore: dict[str, str]) -> None:
    """Put back the case of language tags that pyoxigraph lower-cased, in place.

    In a serialized quad the last ``"`` closes the object literal: quotes inside a literal are
    escaped and IRIs and blank node labels cannot contain one.
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
    """Canonicalize N-Quads with pyoxigraph's RDFC-1.0; byte-identical to the reference.

    Inputs on which pyoxigraph would differ from pyld (rare in credentials: control characters in
    strings, one language tag in several cases, upper-case tags on blank-node quads, RDF 1.2
    syntax) are handed to :func:`canonicalize_nquads_reference`.

    Raises:
        ContextError: ``RUNID_JSONLD_INVALID`` if the text is not N-Quads 1.1.
        RuntimeError: if pyoxigraph is not installed.
    """
    if _ox is None:
        raise RuntimeError("pyoxigraph is not installed; use canonicalize_nquads_reference")
    reason, restore = _reference_reason(nquads)
    if reason is not None:
        return canonicalize_nquads_reference(nquads)
    try:
        dataset = _ox.Dataset(_ox.parse(nquads, format=_ox.RdfFormat.N_QUADS))
    except (SyntaxError, ValueError):
        # pyoxigraph validates IRIs (RFC 3987) and language tags (BCP 47) more strictly than the
        # N-Quads grammar; the reference decides whether the input is acceptable.
        return canonicalize_nquads_reference(nquads)
    dataset.canonicalize(_ox.CanonicalizationAlgorithm.RDFC_1_0)
    # str(Dataset) is N-Quads, one quad per "\n"-terminated line, in no particular order.
    # Split on "\n" only: U+2028 or U+0085 may appear raw inside a literal.
    lines = str(dataset).split("\n")
    lines.pop()
    if restore:
        _restore_language_tags(lines, restore)
    # RDFC-1.0 §4.4 step 6: sort in code point order (Python's str order = UTF-8 byte order).
    lines.sort()
    return "".join(line + "\n" for line in lines)


def _select() -> tuple[str, Callable[[str], str]]:
    """Choose the implementation once: per-call environment lookups would be slow and racy."""
    if _ox is not None and os.environ.get("VC_RUNID_RDFC", "").strip().lower() != "reference":
        return f"pyoxigraph {_ox.__version__}", canonicalize_nquads_fast
    return "pyld", canonicalize_nquads_reference


ACTIVE_IMPLEMENTATION, _ACTIVE = _select()


def canonicalize_nquads(nquads: str) -> str:
    """Canonicalize N-Quads (RDFC-1.0) with the implementation chosen at import.

    pyoxigraph when importable, unless ``VC_RUNID_RDFC=reference`` was set before import; the
    output is the same bytes either way. See :data:`ACTIVE_IMPLEMENTATION`.

    Raises:
        ContextError: ``RUNID_JSONLD_INVALID`` if the text is not N-Quads 1.1.
    """
    return _ACTIVE(nquads)
