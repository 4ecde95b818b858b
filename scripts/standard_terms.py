"""Write contexts/standard-terms.json: the signed-form check's table of the terms the pinned core
contexts define (IRI -> terms), made from the pinned files, so no verification has to make it.

Run it after changing a pinned core context; tests/test_term_tables.py fails until you do.

    python scripts/standard_terms.py
"""

from __future__ import annotations

import json

from vc_runid._internal.contexts import contexts_dir, default_loader
from vc_runid.vc.signed_form import STANDARD_TERMS_FILE, _standard_terms, standard_terms_document


def main() -> None:
    document = standard_terms_document(_standard_terms(default_loader(), memoize=False))
    path = contexts_dir() / STANDARD_TERMS_FILE
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}: {len(document['termsByIri'])} IRIs")


if __name__ == "__main__":
    main()
