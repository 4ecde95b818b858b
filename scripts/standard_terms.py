"""Write contexts/standard-terms.json: the signed-form check's table of the terms the pinned core
contexts define (IRI -> terms), made from the pinned files, so no verification has to make it.

Run it after changing a pinned core context, the code that makes the table or the pyld version;
tests/test_signed_form_fast.py fails until you do.

    python scripts/standard_terms.py
"""

from __future__ import annotations

import json

from vc_runid._internal.contexts import contexts_dir, default_loader
from vc_runid.vc.signed_form import (
    STANDARD_TERMS_FILE,
    _standard_terms,
    _standard_terms_document,
    _standard_terms_origin,
)


def main() -> None:
    terms = _standard_terms(default_loader(), memoize=False)
    document = _standard_terms_document(terms, _standard_terms_origin())
    path = contexts_dir() / STANDARD_TERMS_FILE
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}: {len(document['termsByIri'])} IRIs")


if __name__ == "__main__":
    main()
