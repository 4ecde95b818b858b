"""The user docs stay true to the code: every stable error code is documented."""

from __future__ import annotations

from pathlib import Path

from vc_runid.errors import ErrorCode

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_error_code_is_documented_in_errors_md() -> None:
    text = (DOCS / "errors.md").read_text()
    assert [code.value for code in ErrorCode if f"`{code.value}`" not in text] == []
